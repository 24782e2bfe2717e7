"""How an identity provider's token becomes a Principal: claim mappings as data (`auth/issuers.yaml`).

A mapping names, for each part of the principal (user id, display name, agency, area, roles), the claim that
carries it (a dotted path reaches into nested claims, e.g. Keycloak's `realm_access.roles`) and optionally a
value map from the provider's values (an Entra ID app role, a group's object id, a Keycloak role name) to the
register's vocabulary. A token without a required mapped claim is refused naming the claim; a token whose
values do not map onto the register's vocabulary is refused as `invalid_claims`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..domain.actors import Principal
from ..domain.enums import Agency, Area, Role

FIELDS = ("user_id", "display_name", "agency", "area", "roles")
_VOCABULARY: dict[str, type] = {"agency": Agency, "area": Area, "roles": Role}


class ClaimProblem(Exception):
    """`reason` is `missing_claim` (with `claim`) or `invalid_claims`."""

    def __init__(self, reason: str, message: str, claim: str | None = None) -> None:
        super().__init__(message)
        self.reason, self.message, self.claim = reason, message, claim


_ABSENT = object()


def claim_value(claims: Mapping[str, Any], path: str) -> Any:
    """The claim at `path`: a top-level claim of that exact name first (Entra's `extn.agency`), else a dotted
    path."""
    if path in claims:
        return claims[path]
    head, dot, rest = path.partition(".")
    if dot and isinstance(claims.get(head), Mapping):
        return claim_value(claims[head], rest)
    return _ABSENT


@dataclass(frozen=True)
class ClaimRule:
    claim: str
    values: Mapping[str, str] | None = None  # provider value -> register value; unmapped values are ignored
    required: bool = True

    @classmethod
    def parse(cls, name: str, spec: Any) -> ClaimRule:
        if isinstance(spec, str):
            return cls(spec)
        if not isinstance(spec, Mapping) or not isinstance(spec.get("claim"), str):
            raise ValueError(
                f"{name}: give the claim's name, or {{claim: NAME, values: {{...}}, required: true|false}}"
            )
        unknown = set(spec) - {"claim", "values", "required"}
        if unknown:
            raise ValueError(f"{name}: unknown keys {sorted(unknown)}")
        values = spec.get("values")
        if values is not None:
            vocabulary = _VOCABULARY.get(name)
            if vocabulary is None:
                raise ValueError(f"{name}: only agency, area and roles take a value map")
            values = {str(k): str(v) for k, v in values.items()}
            for v in values.values():
                vocabulary(v)  # ValueError names a value the register does not know
        return cls(spec["claim"], values, bool(spec.get("required", True)))


@dataclass(frozen=True)
class ClaimMapping:
    name: str
    rules: Mapping[str, ClaimRule] = field(default_factory=dict)

    @classmethod
    def parse(cls, name: str, spec: Mapping[str, Any]) -> ClaimMapping:
        missing = [f for f in FIELDS if f not in spec and f != "display_name"]
        unknown = set(spec) - set(FIELDS)
        if missing or unknown:
            raise ValueError(f"claim mapping {name!r}: missing {missing}, unknown {sorted(unknown)}")
        return cls(name, {f: ClaimRule.parse(f, spec[f]) for f in FIELDS if f in spec})

    def _raw(self, claims: Mapping[str, Any], part: str) -> Any:
        rule = self.rules.get(part)
        if rule is None:
            return _ABSENT
        value = claim_value(claims, rule.claim)
        if value is _ABSENT or value is None or value == [] or value == "":
            if rule.required:
                raise ClaimProblem(
                    "missing_claim",
                    f"the token has no {rule.claim!r} claim, which gives the user's {part.replace('_', ' ')}",
                    claim=rule.claim,
                )
            return _ABSENT
        return value

    def _mapped(self, claims: Mapping[str, Any], part: str) -> list[str]:
        rule = self.rules[part]
        value = self._raw(claims, part)
        if value is _ABSENT:
            return []
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(i, str) for i in items):
            raise ClaimProblem(
                "invalid_claims", f"the token's {rule.claim!r} claim must be a string or a list of strings"
            )
        if rule.values is None:
            return list(items)
        return [rule.values[i] for i in items if i in rule.values]

    def _one(self, claims: Mapping[str, Any], part: str, vocabulary: type) -> Any:
        values = set(self._mapped(claims, part))
        claim = self.rules[part].claim
        if len(values) != 1:
            raise ClaimProblem(
                "invalid_claims",
                f"the token's {claim!r} claim must give exactly one {part} the register knows",
            )
        try:
            return vocabulary(values.pop())
        except ValueError:
            raise ClaimProblem(
                "invalid_claims", f"the token's {claim!r} claim names an {part} the register does not know"
            ) from None

    def principal(self, claims: Mapping[str, Any]) -> Principal:
        user_id = self._raw(claims, "user_id")
        if not isinstance(user_id, str):
            raise ClaimProblem(
                "invalid_claims", f"the token's {self.rules['user_id'].claim!r} claim must be a string"
            )
        name = self._raw(claims, "display_name")
        agency = self._one(claims, "agency", Agency)
        area = self._one(claims, "area", Area)
        try:
            roles = frozenset(Role(r) for r in self._mapped(claims, "roles"))
        except ValueError:
            raise ClaimProblem(
                "invalid_claims", "the token names a role the register does not know"
            ) from None
        if not roles:
            raise ClaimProblem(
                "invalid_claims",
                f"the token's {self.rules['roles'].claim!r} claim gives no role in the register",
            )
        return Principal(
            user_id=user_id,
            display_name=name if isinstance(name, str) else "",
            agency=agency,
            area=area,
            roles=roles,
        )


# The register's own claims, as the development issuer mints them (and a REGISTER_JWKS_URL issuer must send).
REGISTER_CLAIMS = ClaimMapping.parse(
    "register",
    {
        "user_id": "sub",
        "display_name": {"claim": "name", "required": False},
        "agency": "agency",
        "area": "area",
        "roles": "roles",
    },
)


@dataclass(frozen=True)
class IssuerEntry:
    mapping: str
    audience: str | None = None


@dataclass(frozen=True)
class IssuersFile:
    """`auth/issuers.yaml`: named claim mappings, the default one, and per-issuer choices (mapping,
    audience)."""

    mappings: Mapping[str, ClaimMapping]
    default_mapping: str
    issuers: Mapping[str, IssuerEntry]

    @classmethod
    def load(cls, path: Path) -> IssuersFile:
        doc = yaml.safe_load(path.read_text()) or {}
        if doc.get("version") != 1:
            raise ValueError(f"{path}: expected version: 1")
        mappings = {
            name: ClaimMapping.parse(name, spec) for name, spec in (doc.get("mappings") or {}).items()
        }
        default = doc.get("default_mapping")
        if not isinstance(default, str) or default not in mappings:
            raise ValueError(
                f"{path}: default_mapping {default!r} is not one of the mappings {sorted(mappings)}"
            )
        issuers = {}
        for url, spec in (doc.get("issuers") or {}).items():
            spec = spec or {}
            mapping = spec.get("mapping", default)
            if not isinstance(mapping, str) or mapping not in mappings:
                raise ValueError(f"{path}: issuer {url}: unknown mapping {mapping!r}")
            issuers[url.rstrip("/")] = IssuerEntry(mapping, spec.get("audience"))
        return cls(mappings, default, issuers)

    def for_issuer(self, url: str) -> tuple[ClaimMapping, str | None]:
        entry = self.issuers.get(url.rstrip("/"), IssuerEntry(self.default_mapping))
        return self.mappings[entry.mapping], entry.audience
