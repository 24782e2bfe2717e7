"""The one policy engine. It reads `auth/policy.yaml` and answers every access question the API asks.

Nothing else in the register decides access: routes declare what they need
(`register.api.deps.Authorize`, `RecordGuard`) and the engine answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from ..domain.actors import Principal
from ..domain.enums import Agency, Area, Role


class Scope(StrEnum):
    ANY = "any"
    OWN_AREA = "own_area"
    NATIONAL = "national"


_BREADTH = {Scope.OWN_AREA: 1, Scope.ANY: 2, Scope.NATIONAL: 2}


@dataclass(frozen=True)
class RecordFacts:
    """What the policy needs to know of a record: who owns it and whether it is restricted."""

    area: Area
    restricted: bool


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rule: str = "allowed"
    reason: str = ""
    stub: bool = False

    @classmethod
    def deny(cls, rule: str, reason: str) -> Decision:
        return cls(False, rule, reason)


ALLOW = Decision(True)


@dataclass(frozen=True)
class Visibility:
    """What one caller may see inside a record, for reads and writes alike: the sections their agency may
    read, and the agency item audiences are matched against (None: every item, for system actors). Whatever
    falls outside it is, to this caller, absent: not listed, not counted, and any reference to it answers
    exactly like a missing one."""

    audience: Agency | None
    sections: frozenset[str]

    def sees_section(self, section: str) -> bool:
        return section in self.sections


class PolicyError(Exception):
    pass


class Policy:
    def __init__(self, doc: dict[str, Any]) -> None:
        try:
            self.actions: dict[str, str] = dict(doc["actions"])
            self.grants: dict[Role, dict[str, Scope]] = {
                Role(role): {action: Scope(scope) for action, scope in (granted or {}).items()}
                for role, granted in doc["grants"].items()
            }
            self.sections: dict[str, dict[str, frozenset[Agency]]] = {
                name: {mode: frozenset(Agency(a) for a in agencies) for mode, agencies in rule.items()}
                for name, rule in doc["sections"].items()
            }
            rules = doc["area_rules"]
            self.purpose_outside_area = bool(rules["purpose_required_outside_own_area"])
            self.purpose_roles = frozenset(Role(r) for r in rules["purpose_required_for_roles"])
            self.purpose_actions = frozenset(rules.get("purpose_required_for_actions", []))
            self.restricted_stub = rules["restricted_outside_own_area"] == "stub"
            self.item_audience = doc["item_audience"] == "enforced"
            self.public_routes = frozenset(doc["public_routes"])
        except (KeyError, ValueError, TypeError) as exc:
            raise PolicyError(f"the access policy is malformed: {exc!r}") from None
        for role, granted in self.grants.items():
            unknown = set(granted) - set(self.actions)
            if unknown:
                raise PolicyError(f"role {role} is granted undeclared actions {sorted(unknown)}")
        if set(self.grants) != set(Role):
            raise PolicyError(
                "the policy must state the grants of every role; missing "
                f"{sorted(set(Role) - set(self.grants))}"
            )

    @classmethod
    def load(cls, path: Path) -> Policy:
        try:
            return cls(yaml.safe_load(path.read_text()))
        except FileNotFoundError:
            raise PolicyError(f"access policy {path} not found") from None

    # ------------------------------------------------------------------ questions

    def scope(self, principal: Principal, action: str) -> Scope | None:
        """The widest scope any of the principal's roles has for this action, or None."""
        if action not in self.actions:
            raise PolicyError(f"undeclared action {action!r}")
        scopes = [self.grants[r][action] for r in principal.roles if action in self.grants.get(r, {})]
        return max(scopes, key=_BREADTH.__getitem__) if scopes else None

    def purpose_required(self, principal: Principal, action: str, own_area: bool) -> bool:
        if self.purpose_outside_area and not own_area:
            return True
        granting = {r for r in principal.roles if action in self.grants.get(r, {})}
        return bool(granting) and granting <= self.purpose_roles

    def section_allows(self, principal: Principal, section: str, mode: str) -> bool:
        rule = self.sections.get(section)
        if rule is None:
            raise PolicyError(f"section {section!r} has no entry in the policy")
        return principal.agency in rule.get(mode, frozenset())

    def decide(
        self,
        principal: Principal,
        action: str,
        *,
        section: str | None = None,
        record: RecordFacts | None = None,
        purpose: str | None = None,
    ) -> Decision:
        scope = self.scope(principal, action)
        if scope is None:
            roles = ", ".join(sorted(r.value for r in principal.roles)) or "no role"
            return Decision.deny("role_not_permitted", f"{roles} may not {self.actions[action]}")
        if section is not None:
            mode = "write" if action in ("record.write", "record.create") else "read"
            if not self.section_allows(principal, section, mode):
                return Decision.deny(
                    "agency_not_permitted", f"{principal.agency} users may not {mode} the {section} section"
                )
        if action in self.purpose_actions and not (purpose and purpose.strip()):
            return Decision.deny(
                "purpose_required", "state the purpose (e.g. an enquiry reference) in `purpose`"
            )
        if record is None:
            return ALLOW
        own = record.area == principal.area
        if scope == Scope.OWN_AREA and not own:
            return Decision.deny("owning_area_only", f"only {record.area} (the owning area) may do this")
        # The purpose comes first: without one, a restricted record elsewhere answers exactly like any other
        # record elsewhere (a stub before the purpose would tell a purpose-less caller which records are
        # restricted).
        if (
            action == "record.read"
            and self.purpose_required(principal, action, own)
            and not (purpose and purpose.strip())
        ):
            return Decision.deny(
                "purpose_required", "state the purpose of this read (e.g. an enquiry reference) in `purpose`"
            )
        if action == "record.read" and not own and record.restricted and self.restricted_stub:
            return Decision(True, "restricted_stub", "restricted record: contact the owning area", stub=True)
        return ALLOW

    def visibility(self, principal: Principal) -> Visibility:
        return Visibility(
            self.audience_agency(principal),
            frozenset(s for s in self.sections if self.section_allows(principal, s, "read")),
        )

    def audience_agency(self, principal: Principal) -> Agency | None:
        """The agency item audiences are matched against, or None when audiences are not enforced."""
        return principal.agency if self.item_audience else None
