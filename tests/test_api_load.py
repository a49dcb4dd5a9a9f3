"""Load on the local API and website of a real node process: many concurrent clients, no error.

A realistic mix (tests/cluster.py ``request_mix``): member lists and pages,
Thai and English search, activities, the network, matches and health, the
website's pages, a few admin-token writes and a few requests that are wrong on
purpose (each must get its one right answer: 401, 404, 400). An error is any
other status, a wrong content type, a body that does not parse, a connection
error or a timeout: there must be none, and every acknowledged write must be
in the store. Requests, req/s and latency are recorded, never asserted.
"""

from __future__ import annotations

import random

import pytest

from .cluster import (
    api_load,
    astop_process,
    audit_store,
    entry_ids,
    request_mix,
    sample_home,
    scales,
    start_node,
)


@pytest.mark.parametrize("scale", scales(
    dict(clients=20, seconds=10, extra_members=0, per_member=0),
    dict(clients=100, seconds=60, extra_members=500, per_member=20),
))  # fmt: skip
async def test_api_under_concurrent_clients(tmp_path, reliability, scale):
    seed = 20260703
    home, held = sample_home(tmp_path / "node", extra_members=scale["extra_members"],
                             per_member=scale["per_member"], seed=seed)  # fmt: skip
    proc, info = await start_node(home)
    try:
        result = await api_load(info["api_url"], home.admin_token(),
                                request_mix(held, random.Random(seed)),
                                clients=scale["clients"], seconds=scale["seconds"])  # fmt: skip
    finally:
        code = await astop_process(proc)
    lost = len(set(result.written) - entry_ids(home.db_file))
    integrity = audit_store(home.db_file)["integrity"]
    per_kind = {k: len(v) for k, v in sorted(result.latencies.items())}
    slowest = max(result.latencies, key=lambda k: result.percentile(0.99, k))
    figures = result.figures()
    reliability(
        "load",
        f"{scale['clients']} concurrent clients for {scale['seconds']} s on one node holding the "
        f"sample network" + (f" + {scale['extra_members']} members x {scale['per_member']} "
                             f"activities" if scale["extra_members"] else "")
        + ": API reads, Thai/English search, website pages, admin writes, wrong requests",
        held=not result.errors and lost == 0 and code == 0 and integrity == "ok",
        tried=result.requests, entries_lost=lost, errors=len(result.errors), seed=seed,
        members=len(held["members"]), activities=len(held["activities"]), **figures,
        requests_per_kind=per_kind,
        slowest_kind=f"{slowest} (p99 {result.percentile(0.99, slowest) * 1000:.0f} ms)",
        exit_code=code,
    )  # fmt: skip
    print(figures, per_kind, result.errors[:5])
    assert not result.errors, result.errors[:10]
    assert lost == 0 and integrity == "ok" and code == 0
    assert result.requests > scale["clients"] and set(per_kind) >= {"api search", "page member"}
