"""Policy test files: a district writes facts and expected decisions in YAML (docs/policy-tests.md).

Parsing is strict and pure: every error names the file, the line and the key; unknown keys are
errors (a typo must not silently weaken a test). Values are read from the raw YAML text, so
``2025-09-02`` is a local date (midnight in the district's time zone) and ``10:00-07:00`` keeps its
offset; a time without an offset is local time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.domain.orgs import OrgKind, RegistrationStatus, Role
from steward.domain.time import DEFAULT_TIMEZONE, Interval, SchoolYear, local_midnight, utc
from steward.policy.decision import Form
from steward.policy.facts import (
    AgreementFact,
    AgreementKind,
    AgreementStatus,
    ConsentFact,
    ConsentStatus,
    DependencyFact,
    EmergencyFact,
    EnrollmentFact,
    EnrollmentRequestFact,
    FactBase,
    GrantFact,
    GuardianshipFact,
    OptOutFact,
    OptOutKind,
    OrgFact,
    PersonFact,
    RoleFact,
    SectionEnrollmentFact,
    SectionFact,
    StaffFact,
    StudentFact,
    TrainingFact,
)
from steward.policy.tenant import TenantPolicy, TenantPolicyError

#: Start of time for facts given without ``from`` (roles, organizations' people).
EPOCH = datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC"))

E = TypeVar("E", bound=StrEnum)


class PolicyFileError(ValueError):
    """An invalid policy test file; ``str()`` is ``FILE:LINE: message``."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.message = message


@dataclass(frozen=True, slots=True)
class Check:
    """One expected decision."""

    line: int
    person: str
    student: str
    dataset: Dataset
    form: Form
    at: datetime
    expect_allow: bool
    basis: LegalBasis | None = None
    missing_contains: tuple[str, ...] = ()
    evidence_contains: tuple[str, ...] = ()
    obligations_contains: tuple[str, ...] = ()
    role: Role | None = None
    org: str | None = None
    purpose: str = ""
    name: str = ""

    def describe(self) -> str:
        head = self.name or f"{self.person} {self.dataset.value} of {self.student}"
        return f"line {self.line}: {head}"


@dataclass(frozen=True, slots=True)
class PolicyTestFile:
    path: str
    now: datetime
    timezone: str
    facts: FactBase
    checks: tuple[Check, ...]
    #: Line of each fact id, for messages.
    lines: dict[str, int] = field(default_factory=dict)


# -- node helpers -----------------------------------------------------------------------------------


