"""A district's own rules as one typed value: it may tighten FERPA's defaults, never loosen them.

``TenantPolicy.validate`` refuses any setting that would go below the hub's floor (a suppression
threshold under 10, a directory element that is not directory information, a research term longer
than three years, datasets a kind of organization may never receive).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from steward.domain.datasets import DEFAULT_DIRECTORY_ELEMENTS, PROVISIONING_DATASETS, Dataset, element_names
from steward.domain.orgs import OrgKind
from steward.domain.time import DEFAULT_TIMEZONE

#: The earliest school year the hub ever shares (2009-10, OSPI).
HUB_FLOOR_YEAR = 2010
#: The smallest group size an aggregate may show (WAC 392-117-060).
MIN_SUPPRESSION_THRESHOLD = 10
#: Research approvals last at most three years (OSPI).
MAX_RESEARCH_YEARS = 3
#: A break-glass emergency lasts at most this long (99.36: only for the period of the emergency).
MAX_EMERGENCY_HOURS = 72

#: Names a district may list as directory information: the directory dataset's elements, plus
#: ``name`` for first, middle and last name together. Never SSN, IDs or birth date (BPS).
DIRECTORY_CHOICES: frozenset[str] = frozenset({"name", *element_names(Dataset.DIRECTORY)})

ALL_DATASETS: frozenset[Dataset] = frozenset(Dataset)

#: The most each kind of outside organization may ever receive; a district may narrow these.
KIND_CEILING: dict[OrgKind, frozenset[Dataset]] = {
    OrgKind.PARTNER: ALL_DATASETS,
    OrgKind.RESEARCH_ORG: ALL_DATASETS,
    OrgKind.VENDOR: frozenset(PROVISIONING_DATASETS),
    OrgKind.AGENCY: ALL_DATASETS,
    OrgKind.STATE_AGENCY: ALL_DATASETS,
}


class TenantPolicyError(ValueError):
    """A tenant setting would loosen a rule below the hub's floor, or is malformed."""


