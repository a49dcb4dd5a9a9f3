"""Help requests, handing work on, thanks, proposals and votes; the health report."""

from __future__ import annotations

import pytest

from p2pnet import assist, decisions, health
from p2pnet.identity import Identity
from p2pnet.store import Store

from .conftest import make_store

DAY = 86_400_000


@pytest.fixture
def net(tmp_path):
    """A founder and four members, all admitted (one endorsement needed)."""
    s = Store(tmp_path / "n.sqlite3")
    people = [Identity.generate() for _ in range(5)]
    s.create_network(people[0], {"name": "เครือข่ายทดสอบ", "kind": "natural",
                                 "admission": {"endorsements": 1}})  # fmt: skip
    for i, p in enumerate(people):
        s.append(p, "profile", {"name_th": f"สมาชิก {i}"})
        if i:
            s.append(people[0], "endorse", {"member": p.public})
    yield s, people
    s.close()


def test_request_answered_handed_on_and_closed(net):
    s, (a, b, c, d, _) = net
    clock = iter(range(s.conn.execute("SELECT max(ts) FROM entries").fetchone()[0] + 1000, 2**50, 1000))

    def w(who, kind, body):  # one step a second, as people would take them
        return s.append(who, kind, body, ts=next(clock))

    req = w(a, "request", {"title": "ต้องการอาสาสมัครพาผู้สูงอายุไปโรงพยาบาล",
                           "expertise": ["อาสาสมัคร"], "needed_by": "2026-12-31"})  # fmt: skip
    rb = w(b, "reply", {"request": req.id, "message": "เยาวชนจิตอาสาช่วยได้"})
    w(c, "reply", {"request": req.id, "message": "We can help on weekends"})
    w(c, "accept", {"request": req.id, "reply": rb.id})  # wrong member: refused
    w(a, "accept", {"request": req.id, "reply": rb.id})
    w(d, "handoff", {"request": req.id, "to": d.public})  # not the worker: refused
    w(b, "handoff", {"request": req.id, "to": c.public, "note": "ส่งต่อให้ อสม."})
    w(a, "close", {"request": req.id, "outcome": "done", "note": "เรียบร้อย"})
    w(d, "reply", {"request": req.id, "message": "late"})  # after close: refused
    w(a, "thanks", {"member": c.public, "request": req.id, "message": "ขอบคุณมาก"})
    state = assist.request_state(s.conn, _id(req))
    assert state["state"] == "closed" and state["outcome"] == "done"
    assert state["assignee"] == c.member_id
    assert [h["kind"] for h in state["history"]] == ["reply", "reply", "accept", "handoff", "close"]
    reasons = {r["reason"] for r in state["refused"]}
    assert reasons == {
        "only the requester can accept a reply",
        "only the member doing the work or the requester can hand it on",
        "the request was already closed",
    }
    assert state["thanks"][0]["to"] == c.member_id
    assert assist.thanks_received(s.conn) == {c.member_id: 1}
    assert [r["id"] for r in assist.list_requests(s.conn, member=c.member_id)] == [_id(req)]
    assert assist.list_requests(s.conn, state="open") == []


def _id(entry):
    return entry.entry_id


def test_the_same_state_whatever_the_order(net, tmp_path):
    s, (a, b, c, _, _) = net
    req = s.append(a, "request", {"title": "ขอยืมเครื่องวัดความดัน"})
    r1 = s.append(b, "reply", {"request": req.id})
    s.append(c, "reply", {"request": req.id})
    s.append(a, "accept", {"request": req.id, "reply": r1.id})
    s.append(a, "close", {"request": req.id, "outcome": "cancelled"})
    other = make_store(tmp_path / "o.sqlite3", s.network)
    raws = list(s.iter_raw())
    other.ingest(list(reversed(raws)))
    assert assist.request_state(other.conn, _id(req)) == assist.request_state(s.conn, _id(req))