class _Reader:
    def __init__(self, path: str, tz: str = DEFAULT_TIMEZONE) -> None:
        self.path = path
        self.tz = tz

    def fail(self, node: Node, message: str) -> PolicyFileError:
        return PolicyFileError(self.path, node.start_mark.line + 1, message)

    def mapping(self, node: Node, what: str, allowed: Iterable[str]) -> dict[str, Node]:
        if not isinstance(node, MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        allowed = set(allowed)
        out: dict[str, Node] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise self.fail(key_node, f"{what}: keys must be plain words")
            key = key_node.value
            if key not in allowed:
                raise self.fail(
                    key_node, f"{what}: unknown key {key!r} (allowed: {', '.join(sorted(allowed))})"
                )
            if key in out:
                raise self.fail(key_node, f"{what}: key {key!r} given twice")
            out[key] = value_node
        return out

    def sequence(self, node: Node, what: str) -> list[Node]:
        if isinstance(node, ScalarNode) and node.value in ("", "~", "null") and node.style is None:
            return []
        if not isinstance(node, SequenceNode):
            raise self.fail(node, f"{what} must be a list")
        return list(node.value)

    def scalar(self, node: Node, what: str) -> str:
        if not isinstance(node, ScalarNode):
            raise self.fail(node, f"{what} must be a single value")
        return str(node.value)

    def text(self, m: dict[str, Node], key: str, what: str, default: str | None = None) -> str:
        if key not in m:
            if default is None:
                raise PolicyFileError(self.path, self._line_of(m), f"{what}: {key} is required")
            return default
        value = self.scalar(m[key], f"{what}.{key}").strip()
        if not value and default is None:
            raise self.fail(m[key], f"{what}: {key} must not be empty")
        return value

    def optional(self, m: dict[str, Node], key: str, what: str) -> str | None:
        if key not in m:
            return None
        value = self.scalar(m[key], f"{what}.{key}").strip()
        return value or None

    def words(self, m: dict[str, Node], key: str, what: str) -> list[str]:
        if key not in m:
            return []
        node = m[key]
        if isinstance(node, ScalarNode):
            if node.style is None and node.value.strip() in ("", "~", "null"):
                return []
            return [node.value.strip()]
        return [self.scalar(n, f"{what}.{key}").strip() for n in self.sequence(node, f"{what}.{key}")]

    def boolean(self, m: dict[str, Node], key: str, what: str, default: bool) -> bool:
        if key not in m:
            return default
        value = self.scalar(m[key], f"{what}.{key}").strip().lower()
        if value in ("true", "yes", "on"):
            return True
        if value in ("false", "no", "off"):
            return False
        raise self.fail(m[key], f"{what}: {key} must be true or false, not {value!r}")

    def integer(self, m: dict[str, Node], key: str, what: str, default: int | None = None) -> int | None:
        if key not in m:
            return default
        value = self.scalar(m[key], f"{what}.{key}").strip()
        if not re.fullmatch(r"-?\d+", value):
            raise self.fail(m[key], f"{what}: {key} must be a whole number, not {value!r}")
        return int(value)

    def enum(self, m: dict[str, Node], key: str, what: str, kind: type[E], default: E | None = None) -> E:
        if key not in m:
            if default is None:
                raise PolicyFileError(self.path, self._line_of(m), f"{what}: {key} is required")
            return default
        return self._member(kind, self.scalar(m[key], f"{what}.{key}").strip(), m[key], f"{what}: {key}")

    def enums(self, m: dict[str, Node], key: str, what: str, kind: type[E]) -> list[E]:
        node = m.get(key)
        items = node.value if isinstance(node, SequenceNode) else [node] * len(self.words(m, key, what))
        return [
            self._member(kind, word, item, f"{what}: {key}")
            for word, item in zip(self.words(m, key, what), items, strict=True)
        ]

    def _member(self, kind: type[E], value: str, node: Node, what: str) -> E:
        try:
            return kind(value)
        except ValueError:
            choices = ", ".join(e.value for e in kind)
            raise self.fail(node, f"{what} {value!r} is not one of: {choices}") from None

    def day(self, m: dict[str, Node], key: str, what: str) -> date | None:
        if key not in m:
            return None
        value = self.scalar(m[key], f"{what}.{key}").strip()
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise self.fail(m[key], f"{what}: {key} must be a date YYYY-MM-DD, not {value!r}") from None

    def instant(self, m: dict[str, Node], key: str, what: str) -> datetime | None:
        if key not in m:
            return None
        value = self.scalar(m[key], f"{what}.{key}").strip()
        return self.parse_instant(value, m[key], f"{what}: {key}")

    def parse_instant(self, value: str, node: Node, what: str) -> datetime:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            try:
                return local_midnight(date.fromisoformat(value), self.tz)
            except ValueError:
                raise self.fail(node, f"{what} is not a valid date: {value!r}") from None
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise self.fail(
                node, f"{what} must be a date (2025-09-02) or an ISO instant (2025-10-15T10:00:00-07:00)"
            ) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=ZoneInfo(self.tz))
        return utc(parsed)

    def interval(
        self, m: dict[str, Node], what: str, *, start_key: str = "from", required: bool = True
    ) -> Interval:
        start = self.instant(m, start_key, what)
        end = self.instant(m, "to", what)
        if start is None:
            if required:
                raise PolicyFileError(self.path, self._line_of(m), f"{what}: {start_key} is required")
            start = EPOCH
        if end is not None and end < start:
            raise self.fail(m["to"], f"{what}: to is before {start_key}")
        return Interval(start, end)

    @staticmethod
    def _line_of(m: dict[str, Node]) -> int:
        nodes = list(m.values())
        return (nodes[0].start_mark.line + 1) if nodes else 0


# -- the file ---------------------------------------------------------------------------------------