@dataclass(frozen=True, slots=True)
class TenantPolicy:
    """One district's settings that the decision engine reads."""

    district: str
    timezone: str = DEFAULT_TIMEZONE
    floor_year: int = HUB_FLOOR_YEAR
    directory_elements: tuple[str, ...] = DEFAULT_DIRECTORY_ELEMENTS
    suppression_threshold: int = MIN_SUPPRESSION_THRESHOLD
    k_anonymity: int = MIN_SUPPRESSION_THRESHOLD
    #: Datasets each kind of outside organization may receive (missing kind: its ceiling).
    kind_datasets: Mapping[OrgKind, frozenset[Dataset]] = field(default_factory=dict)
    emergency_window_hours: int = 24
    #: ODA-03: identifiable research roster data needs family consent as well as the agreement.
    research_identifiable_requires_consent: bool = True
    #: 99.34: when the annual notice does not say records are forwarded, the parent is notified.
    annual_notice_forwards_records: bool = False
    max_research_years: int = MAX_RESEARCH_YEARS
    #: Days after an agreement ends by which data must be destroyed (OSPI: 45).
    destruction_days: int = 45

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        problems: list[str] = []
        if self.floor_year < HUB_FLOOR_YEAR:
            problems.append(f"floor_year {self.floor_year} is before the hub's floor {HUB_FLOOR_YEAR}")
        unknown = [e for e in self.directory_elements if e not in DIRECTORY_CHOICES]
        if unknown:
            problems.append(
                f"directory_elements {unknown} are not directory information "
                f"(choose from {sorted(DIRECTORY_CHOICES)})"
            )
        if self.suppression_threshold < MIN_SUPPRESSION_THRESHOLD:
            problems.append(
                f"suppression_threshold {self.suppression_threshold} is below {MIN_SUPPRESSION_THRESHOLD}"
            )
        if self.k_anonymity < MIN_SUPPRESSION_THRESHOLD:
            problems.append(f"k_anonymity {self.k_anonymity} is below {MIN_SUPPRESSION_THRESHOLD}")
        if not 1 <= self.emergency_window_hours <= MAX_EMERGENCY_HOURS:
            problems.append(f"emergency_window_hours must be between 1 and {MAX_EMERGENCY_HOURS}")
        if not 1 <= self.max_research_years <= MAX_RESEARCH_YEARS:
            problems.append(f"max_research_years must be between 1 and {MAX_RESEARCH_YEARS}")
        if not 0 <= self.destruction_days <= 45:
            problems.append("destruction_days must be between 0 and 45")
        for kind, datasets in self.kind_datasets.items():
            ceiling = KIND_CEILING.get(kind)
            if ceiling is None:
                problems.append(f"kind_datasets: {kind.value} organizations receive no student data")
            elif not datasets <= ceiling:
                extra = sorted(d.value for d in datasets - ceiling)
                problems.append(f"kind_datasets: {kind.value} organizations may never receive {extra}")
        if problems:
            raise TenantPolicyError("; ".join(problems))

    def datasets_for(self, kind: OrgKind) -> frozenset[Dataset]:
        """Datasets an organization of ``kind`` may receive from this district."""
        ceiling = KIND_CEILING.get(kind, frozenset())
        return self.kind_datasets.get(kind, ceiling) & ceiling

    def directory_dataset_elements(self) -> tuple[str, ...]:
        """The directory dataset's element names this district treats as directory information."""
        chosen = set(self.directory_elements)
        if "name" in chosen:
            chosen |= {"first_name", "middle_name", "last_name"}
        return tuple(e for e in element_names(Dataset.DIRECTORY) if e in chosen)

    def with_changes(self, **changes: Any) -> TenantPolicy:
        """A copy with some settings changed (validated)."""
        return replace(self, **changes)

    # -- plain-data form, for storage (tenant_settings.extra) and the settings page -----------------

    def to_extra(self) -> dict[str, Any]:
        """The settings that live in ``tenant_settings.extra`` (the rest have their own columns)."""
        return {
            "kind_datasets": {k.value: sorted(d.value for d in v) for k, v in self.kind_datasets.items()},
            "emergency_window_hours": self.emergency_window_hours,
            "research_identifiable_requires_consent": self.research_identifiable_requires_consent,
            "annual_notice_forwards_records": self.annual_notice_forwards_records,
            "max_research_years": self.max_research_years,
            "destruction_days": self.destruction_days,
        }

    @classmethod
    def from_settings(
        cls,
        district: str,
        *,
        timezone: str = DEFAULT_TIMEZONE,
        floor_year: int = HUB_FLOOR_YEAR,
        directory_elements: Iterable[str] = DEFAULT_DIRECTORY_ELEMENTS,
        suppression_threshold: int = MIN_SUPPRESSION_THRESHOLD,
        k_anonymity: int = MIN_SUPPRESSION_THRESHOLD,
        extra: Mapping[str, Any] | None = None,
    ) -> TenantPolicy:
        """Build from the stored columns and the ``extra`` mapping; bad values raise TenantPolicyError."""
        extra = dict(extra or {})
        known = {
            "kind_datasets",
            "emergency_window_hours",
            "research_identifiable_requires_consent",
            "annual_notice_forwards_records",
            "max_research_years",
            "destruction_days",
        }
        unknown = sorted(set(extra) - known)
        if unknown:
            raise TenantPolicyError(f"unknown tenant settings {unknown}")
        try:
            kind_datasets = {
                OrgKind(kind): frozenset(Dataset(d) for d in datasets)
                for kind, datasets in dict(extra.get("kind_datasets", {})).items()
            }
        except ValueError as exc:
            raise TenantPolicyError(f"kind_datasets: {exc}") from exc
        return cls(
            district=district,
            timezone=timezone,
            floor_year=int(floor_year),
            directory_elements=tuple(directory_elements),
            suppression_threshold=int(suppression_threshold),
            k_anonymity=int(k_anonymity),
            kind_datasets=kind_datasets,
            emergency_window_hours=int(extra.get("emergency_window_hours", 24)),
            research_identifiable_requires_consent=bool(
                extra.get("research_identifiable_requires_consent", True)
            ),
            annual_notice_forwards_records=bool(extra.get("annual_notice_forwards_records", False)),
            max_research_years=int(extra.get("max_research_years", MAX_RESEARCH_YEARS)),
            destruction_days=int(extra.get("destruction_days", 45)),
        )
