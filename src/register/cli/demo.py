"""`register demo`, `register serve` and `register dev-token`: run the register (on its embedded default with
demo data, or as configured) and mint development tokens."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click

from .. import demo as demo_data
from ..access.development import demo_users
from ..access.tokens import ensure_dev_signing_key, mint
from ..config import Settings, display_path
from ..domain.actors import SystemActor
from ..domain.enums import Agency, Area, Role
from ..store.open import migrate
from .base import main, open_store


def _serve(settings: Settings, host: str, port: int, *, quiet: bool = False) -> None:
    import logging

    import uvicorn

    from ..api.app import build_app
    from ..api.observability import configure_logging

    # One line per request from the register's own request log (api/observability.py), structured; uvicorn's
    # access log (it names whole paths and query strings) is off and its other loggers use the same format.
    # quiet (the demo): warnings and errors only: the banner already says where to go.
    configure_logging(settings.log_format, level=logging.WARNING if quiet else logging.INFO)
    with open_store(settings) as store:
        uvicorn.run(
            build_app(settings, store),
            host=host,
            port=port,
            log_level="warning" if quiet else "info",
            log_config=None,
            access_log=False,
        )


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.pass_obj
def serve(settings: Settings, host: str, port: int) -> None:
    """Serve the HTTP API."""
    _serve(settings, host, port)


@main.command("openapi")
@click.pass_obj
def openapi(settings: Settings) -> None:
    """Print the API's OpenAPI document (JSON), as /openapi.json serves it: what `make client` generates the
    Python client from."""
    from ..api.app import build_app

    with open_store(settings) as store:
        click.echo(json.dumps(build_app(settings, store).openapi(), indent=1))


def _dev_token(
    settings: Settings,
    user: str,
    agency: Agency,
    area: Area,
    roles: list[Role],
    name: str = "",
    ttl: int = 8 * 3600,
) -> str:
    if settings.environment != "development":
        raise click.ClickException("development tokens exist only with REGISTER_ENVIRONMENT=development")
    key = ensure_dev_signing_key(settings.resolved_key_dir)
    return mint(
        key,
        user=user,
        agency=agency,
        area=area,
        roles=roles,
        name=name,
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        ttl_seconds=ttl,
    )


@main.command("dev-token")
@click.option("--user", required=True)
@click.option("--agency", required=True, type=click.Choice([a.value for a in Agency]))
@click.option("--area", required=True, type=click.Choice([a.value for a in Area]))
@click.option("--role", "roles", required=True, multiple=True, type=click.Choice([r.value for r in Role]))
@click.option("--name", default="")
@click.option("--ttl", default=8 * 3600, show_default=True, help="seconds")
@click.pass_obj
def dev_token(
    settings: Settings, user: str, agency: str, area: str, roles: tuple[str, ...], name: str, ttl: int
) -> None:
    """Mint a development bearer token (signed with the local development key; development only)."""
    click.echo(_dev_token(settings, user, Agency(agency), Area(area), [Role(r) for r in roles], name, ttl))


def _demo_tokens(settings: Settings) -> dict[str, str]:
    return {
        user.variable: _dev_token(
            settings, user.user_id, user.agency, user.area, [user.role], name=user.display_name
        )
        for user in demo_users()
    }


@main.command("demo")
@click.option("--reset", is_flag=True, help="delete the demo's database and keys first, and start over")
@click.option(
    "--serve/--no-serve",
    "serve_api",
    default=True,
    show_default=True,
    help="serve the register after loading",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="the address to serve on")
@click.option("--port", default=8000, show_default=True, type=int, help="the port to serve on")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="where the demo keeps its database, keys and tokens  [default: var/, or REGISTER_VAR_DIR]",
)
@click.pass_obj
def demo(
    settings: Settings, reset: bool, serve_api: bool, host: str, port: int, data_dir: Path | None
) -> None:
    """Run the register on its embedded default: SQLite, development keys, demo data.

    Loads invented records in Kent and Essex on first run (a few hand-made, every section used, and the demo
    offender managers' caseloads), writes a bearer token for a user of each role to DATA_DIR/demo-tokens.env,
    and serves the web pages (sign in at /sign-in as any demo user) and the API (`make demo ARGS="--port
    8080"`).
    """
    if settings.environment != "development":
        raise click.ClickException("the demo runs only with REGISTER_ENVIRONMENT=development")
    if data_dir is not None:
        settings = settings.model_copy(update={"var_dir": data_dir.resolve()})
    if reset:
        shutil.rmtree(settings.var_dir, ignore_errors=True)
    migrate(settings)
    with open_store(settings) as store:
        existing = demo_data.load_once(store, SystemActor("demo-loader"))
    env_file = settings.var_dir / "demo-tokens.env"
    env_file.write_text("".join(f"export {k}={v}\n" for k, v in _demo_tokens(settings).items()))
    env_file.chmod(0o600)
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    click.echo(
        _DEMO_BANNER.format(
            records=existing, url=url, tokens=display_path(env_file), data=display_path(settings.var_dir)
        )
    )
    if serve_api:
        _serve(settings, host, port, quiet=True)


_DEMO_BANNER = """
The register (embedded default: SQLite, development keys, {records} invented records)

  Open     {url}/            API documentation at {url}/docs, metrics (open in the demo) at {url}/metrics
  Sign in  {url}/sign-in     as any demo user, e.g. the Kent police offender manager (no password)
  Tokens   {tokens}   a bearer token for a user of each role in Kent and Essex:
           source {tokens}
           curl -H "Authorization: Bearer $KENT_OFFENDER_MANAGER" {url}/v1/nominals
  Data     {data}/   (database and keys; kept between runs)
  Stop     Ctrl-C.   Start over: make demo ARGS=--reset   Another port: make demo ARGS="--port 8080"
"""
