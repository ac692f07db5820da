"""Imports every module that defines tables, so the metadata (and Alembic) sees all of them."""

from steward.accounts import models as account_models  # noqa: F401
from steward.audit import models as audit_models  # noqa: F401
from steward.delivery import models as delivery_models  # noqa: F401
from steward.family import models as family_models  # noqa: F401
from steward.products.extract import models as research_id_models  # noqa: F401
from steward.products.portal import models as portal_models  # noqa: F401
from steward.store import models  # noqa: F401
from steward.workflow import history as workflow_history  # noqa: F401
from steward.workflow import models as workflow_models  # noqa: F401
from steward.workflow import settings as workflow_settings  # noqa: F401
from steward.workflow.agreements import models as agreement_models  # noqa: F401
from steward.workflow.consents import models as consent_models  # noqa: F401
from steward.workflow.grants import models as grant_models  # noqa: F401
from steward.workflow.notifications import models as notification_models  # noqa: F401
from steward.workflow.provisioning import models as provisioning_models  # noqa: F401
from steward.workflow.requests import models as request_models  # noqa: F401
from steward.workflow.transfers import models as transfer_models  # noqa: F401
from steward.workflow.worker import models as worker_models  # noqa: F401
