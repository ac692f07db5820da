"""Validate and import one CEDARS drop into the roster index, all or nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select

from steward.domain import records as r
from steward.formats.cedars import DEFAULT_DELIMITER, CedarsError, Drop, DropReport, validate_drop
from steward.store.db import transaction
from steward.store.models import Region
from steward.store.roster_import import ImportSummary, Progress, fingerprint_files, import_roster


class DropRejectedError(Exception):
    """The drop has errors; nothing was imported."""

    def __init__(self, report: DropReport) -> None:
        self.report = report
        super().__init__(f"{report.error_count} error(s) in {report.directory}; nothing imported")

    @property
    def errors(self) -> list[CedarsError]:
        return self.report.errors


@dataclass
class _DropSource:
    """Adapts a Drop to the importer: absent optional files read as empty."""

    drop: Drop

    @property
    def district_code(self) -> str:
        return self.drop.district_code

    def records(self, prefix: str) -> Iterator[r.Record]:
        if prefix not in self.drop:
            return iter(())
        return iter(self.drop.records(prefix))


def import_cedars_drop(
    engine: Engine,
    directory: Path,
    district_code: str,
    *,
    delimiter: str = DEFAULT_DELIMITER,
    region_code: str | None = None,
    on_validated: Callable[[DropReport], None] | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Validate the whole drop first; import it in one transaction only if it has no error."""
    report = validate_drop(directory, delimiter=delimiter, district_code=district_code)
    if report.district_code and report.district_code != district_code:
        report.add([CedarsError(str(directory), None, None, f"drop is for district {report.district_code}")])
    if not report.ok:
        raise DropRejectedError(report)
    if on_validated is not None:
        on_validated(report)
    drop = Drop.open(directory, delimiter=delimiter, district_code=district_code)
    fingerprint = fingerprint_files(f.path for f in drop.files.values())
    with transaction(engine) as db:
        region_id = None
        if region_code:
            region = db.scalar(select(Region).where(Region.code == region_code))
            if region is None:
                region = Region(code=region_code, name=region_code, state="WA")
                db.add(region)
                db.flush()
            region_id = region.id
        return import_roster(
            db, _DropSource(drop), fingerprint=fingerprint, region_id=region_id, progress=progress
        )
