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


async def post(node, path, body, status=201):
    h = {"Authorization": f"Bearer {node.ctx.admin_token}"}
    async with aiohttp.ClientSession() as s, s.post(node.api_url + path, json=body, headers=h) as r:
        assert r.status == status, await r.text()
        return await r.json(content_type=None)


async def test_writes_need_the_token(node):
    async with aiohttp.ClientSession() as s:
        async with s.post(node.api_url + "/api/v1/requests", json={"title": "x"}) as r:
            assert r.status == 401


async def test_a_request_through_the_api(node):
    """This node's member (the founder) asks; the answers come from the sample's members."""
    made = await post(node, "/api/v1/requests", {"title": "ขอยืมเต็นท์จัดงาน", "needed_by": "2569-12-31",
                                                 "expertise": ["เต็นท์"]})  # fmt: skip
    rid = made["entry"]
    one = await get(node, f"/api/v1/requests/{rid}")
    assert one["state"] == "open" and one["needed_by"] == "2026-12-31"
    # a reply from this node's own member to its own request is stored but does not count
    await post(node, f"/api/v1/requests/{rid}/reply", {"message": "ของเราเอง"})
    one = await get(node, f"/api/v1/requests/{rid}")
    assert one["replies"] == [] and one["refused"][0]["reason"].startswith("the requester cannot")
    await post(node, f"/api/v1/requests/{rid}/close", {"outcome": "cancelled", "note": "ได้แล้ว"})
    assert (await get(node, f"/api/v1/requests/{rid}"))["state"] == "closed"
    await post(node, "/api/v1/thanks", {"member": "Lanna", "message": "ขอบคุณ", "request": rid})
    # bad input: named field, nothing written
    before = (await get(node, "/api/v1/status"))["entries"]
    problem = await post(node, f"/api/v1/requests/{rid}/close", {"outcome": "maybe"}, 422)
    assert "outcome" in problem["detail"]
    await post(node, f"/api/v1/requests/{rid}/handoff", {"to": "nobody-like-this"}, 422)
    await post(node, "/api/v1/requests/pezzzz/reply", {}, 404)
    await post(node, "/api/v1/requests", {"title": "x", "colour": "red"}, 422)
    assert (await get(node, "/api/v1/status"))["entries"] == before


async def test_a_proposal_and_a_vote_through_the_api(node):
    made = await post(node, "/api/v1/proposals", {"title": "ประชุมทุกเดือน", "closes_in_days": 7})
    pid = made["entry"]
    await post(node, f"/api/v1/proposals/{pid}/vote", {"option": 0})
    t = await get(node, f"/api/v1/proposals/{pid}")
    # this node's member was never admitted in the sample network: its vote is stored, not counted
    assert t["result"] == "open" and t["counts"] == {"yes": 0, "no": 0}
    assert t["refused"][0]["reason"] == "the voter is not an admitted member"
    await post(node, "/api/v1/proposals", {"title": "x", "closes_in_days": 0}, 422)
    await post(node, "/api/v1/proposals", {"title": "x", "closes_in_days": 3,
                                           "options": ["a", "b", "c"], "changes": {"quorum": 10}}, 422)  # fmt: skip


async def test_recovery_claims_and_vouching(node):
    """The school lost its key; the founder's node (which endorses the school) vouches."""
    from p2pnet.identity import Identity

    school = sample.demo_identity("school")
    new = Identity.generate()

    def claim(s):
        return s.append(new, "recover", {"member": school.public, "last_good": 1, "reason": "หาย"})

    entry = await node.ctx.store.call(claim)
    claims = (await get(node, f"/api/v1/key-claims?member={school.member_id}"))["claims"]
    assert [c["id"] for c in claims] == [entry.entry_id] and claims[0]["needed"] == 2
    assert (await get(node, "/api/v1/key-claims?member=pmzzzzzzzz", 404))["type"].endswith("not-found")
    member = await get(node, f"/api/v1/members/{school.member_id}")
    assert member["recovery_claims"][0]["in_effect"] is False
    assert [k["key"] for k in member["keys"]] == [school.member_id]

    async with aiohttp.ClientSession() as s:
        async with s.post(node.api_url + f"/api/v1/key-claims/{entry.entry_id}/vouch", json={}) as r:
            assert r.status == 401
    await post(node, "/api/v1/key-claims/pezzzzzzzz/vouch", {}, 404)
    await post(node, f"/api/v1/key-claims/{entry.entry_id}/vouch", {"nope": 1}, 422)
    done = await post(node, f"/api/v1/key-claims/{school.member_id}/vouch", {"note": "โทรยืนยันแล้ว"})
    (c,) = (await get(node, "/api/v1/key-claims"))["claims"]
    me = node.ctx.member_id
    assert c["vouchers"] == [me] and c["counted"] == []  # this node's member does not endorse the school
    assert done["entry"].startswith("pe")
    await post(node, "/api/v1/endorsements", {"member": school.member_id}, 201)
    (c,) = (await get(node, "/api/v1/key-claims"))["claims"]
    assert c["counted"] == [me] and not c["in_effect"]
    # a claim on this node's own member cannot be vouched for by it
    mine = await node.ctx.store.call(lambda s: s.append(
        Identity.generate(), "recover", {"member": node.identity.public, "last_good": 1}))
    await post(node, f"/api/v1/key-claims/{mine.entry_id}/vouch", {}, 409)
