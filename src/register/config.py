"""Configuration: one settings object, read from the environment when asked for, never at import."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# The project checkout (src/register/config.py -> the root), where `var/` and `migrations/` live.
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    """Every setting is an environment variable prefixed `REGISTER_` (e.g. `REGISTER_DATABASE_URL`)."""

    model_config = SettingsConfigDict(env_prefix="REGISTER_", extra="ignore")

    environment: Literal["development", "production"] = Field(
        default="development",
        description="development generates missing keys on first run; production refuses to start without them",
    )
    var_dir: Path = Field(default=PROJECT_ROOT / "var", description="where the embedded default keeps its files")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite file var/register.db")
    key_dir: Path | None = Field(default=None, description="directory of key files; default: var/keys")
    migrations_dir: Path = Field(default=PROJECT_ROOT / "migrations")
    db_statement_timeout_ms: int = Field(default=30_000, ge=0, description="PostgreSQL statement timeout per statement")

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'register.db'}"

    @property
    def resolved_key_dir(self) -> Path:
        return self.key_dir or self.var_dir / "keys"

    @property
    def generate_missing_keys(self) -> bool:
        return self.environment == "development"