TOP_KEYS = {"now", "tenant", "tenants", "facts", "checks", "description"}
FACT_KEYS = {
    "organizations",
    "people",
    "students",
    "enrollments",
    "sections",
    "guardianships",
    "dependencies",
    "agreements",
    "consents",
    "grants",
    "trainings",
    "opt_outs",
    "enrollment_requests",
    "emergencies",
}
TENANT_KEYS = {
    "district",
    "timezone",
    "floor_year",
    "directory_elements",
    "suppression_threshold",
    "k_anonymity",
    "kind_datasets",
    "emergency_window_hours",
    "research_identifiable_requires_consent",
    "annual_notice_forwards_records",
    "max_research_years",
    "destruction_days",
}
CHECK_KEYS = {
    "as",
    "student",
    "dataset",
    "expect",
    "basis",
    "missing_contains",
    "at",
    "form",
    "role",
    "org",
    "purpose",
    "evidence_contains",
    "obligations_contains",
    "name",
}


def parse_policy_file(text: str, path: str = "<policy>") -> PolicyTestFile:
    """Parse a policy test file; raises ``PolicyFileError`` naming the line of the first problem."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        raise PolicyFileError(path, line, f"not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise PolicyFileError(path, 0, f"not valid YAML: {exc}") from None
    if root is None:
        raise PolicyFileError(path, 1, "the file is empty")
    return _Parser(path).parse(root)


class _Parser:
    def __init__(self, path: str) -> None:
        self.path = path
        self.r = _Reader(path)
        self.orgs: dict[str, OrgFact] = {}
        self.people: dict[str, PersonFact] = {}
        self.students: dict[str, StudentFact] = {}
        self.sections: dict[str, SectionFact] = {}
        self.lines: dict[str, int] = {}
        self.ids: set[str] = set()
        #: (id, person, student, threat, at, to): finished once the tenants' windows are known.
        self.emergencies: list[tuple[str, str, str, str, datetime, datetime | None]] = []

    # -- references ------------------------------------------------------------------------------

    def _org(self, m: dict[str, Node], key: str, what: str, kinds: set[OrgKind] | None = None) -> str:
        code = self.r.text(m, key, what)
        org = self.orgs.get(code)
        if org is None:
            raise self.r.fail(m[key], f"{what}: {key} {code!r} is not a declared organization")
        if kinds is not None and org.kind not in kinds:
            wanted = " or ".join(sorted(k.value for k in kinds))
            raise self.r.fail(m[key], f"{what}: {key} {code!r} is a {org.kind.value}, not a {wanted}")
        return code

    def _district(self, m: dict[str, Node], key: str, what: str) -> str:
        """A district; an undeclared one is created without a region (issue example: ``d2``)."""
        code = self.r.text(m, key, what)
        org = self.orgs.get(code)
        if org is None:
            self.orgs[code] = OrgFact(code, code, OrgKind.DISTRICT)
            return code
        if org.kind is not OrgKind.DISTRICT:
            raise self.r.fail(m[key], f"{what}: {key} {code!r} is a {org.kind.value}, not a district")
        return code

    def _person(self, code: str) -> str:
        self.people.setdefault(code, PersonFact(code, code))
        return code

    def _student(self, m: dict[str, Node], key: str, what: str) -> str:
        code = self.r.text(m, key, what)
        if code not in self.students:
            raise self.r.fail(m[key], f"{what}: {key} {code!r} is not a declared student")
        return code

    def _unique(self, kind: str, ident: str, node: Node) -> str:
        key = f"{kind}:{ident}"
        if key in self.ids:
            raise self.r.fail(node, f"{kind} id {ident!r} is used twice")
        self.ids.add(key)
        self.lines[key] = node.start_mark.line + 1
        return ident

    # -- parse ------------------------------------------------------------------------------------

    def parse(self, root: Node) -> PolicyTestFile:
        r = self.r
        top = r.mapping(root, "the file", TOP_KEYS)
        tenant_nodes: list[Node] = []
        if "tenant" in top:
            tenant_nodes.append(top["tenant"])
        if "tenants" in top:
            tenant_nodes.extend(r.sequence(top["tenants"], "tenants"))
        # The time zone must be known before any date is read.
        for node in tenant_nodes[:1]:
            m = r.mapping(node, "tenant", TENANT_KEYS)
            tz = r.optional(m, "timezone", "tenant") or DEFAULT_TIMEZONE
            try:
                ZoneInfo(tz)
            except (ZoneInfoNotFoundError, ValueError):
                raise r.fail(m["timezone"], f"tenant: unknown time zone {tz!r}") from None
            r.tz = tz
        if "now" not in top:
            raise PolicyFileError(self.path, 1, "now is required (the default instant of the checks)")
        now = r.parse_instant(r.scalar(top["now"], "now").strip(), top["now"], "now")
        facts_node = top.get("facts")
        facts = r.mapping(facts_node, "facts", FACT_KEYS) if facts_node is not None else {}
        base = self._facts(facts)
        tenants = {}
        for node in tenant_nodes:
            tenant = self._tenant(node)
            if tenant.timezone != r.tz:
                raise r.fail(node, "every tenant of one file must use the same time zone")
            tenants[tenant.district] = tenant
        base.tenants = tenants
        emergencies = []
        for ident, person, student, threat, start, end in self.emergencies:
            window = base.tenant(self.students[student].district).emergency_window_hours
            emergencies.append(
                EmergencyFact(
                    ident, person, student, threat, Interval(start, end or start + timedelta(hours=window))
                )
            )
        base.emergencies = emergencies
        base.__post_init__()
        if "checks" not in top:
            raise PolicyFileError(self.path, 1, "checks is required")
        checks = tuple(
            self._check(node, i + 1, now) for i, node in enumerate(r.sequence(top["checks"], "checks"))
        )
        if not checks:
            raise r.fail(top["checks"], "checks: at least one check is required")
        base.people = list(self.people.values())  # people first named in a check
        base.__post_init__()
        return PolicyTestFile(self.path, now, r.tz, base, checks, self.lines)

    def _tenant(self, node: Node) -> TenantPolicy:
        r = self.r
        m = r.mapping(node, "tenant", TENANT_KEYS)
        district = self._district(m, "district", "tenant")
        extra: dict[str, object] = {}
        if "kind_datasets" in m:
            kinds = r.mapping(m["kind_datasets"], "tenant.kind_datasets", {k.value for k in OrgKind})
            extra["kind_datasets"] = {
                kind: [d.value for d in r.enums(kinds, kind, "tenant.kind_datasets", Dataset)]
                for kind in kinds
            }
        for key in ("emergency_window_hours", "max_research_years", "destruction_days"):
            if key in m:
                extra[key] = r.integer(m, key, "tenant")
        for key in ("research_identifiable_requires_consent", "annual_notice_forwards_records"):
            if key in m:
                extra[key] = r.boolean(m, key, "tenant", False)
        try:
            return TenantPolicy.from_settings(
                district,
                timezone=r.tz,
                floor_year=r.integer(m, "floor_year", "tenant", 2010) or 2010,
                directory_elements=r.words(m, "directory_elements", "tenant")
                or ["name", "age", "grade_level", "enrollment_dates"],
                suppression_threshold=r.integer(m, "suppression_threshold", "tenant", 10) or 10,
                k_anonymity=r.integer(m, "k_anonymity", "tenant", 10) or 10,
                extra=extra,
            )
        except TenantPolicyError as exc:
            raise r.fail(node, f"tenant: {exc}") from None

    def _facts(self, facts: dict[str, Node]) -> FactBase:
        r = self.r
        # Organizations: districts first so that schools may name them in any order.
        org_items = []
        for i, node in enumerate(
            r.sequence(facts["organizations"], "facts.organizations") if "organizations" in facts else []
        ):
            what = f"organizations[{i + 1}]"
            m = r.mapping(
                node,
                what,
                {"id", "kind", "state", "region", "district", "registered", "registration", "flags", "name"},
            )
            org_items.append((node, m, what))
        for node, m, what in sorted(
            org_items,
            key=lambda item: item[1].get("kind") is None or r.scalar(item[1]["kind"], "kind") != "district",
        ):
            code = self._unique("organization", r.text(m, "id", what), node)
            kind = r.enum(m, "kind", what, OrgKind)
            parent = None
            state = r.optional(m, "state", what)
            region = r.optional(m, "region", what)
            if "district" in m:
                parent = self._district(m, "district", what)
                parent_org = self.orgs[parent]
                state = state or parent_org.state
                region = region or parent_org.region
            if kind is OrgKind.SCHOOL and parent is None:
                raise r.fail(node, f"{what}: a school needs its district")
            registration = RegistrationStatus.UNREGISTERED
            if "registration" in m:
                registration = r.enum(m, "registration", what, RegistrationStatus)
            elif r.boolean(m, "registered", what, False):
                registration = RegistrationStatus.REGISTERED
            self.orgs[code] = OrgFact(
                code,
                code,
                kind,
                state or "WA",
                region,
                parent,
                registration,
                frozenset(r.words(m, "flags", what)),
                r.optional(m, "name", what) or "",
            )

        roles: list[RoleFact] = []
        for i, node in enumerate(r.sequence(facts["people"], "facts.people") if "people" in facts else []):
            what = f"people[{i + 1}]"
            m = r.mapping(node, what, {"id", "name", "roles"})
            code = self._unique("person", r.text(m, "id", what), node)
            self.people[code] = PersonFact(code, code, r.optional(m, "name", what) or "")
            for j, role_node in enumerate(r.sequence(m["roles"], f"{what}.roles") if "roles" in m else []):
                rwhat = f"{what}.roles[{j + 1}]"
                rm = r.mapping(role_node, rwhat, {"role", "org", "from", "to"})
                role = r.enum(rm, "role", rwhat, Role)
                org = self._org(rm, "org", rwhat)
                roles.append(
                    RoleFact(
                        f"{code}/{role.value}/{org}/L{role_node.start_mark.line + 1}",
                        code,
                        role,
                        org,
                        r.interval(rm, rwhat, required=False),
                    )
                )

        for i, node in enumerate(
            r.sequence(facts["students"], "facts.students") if "students" in facts else []
        ):
            what = f"students[{i + 1}]"
            m = r.mapping(
                node,
                what,
                {"id", "district", "state_id", "birth_date", "legal_restriction", "person", "name"},
            )
            code = self._unique("student", r.text(m, "id", what), node)
            birth = r.day(m, "birth_date", what)
            if birth is None:
                raise r.fail(node, f"{what}: birth_date is required")
            person = r.optional(m, "person", what)
            self.students[code] = StudentFact(
                code,
                code,
                self._district(m, "district", what),
                birth,
                r.optional(m, "state_id", what),
                r.boolean(m, "legal_restriction", what, False),
                None if person is None else self._person(person),
            )

        enrollments = []
        for node, what in self._list(facts, "enrollments"):
            m = r.mapping(node, what, {"id", "student", "school", "grade", "from", "to", "school_year"})
            valid = r.interval(m, what)
            ident = self._unique(
                "enrollment", r.optional(m, "id", what) or f"L{node.start_mark.line + 1}", node
            )
            start_day = valid.start.astimezone(ZoneInfo(r.tz)).date()
            enrollments.append(
                EnrollmentFact(
                    ident,
                    self._student(m, "student", what),
                    self._org(m, "school", what, {OrgKind.SCHOOL}),
                    r.optional(m, "grade", what) or "",
                    r.integer(m, "school_year", what) or SchoolYear.of(start_day).end_year,
                    valid,
                )
            )

        sections, members, staff = [], [], []
        for node, what in self._list(facts, "sections"):
            m = r.mapping(node, what, {"id", "school", "school_year", "teachers", "students", "from", "to"})
            ident = self._unique("section", r.text(m, "id", what), node)
            valid = r.interval(m, what)
            year = r.integer(m, "school_year", what) or SchoolYear.at(valid.start, r.tz).end_year
            sections.append(SectionFact(ident, ident, self._org(m, "school", what, {OrgKind.SCHOOL}), year))
            for teacher in r.words(m, "teachers", what):
                staff.append(StaffFact(f"{ident}/{teacher}", self._person(teacher), ident, valid))
            for student in r.words(m, "students", what):
                if student not in self.students:
                    raise r.fail(m["students"], f"{what}: students {student!r} is not a declared student")
                members.append(SectionEnrollmentFact(f"{ident}/{student}", ident, student, valid))

        guardianships = []
        for node, what in self._list(facts, "guardianships"):
            m = r.mapping(node, what, {"id", "parent", "student", "from", "to", "restricted"})
            parent = self._person(r.text(m, "parent", what))
            student = self._student(m, "student", what)
            ident = self._unique(
                "guardianship",
                r.optional(m, "id", what) or f"{parent}/{student}/L{node.start_mark.line + 1}",
                node,
            )
            guardianships.append(
                GuardianshipFact(
                    ident, parent, student, r.interval(m, what), r.boolean(m, "restricted", what, False)
                )
            )

        dependencies = []
        for node, what in self._list(facts, "dependencies"):
            m = r.mapping(node, what, {"id", "parent", "student", "from", "to"})
            parent = self._person(r.text(m, "parent", what))
            student = self._student(m, "student", what)
            ident = self._unique(
                "dependency", r.optional(m, "id", what) or f"L{node.start_mark.line + 1}", node
            )
            dependencies.append(DependencyFact(ident, parent, student, r.interval(m, what)))

        agreements = []
        for node, what in self._list(facts, "agreements"):
            m = r.mapping(
                node,
                what,
                {
                    "id",
                    "kind",
                    "org",
                    "district",
                    "status",
                    "datasets",
                    "elements",
                    "school_year",
                    "school_years",
                    "schools",
                    "clauses",
                    "from",
                    "to",
                    "destroy_by",
                    "purpose",
                },
            )
            ident = self._unique("agreement", r.text(m, "id", what), node)
            schools = []
            for s in r.words(m, "schools", what):
                if s not in self.orgs or self.orgs[s].kind is not OrgKind.SCHOOL:
                    raise r.fail(m["schools"], f"{what}: schools {s!r} is not a declared school")
                schools.append(s)
            years = []
            for y in r.words(m, "school_years", what):
                if not re.fullmatch(r"\d{4}", y):
                    raise r.fail(
                        m["school_years"], f"{what}: school_years must be ending years like 2026, not {y!r}"
                    )
                years.append(int(y))
            elements = r.words(m, "elements", what) if "elements" in m else None
            agreements.append(
                AgreementFact(
                    ident,
                    ident,
                    r.enum(m, "kind", what, AgreementKind),
                    self._org(m, "org", what),
                    self._district(m, "district", what),
                    r.enum(m, "status", what, AgreementStatus),
                    r.interval(m, what),
                    frozenset(r.enums(m, "datasets", what, Dataset)),
                    None if elements is None else frozenset(elements),
                    r.integer(m, "school_year", what),
                    frozenset(years),
                    frozenset(schools),
                    frozenset(r.words(m, "clauses", what)),
                    r.optional(m, "purpose", what) or "",
                    r.day(m, "destroy_by", what),
                )
            )

        consents = []
        for node, what in self._list(facts, "consents"):
            m = r.mapping(
                node,
                what,
                {
                    "id",
                    "student",
                    "org",
                    "datasets",
                    "signed_by",
                    "signed_on",
                    "purpose",
                    "from",
                    "to",
                    "status",
                    "school_year",
                },
            )
            ident = self._unique("consent", r.text(m, "id", what), node)
            signed_on = r.day(m, "signed_on", what)
            if signed_on is None:
                raise r.fail(node, f"{what}: signed_on is required (99.30: signed and dated)")
            consents.append(
                ConsentFact(
                    ident,
                    ident,
                    self._student(m, "student", what),
                    self._org(m, "org", what),
                    frozenset(r.enums(m, "datasets", what, Dataset)),
                    self._person(r.text(m, "signed_by", what)),
                    signed_on,
                    local_midnight(signed_on, r.tz),
                    r.interval(m, what),
                    r.optional(m, "purpose", what) or "",
                    r.enum(m, "status", what, ConsentStatus, ConsentStatus.VERIFIED),
                    r.integer(m, "school_year", what),
                )
            )

        grants = []
        for node, what in self._list(facts, "grants"):
            m = r.mapping(
                node,
                what,
                {"id", "district", "org", "students", "datasets", "from", "to", "school", "granted_by"},
            )
            ident = self._unique("grant", r.text(m, "id", what), node)
            students = r.words(m, "students", what)
            for s in students:
                if s not in self.students:
                    raise r.fail(m["students"], f"{what}: students {s!r} is not a declared student")
            granted_by = r.optional(m, "granted_by", what)
            grants.append(
                GrantFact(
                    ident,
                    ident,
                    self._district(m, "district", what),
                    self._org(m, "org", what),
                    frozenset(students),
                    frozenset(r.enums(m, "datasets", what, Dataset)),
                    r.interval(m, what),
                    self._org(m, "school", what, {OrgKind.SCHOOL}) if "school" in m else None,
                    None if granted_by is None else self._person(granted_by),
                )
            )

        trainings = []
        for node, what in self._list(facts, "trainings"):
            m = r.mapping(node, what, {"id", "person", "from", "to", "school_year"})
            ident = self._unique(
                "training", r.optional(m, "id", what) or f"L{node.start_mark.line + 1}", node
            )
            trainings.append(
                TrainingFact(
                    ident,
                    self._person(r.text(m, "person", what)),
                    r.interval(m, what),
                    r.integer(m, "school_year", what),
                )
            )

        opt_outs = []
        for node, what in self._list(facts, "opt_outs"):
            m = r.mapping(node, what, {"id", "student", "kind", "from", "to"})
            ident = self._unique("opt_out", r.optional(m, "id", what) or f"L{node.start_mark.line + 1}", node)
            opt_outs.append(
                OptOutFact(
                    ident,
                    self._student(m, "student", what),
                    r.enum(m, "kind", what, OptOutKind),
                    r.interval(m, what),
                )
            )

        requests = []
        for node, what in self._list(facts, "enrollment_requests"):
            m = r.mapping(node, what, {"id", "student", "district", "registrar", "from", "to"})
            ident = self._unique("request", r.optional(m, "id", what) or f"L{node.start_mark.line + 1}", node)
            registrar = r.optional(m, "registrar", what)
            requests.append(
                EnrollmentRequestFact(
                    ident,
                    self._student(m, "student", what),
                    self._district(m, "district", what),
                    r.interval(m, what),
                    None if registrar is None else self._person(registrar),
                )
            )

        for node, what in self._list(facts, "emergencies"):
            m = r.mapping(node, what, {"id", "person", "student", "threat", "at", "to"})
            ident = self._unique(
                "emergency", r.optional(m, "id", what) or f"L{node.start_mark.line + 1}", node
            )
            start = r.instant(m, "at", what)
            if start is None:
                raise r.fail(node, f"{what}: at is required (when the emergency was declared)")
            end = r.instant(m, "to", what)
            if end is not None and end < start:
                raise r.fail(m["to"], f"{what}: to is before at")
            threat = r.scalar(m["threat"], f"{what}.threat") if "threat" in m else ""
            person = self._person(r.text(m, "person", what))
            self.emergencies.append((ident, person, self._student(m, "student", what), threat, start, end))

        return FactBase(
            orgs=list(self.orgs.values()),
            people=list(self.people.values()),
            roles=roles,
            students=list(self.students.values()),
            enrollments=enrollments,
            sections=sections,
            section_enrollments=members,
            staff=staff,
            guardianships=guardianships,
            dependencies=dependencies,
            agreements=agreements,
            consents=consents,
            grants=grants,
            trainings=trainings,
            opt_outs=opt_outs,
            requests=requests,
        )

    def _list(self, facts: dict[str, Node], key: str) -> list[tuple[Node, str]]:
        if key not in facts:
            return []
        return [
            (node, f"{key}[{i + 1}]") for i, node in enumerate(self.r.sequence(facts[key], f"facts.{key}"))
        ]

    def _check(self, node: Node, index: int, now: datetime) -> Check:
        r = self.r
        what = f"checks[{index}]"
        m = r.mapping(node, what, CHECK_KEYS)
        person = r.text(m, "as", what)
        if person not in self.people:
            self._person(person)
        student = r.text(m, "student", what)
        if student not in self.students:
            raise r.fail(m["student"], f"{what}: student {student!r} is not a declared student")
        expect = r.text(m, "expect", what).lower()
        if expect not in ("allow", "deny"):
            raise r.fail(m["expect"], f"{what}: expect must be allow or deny, not {expect!r}")
        at = r.instant(m, "at", what) or now
        org = r.optional(m, "org", what)
        if org is not None and org not in self.orgs:
            raise r.fail(m["org"], f"{what}: org {org!r} is not a declared organization")
        basis = r.enum(m, "basis", what, LegalBasis) if "basis" in m else None
        if basis is not None and expect == "deny":
            raise r.fail(m["basis"], f"{what}: basis only makes sense with expect: allow")
        return Check(
            line=node.start_mark.line + 1,
            person=person,
            student=student,
            dataset=r.enum(m, "dataset", what, Dataset),
            form=r.enum(m, "form", what, Form, Form.IDENTIFIABLE),
            at=at,
            expect_allow=expect == "allow",
            basis=basis,
            missing_contains=tuple(r.words(m, "missing_contains", what)),
            evidence_contains=tuple(r.words(m, "evidence_contains", what)),
            obligations_contains=tuple(r.words(m, "obligations_contains", what)),
            role=r.enum(m, "role", what, Role) if "role" in m else None,
            org=org,
            purpose=r.optional(m, "purpose", what) or "",
            name=r.optional(m, "name", what) or "",
        )
