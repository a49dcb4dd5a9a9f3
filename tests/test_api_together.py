"""The API's health report, help requests and proposals (issue 7), on the sample network."""

import aiohttp
import pytest

from p2pnet import sample
from p2pnet.store import Store

from .nodes import FAST, make_home, start


@pytest.fixture
async def node(tmp_path):
    home, _ = make_home(tmp_path, "seed")
    with Store(home.db_file) as s:
        sample.seed(s)
    from p2pnet import identity

    n = await start(home, identity.load(home.key_file), FAST)
    yield n
    await n.stop()


async def get(node, path, status=200):
    async with aiohttp.ClientSession() as s, s.get(node.api_url + path) as r:
        assert r.status == status, await r.text()
        return await r.json(content_type=None)


async def test_health(node):
    report = await get(node, "/api/v1/network/health")
    figures = {f["key"]: f for f in report["figures"]}
    assert [m["name"] for m in figures["cut_points"]["value"]] == ["Lanna Healthy Ageing Foundation"]
    assert figures["needs_met"]["total"] >= 3 and figures["thanks"]["value"] >= 4
    assert all(f["explain_th"] and f["explain_en"] for f in report["figures"])
    cut = figures["cut_points"]["value"][0]["id"]
    w = await get(node, f"/api/v1/network/health?what_if={cut}")
    assert any(m["name"] == "ชมรมผู้สูงอายุตำบลบ้านเป็ด" for m in w["cut_off"])
    problem = await get(node, "/api/v1/network/health?what_if=nobody-at-all", 404)
    assert problem["type"] == "urn:p2pnet:problem:not-found"


async def test_requests(node):
    listing = (await get(node, "/api/v1/requests"))["requests"]
    assert sorted(r["state"] for r in listing) == ["closed", "open"]
    closed = next(r for r in listing if r["state"] == "closed")
    one = await get(node, f"/api/v1/requests/{closed['id'][:14]}")
    assert one["outcome"] == "done" and [h["kind"] for h in one["history"]][-2:] == ["handoff", "close"]
    assert len(one["thanks"]) == 2
    assert (await get(node, "/api/v1/requests?state=open"))["requests"][0]["state"] == "open"
    await get(node, "/api/v1/requests?state=maybe", 400)
    await get(node, "/api/v1/requests/pezzzz", 404)


async def test_proposals(node):
    data = await get(node, "/api/v1/proposals")
    results = sorted(p["result"] for p in data["proposals"])
    assert results == ["open", "passed"]
    assert data["charter"]["quorum"] == 60  # the passed proposal changed the charter
    passed = next(p for p in data["proposals"] if p["result"] == "passed")
    one = await get(node, f"/api/v1/proposals/{passed['id']}")
    assert one["counts"] == {"yes": 6, "no": 1} and len(one["votes"]) == 7
