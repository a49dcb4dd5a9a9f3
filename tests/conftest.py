"""Shared fixtures: real keys, real SQLite files in tmp dirs."""

from __future__ import annotations

from pathlib import Path

import pytest

from p2pnet.identity import Identity

CHARTER = {
    "name": "เครือข่ายผู้สูงอายุแม่ริม",
    "name_en": "Mae Rim Elderly Network",
    "purpose": "แลกเปลี่ยนความรู้และทำกิจกรรมร่วมกัน",
    "kind": "hybrid",
    "admission": {"endorsements": 1},
}


@pytest.fixture
def founder() -> Identity:
    return Identity.generate()


@pytest.fixture
def store(tmp_path: Path, founder: Identity):
    """A store in which ``founder`` has founded a network."""
    from p2pnet.store import Store

    s = Store(tmp_path / "node.sqlite3")
    s.create_network(founder, dict(CHARTER))
    yield s
    s.close()


def make_store(path: Path, network: bytes):
    from p2pnet.store import Store

    s = Store(path)
    s.set_network(network)
    return s


class ReliabilityLog:
    """What a reliability case tried and what came of it.

    Each call appends one JSON line to the file named by ``P2PNET_RELIABILITY_LOG``
    (``make reliability`` sets it and turns the lines into docs/reliability.md);
    without it the record is only kept on the test's report. Figures are what was
    measured (cases tried, entries lost, errors, peak RSS …), never a verdict
    written by hand: ``held`` is computed by the test from the same figures it
    asserts on.
    """

    def __init__(self, nodeid: str, slow: bool) -> None:
        self.nodeid = nodeid
        self.slow = slow
        self.records: list[dict] = []

    def __call__(self, suite: str, case: str, *, held: bool, **figures) -> None:
        import json
        import os
        import time

        rec = {
            "suite": suite,
            "case": case,
            "held": bool(held),
            "figures": figures,
            "test": self.nodeid,
            "long": self.slow,
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        self.records.append(rec)
        path = os.environ.get("P2PNET_RELIABILITY_LOG")
        if path:
            with open(path, "a", encoding="utf-8") as f:
                f.write(json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n")


@pytest.fixture
def reliability(request) -> ReliabilityLog:
    """``reliability(suite, case, held=..., **figures)``: one line of docs/reliability.md."""
    slow = request.node.get_closest_marker("slow") is not None
    return ReliabilityLog(request.node.nodeid, slow)
