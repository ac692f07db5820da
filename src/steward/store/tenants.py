"""Read and change a district's tenant policy (``tenant_settings``), validated by
``steward.policy.tenant.TenantPolicy`` (a district may tighten, never loosen) and written to the
audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from steward.audit import EventActor, EventSpec, append
from steward.policy.tenant import TenantPolicy
from steward.store.fact_loader import tenant_of
from steward.store.models import TenantSettings


def load_policy(db: Session, district_id: int) -> TenantPolicy:
    """The district's policy (the defaults when it never changed them)."""
    return tenant_of(db.get(TenantSettings, district_id), district_id)


def _plain(policy: TenantPolicy) -> dict[str, Any]:
    return {
        "timezone": policy.timezone,
        "floor_year": policy.floor_year,
        "directory_elements": list(policy.directory_elements),
        "suppression_threshold": policy.suppression_threshold,
        "k_anonymity": policy.k_anonymity,
        **policy.to_extra(),
    }


def save_policy(db: Session, district_id: int, policy: TenantPolicy, actor: EventActor) -> dict[str, Any]:
    """Store ``policy`` for the district in the caller's transaction; returns what changed
    (``{setting: [old, new]}``), also appended to the district's audit chain."""
    policy.validate()
    before = _plain(load_policy(db, district_id))
    after = _plain(policy)
    changed = {k: [before[k], after[k]] for k in after if before.get(k) != after[k]}
    row = db.get(TenantSettings, district_id)
    if row is None:
        row = TenantSettings(district_id=district_id)
        db.add(row)
    row.timezone = policy.timezone
    row.floor_year = policy.floor_year
    row.directory_elements = list(policy.directory_elements)
    row.suppression_threshold = policy.suppression_threshold
    row.k_anonymity = policy.k_anonymity
    row.extra = policy.to_extra()
    db.flush()
    if changed:
        append(
            db,
            EventSpec(
                action="tenant.settings.changed",
                district_id=district_id,
                actor=actor,
                subject_type="district",
                subjects=[district_id],
                details={"changed": changed},
            ),
        )
    return changed
