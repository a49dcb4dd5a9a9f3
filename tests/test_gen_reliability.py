"""docs/gen_reliability.py turns the reliability fixture's records into docs/reliability.md."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

GEN = Path(__file__).resolve().parents[1] / "docs" / "gen_reliability.py"


def gen():
    spec = importlib.util.spec_from_file_location("gen_reliability", GEN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_records_become_a_table_per_suite_with_totals(tmp_path, monkeypatch, reliability):
    log = tmp_path / "log.jsonl"
    monkeypatch.setenv("P2PNET_RELIABILITY_LOG", str(log))
    # the fixture's own records, as the suites write them
    reliability("crash", "kill -9 | during ingest", held=True, tried=12, entries_lost=0, errors=0,
                seed=7, converge_s=3.5, written=12345, audits={"n0": "ok"})  # fmt: skip
    reliability("hostile", "truncated msgpack", held=False, tried=500, entries_lost=2, errors=1)
    reliability("newsuite", "something else", held=True, tried=3, entries_lost=0, errors=0)
    junit = tmp_path / "junit.xml"
    junit.write_text(
        '<testsuites><testsuite tests="3" failures="1" errors="0" skipped="0">'
        '<testcase classname="tests.test_x" name="test_a"><failure/></testcase>'
        '<testcase classname="tests.test_x" name="test_b"/></testsuite></testsuites>'
    )
    out = tmp_path / "reliability.md"
    argv = [str(log), "--junit", str(junit), "--out", str(out), "--command", "make x"]
    assert gen().main(argv) == 0
    text = out.read_text(encoding="utf-8")
    assert "**Totals: 2 of 3 cases held; entries lost across all cases: 2**" in text
    assert "## Crash and restart (`crash`)" in text and "## Hostile input (`hostile`)" in text
    assert "## Newsuite (`newsuite`)" in text
    assert text.index("(`crash`)") < text.index("(`hostile`)") < text.index("(`newsuite`)")
    assert "kill -9 \\| during ingest" in text  # a | in a case cannot break the table
    assert "converge s 3.5" in text and "seed 7;" in text
    assert "written 12,345" in text  # amounts get separators, a seed does not
    assert "| **no** |" in text and "500 bad inputs tried" in text
    assert "1 failed" in text and "`tests.test_x::test_a`" in text
    assert "`make x`" in text and "make reliability" in text


def test_a_broken_log_is_refused_with_its_line(tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_text('{"suite": "crash", "case": "x", "held": true, "figures": {}}\nnot json\n')
    with pytest.raises(SystemExit, match=r"log.jsonl:2: not a JSON line"):
        gen().main([str(log), "--out", str(tmp_path / "r.md")])
    assert not (tmp_path / "r.md").exists()
    assert gen().main([str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "r.md")]) == 2
