"""When an agreement may be executed (pure).

99.31(a)(6)(iii)(C) and OSPI: a written agreement states its purpose, scope, duration, the
information disclosed and a destruction period; one missing any of them cannot be executed. Research
terms last at most three years (OSPI). Annual agreements end with their school year (SPS). The
recipient's signed copy must be on file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from steward.domain.time import SchoolYear, local_date
from steward.policy.facts import AgreementKind

#: Agreements under which student data leave the district: every term is required.
DATA_KINDS = frozenset(
    {AgreementKind.DSA, AgreementKind.NDA, AgreementKind.MOU, AgreementKind.CONTRACT, AgreementKind.STUDIES}
)
#: Agreements whose term is capped at the research maximum.
RESEARCH_KINDS = frozenset({AgreementKind.RESEARCH_APPROVAL, AgreementKind.NDA, AgreementKind.STUDIES})
#: Agreements the district grants on its own (no recipient signature needed).
DISTRICT_ONLY = frozenset({AgreementKind.RESEARCH_APPROVAL, AgreementKind.IS_DESIGNATION})
DEFAULT_DESTRUCTION_DAYS = 45


@dataclass(frozen=True, slots=True)
class Terms:
    kind: AgreementKind
    purpose: str
    datasets: tuple[str, ...]
    elements: tuple[str, ...] | None
    school_years: tuple[int, ...]
    population: str
    valid_from: datetime
    valid_to: datetime | None
    destruction_days: int | None
    destroy_by: date | None
    annual: bool
    school_year: int | None
    recipient_signed: bool
    research_org: bool = False


def add_years(instant: datetime, years: int) -> datetime:
    try:
        return instant.replace(year=instant.year + years)
    except ValueError:
        return instant.replace(year=instant.year + years, day=28)


def problems(terms: Terms, *, max_research_years: int, tz: str) -> list[str]:
    """Everything that keeps the agreement from being executed, in plain words."""
    out: list[str] = []
    data = terms.kind in DATA_KINDS
    if not terms.purpose.strip():
        out.append("the purpose is missing")
    if data:
        if not terms.datasets:
            out.append("the scope is missing: name the datasets")
        if not terms.population.strip():
            out.append("the scope is missing: describe the student population")
        if not terms.elements:
            out.append("the data elements are missing: list every element disclosed")
        if terms.destruction_days is None and terms.destroy_by is None:
            out.append("the destruction period is missing")
    if terms.annual and terms.school_year is None:
        out.append("an annual agreement names its school year")
    if terms.valid_to is None:
        out.append("the duration is missing: set an end date")
    elif terms.valid_to <= terms.valid_from:
        out.append("the agreement ends before it starts")
    research = terms.kind in RESEARCH_KINDS or (terms.research_org and data)
    if research and terms.valid_to is not None:
        cap = add_years(terms.valid_from, max_research_years)
        if terms.valid_to > cap:
            out.append(
                f"a research agreement lasts at most {max_research_years} years: it must end by "
                f"{local_date(cap, tz)}, not {local_date(terms.valid_to, tz)}"
            )
    if terms.annual and terms.school_year is not None and terms.valid_to is not None:
        year_end = SchoolYear(terms.school_year).interval(tz).end
        assert year_end is not None
        if terms.valid_to > year_end:
            out.append(
                f"an annual agreement ends with its school year {SchoolYear(terms.school_year).label()} "
                f"(on {local_date(year_end, tz)})"
            )
    if terms.kind not in DISTRICT_ONLY and not terms.recipient_signed:
        out.append("the recipient's signed copy is not on file")
    return out


def destroy_by(terms: Terms, tz: str) -> date | None:
    """The destruction deadline: the stated date, else the period after the end (default 45 days)."""
    if terms.destroy_by is not None:
        return terms.destroy_by
    if terms.valid_to is None:
        return None
    days = DEFAULT_DESTRUCTION_DAYS if terms.destruction_days is None else terms.destruction_days
    return local_date(terms.valid_to, tz) + timedelta(days=days)
