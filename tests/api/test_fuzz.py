"""A schema-driven fuzz run (schemathesis) over every operation in the OpenAPI document: no 5xx, and no response
that contradicts the documented schema, status codes or content types. It runs as an offender manager of the
owning area against a real record, so bodies reach validation and the store rather than stopping at a 404.

schemathesis's pytest plugin does not run under pytest 9 yet, so the test drives its operations and
hypothesis strategies directly.
"""

from __future__ import annotations

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance

import pytest

from register.bootstrap import Store
from tests.api.conftest import Minter, auth
from tests.factories import create

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


def fuzz(app: FastAPI, headers: dict[str, str], nominal_id: str, max_examples: int = 12) -> tuple[int, list[str]]:
    """Exercise every operation; returns how many operations ran and what failed."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=max_examples, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
        def exercise(case) -> None:  # type: ignore[no-untyped-def]
            if case.path_parameters and "nominal_id" in case.path_parameters:
                case.path_parameters["nominal_id"] = nominal_id
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            exercise()
        except Exception as exc:  # noqa: BLE001 - collect every failing operation, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:1500]}")
    return len(operations), failures


def _record(store: Store) -> str:
    with store.unit_of_work() as uow:
        nominal_id = str(create(uow))
        uow.commit()
    return nominal_id


@pytest.mark.sqlite_only
def test_no_input_produces_a_server_error_or_a_response_off_schema(app: FastAPI, store: Store, token: Minter) -> None:
    operations, failures = fuzz(app, auth(token()), _record(store))
    assert operations > 90
    assert not failures, "\n\n".join(failures)


@pytest.mark.sqlite_only
def test_the_fuzz_run_catches_a_server_error(app: FastAPI, store: Store, token: Minter) -> None:
    from fastapi import Depends

    from register.api.deps import Authorize

    def boom(n: int = 0) -> dict[str, int]:
        return {"n": 1 // n}  # ZeroDivisionError for n=0: a 500

    app.add_api_route("/v1/boom", boom, methods=["GET"], dependencies=[Depends(Authorize("self.read"))])

    _, failures = fuzz(app, auth(token()), _record(store), max_examples=5)
    assert [f.split(":")[0] for f in failures] == ["GET /v1/boom"]
