"""``steward suppress``: protect a count table from a CSV file (a stable contract for scripts).

IN.csv has one row per finest cell (the dims and the count). OUT.csv has one row per published
cell (every combination of dim values and the total label), the count (empty when suppressed) and
``status`` in {published, primary, secondary}. CERT.json holds each primary's attacker interval.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import typer
from rich.console import Console

from steward.exports import neutralise_row
from steward.privacy.suppression import CertificateError, Dim, cross_table, suppress

EXIT_BAD_INPUT = 2
EXIT_UNSAFE = 3


class MethodChoice(StrEnum):
    fast = "fast"
    optimal = "optimal"


class ZerosChoice(StrEnum):
    publish = "publish"
    protect = "protect"


class InputError(ValueError):
    """Bad input, with the file, line and field it comes from."""


def read_counts(path: Path, dims: list[str], count: str, total: str) -> tuple[list[Dim], np.ndarray]:
    """The finest cells of ``path`` as dimensions (codes in order of appearance) and a count
    array over their full grid; combinations absent from the file count zero."""
    name = path.name
    if len(set(dims)) != len(dims) or not dims or any(not d for d in dims):
        raise InputError(f"--dims must name distinct columns, got {','.join(dims)!r}")
    if count in dims:
        raise InputError(f"--count column {count!r} is also a dimension")
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror}") from exc
    with handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        for col in [*dims, count]:
            if col not in header:
                raise InputError(f"{name}: line 1: missing column {col!r} (found {header})")
        codes: list[dict[str, int]] = [{} for _ in dims]
        cells: dict[tuple[int, ...], tuple[int, int]] = {}
        try:
            for row in reader:
                line = reader.line_num
                key = []
                for k, dim in enumerate(dims):
                    value = (row.get(dim) or "").strip()
                    if not value:
                        raise InputError(f"{name}: line {line}, field {dim!r}: empty value")
                    if value == total:
                        raise InputError(
                            f"{name}: line {line}, field {dim!r}: {value!r} is the total label; "
                            "give finest cells only"
                        )
                    key.append(codes[k].setdefault(value, len(codes[k])))
                raw = (row.get(count) or "").strip()
                try:
                    n = int(raw)
                except ValueError:
                    raise InputError(
                        f"{name}: line {line}, field {count!r}: {raw!r} is not an integer"
                    ) from None
                if n < 0:
                    raise InputError(f"{name}: line {line}, field {count!r}: {n} is negative")
                cell = tuple(key)
                if cell in cells:
                    raise InputError(
                        f"{name}: line {line}, fields {','.join(dims)}: duplicate finest cell "
                        f"(first at line {cells[cell][1]})"
                    )
                cells[cell] = (n, line)
        except csv.Error as exc:
            raise InputError(f"{name}: line {reader.line_num}: {exc}") from exc
    if not cells:
        raise InputError(f"{name}: no data rows")
    dim_objs = [Dim(d, tuple(c)) for d, c in zip(dims, codes, strict=True)]
    counts = np.zeros(tuple(len(c) for c in codes), dtype=np.int64)
    for cell, (n, _) in cells.items():
        counts[cell] = n
    return dim_objs, counts


def _atomic_write(path: Path, text: str) -> Path:
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror}") from exc
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    return Path(tmp)


def run(
    input_csv: Path,
    dims: list[str],
    count: str,
    *,
    threshold: int,
    method: str,
    zeros: str,
    total: str,
    out: Path,
    certificate: Path | None,
) -> dict[str, Any]:
    """Read, protect and write both files (all or nothing); returns a summary."""
    dim_objs, counts = read_counts(input_csv, dims, count, total)
    problem = cross_table(dim_objs, counts, total=total)
    result = suppress(
        problem,
        threshold=threshold,
        method="optimal" if method == "optimal" else "fast",
        zeros="protect" if zeros == "protect" else "publish",
        intervals=certificate is not None,
    )
    # Labels and column names come from IN.csv: written so no spreadsheet runs them as formulas.
    rows = [neutralise_row([*dims, count, "status"])]
    for j, label in enumerate(problem.labels):
        value = result.published_value(j)
        rows.append([*neutralise_row(label), "" if value is None else str(value), result.status_name(j)])
    buf = _CsvBuffer()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    pending = [(out, _atomic_write(out, buf.text()))]
    if certificate is not None:
        doc = {
            "input": input_csv.name,
            "threshold": threshold,
            "method": method,
            "zeros": zeros,
            "total_label": total,
            **result.certificate.to_json(problem.fields),
        }
        pending.append((certificate, _atomic_write(certificate, json.dumps(doc, indent=2) + "\n")))
    for final, tmp in pending:
        tmp.replace(final)
    return {
        "cells": problem.n_cells,
        "primary": len(result.certificate.entries),
        "secondary": result.n_secondary,
    }


class _CsvBuffer:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, s: str) -> int:
        self.parts.append(s)
        return len(s)

    def text(self) -> str:
        return "".join(self.parts)


def register(app: typer.Typer) -> None:
    @app.command("suppress")
    def suppress_cmd(
        input_csv: Path = typer.Argument(..., metavar="IN.csv", help="one row per finest cell"),
        dims: str = typer.Option(..., "--dims", help="comma-separated dimension columns"),
        count: str = typer.Option(..., "--count", help="the count column"),
        threshold: int = typer.Option(10, "--threshold", min=1, help="groups below are primary"),
        method: MethodChoice = typer.Option(MethodChoice.fast, "--method"),
        zeros: ZerosChoice = typer.Option(ZerosChoice.publish, "--zeros"),
        total_label: str = typer.Option("Total", "--total-label"),
        out: Path = typer.Option(..., "--out", metavar="OUT.csv"),
        certificate: Path | None = typer.Option(None, "--certificate", metavar="CERT.json"),
    ) -> None:
        """Suppress small cells of a count table so that no primary can be derived."""
        err = Console(stderr=True)
        try:
            with err.status("suppressing", spinner="dots"):
                summary = run(
                    input_csv,
                    [d.strip() for d in dims.split(",")],
                    count.strip(),
                    threshold=threshold,
                    method=method.value,
                    zeros=zeros.value,
                    total=total_label,
                    out=out,
                    certificate=certificate,
                )
        except InputError as exc:
            err.print(f"error: {exc}", markup=False, highlight=False)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except CertificateError as exc:
            err.print(f"refused: {exc}", markup=False, highlight=False)
            raise typer.Exit(EXIT_UNSAFE) from None
        typer.echo(
            f"{summary['cells']} cells: {summary['primary']} primary, "
            f"{summary['secondary']} secondary suppressions -> {out}"
        )
