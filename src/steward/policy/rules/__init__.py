"""One module per legal basis or rule family; ``ROLE_RULES`` maps each role to its rule."""

from __future__ import annotations

from collections.abc import Callable

from steward.domain.orgs import Role
from steward.policy.rules.agency import agency_analyst
from steward.policy.rules.common import Ask, Outcome
from steward.policy.rules.family import eligible_student, parent
from steward.policy.rules.officer import district_data_officer
from steward.policy.rules.partner import partner_staff
from steward.policy.rules.registrar import registrar
from steward.policy.rules.research import researcher
from steward.policy.rules.school import school_leader, teacher
from steward.policy.rules.vendor import vendor_integration

RoleRule = Callable[[Ask], Outcome]

#: Roles without an entry (review panel member, media, public) see directory information only.
ROLE_RULES: dict[Role, RoleRule] = {
    Role.TEACHER: teacher,
    Role.PRINCIPAL: school_leader,
    Role.COUNSELOR: school_leader,
    Role.REGISTRAR: registrar,
    Role.DISTRICT_DATA_OFFICER: district_data_officer,
    Role.PARTNER_STAFF: partner_staff,
    Role.RESEARCHER: researcher,
    Role.VENDOR_INTEGRATION: vendor_integration,
    Role.AGENCY_ANALYST: agency_analyst,
    Role.PARENT: parent,
    Role.STUDENT: eligible_student,
}
