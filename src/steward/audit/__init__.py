"""Hash-chained audit log, signed checkpoints, verification and the 99.32 disclosure ledger.

Chains: one per district (``district:<id>``) for every event about that district's data, and one
``global`` chain for events with no district (sign-ins, hub configuration). Append through the
caller's session with ``append``/``append_many`` or, for disclosures, ``record_disclosure``.
"""

from steward.audit.encoding import SYSTEM, EventActor, EventSpec
from steward.audit.ledger import Recipient, actor_of, record_disclosure
from steward.audit.log import Appended, append, append_many

__all__ = [
    "SYSTEM",
    "Appended",
    "EventActor",
    "EventSpec",
    "Recipient",
    "actor_of",
    "append",
    "append_many",
    "record_disclosure",
]