def test_proposal_tally_and_charter_change(net):
    s, (a, b, c, d, e) = net
    base = s.conn.execute("SELECT max(ts) FROM entries").fetchone()[0] - 10 * DAY
    hour = iter(range(base + 3_600_000, base + DAY, 3_600_000))
    p = s.append(a, "proposal", {"title": "ต้องมีผู้รับรอง 2 องค์กร", "options": ["yes", "no"],
                                 "closes": base + DAY, "changes": {"admission": {"endorsements": 2}}},
                 ts=base)  # fmt: skip
    s.append(b, "vote", {"proposal": p.id, "option": 1}, ts=next(hour))
    s.append(b, "vote", {"proposal": p.id, "option": 0}, ts=next(hour))  # the latest counts
    s.append(c, "vote", {"proposal": p.id, "option": 0}, ts=next(hour))
    s.append(d, "vote", {"proposal": p.id, "option": 1}, ts=next(hour))
    stranger = Identity.generate()
    s.append(stranger, "profile", {"name_en": "not admitted"})
    s.append(stranger, "vote", {"proposal": p.id, "option": 1}, ts=next(hour))
    s.append(e, "vote", {"proposal": p.id, "option": 1}, ts=base + 2 * DAY)  # after closing
    assert decisions.tally(s.conn, _id(p), now=base + 1)["result"] == "open"
    t = decisions.tally(s.conn, _id(p), now=base + 3 * DAY)
    assert t["result"] == "passed" and t["counts"] == {"yes": 2, "no": 1}
    assert t["eligible"] == 5 and t["quorum_votes"] == 3 and t["voted"] == 3
    assert {r["reason"] for r in t["refused"]} == {
        "the voter is not an admitted member", "cast after the proposal closed",
    }
    assert [v["option"] for v in t["votes"] if v["member"] == b.member_id] == ["yes"]
    # the change takes effect only once the proposal closed and passed
    assert decisions.charter_in_force(s.conn, now=base)["admission"] == {"endorsements": 1}
    assert decisions.charter_in_force(s.conn, now=base + 3 * DAY)["admission"] == {"endorsements": 2}
    # and the directory follows it: members with one endorsement are pending now
    from p2pnet import directory

    assert set(directory.statuses_under(s.conn, 2).values()) == {"admitted", "pending"}
    assert directory.admission_rule(s.conn) == 2


def test_no_quorum_and_forked_voters(net, tmp_path):
    s, (a, b, c, _, _) = net
    now = s.conn.execute("SELECT max(ts) FROM entries").fetchone()[0]
    p = s.append(a, "proposal", {"title": "จัดงานที่ไหน", "options": ["วัด", "โรงเรียน", "อบต."],
                                 "closes": now + DAY})  # fmt: skip
    s.append(b, "vote", {"proposal": p.id, "option": 2})
    t = decisions.tally(s.conn, _id(p), now=now + 2 * DAY)
    assert t["result"] == "no-quorum"
    # c forks its feed: its vote no longer counts
    v = s.append(c, "vote", {"proposal": p.id, "option": 2})
    from p2pnet import entries

    twin = entries.create(c, network=s.network, seq=v.seq, prev=v.prev, kind="vote",
                          body={"proposal": p.id, "option": 0})  # fmt: skip
    s.ingest([twin.raw])
    t = decisions.tally(s.conn, _id(p), now=now + 2 * DAY)
    assert {r["reason"] for r in t["refused"]} == {"the voter is forked"}


def _graph_net(path, edges, n):
    path.mkdir(parents=True, exist_ok=True)
    s = Store(path / "g.sqlite3")
    people = [Identity.generate() for _ in range(n)]
    s.create_network(people[0], {"name": "กราฟ", "kind": "natural", "admission": {"endorsements": 0}})
    for i, p in enumerate(people):
        s.append(p, "profile", {"name_en": f"m{i}"})
    for x, y in edges:
        s.append(people[x], "activity", {"title": f"{x}-{y}", "kind": "meeting",
                                         "date": "2026-01-05", "participants": [people[y].public]})  # fmt: skip
    return s, [p.member_id for p in people]


def _cut(report):
    f = {x["key"]: x for x in report["figures"]}
    return {m["name"] for m in f["cut_points"]["value"]}, {
        tuple(sorted((b["a_name"], b["b_name"]))) for b in f["bridges"]["value"]
    }


def test_health_star_chain_and_two_clusters(tmp_path):
    star, _ = _graph_net(tmp_path / "star", [(0, i) for i in range(1, 5)], 5)
    cut, bridges = _cut(health.report(star.conn))
    assert cut == {"m0"} and len(bridges) == 4
    chain, ids = _graph_net(tmp_path / "chain", [(i, i + 1) for i in range(4)], 5)
    cut, bridges = _cut(health.report(chain.conn))
    assert cut == {"m1", "m2", "m3"} and bridges == {("m0", "m1"), ("m1", "m2"), ("m2", "m3"), ("m3", "m4")}
    w = health.what_if(chain.conn, ids[2])
    assert sorted(len(g) for g in w["groups"]) == [2, 2]
    # two triangles joined by one bridge 2-3
    clusters, _ = _graph_net(tmp_path / "two", [(0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 3), (2, 3)], 6)
    cut, bridges = _cut(health.report(clusters.conn))
    assert cut == {"m2", "m3"} and bridges == {("m2", "m3")}
    f = {x["key"]: x for x in health.report(clusters.conn)["figures"]}
    assert f["working_pairs"]["value"] == 7
    assert f["two_way_pairs"]["value"] == 0 and len(f["two_way_pairs"]["one_way"]) == 7
    for s in (star, chain, clusters):
        s.close()


