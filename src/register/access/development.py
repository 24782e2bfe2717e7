"""The development identity provider's users: who `register demo` writes bearer tokens for and the development
sign-in page lists (only in development, while the development issuer is trusted). The test realm
(auth/keycloak/register-realm.json) has each of them as a user, with the same names.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.actors import Principal
from ..domain.enums import Agency, Area, Role

# A user of each role in two areas, plus a probation officer (who must not see police-only intelligence).
DEMO_USERS = [(area, role, Agency.POLICE) for area in (Area.KENT, Area.ESSEX) for role in Role] + [
    (Area.KENT, Role.OFFENDER_MANAGER, Agency.PROBATION)
]


@dataclass(frozen=True)
class DemoUser:
    area: Area
    role: Role
    agency: Agency

    @property
    def user_id(self) -> str:
        return f"{self.area.value}.{self.role.value}" + (
            "" if self.agency == Agency.POLICE else f".{self.agency.value}"
        )

    @property
    def variable(self) -> str:
        """The variable `register demo` writes this user's token to, e.g. KENT_OFFENDER_MANAGER."""
        return f"{self.area.value}_{self.role.value}".upper().replace("-", "_") + (
            "" if self.agency == Agency.POLICE else f"_{self.agency.value.upper()}"
        )

    @property
    def display_name(self) -> str:
        """As the test realm names the same user: "Demo Offender Manager Kent Police"."""
        role = self.role.value.replace("_", " ").title()
        return f"Demo {role} {self.area.value.title()} {self.agency.value.title()}"

    def principal(self) -> Principal:
        return Principal(
            user_id=self.user_id,
            agency=self.agency,
            area=self.area,
            roles=frozenset({self.role}),
            display_name=self.display_name,
        )


def demo_users() -> list[DemoUser]:
    return [DemoUser(area, role, agency) for area, role, agency in DEMO_USERS]
