"""Configuration: one settings object, read from the environment when asked for, never at import."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The project checkout (src/register/config.py -> the root), where `var/` and `migrations/` live.
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    """Every setting is an environment variable prefixed `REGISTER_` (e.g. `REGISTER_DATABASE_URL`)."""

    model_config = SettingsConfigDict(env_prefix="REGISTER_", extra="ignore")

    environment: Literal["development", "production"] = Field(
        default="development",
        description=(
            "development generates missing keys on first run; production refuses to start without them"
        ),
    )
    var_dir: Path = Field(
        default=PROJECT_ROOT / "var", description="where the embedded default keeps its files"
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file var/register.db"
    )
    database_replica_url: str | None = Field(
        default=None,
        description="a PostgreSQL hot standby of database_url, for reads that may lag it by the replica's "
        "delay (the annual statistics); default: every read on the primary",
    )
    key_dir: Path | None = Field(default=None, description="directory of key files; default: var/keys")
    migrations_dir: Path = Field(default=PROJECT_ROOT / "migrations")
    db_statement_timeout_ms: int = Field(
        default=30_000, ge=0, description="PostgreSQL statement timeout per statement"
    )
    db_command_statement_timeout_ms: int = Field(
        default=3_600_000,
        ge=0,
        description="PostgreSQL statement timeout per statement of the `register` commands that work "
        "through the whole register (quality runs, statistics, reindex, generate, retention): at 1,000,000 "
        "people one of their set-based statements runs longer than a request's (decision 55). `register "
        "serve`, the workers and every other command keep db_statement_timeout_ms. 0: none",
    )
    policy_file: Path = Field(default=PROJECT_ROOT / "auth" / "policy.yaml", description="the access policy")
    retention_file: Path = Field(
        default=Path(__file__).parent / "retention" / "retention.yaml",
        description="review intervals and disposal dates of archived records, per archive reason",
    )
    oidc_issuers: str = Field(
        default="",
        description="comma-separated issuer URLs of the trusted OpenID Connect providers; "
        "their keys are found by discovery (ISSUER/.well-known/openid-configuration)",
    )
    issuers_file: Path = Field(
        default=PROJECT_ROOT / "auth" / "issuers.yaml",
        description="how each provider's claims become the user id, name, agency, area and roles",
    )
    token_issuer: str = Field(
        default="register-dev",
        description="expected `iss` of bearer tokens from the JWKS URL or file "
        "(the development issuer `register-dev` is refused in production)",
    )
    token_audience: str = Field(default="register-api", description="expected `aud` of bearer tokens")
    token_algorithms: str = Field(
        default="ES256,RS256,PS256,EdDSA", description="comma-separated asymmetric allow-list"
    )
    token_leeway_seconds: int = Field(default=30, ge=0, le=300)
    jwks_file: Path | None = Field(
        default=None, description="JWKS file; default in development: the dev key's JWKS"
    )
    jwks_url: str | None = Field(default=None, description="the identity provider's JWKS URL (production)")
    jwks_refresh_seconds: float = Field(
        default=60, ge=1, description="least time between JWKS refreshes on an unknown kid"
    )
    max_body_bytes: int = Field(
        default=1_000_000, ge=1024, description="larger request bodies are refused with 413"
    )
    photo_max_bytes: int = Field(
        default=5 * 1024 * 1024,
        ge=1024,
        description="largest photograph file accepted (bytes); larger uploads are refused, naming the rule",
    )
    photo_max_pixels: int = Field(
        default=40_000_000,
        ge=10_000,
        description="most pixels (width x height) a photograph may declare: decompression bombs are refused "
        "before they are decoded",
    )
    rate_limit_per_user: str = Field(
        default="600/minute",
        description="calls one user may make (limits notation, `;` between limits; blank: none); over it 429",
    )
    rate_limit_per_address: str = Field(
        default="3000/minute",
        description="calls from one source address, authenticated or not (blank: none); over it 429",
    )
    audit_refusals_interval_seconds: int = Field(
        default=60,
        ge=1,
        le=86_400,
        description="refusals with nobody signed in (a junk token, an unreadable body) are audited one by "
        "one up to `audit_refusals_individually` per source address in this interval, then counted into one "
        "summary event",
    )
    audit_refusals_individually: int = Field(
        default=30, ge=0, le=10_000, description="see `audit_refusals_interval_seconds`"
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="where counts are kept: memory (per process) or e.g. redis://host:6379",
    )
    elasticsearch_url: str | None = Field(
        default=None,
        description="Elasticsearch (a cluster: its nodes' URLs separated by commas); none: the embedded "
        "default, no index",
    )
    search_alias: str = Field(default="register-nominals", description="the alias the live index sits behind")
    search_index_definition: Path = Field(default=PROJECT_ROOT / "search" / "nominals.v3.json")
    search_shards: int | None = Field(
        default=None, ge=1, le=1024, description="primary shards of a new index; none: the definition's (1)"
    )
    search_replicas: int | None = Field(
        default=None,
        ge=0,
        le=16,
        description="copies of each shard on other nodes of a new index; none: the definition's (0)",
    )
    indexer_batch: int = Field(default=500, ge=1, le=5000)
    indexer_in_api: bool = Field(
        default=True,
        description="the API drains the outbox itself; false where `register indexer` workers run",
    )
    indexer_max_attempts: int = Field(
        default=8, ge=1, description="failed attempts before an outbox row is parked"
    )
    indexer_retry_first_seconds: float = Field(
        default=2, gt=0, description="an outbox row's wait after its first failed attempt; doubled after each"
    )
    indexer_retry_max_seconds: float = Field(
        default=300, gt=0, description="the longest wait between an outbox row's attempts"
    )
    indexer_database_retry_max_seconds: float = Field(
        default=30,
        gt=0,
        description="`register indexer`: the longest wait between tries while the database is down",
    )
    audit_anchor_file: Path | None = Field(
        default=None,
        description="append-only JSON-lines file of signed audit chain heads "
        "(keep it off the database host); default: var/audit-anchors.jsonl",
    )
    audit_anchor_every_events: int = Field(
        default=10_000, ge=1, description="anchor the chain head after this many sealed events"
    )
    audit_anchor_every_seconds: float = Field(
        default=60, ge=0, description="or after this many seconds, if the head moved"
    )

    caseload_schedule_file: Path = Field(
        default=Path(__file__).parent / "caseload" / "schedule.yaml",
        description="how often home visits and reviews fall due, by MAPPA level (docs/caseload.md)",
    )
    session_idle_minutes: float = Field(
        default=15,
        gt=0,
        le=24 * 60,
        description="a web session ends after this many minutes without a request",
    )
    session_max_hours: float = Field(
        default=10,
        gt=0,
        le=7 * 24,
        description="a web session ends this many hours after sign-in, however busy",
    )
    oidc_client_id: str = Field(
        default="register-web",
        description="the web pages' client at each identity provider of REGISTER_OIDC_ISSUERS "
        "(authorization code flow with PKCE)",
    )
    oidc_client_secret: str = Field(
        default="", description="that client's secret (blank: a public client, PKCE only)", repr=False
    )
    backup_passphrase: str = Field(
        default="",
        repr=False,
        description="the passphrase `register backup` wraps the key bundle under and `register restore` "
        "opens it with (from the secret store; blank: --passphrase-file or a prompt)",
    )
    pg_bindir: Path | None = Field(
        default=None,
        description="directory of pg_dump and pg_restore for `register backup` and `restore`; default: the "
        "server's major version under /usr/lib/postgresql, else the newest there, else PATH",
    )
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto",
        description="how `register serve` logs: JSON lines, or human-readable lines; auto: readable when "
        "standard error is a terminal, JSON otherwise",
    )
    metrics_token: str = Field(
        default="",
        description="bearer token a Prometheus scrape of /metrics must send; blank: /metrics is open in "
        "development and absent (404) in production",
        repr=False,
    )
    progress_every_seconds: float = Field(
        default=10,
        ge=0,
        le=3600,
        description="long commands whose standard error is not a terminal log a progress line this often",
    )

    @field_validator("rate_limit_per_user", "rate_limit_per_address")
    @classmethod
    def _rate(cls, v: str) -> str:
        from limits import parse_many

        if v.strip():
            parse_many(v)  # ValueError names what it could not read
        return v

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'register.db'}"

    @property
    def resolved_key_dir(self) -> Path:
        return self.key_dir or self.var_dir / "keys"

    @property
    def resolved_audit_anchor_file(self) -> Path:
        return self.audit_anchor_file or self.var_dir / "audit-anchors.jsonl"

    @property
    def oidc_issuer_urls(self) -> list[str]:
        return [
            u.strip() for u in self.oidc_issuers.split(",") if u.strip()
        ]  # exactly as the tokens' `iss` (a trailing / matters)

    @property
    def generate_missing_keys(self) -> bool:
        return self.environment == "development"


def display_path(path: Path) -> str:
    """A path as the person who started the register would type it: relative to where they are, if below
    it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
