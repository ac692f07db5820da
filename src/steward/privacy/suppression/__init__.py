"""Cell suppression that survives arithmetic (DISCLOSURE.md): model, primaries, secondary
suppression (fast circuits + LP repair, or optimal ILP), bound-aware audit and certificate."""

from steward.privacy.suppression.audit import Attacker, Interval
from steward.privacy.suppression.certificate import Certificate, CertificateError, Entry
from steward.privacy.suppression.engine import (
    PRIMARY,
    PUBLISHED,
    SECONDARY,
    STATUS_NAMES,
    Result,
    suppress,
)
from steward.privacy.suppression.model import (
    Dim,
    Inequalities,
    Problem,
    cross_table,
    cross_tables,
    from_sums,
    inequalities,
)

__all__ = [
    "PRIMARY",
    "PUBLISHED",
    "SECONDARY",
    "STATUS_NAMES",
    "Attacker",
    "Certificate",
    "CertificateError",
    "Dim",
    "Entry",
    "Inequalities",
    "Interval",
    "Problem",
    "Result",
    "cross_table",
    "cross_tables",
    "from_sums",
    "inequalities",
    "suppress",
]
