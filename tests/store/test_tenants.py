"""Tenant policy storage: defaults, a validated save, the audit event, a refused loosening."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from steward.audit import SYSTEM
from steward.audit.models import AuditEvent
from steward.domain.datasets import Dataset
from steward.domain.orgs import OrgKind
from steward.policy.tenant import TenantPolicyError
from steward.store.db import transaction
from steward.store.tenants import load_policy, save_policy
from tests import factories as f


def test_save_and_load(engine: Engine) -> None:
    with transaction(engine) as db:
        district = f.org(db, "d1", "district")
        policy = load_policy(db, district.id)
        assert policy.suppression_threshold == 10
        tighter = policy.with_changes(
            suppression_threshold=20, kind_datasets={OrgKind.PARTNER: frozenset({Dataset.ATTENDANCE})}
        )
        changed = save_policy(db, district.id, tighter, SYSTEM)
        assert set(changed) == {"suppression_threshold", "kind_datasets"}
        assert save_policy(db, district.id, tighter, SYSTEM) == {}
    with transaction(engine) as db:
        again = load_policy(db, district.id)
        assert again.suppression_threshold == 20
        assert again.datasets_for(OrgKind.PARTNER) == {Dataset.ATTENDANCE}
        events = db.scalars(select(AuditEvent.action)).all()
        assert events.count("tenant.settings.changed") == 1
        with pytest.raises(TenantPolicyError):
            save_policy(db, district.id, again.with_changes(floor_year=2001), SYSTEM)
