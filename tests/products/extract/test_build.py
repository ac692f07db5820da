"""The extract writer: every text cell of the CSV files is spreadsheet-safe (steward.exports)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import ibis.expr.types as ir
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from steward.exports import is_formula_like
from steward.products.extract.service import run_extract
from steward.sources import CedarsDropSource
from tests.products.extract.governance import Governance

#: Text columns kept as they are (no generalisation): two quasi-identifiers, whose labels are
#: written, and the sensitive outcome, whose values are written.
HOSTILE = ("sex", "school_code", "disability_code")


class _FormulaSource(CedarsDropSource):
    """The drop, with the values of some text columns starting with ``=`` (as a hostile or careless
    source system could write them). Both passes of the extract see the same values."""

    def batches(self, expr: ir.Table, size: int = 65_536) -> Iterator[pa.RecordBatch]:
        for batch in super().batches(expr, size):
            names, columns = batch.schema.names, list(batch.columns)
            for i, name in enumerate(names):
                if name in HOSTILE:
                    columns[i] = pc.binary_join_element_wise("=", columns[i].cast(pa.string()), "")
            yield pa.RecordBatch.from_arrays(columns, names=names)


def test_text_cells_from_the_source_cannot_run_as_formulas(gov: Governance, tmp_path: Path) -> None:
    gov.agreement("STUDY-1")
    out = tmp_path / "pkg"
    run_extract(gov.engine, "STUDY-1", lambda code: _FormulaSource(gov.drop), out)
    with (out / "extract.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    cells = [cell for row in rows for cell in row]
    assert len(rows) > 1
    assert not [cell for cell in cells if is_formula_like(cell)]
    header = rows[0]
    for name in HOSTILE:
        values = {row[header.index(name)] for row in rows[1:]}
        assert values
        assert all(v.startswith("'=") or v == "*" for v in values), (name, values)
    with (out / "data_dictionary.csv").open(encoding="utf-8", newline="") as handle:
        assert not [cell for row in csv.reader(handle) for cell in row if is_formula_like(cell)]
