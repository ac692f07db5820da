"""Imports every module that defines tables, so the metadata (and Alembic) sees all of them."""

from steward.accounts import models as account_models  # noqa: F401
from steward.audit import models as audit_models  # noqa: F401
from steward.delivery import models as delivery_models  # noqa: F401
from steward.store import models  # noqa: F401
from steward.workflow import models as workflow_models  # noqa: F401
