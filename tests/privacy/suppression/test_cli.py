"""``steward suppress``: round trip through files and bad inputs (exit 2, nothing written)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from steward.cli import app

runner = CliRunner()

TV3 = (
    "region,sex,n\nA,male,18\nA,female,2\nB,male,14\nB,female,19\n"
    "C,male,12\nC,female,10\nD,male,11\nD,female,14\n"
)


def call(tmp_path: Path, text: str, *extra: str) -> tuple[int, str, Path, Path]:
    src = tmp_path / "in.csv"
    src.write_text(text, encoding="utf-8")
    out = tmp_path / "out.csv"
    cert = tmp_path / "cert.json"
    args = ["suppress", str(src), "--dims", "region,sex", "--count", "n", "--out", str(out)]
    res = runner.invoke(app, [*args, "--certificate", str(cert), *extra])
    return res.exit_code, res.output, out, cert


def test_round_trip(tmp_path: Path) -> None:
    code, output, out, cert = call(tmp_path, TV3)
    assert code == 0, output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 5 * 3  # 4 regions + Total, 2 sexes + Total
    assert set(rows[0]) == {"region", "sex", "n", "status"}
    by_cell = {(r["region"], r["sex"]): r for r in rows}
    assert by_cell[("A", "female")]["status"] == "primary"
    assert by_cell[("A", "female")]["n"] == ""
    assert by_cell[("Total", "Total")] == {
        "region": "Total",
        "sex": "Total",
        "n": "100",
        "status": "published",
    }
    for r in rows:
        assert r["status"] in {"published", "primary", "secondary"}
        assert (r["n"] == "") == (r["status"] != "published")
    assert sum(r["status"] == "secondary" for r in rows) >= 3
    doc = json.loads(cert.read_text(encoding="utf-8"))
    (entry,) = doc["cells"]
    assert entry["cell"] == {"region": "A", "sex": "female"}
    assert entry["upper"] - entry["lower"] >= 1
    assert doc["threshold"] == 10


def test_options_threshold_total_label_and_optimal(tmp_path: Path) -> None:
    code, output, out, _ = call(
        tmp_path, TV3, "--threshold", "3", "--total-label", "All", "--method", "optimal"
    )
    assert code == 0, output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert ("All", "All") in {(r["region"], r["sex"]) for r in rows}
    assert {r["status"] for r in rows if r["region"] == "A" and r["sex"] == "female"} == {"primary"}


def test_zeros_protect(tmp_path: Path) -> None:
    text = (
        "age,country,n\nyoung,Iceland,0\nyoung,Portugal,0\nyoung,Spain,5\n"
        "old,Iceland,3\nold,Portugal,4\nold,Spain,6\n"
    )
    src = tmp_path / "in.csv"
    src.write_text(text, encoding="utf-8")
    out = tmp_path / "out.csv"
    args = ["suppress", str(src), "--dims", "age,country", "--count", "n", "--out", str(out)]
    res = runner.invoke(app, [*args, "--zeros", "protect"])
    assert res.exit_code == 0, res.output
    rows = {(r["age"], r["country"]): r["status"] for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert rows[("young", "Iceland")] == "primary"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("region,n\nA,1\n", "missing column 'sex'"),
        ("region,sex,n\nA,male,x1\n", "line 2, field 'n': 'x1' is not an integer"),
        ("region,sex,n\nA,male,1\nA,female,-4\n", "line 3, field 'n': -4 is negative"),
        ("region,sex,n\nA,male,1\nA,male,2\n", "line 3, fields region,sex: duplicate finest cell"),
        ("region,sex,n\nA,,1\n", "line 2, field 'sex': empty value"),
        ("region,sex,n\nTotal,male,1\n", "line 2, field 'region'"),
        ("region,sex,n\n", "no data rows"),
    ],
)
def test_bad_input_exit_2_and_nothing_written(tmp_path: Path, text: str, message: str) -> None:
    code, output, out, cert = call(tmp_path, text)
    assert code == 2
    assert "in.csv" in output
    assert message in " ".join(output.split())
    assert not out.exists()
    assert not cert.exists()
    assert not list(tmp_path.glob(".*tmp"))


def test_missing_input_file(tmp_path: Path) -> None:
    res = runner.invoke(
        app,
        [
            "suppress",
            str(tmp_path / "nope.csv"),
            "--dims",
            "a",
            "--count",
            "n",
            "--out",
            str(tmp_path / "o.csv"),
        ],
    )
    assert res.exit_code == 2
    assert "nope.csv" in res.output
