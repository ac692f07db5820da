"""The facade: primaries, secondary suppression (fast or optimal), cleanup, certificate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from steward.privacy.suppression.certificate import Certificate, certify
from steward.privacy.suppression.greedy import fast
from steward.privacy.suppression.model import BoolArray, Problem
from steward.privacy.suppression.primary import Zeros, primaries, singletons

Method = Literal["fast", "optimal"]

PUBLISHED, PRIMARY, SECONDARY = 0, 1, 2
STATUS_NAMES = ("published", "primary", "secondary")


@dataclass(frozen=True, eq=False)
class Result:
    """Per published cell a status (``PUBLISHED``, ``PRIMARY``, ``SECONDARY``) and the proof."""

    problem: Problem
    status: npt.NDArray[np.int8]
    certificate: Certificate

    @property
    def suppressed(self) -> BoolArray:
        return np.asarray(self.status != PUBLISHED, dtype=np.bool_)

    def status_name(self, j: int) -> str:
        return STATUS_NAMES[int(self.status[j])]

    def published_value(self, j: int) -> int | None:
        return None if self.status[j] != PUBLISHED else int(self.problem.values[j])

    @property
    def n_secondary(self) -> int:
        return int(np.count_nonzero(self.status == SECONDARY))


def suppress(
    problem: Problem,
    threshold: int = 10,
    method: Method = "fast",
    zeros: Zeros = "publish",
    *,
    forced: BoolArray | None = None,
    intervals: bool = False,
    budget: int = 2000,
) -> Result:
    """Protect ``problem``: every primary's attacker interval gets width >= 1.

    ``forced`` marks extra cells to protect (top/bottom coded values, whose bounds must be in
    ``problem.inequalities``). ``intervals`` adds each primary's attacker min and max to the
    certificate (LP per component; costs time on large tables). Raises ``CertificateError``
    rather than return a release that fails its certificate.
    """
    if method not in ("fast", "optimal"):
        raise ValueError(f"method must be 'fast' or 'optimal', not {method!r}")
    primary = primaries(problem, threshold, zeros, forced)
    singleton = singletons(problem, primary)
    if method == "optimal":
        from steward.privacy.suppression.optimal import optimal

        suppressed, witnesses = optimal(problem, primary, singleton)
    else:
        suppressed, witnesses = fast(problem, primary, singleton, budget)
    cert = certify(problem, suppressed, primary, singleton, witnesses, intervals=intervals)
    status = np.where(primary, PRIMARY, np.where(suppressed, SECONDARY, PUBLISHED)).astype(np.int8)
    return Result(problem, status, cert)
