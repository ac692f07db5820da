"""The principal: an authenticated person acting in one role at one organization."""

from __future__ import annotations

from dataclasses import dataclass

from steward.domain.orgs import OrgKind, Role


@dataclass(frozen=True, slots=True)
class Principal:
    person_id: int
    person_code: str
    role: Role
    organization_id: int
    organization_code: str
    organization_kind: OrgKind
    display_name: str = ""

    def describe(self) -> str:
        """``Ana Diaz (teacher at 17001-0101)``."""
        who = self.display_name or self.person_code
        return f"{who} ({self.role.label.lower()} at {self.organization_code})"
