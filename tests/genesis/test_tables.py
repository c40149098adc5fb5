"""Every CSV genesis writes goes through one writer whose text cells no spreadsheet runs as a
formula (OWASP's rule), while numbers stay numbers (issue 25, point 7)."""

from __future__ import annotations

import csv

import pytest

from genesis.runfolder import LOGBOOK_FIELDS, RunFolder
from genesis.tables import FORMULA_STARTS, csv_bytes, safe_cell
from visualize.runs import read_run


def _rows(path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _cells(path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as f:
        return [c for row in csv.reader(f) for c in row]


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_a_text_cell_that_starts_a_formula_gets_a_quote(start):
    assert safe_cell(f"{start}cmd|' /C calc'!A0") == f"'{start}cmd|' /C calc'!A0"


@pytest.mark.parametrize("value", [-0.5, -3, 0, 2.5, True, None, "", "ER(p=0.2)", "a=b", "'=x"])
def test_numbers_and_plain_text_are_unchanged(value):
    assert safe_cell(value) is value


def test_csv_bytes_reads_back_with_every_awkward_cell():
    rows = [
        {"name": "=1+1", "x": -0.5, "note": "a,b\nc"},
        {"name": "\rx", "x": -2, "note": 'say "hi"', "ignored": "=no"},
        {"name": "fine", "x": None},
    ]
    text = csv_bytes(rows, ["name", "x", "note", "=col"])
    back = list(csv.DictReader(text.decode().splitlines(keepends=True)))
    assert [r["name"] for r in back] == ["'=1+1", "'\rx", "fine"]
    assert [r["x"] for r in back] == ["-0.5", "-2", ""]
    assert [r["note"] for r in back] == ["a,b\nc", 'say "hi"', ""]
    assert list(back[0]) == ["name", "x", "note", "'=col"]  # a header cell too


def test_a_lone_surrogate_is_written_escaped_not_raised():
    assert csv_bytes([{"a": "x\ud800"}], ["a"]) == b"a\r\nx\\ud800\r\n"


@pytest.fixture
def run(tmp_path):
    folder = RunFolder(tmp_path / "run")
    folder.create("[search]\n")
    return folder


def test_evaluations_and_pareto_tables_quote_hostile_text_and_keep_numbers(run):
    entries = [
        {"kind": "=train", "hash": "a" * 20, "generation": 0, "origin": "@seed",
         "parents": ["-p1", "p2"], "=key": 1,
         "result": {"status": "failed", "error": "+cmd", "accuracy": -0.5, "macs": -3}},
        {"kind": "train", "hash": "b" * 20, "generation": 1,
         "result": {"status": "ok", "accuracy": 0.8, "macs": 10, "name": "\tx"}},
    ]  # fmt: skip
    for e in entries:
        run.append_evaluation(e)
    run.write_json("pareto.json", {"members": [{"hash": "b" * 20, "name": "=HYPERLINK(1)",
                                                "accuracy": -0.25}]})  # fmt: skip
    run.write_tables()
    table = _rows(run.path / "evaluations.csv")
    assert table[0]["kind"] == "'=train" and table[0]["origin"] == "'@seed"
    assert table[0]["error"] == "'+cmd" and table[0]["parents"] == "'-p1;p2"
    assert table[0]["accuracy"] == "-0.5" and table[0]["macs"] == "-3"
    assert table[1]["name"] == "'\tx" and "'=key" in table[0]
    front = _rows(run.path / "pareto.csv")
    assert front[0]["name"] == "'=HYPERLINK(1)" and front[0]["accuracy"] == "-0.25"
    for name in ("evaluations.csv", "pareto.csv"):
        cells = _cells(run.path / name)
        assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")], name


def test_the_logbook_keeps_numbers_quotes_text_and_reads_back(run):
    rows = [
        dict.fromkeys(LOGBOOK_FIELDS, 1) | {"generation": g, "hypervolume": -0.5 * g}
        for g in range(3)
    ]
    rows[2]["best_accuracy"] = "=1+1"  # not a number: quoted, and the reader drops the row
    for row in rows:
        run.append_logbook(row)
    assert _rows(run.logbook_path)[1]["hypervolume"] == "-0.5"
    assert _rows(run.logbook_path)[2]["best_accuracy"] == "'=1+1"
    data = read_run(run.path)
    assert [r["hypervolume"] for r in data.logbook] == [0.0, -0.5]
    assert "logbook.csv has 1 damaged rows" in data.problems
    run.trim_logbook(2)  # a resume keeps the lines as written
    assert [r["generation"] for r in _rows(run.logbook_path)] == ["0", "1"]
