"""Each district's transfer settings: the datasets it sends, the format it receives, its source."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from steward.domain.datasets import Dataset
from steward.products.transfer import CEDARS_DATASETS, TransferFormat
from steward.store.base import now_utc
from steward.store.models import Organization
from steward.workflow.transfers.models import TransferSettings

DEFAULT_PACKAGE_DAYS = 14
MAX_PACKAGE_DAYS = 60


class SettingsError(ValueError):
    """A transfer setting that cannot be used (unknown dataset or format, missing source)."""


@dataclass(frozen=True, slots=True)
class TransferConfig:
    district_id: int
    datasets: tuple[Dataset, ...] = CEDARS_DATASETS
    receive_format: TransferFormat = TransferFormat.CEDARS
    source_path: str | None = None
    package_days: int = DEFAULT_PACKAGE_DAYS


def settings_for(db: Session, district_id: int) -> TransferConfig:
    """The district's settings, or the defaults (CEDARS datasets, CEDARS format, 14 days)."""
    row = db.get(TransferSettings, district_id)
    if row is None:
        return TransferConfig(district_id)
    datasets = tuple(Dataset(d) for d in row.datasets) if row.datasets else CEDARS_DATASETS
    return TransferConfig(
        district_id, datasets, TransferFormat(row.receive_format), row.source_path, row.package_days
    )


def parse_datasets(values: Iterable[str]) -> tuple[Dataset, ...]:
    names = [v.strip() for v in values if v.strip()]
    try:
        chosen = {Dataset(n) for n in names}
    except ValueError:
        known = ", ".join(d.value for d in Dataset)
        raise SettingsError(f"unknown dataset in {', '.join(names)} (known: {known})") from None
    return tuple(d for d in Dataset if d in chosen)


def set_settings(
    db: Session,
    district_id: int,
    *,
    datasets: Iterable[str | Dataset] | None = None,
    receive_format: str | None = None,
    source_path: str | Path | None = None,
    package_days: int | None = None,
) -> TransferConfig:
    """Change some settings of a district (the rest keep their values)."""
    district = db.get(Organization, district_id)
    if district is None or district.kind != "district":
        raise SettingsError(f"no district with id {district_id}")
    row = db.get(TransferSettings, district_id)
    if row is None:
        row = TransferSettings(
            district_id=district_id,
            datasets=[d.value for d in CEDARS_DATASETS],
            receive_format=TransferFormat.CEDARS.value,
            package_days=DEFAULT_PACKAGE_DAYS,
        )
        db.add(row)
    if datasets is not None:
        chosen = parse_datasets(str(getattr(d, "value", d)) for d in datasets)
        if not chosen:
            raise SettingsError("a district sends at least one dataset")
        row.datasets = [d.value for d in chosen]
    if receive_format is not None:
        try:
            row.receive_format = TransferFormat(receive_format).value
        except ValueError:
            known = ", ".join(f.value for f in TransferFormat)
            raise SettingsError(f"unknown format {receive_format!r} (known: {known})") from None
    if source_path is not None:
        path = Path(source_path)
        if not path.is_dir():
            raise SettingsError(f"{path} is not a directory")
        row.source_path = str(path.resolve())
    if package_days is not None:
        if not 1 <= package_days <= MAX_PACKAGE_DAYS:
            raise SettingsError(f"package_days must be between 1 and {MAX_PACKAGE_DAYS}")
        row.package_days = package_days
    row.updated_at = now_utc()
    db.flush()
    return settings_for(db, district_id)


def source_directory(db: Session, data_dir: Path, district_id: int) -> Path:
    """Where the district's records are read from: its setting, else ``DATA_DIR/sources/CODE``, else
    the demo's drop (``DATA_DIR/demo/region/CODE``)."""
    district = db.get(Organization, district_id)
    if district is None:
        raise SettingsError(f"no district with id {district_id}")
    configured = settings_for(db, district_id).source_path
    candidates = (
        [Path(configured)]
        if configured
        else [data_dir / "sources" / district.code, data_dir / "demo" / "region" / district.code]
    )
    for path in candidates:
        if path.is_dir():
            return path
    raise SettingsError(
        f"no source is set for {district.name} ({district.code}): its data officer sets one with "
        f"`steward transfer settings {district.code} --source DIR`"
        + (f" ({configured} is not a directory)" if configured else "")
    )