async def test_request_and_tally_look_the_same_on_every_node(tmp_path):
    """Across real nodes: the same state everywhere, also after a partition heals."""
    from .conftest import CHARTER
    from .nodes import add_peer, make_home, start, summary, wait_for

    ha, wa = make_home(tmp_path, "a", charter=dict(CHARTER))
    with Store(ha.db_file) as s:
        network = s.network
    homes = [(ha, wa)] + [make_home(tmp_path, n, network=network) for n in "bcd"]
    with Store(ha.db_file) as s:  # the founder vouches for everyone: all admitted
        for _, w in homes[1:]:
            s.append(wa, "endorse", {"member": w.public})
    nodes = [await start(h, w, seed=i) for i, (h, w) in enumerate(homes)]
    a, b, c, d = nodes
    people = [w for _, w in homes]

    async def write(node, kind, body, **kw):
        return await node.ctx.store.call(lambda s: s.append(node.identity, kind, body, **kw))

    async def same():
        sums = [await summary(n) for n in nodes]
        return all(x == sums[0] for x in sums)

    try:
        for n in nodes[1:]:
            await add_peer(n, a)
            await add_peer(a, n)
        await wait_for(same, what="first convergence")
        req = await write(a, "request", {"title": "ขอแรงอาสาจัดงานวันผู้สูงอายุ"})
        await wait_for(lambda: b.ctx.store.call(lambda s: s.conn.execute(
            "SELECT 1 FROM requests").fetchone() is not None), what="the request to reach B")  # fmt: skip
        reply = await write(b, "reply", {"request": req.id, "message": "ช่วยได้"})
        await wait_for(same, what="the reply to spread")
        await write(a, "accept", {"request": req.id, "reply": reply.id})
        await wait_for(same, what="the accept to spread")
        await write(b, "handoff", {"request": req.id, "to": people[2].public})
        await wait_for(same, what="the handoff to spread")
        await write(a, "close", {"request": req.id, "outcome": "done"})
        await wait_for(same, what="the close to spread")
        states = [await n.ctx.store.call(lambda s: assist.request_state(s.conn, req.entry_id))
                  for n in nodes]  # fmt: skip
        assert all(st == states[0] for st in states)
        assert states[0]["state"] == "closed" and states[0]["assignee"] == people[2].member_id

        # a proposal voted on while the network is cut in two
        now = await a.ctx.store.call(lambda s: s.conn.execute("SELECT max(ts) FROM entries").fetchone()[0])
        prop = await write(a, "proposal", {"title": "ประชุมใหญ่ปีละสองครั้ง", "options": ["yes", "no"],
                                           "closes": now + 3_600_000})  # fmt: skip
        await wait_for(same, what="the proposal to spread")
        for n in nodes:
            await n.ctx.store.call(lambda s: s.conn.execute("DELETE FROM peers"))
        await add_peer(a, b)
        await add_peer(b, a)
        await add_peer(c, d)
        await add_peer(d, c)
        for n, option in zip(nodes, (0, 0, 1, 0), strict=True):
            await write(n, "vote", {"proposal": prop.id, "option": option})
        await wait_for(lambda: _tallied(a, b, prop), what="the left half to agree")
        assert (await _tally(a, prop))["counts"] != (await _tally(c, prop))["counts"]
        await add_peer(b, c)  # heal
        await wait_for(same, what="all nodes to converge")
        tallies = [await _tally(n, prop, now=now + 7_200_000) for n in nodes]
        assert all(t == tallies[0] for t in tallies)
        assert tallies[0]["counts"] == {"yes": 3, "no": 1} and tallies[0]["result"] == "decided"
    finally:
        for n in nodes:
            await n.stop()


async def _tally(node, prop, now=None):
    return await node.ctx.store.call(lambda s: decisions.tally(s.conn, prop.entry_id, now=now))


async def _tallied(x, y, prop):
    tx, ty = await _tally(x, prop), await _tally(y, prop)
    return tx["voted"] == 2 and tx == ty
