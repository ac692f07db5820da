"""Linear disclosure: is a suppressed cell an exact linear combination of published cells?

This is what Gaussian elimination (GaussSuppression) guarantees against. It ignores bounds, so a
cell can pass here and still be pinned by non-negativity (TV4); the audit uses it to say *why* a
cell is disclosed, the bound-aware LP decides *whether*.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import lsqr

from steward.privacy.suppression.audit import Attacker

_DENSE_LIMIT = 3000


def linearly_determined(attacker: Attacker, target: int, knowing: Sequence[int] = ()) -> bool:
    """True when ``target`` lies in the span of the published equations (within its component)."""
    row = attacker.xf[target]
    if row.nnz == 0:
        return True
    comps = attacker.component_of(target)
    sub = attacker._sub(comps)
    c = np.zeros(sub.cols.size)
    c[np.searchsorted(sub.cols, row.indices)] = row.data
    rows = [sub.a_eq]
    for s in knowing:
        srow = attacker.xf[s]
        keep = np.isin(attacker.comp[srow.indices], comps)
        if s != target and keep.any():
            e = sp.csr_matrix(
                (
                    srow.data[keep],
                    (
                        np.zeros(int(keep.sum()), dtype=np.int64),
                        np.searchsorted(sub.cols, srow.indices[keep]),
                    ),
                ),
                shape=(1, sub.cols.size),
            )
            rows.append(e)
    a = sp.vstack(rows, format="csr")
    if a.shape[0] == 0:
        return False
    if sub.cols.size <= _DENSE_LIMIT:
        z, *_ = np.linalg.lstsq(a.T.toarray().astype(np.float64), c, rcond=None)
        resid = a.T @ z - c
    else:
        z = lsqr(a.T.astype(np.float64), c, atol=1e-12, btol=1e-12, iter_lim=20000)[0]
        resid = a.T @ z - c
    return bool(np.linalg.norm(resid) < 1e-6 * max(1.0, float(np.linalg.norm(c))))
