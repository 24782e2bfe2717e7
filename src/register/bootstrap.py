"""Everything the register needs, built in one place from the settings and passed in, never imported as
globals."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, make_url
from sqlalchemy.exc import OperationalError

from .access.claims import IssuersFile
from .access.tokens import (
    DEV_ISSUER,
    DEV_JWKS_FILE,
    JwksSource,
    TokenSettings,
    TokenVerifier,
    TrustedIssuer,
    ensure_dev_signing_key,
)
from .audit import chain
from .audit.anchors import FileAnchors
from .config import Settings
from .crypto.envelope import BlindIndex
from .crypto.keys import KeySet
from .store.cipher import verify_keys
from .store.db import make_engine, make_session_factory
from .store.store import Store

log = logging.getLogger(__name__)


class NotMigrated(Exception):
    pass


def alembic_config(settings: Settings, url: str | None = None) -> Config:
    cfg = Config(str(settings.migrations_dir.parent / "alembic.ini"))
    cfg.set_main_option("script_location", str(settings.migrations_dir))
    cfg.set_main_option("sqlalchemy.url", (url or settings.resolved_database_url).replace("%", "%%"))
    return cfg


def migrate(settings: Settings, revision: str = "head") -> None:
    url = settings.resolved_database_url
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(settings), revision)


def build_store(settings: Settings) -> Store:
    """Connect, load the keys (generating them on a development machine's first run) and check
    that they are the keys this database was written with."""
    url = settings.resolved_database_url
    shown = make_url(url).render_as_string(hide_password=True)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        raise NotMigrated(
            f"no database at {shown}: it has no register schema: "
            "run `register db upgrade` (or `register demo`)"
        )
    engine = make_engine(url, statement_timeout_ms=settings.db_statement_timeout_ms)
    try:
        migrated = inspect(engine).has_table("key_check")
    except OperationalError as exc:
        engine.dispose()
        raise NotMigrated(f"cannot reach the database at {shown}: {exc.orig}") from None
    if not migrated:
        engine.dispose()
        raise NotMigrated(f"the database at {shown} has no register schema: run `register db upgrade`")
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    wanted = set(ScriptDirectory.from_config(alembic_config(settings)).get_heads())
    if current != wanted:
        engine.dispose()
        raise NotMigrated(
            f"the database at {shown} is at schema {', '.join(sorted(current)) or 'none'}, "
            f"this register needs {', '.join(sorted(wanted))}: run `register db upgrade`"
        )
    session_factory = make_session_factory(engine)
    try:
        keys = KeySet.load(settings.resolved_key_dir, generate=settings.generate_missing_keys)
        with session_factory.begin() as session:  # commits the key checks on a first start
            verify_keys(session, keys)
    except BaseException:
        engine.dispose()
        raise
    return Store(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        keys=keys,
        blind=BlindIndex(keys.blind_root.material),
        audit_keys=chain.AuditKeys.derive(keys.audit_root.material),
        anchors=FileAnchors(settings.resolved_audit_anchor_file),
    )


class ConfigurationError(Exception):
    pass


def build_verifier(settings: Settings) -> TokenVerifier:
    """Token verification as configured: the identity providers in REGISTER_OIDC_ISSUERS (keys by discovery,
    claims mapped by REGISTER_ISSUERS_FILE), and/or one issuer with the register's own claims from
    REGISTER_JWKS_URL or REGISTER_JWKS_FILE; in development also the locally generated signing key's issuer
    (`register-dev`), which production refuses."""
    algorithms = frozenset(a.strip() for a in settings.token_algorithms.split(",") if a.strip())
    token_settings = TokenSettings(
        settings.token_issuer, settings.token_audience, algorithms, settings.token_leeway_seconds
    )
    production = settings.environment != "development"
    issuers: list[TrustedIssuer] = []
    urls = settings.oidc_issuer_urls
    if urls:
        described = IssuersFile.load(settings.issuers_file)
        for url in urls:
            if production and (url == DEV_ISSUER or not url.startswith("https://")):
                raise ConfigurationError(
                    f"production trusts identity providers over https only; refused issuer {url!r}"
                )
            mapping, audience = described.for_issuer(url)
            keys = JwksSource(discovery=url, min_refresh_seconds=settings.jwks_refresh_seconds, lazy=True)
            issuers.append(
                TrustedIssuer(url, audience or settings.token_audience, keys, mapping, require_sub=False)
            )
    if settings.jwks_url or settings.jwks_file:
        if production and settings.token_issuer == DEV_ISSUER:
            raise ConfigurationError(
                f"the development issuer {DEV_ISSUER!r} is refused in production: "
                "set REGISTER_OIDC_ISSUERS (or REGISTER_TOKEN_ISSUER to the provider's issuer)"
            )
        source = (
            JwksSource(url=settings.jwks_url, min_refresh_seconds=settings.jwks_refresh_seconds)
            if settings.jwks_url
            else JwksSource(file=settings.jwks_file, min_refresh_seconds=settings.jwks_refresh_seconds)
        )
        issuers.append(TrustedIssuer(settings.token_issuer, settings.token_audience, source))
    elif not production:
        ensure_dev_signing_key(settings.resolved_key_dir)
        source = JwksSource(
            file=settings.resolved_key_dir / DEV_JWKS_FILE, min_refresh_seconds=settings.jwks_refresh_seconds
        )
        issuers.append(TrustedIssuer(settings.token_issuer, settings.token_audience, source))
    if not issuers:
        raise ConfigurationError(
            "production needs REGISTER_OIDC_ISSUERS (or REGISTER_JWKS_URL / REGISTER_JWKS_FILE): "
            "the identity provider"
        )
    if len({i.issuer for i in issuers}) != len(issuers):
        raise ConfigurationError(
            "an issuer is configured twice (REGISTER_OIDC_ISSUERS and REGISTER_TOKEN_ISSUER)"
        )
    return TokenVerifier(issuers, token_settings)


def build_search_index(settings: Settings):  # type: ignore[no-untyped-def]
    """The Elasticsearch index as configured, or None on the embedded default (no Elasticsearch)."""
    if not settings.elasticsearch_url:
        return None
    from elasticsearch import Elasticsearch

    from .search.indexer import IndexSpec, SearchIndex

    client = Elasticsearch(
        settings.elasticsearch_url, request_timeout=30, retry_on_timeout=False, max_retries=0
    )
    return SearchIndex(client, IndexSpec.load(settings.search_alias, settings.search_index_definition))
