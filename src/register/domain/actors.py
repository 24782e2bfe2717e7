"""Who is acting: a person (the principal a verified token becomes) or one of the register's own processes."""

from __future__ import annotations

from dataclasses import dataclass, field

from .enums import Agency, Area, Role


@dataclass(frozen=True)
class Principal:
    user_id: str
    agency: Agency
    area: Area
    roles: frozenset[Role] = field(default_factory=frozenset)
    display_name: str = ""

    @property
    def roles_label(self) -> str:
        return ",".join(sorted(r.value for r in self.roles))


@dataclass(frozen=True)
class SystemActor:
    """A process of the register itself (demo loader, key rotation, sealer), named in the audit log."""

    process: str

    @property
    def user_id(self) -> str:
        return f"system:{self.process}"


Actor = Principal | SystemActor
