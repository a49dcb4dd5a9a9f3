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
