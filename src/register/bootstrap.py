"""Everything the register needs, built in one place from the settings and passed in, never imported as globals."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

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
from .audit.anchors import Anchor, AnchorStore, FileAnchors, latest, make_anchor
from .config import Settings
from .crypto.envelope import BlindIndex
from .crypto.keys import KeySet
from .store.cipher import verify_keys
from .store.db import make_engine, make_session_factory
from .store.uow import UnitOfWork

log = logging.getLogger(__name__)


class NotMigrated(Exception):
    pass


@dataclass
class Store:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    keys: KeySet
    blind: BlindIndex
    audit_keys: chain.AuditKeys
    anchors: AnchorStore  # where the audit chain's head is anchored, outside the database
    seal_after_commit: bool = True
    commit_hooks: list[Callable[[], None]] = field(default_factory=list)  # e.g. wake the in-process indexer
    _anchor_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _last_anchor: tuple[int, dt.datetime] | None = field(
        default=None, repr=False
    )  # (position, when), lazily from the store
    _refusals_logged: set[int] = field(default_factory=set, repr=False)
    _anchor_retry_at: dt.datetime | None = field(default=None, repr=False)  # after a failed anchor
    _behind_logged: tuple[int, int] | None = field(default=None, repr=False)

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self)

    def after_commit(self) -> None:
        """Seal the audit events just committed. A failure here loses nothing: the
        events are committed and the next sealing run (or `register audit seal`) seals them."""
        for hook in list(self.commit_hooks):
            hook()
        if not self.seal_after_commit:
            return
        try:
            self.seal_audit()
        except Exception:
            log.exception("sealing the audit log failed; it will be retried")

    def seal_audit(self, *, full: bool = False) -> int:
        """Seal what was committed (and anchor the head when due); returns how many events were sealed."""
        return self.seal(full=full).sealed

    def seal(self, *, full: bool = False, force_anchor: bool = False) -> chain.SealResult:
        """Seal committed events, refusing (and logging, once per process) any whose MAC is missing or wrong;
        then, after the seals are committed, anchor the head if it is due (or `force_anchor`)."""
        with self.session_factory() as session:
            result = chain.seal_pending(session, self.audit_keys, full=full)
            session.commit()
        new = [(seq, why) for seq, why in result.refused if seq not in self._refusals_logged]
        for seq, why in new[:10]:
            log.error(
                "AUDIT TAMPERING: refused to seal audit event seq %d: %s; run `register audit verify`",
                seq,
                why,
            )
        if len(new) > 10:
            log.error(
                "AUDIT TAMPERING: refused to seal %d more audit events (seq %d..%d); run `register audit verify`",
                len(new) - 10,
                new[10][0],
                new[-1][0],
            )
        self._refusals_logged.update(seq for seq, _ in new)
        now = dt.datetime.now(dt.UTC)
        if result.head is not None and (
            force_anchor or self._anchor_retry_at is None or now >= self._anchor_retry_at
        ):
            try:
                result.anchor = self._anchor(result.head, force=force_anchor)
                self._anchor_retry_at = None
            except Exception as exc:
                # The API seals every second: retry (and log) once a minute, not on every pass.
                self._anchor_retry_at = now + dt.timedelta(seconds=60)
                log.exception(
                    "anchoring the audit chain head to %s failed; retrying in a minute",
                    self.anchors.description,
                )
                result.anchor_error = f"anchoring to {self.anchors.description} failed: {exc}"
        return result

    def _anchor(self, head: chain.Head, *, force: bool) -> Anchor | None:
        with self._anchor_lock:
            now = dt.datetime.now(dt.UTC)
            if self._last_anchor is None:
                last = latest(self.anchors.recent(), self.audit_keys.anchor)
                self._last_anchor = (
                    (last.position, last.made_at) if last else (0, dt.datetime.min.replace(tzinfo=dt.UTC))
                )
            position, when = self._last_anchor
            if head.position < position:
                if self._behind_logged != (
                    head.position,
                    position,
                ):  # once, not on every pass of the API's sealer
                    self._behind_logged = (head.position, position)
                    log.error(
                        "AUDIT TAMPERING: the audit chain ends at position %d but was anchored at position %d: its tail was "
                        "cut; run `register audit verify`",
                        head.position,
                        position,
                    )
                return None
            if head.position == position:
                return None
            settings = self.settings
            due = (
                force
                or head.position - position >= settings.audit_anchor_every_events
                or (now - when).total_seconds() >= settings.audit_anchor_every_seconds
            )
            if not due:
                return None
            anchor = make_anchor(
                self.audit_keys.anchor,
                position=head.position,
                event_seq=head.event_seq,
                digest=head.digest,
                at=now,
            )
            self.anchors.append(anchor)
            self._last_anchor = (head.position, now)
            return anchor

    def verify_audit(self) -> chain.Report:
        with self.session_factory() as session:
            return chain.verify(session, self.audit_keys, self.anchors)

    def dispose(self) -> None:
        self.engine.dispose()


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
            f"no database at {shown}: it has no register schema: run `register db upgrade` (or `register demo`)"
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
        with session_factory() as session:
            verify_keys(session, keys)
            session.commit()
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
    """Token verification as configured: the identity providers in REGISTER_OIDC_ISSUERS (keys by discovery, claims
    mapped by REGISTER_ISSUERS_FILE), and/or one issuer with the register's own claims from REGISTER_JWKS_URL or
    REGISTER_JWKS_FILE; in development also the locally generated signing key's issuer (`register-dev`), which
    production refuses."""
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
            "production needs REGISTER_OIDC_ISSUERS (or REGISTER_JWKS_URL / REGISTER_JWKS_FILE): the identity provider"
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
