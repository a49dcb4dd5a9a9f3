"""Moderation without a centre: each node's own block list.

The store and the directory on real SQLite files; the CLI through click's
runner; the API on a real node; and a chain of real nodes on loopback,
M – A – C (C peers only with A), where A blocks M.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import aiohttp
import pytest

from p2pnet import assist, decisions, directory, entries, exports, health, ids, moderation, sample
from p2pnet.errors import EntryRefusedError, MemberNotFoundError, Refusal
from p2pnet.identity import Identity
from p2pnet.store import FeedState, Store
from p2pnet.sync import client as peer_client
from p2pnet.sync import reconcile
from p2pnet.sync.messages import FetchRequest

from .conftest import CHARTER
from .nodes import add_peer, append, has_entry, make_home, start, wait_for
from .test_api_writes import Writer, writer  # noqa: F401  (a fixture)
from .test_cli import as_json, fails, p2p, sample_home  # noqa: F401  (a fixture)

# --------------------------------------------------------------------------- helpers


@pytest.fixture
def seeded(tmp_path: Path):
    """The sample network in the store of the youth group's node."""
    s = Store(tmp_path / "youth.sqlite3")
    people = sample.seed(s)
    yield s, people
    s.close()


def derived(s: Store) -> dict[str, list]:
    """Every directory table, as sorted rows (what a reindex rebuilds)."""
    from p2pnet import derive

    tables = {t: sorted(map(repr, s.conn.execute(f"SELECT * FROM {t}"))) for t in derive.TABLES}
    tables["search"] = sorted(s.conn.execute("SELECT doc_id, kind, digest FROM search_doc"))
    return tables


def views(conn: sqlite3.Connection) -> dict:
    """Every directory view the API, website and CLI show, as plain data."""
    net = directory.network_summary(conn)
    members = directory.list_members(conn, limit=10_000)
    out = {
        "network": net,
        "members": members,
        "pages": [directory.get_member(conn, m["id"]) for m in members],
        "activities": directory.list_activities(conn, limit=10_000),
        "graph": directory.graph(conn),
        "matches": directory.matches(conn, None),
        "health": health.report(conn),
        "requests": assist.list_requests(conn),
        "proposals": decisions.list_proposals(conn),
        "members_csv": exports.members_csv(members),
        "activities_csv": exports.activities_csv(directory.export_activities(conn, limit=10_000)),
    }
    out["graphml"] = exports.graphml(out["graph"]).decode()
    out["what_if"] = [health.what_if(conn, m["id"]) for m in members[:3]]
    return out


def authored_by(data: object, member: str) -> list:
    """Items anywhere in ``data`` that say ``member`` wrote them. (Others' entries that
    name a blocked member, an activity it took part in or thanks to it, stay: they are
    the others' words.)"""
    found = []
    if isinstance(data, dict):
        if member in (data.get("author"), data.get("by"), data.get("organiser")):
            found.append(data)
        for v in data.values():
            found += authored_by(v, member)
    elif isinstance(data, list):
        for v in data:
            found += authored_by(v, member)
    return found


# --------------------------------------------------------------------------- store and directory


def test_block_hides_every_entry_of_the_member_and_unblock_shows_them_again(seeded):
    s, people = seeded
    me, ngo, hu = people["youth"], people["ngo"].member_id, people["health_unit"].member_id
    before = derived(s)
    shown = views(s.conn)
    assert authored_by(shown, ngo) and authored_by(shown, hu)  # both write a lot in the sample

    for m in (ngo, hu):
        r = s.block(m, me, reason="test")
        assert r.changed and r.reindexed > 0 and r.purged == 0 and r.published is None
    hidden = views(s.conn)  # every view still works with the authors gone
    assert authored_by(hidden, ngo) == [] and authored_by(hidden, hu) == []
    assert {ngo, hu}.isdisjoint(m["id"] for m in hidden["members"])
    assert ngo not in hidden["members_csv"] and ngo not in json.dumps(
        [n["id"] for n in hidden["graph"]["nodes"]]
    )
    assert hidden["network"]["members"] == shown["network"]["members"] - 2
    ngo_title = next(a["title"] for a in shown["activities"] if a["author"] == ngo)
    hits = directory.search_page(s.conn, ngo_title, limit=50)["items"]
    assert all(h.get("author") != ngo and h["id"] != ngo for h in hits)
    with pytest.raises(MemberNotFoundError):
        directory.get_member(s.conn, ngo)
    with pytest.raises(MemberNotFoundError):
        directory.resolve_member(s.conn, "Lanna")  # by name: hidden too
    assert s.count() == sum(1 for _ in s.iter_raw(include_forks=False))  # nothing deleted

    assert derived(s) == (s.reindex(), derived(s))[1]  # a reindex keeps them hidden
    for m in (ngo, hu):
        assert not s.unblock(m, me).published
    assert derived(s) == before


def test_ingest_leaves_out_blocked_authors_and_reports_them(tmp_path, store, founder):
    m, a = Identity.generate(), Identity.generate()
    src = Store(tmp_path / "src.sqlite3")
    src.set_network(store.network)
    src.ingest(list(store.iter_raw()))
    made = [src.append(m, "profile", {"name_en": "M"}), src.append(a, "profile", {"name_en": "A"})]
    made += [src.append(m, "activity", {"title": f"m {i}", "kind": "meeting", "date": "2026-01-01"})
             for i in range(3)]  # fmt: skip
    store.ingest([made[0].raw])
    store.block(m.member_id, founder)
    report = store.ingest([e.raw for e in made])
    assert len(report.accepted) == 1 and report.accepted[0].author == a.public
    assert [i for i, _, _ in report.blocked] == [0, 2, 3, 4]
    assert {c for _, c, _ in report.blocked} == {Refusal.BLOCKED}
    assert report.duplicates == 0 and report.refused == []  # blocked before the duplicate check
    assert report.as_dict()["blocked"] == 4 and report.as_dict()["refused"] == []
    assert m.member_id in report.blocked[0][2]
    assert store.feed(m.public).seq == 1  # held before the block, nothing added since
    # how far M's feed goes is remembered from the signed entry of the highest seq
    tip = next(f for f in store.summary() if f.author == m.public)
    assert (tip.seq, tip.head) == (4, made[-1].id)
    forged = entries.create(
        m, network=store.network, seq=9, prev=made[-1].id, kind="leave", body={}
    )
    bad = forged.raw[:-1] + bytes([forged.raw[-1] ^ 1])
    store.ingest([bad])
    assert next(f for f in store.summary() if f.author == m.public).seq == 4
    src.close()


def test_a_block_made_while_a_batch_is_being_verified_still_holds(tmp_path, store, founder):
    """Another process (the CLI) blocks M between ingest's first look and its write."""
    m = Identity.generate()
    e = entries.create(
        m, network=store.network, seq=1, prev=None, kind="profile", body={"name_en": "M"}
    )
    store.ingest([e.raw])
    later = entries.create(m, network=store.network, seq=2, prev=e.id, kind="leave", body={})
    cli = Store(store.path)

    def verify_then_block(batch):
        cli.block(m.member_id, founder)
        return [x.verify_signature() for x in batch]

    report = store.ingest([later.raw], verify=verify_then_block)
    cli.close()
    assert report.accepted == [] and [c for _, c, _ in report.blocked] == [Refusal.BLOCKED]
    assert store.feed(m.public).seq == 1


def test_purge_deletes_entries_and_fork_proofs_in_one_transaction(tmp_path, store, founder):
    m = Identity.generate()
    e1 = entries.create(
        m, network=store.network, seq=1, prev=None, kind="profile", body={"name_en": "M"}
    )
    e2 = entries.create(m, network=store.network, seq=2, prev=e1.id, kind="leave", body={})
    fork = entries.create(
        m, network=store.network, seq=2, prev=e1.id, kind="leave", body={"reason": "x"}
    )
    store.ingest([e1.raw, e2.raw])
    assert store.ingest([fork.raw]).forks
    held = store.count()
    # a failure inside the transaction (the published entry's timestamp is refused) undoes all
    with pytest.raises(EntryRefusedError) as err:
        store.block(m.member_id, founder, purge=True, publish=True, ts=entries.now_ms() + 3_600_000)
    assert err.value.code == Refusal.FUTURE_TIMESTAMP
    assert store.count() == held and store.blocks() == [] and store.feed(m.public).forked

    r = store.block(m.member_id, founder, purge=True, reason="spam")
    assert r.purged == 3 and store.count() == held - 2
    assert (
        store.conn.execute("SELECT count(*) FROM entries WHERE author = ?", (m.public,)).fetchone()[
            0
        ]
        == 0
    )
    assert store.feed(m.public) is None and store.fork_proofs(m.public) == []
    [row] = store.blocks()
    assert (row["member"], row["name"], row["reason"], row["purged"], row["held"]) == (
        m.member_id, "M", "spam", 3, 0)  # fmt: skip
    # the summary still says how far M's feed went, so peers holding it see nothing to send
    assert [(f.seq, f.head, f.forked) for f in store.summary() if f.author == m.public] == [
        (2, e2.id, True)
    ]
    again = store.block(m.member_id, founder, purge=True)
    assert not again.changed and again.purged == 0
    store.unblock(m.member_id, founder)
    assert [f for f in store.summary() if f.author == m.public] == []  # so gossip fetches it again
    assert store.ingest([e1.raw, e2.raw, fork.raw]).forks and store.feed(m.public).forked


def test_refusals_name_their_reason(seeded):
    s, people = seeded
    me = people["youth"]
    with pytest.raises(EntryRefusedError, match="own member"):
        s.block(me.member_id, me)
    with pytest.raises(EntryRefusedError, match="founder"):
        s.block(people["elderly_club"].member_id, me)
    with pytest.raises(EntryRefusedError, match="'reason'"):
        s.block(people["ngo"].member_id, me, reason="x" * 1001)
    with pytest.raises(MemberNotFoundError, match="not blocked"):
        s.unblock(people["ngo"].member_id, me)
    assert s.blocks() == []
    for text in ("pm" + "a" * 52, "pmzz", "nobody at all", "pm-not-an-id"):
        with pytest.raises(MemberNotFoundError):
            moderation.resolve(s.conn, text)
    s.block(people["ngo"].member_id, me)
    ngo = people["ngo"].member_id
    assert moderation.resolve(s.conn, ngo[:10]) == ngo  # hidden, still found among blocks
    assert moderation.resolve_blocked(s.conn, "Lanna") == ngo  # by the name it had
    with pytest.raises(MemberNotFoundError, match="not blocked"):
        moderation.resolve_blocked(s.conn, people["school"].member_id)


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "member"), ({"member": b"x"}, "member"), ({"member": bytes(32), "reason": "a" * 1001}, "reason"),
     ({"member": bytes(32), "reason": 3}, "reason"), ({"member": bytes(32), "why": ""}, "why")],
)  # fmt: skip
def test_block_entry_bodies_are_checked_field_by_field(body, field):
    from p2pnet import schema

    for kind in ("block", "unblock"):
        if kind == "unblock" and field == "reason":
            continue
        with pytest.raises(EntryRefusedError) as err:
            schema.validate_body(kind, body)
        assert err.value.code == Refusal.BAD_FIELD and f"'{field}'" in err.value.detail


def test_published_blocks_are_order_independent(tmp_path, store, founder):
    """The latest of block/unblock of a pair (by seq) wins, whatever order they arrive in."""
    a, m = Identity.generate(), Identity.generate()
    src = Store(tmp_path / "src.sqlite3")
    src.set_network(store.network)
    feed = [src.append(m, "profile", {"name_en": "M"}), src.append(a, "profile", {"name_en": "A"})]
    feed += [src.append(a, "block", {"member": m.public, "reason": "first"}),
             src.append(a, "unblock", {"member": m.public}),
             src.append(a, "block", {"member": m.public, "reason": "again"})]  # fmt: skip
    src.close()
    raws = [e.raw for e in feed]
    results = []
    for order in (raws, raws[:2] + raws[4:] + raws[2:4], list(reversed(raws))):
        s = Store(tmp_path / f"{len(results)}.sqlite3")
        s.set_network(store.network)
        for raw in order:  # one at a time: a later seq may arrive first and wait for the gap
            s.ingest([raw])
        s.ingest(order)
        results.append(directory.get_member(s.conn, m.member_id)["blocked_by"])
        s.index_pending()
        assert derived(s) == (s.reindex(), derived(s))[1]
        s.close()
    assert results[0] == results[1] == results[2]
    assert [(b["member"], b["reason"]) for b in results[0]] == [(a.member_id, "again")]


def test_reconciliation_leaves_blocked_feeds_out():
    """Ahead on a blocked feed, the peer is asked only for its last entry; behind, it gets none."""
    held, unknown, behind, other = (
        bytes([i]) * 32 for i in (1, 2, 3, 4)
    )  # the first three blocked
    mine = [FeedState(held, 2, b"h" * 32, False), FeedState(behind, 5, b"b" * 32, True),
            FeedState(other, 1, b"o" * 32, False)]  # fmt: skip
    theirs = [FeedState(held, 7, b"x" * 32, False), FeedState(unknown, 3, b"a" * 32, False),
              FeedState(behind, 1, b"y" * 32, False), FeedState(other, 4, b"p" * 32, False)]  # fmt: skip
    diff = reconcile.Diff()
    diff.merge_rows(mine, 0, reconcile.SPACE, theirs)
    assert set(diff.give) == {behind} and diff.proofs_give == {behind}
    diff.leave_out({held, unknown, behind})
    assert diff.want == {other: 1} and diff.target == {other: 4}
    assert diff.tips_want == {held: 6, unknown: 2}
    assert diff.give == {} and diff.proofs_give == set()


def test_bundles_leave_blocked_members_out(tmp_path, seeded):
    """A bundle is a way of passing entries on: a node does not export those it blocked."""
    from p2pnet import bundle

    s, people = seeded
    ngo = people["ngo"]
    s.block(ngo.member_id, people["youth"])
    count, _ = bundle.export(s, tmp_path / "out.p2pb")
    held_by_others = s.conn.execute(
        "SELECT count(*) FROM entries WHERE author != ?", (ngo.public,)
    ).fetchone()[0]
    assert count == held_by_others
    other = Store(tmp_path / "other.sqlite3")
    sample.seed(other)
    other.block(ngo.member_id, people["school"])
    full = tmp_path / "full.p2pb"
    s.unblock(ngo.member_id, people["youth"])
    total, _ = bundle.export(s, full)
    report = bundle.import_(other, full)
    assert report.blocked == total - held_by_others and report.refused == []
    assert report.as_dict()["blocked"] == report.blocked
    other.close()


# --------------------------------------------------------------------------- CLI


def test_cli_block_list_purge_publish_unblock(sample_home):  # noqa: F811
    home = sample_home  # run by the founder, the elderly club
    ngo = sample.demo_identity("ngo").member_id
    assert any(m["id"] == ngo for m in as_json(home, "members"))
    out = p2p(home, "block", "Lanna", "--reason", "spam", input="n\n", code=1)  # asked first
    assert "block" in out.stderr and as_json(home, "blocks") == []
    out = p2p(home, "block", "Lanna", "--reason", "spam", "--yes")
    assert "blocked" in out.stdout and "บล็อก" in out.stdout and "private" in out.stderr
    assert not any(m["id"] == ngo for m in as_json(home, "members"))
    fails(home, 3, "show", "Lanna", match="no member")
    [row] = as_json(home, "blocks")
    assert (row["member"], row["reason"], row["published"], row["purged"]) == (ngo, "spam", None, 0)
    assert row["held"] > 0 and "spam" in p2p(home, "blocks").stdout
    out = p2p(home, "block", ngo[:8], "--yes")
    assert "already blocked" in out.stdout
    out = p2p(home, "block", ngo[:8], "--reason", "spam, again", "--yes")
    assert "blocked" in out.stdout and as_json(home, "blocks")[0]["reason"] == "spam, again"
    out = p2p(home, "block", ngo[:8], "--purge", "--publish", "--yes")
    assert f"deleted {row['held']}" in out.stdout and "published" in out.stdout
    [row] = as_json(home, "blocks")
    assert row["held"] == 0 and row["purged"] > 0 and row["published"].startswith("pe")
    out = p2p(home, "unblock", "Lanna")  # by the name it had
    assert (
        "unblocked" in out.stdout
        and "เลิกบล็อก" in out.stdout
        and "published the unblock" in out.stdout
    )
    assert as_json(home, "blocks") == []
    fails(home, 3, "unblock", "Lanna", match="no blocked member")


def test_cli_refusals_are_one_line(sample_home):  # noqa: F811
    home = sample_home
    fails(home, 4, "block", "Don Kaeo Elderly", "--yes", match="own member")
    fails(home, 3, "block", "pm" + "a" * 52, "--yes", match="no member")
    fails(home, 3, "block", "list", match="p2pnet")
    fails(home, 3, "unblock", "school", match="not blocked")
    fails(home, 4, "block", "school", "--reason", "x" * 1001, "--yes", match="reason")


# --------------------------------------------------------------------------- API


async def test_api_blocks_need_the_token_and_change_the_directory(writer):  # noqa: F811
    w: Writer = writer
    ngo = sample.demo_identity("ngo").member_id
    status, data, _ = await w.call("GET", "/api/v1/blocks", auth=False)
    assert status == 401  # private, even on loopback
    status, members, headers = await w.call("GET", "/api/v1/members?limit=200", auth=False)
    etag = headers["ETag"]
    assert any(m["id"] == ngo for m in members["items"])

    status, data, _ = await w.call("POST", "/api/v1/blocks", {"member": "Lanna", "reason": "spam"})
    assert status == 201 and data["member"] == ngo and data["changed"] and data["published"] is None
    status, data, _ = await w.call("POST", "/api/v1/blocks", {"member": ngo})
    assert status == 200 and not data["changed"]
    status, data, _ = await w.call("GET", "/api/v1/blocks")
    assert [(b["member"], b["reason"]) for b in data["blocks"]] == [(ngo, "spam")]
    status, members, headers = await w.call("GET", "/api/v1/members?limit=200", auth=False,
                                            headers={"If-None-Match": etag})  # fmt: skip
    assert status == 200 and headers["ETag"] != etag  # the directory changed without a new entry
    assert not any(m["id"] == ngo for m in members["items"])
    await w.problem("GET", f"/api/v1/members/{ngo}", None, 404, "not-found")

    await w.problem("POST", "/api/v1/blocks", {"member": "Youth"}, 422, "bad-field")
    p = await w.problem("POST", "/api/v1/blocks", {"member": "nobody"}, 422, "bad-field")
    assert p["field"] == "member"
    p = await w.problem(
        "POST", "/api/v1/blocks", {"member": "school", "purge": "yes"}, 422, "bad-field"
    )
    assert p["field"] == "purge"
    p = await w.problem(
        "POST", "/api/v1/blocks", {"member": "school", "colour": 1}, 422, "bad-field"
    )
    assert p["field"] == "colour"
    await w.problem(
        "POST", "/api/v1/blocks", {"member": "school"}, 401, "unauthenticated", auth=False
    )
    await w.problem("DELETE", "/api/v1/blocks/school", None, 404, "not-found")

    status, data, _ = await w.call(
        "POST", "/api/v1/blocks", {"member": ngo, "purge": True, "publish": True}
    )
    assert status == 201 and data["purged"] > 0 and data["published"].startswith("pe")
    status, data, _ = await w.call("DELETE", "/api/v1/blocks/Lanna")
    assert status == 200 and data["published"].startswith("pe")  # the block was published
    status, data, _ = await w.call("GET", "/api/v1/blocks")
    assert data["blocks"] == []


# --------------------------------------------------------------------------- real nodes


async def _api(session: aiohttp.ClientSession, node, path: str, method: str = "GET", body=None):
    token = node.home.admin_token()
    async with session.request(method, node.api_url + path, json=body,
                               headers={"Authorization": f"Bearer {token}"}) as r:  # fmt: skip
        return r.status, await r.json(content_type=None)


async def _tip(node, author: bytes, seq: int) -> bool:
    """Whether ``node``'s reconciliation summary shows ``author``'s feed at ``seq``."""
    feeds = await node.ctx.feeds()
    return next((f.seq for f in feeds if f.author == author), 0) == seq


async def _held(node, author: bytes) -> int:
    return await node.ctx.store.call(
        lambda s: s.conn.execute(
            "SELECT count(*) FROM entries WHERE author = ?", (author,)
        ).fetchone()[0]
    )


async def test_chain_m_a_c_block_hide_purge_unblock(tmp_path, reliability):
    """M – A – C: after A blocks M, M's new entries reach neither A nor C (C hears only A)."""
    ha, wa = make_home(tmp_path, "a", charter=dict(CHARTER))
    with Store(ha.db_file) as s:
        network = s.network
    hm, wm = make_home(tmp_path, "m", network=network)
    hc, wc = make_home(tmp_path, "c", network=network)
    a, m, c = [await start(h, w, seed=i) for i, (h, w) in enumerate([(ha, wa), (hm, wm), (hc, wc)])]
    try:
        async with aiohttp.ClientSession() as http:
            await add_peer(m, a)
            await add_peer(a, m)
            await add_peer(c, a)
            old = await append(
                m, "activity", {"title": "ตลาดนัดสุขภาพ", "kind": "forum", "date": "2026-03-01"}
            )
            await wait_for(lambda: has_entry(c, old), what="M's entry to reach C through A")

            status, r = await _api(http, a, "/api/v1/blocks", "POST",
                                   {"member": wm.member_id, "reason": "ขายตรง", "publish": True})  # fmt: skip
            assert status == 201
            published = ids.from_text(ids.ENTRY, r["published"])
            new = await append(
                m, "activity", {"title": "โฆษณา", "kind": "other", "date": "2026-03-02"}
            )
            m_seq = (await m.ctx.store.call(lambda s: s.feed(wm.public))).seq
            # gossip went round both ways through A: C's entry reached M, A's block reached C,
            # and A learned how far M's feed goes (from M's signed entry, which it refused)
            probe = await append(
                c, "activity", {"title": "ประชุม", "kind": "meeting", "date": "2026-03-03"}
            )
            await wait_for(lambda: has_entry(m, probe), what="C's entry to reach M through A")
            await wait_for(lambda: has_entry(c, published), what="A's published block to reach C")
            await wait_for(
                lambda: _tip(a, wm.public, m_seq), what="A to learn how far M's feed goes"
            )
            leaked = [await has_entry(n, new) for n in (a, c)]
            _, found_a = await _api(http, a, "/api/v1/search?q=" + "ตลาดนัดสุขภาพ")
            _, found_c = await _api(http, c, "/api/v1/search?q=" + "ตลาดนัดสุขภาพ")
            status_a, _ = await _api(http, a, f"/api/v1/members/{wm.member_id}")
            _, page_c = await _api(http, c, f"/api/v1/members/{wm.member_id}")
            reliability("moderation", "M–A–C: A blocks M; M's new entry reaches neither A nor C through A",
                        held=not any(leaked), tried=1, entries_lost=0, errors=sum(leaked),
                        hidden_on_a=status_a == 404, shown_on_c=bool(found_c["items"]))  # fmt: skip
            assert leaked == [False, False]
            assert found_a["items"] == [] and status_a == 404  # old entries hidden on A
            assert [h["id"] for h in found_c["items"]] == [ids.entry(old)]  # still shown on C
            assert [(b["member"], b["reason"]) for b in page_c["blocked_by"]] == [
                (wa.member_id, "ขายตรง")
            ]
            for lang, words in (("en", "Blocked by"), ("th", "ถูกบล็อกโดย")):
                async with http.get(f"{c.api_url}/members/{wm.member_id}?lang={lang}") as resp:
                    html = await resp.text()
                assert resp.status == 200 and words in html and "ขายตรง" in html

            status, r = await _api(
                http, a, "/api/v1/blocks", "POST", {"member": wm.member_id, "purge": True}
            )
            held_after_purge = await _held(a, wm.public)
            purged = r["purged"]
            assert status == 201 and purged >= 2 and held_after_purge == 0
            assert await has_entry(c, old)  # C keeps what it had

            status, r = await _api(http, a, f"/api/v1/blocks/{wm.member_id}", "DELETE")
            assert status == 200 and r["published"]  # the published block is withdrawn
            unblocked = ids.from_text(ids.ENTRY, r["published"])
            await wait_for(
                lambda: has_entry(a, new), what="M's entries to come back to A by gossip"
            )
            await wait_for(lambda: has_entry(c, new), what="M's new entry to reach C through A")
            await wait_for(lambda: has_entry(c, unblocked), what="A's unblock to reach C")
            back = await _held(a, wm.public)
            _, page_c = await _api(http, c, f"/api/v1/members/{wm.member_id}")
            status_a, page_a = await _api(http, a, f"/api/v1/members/{wm.member_id}")
            reliability("moderation", "M–A–C: A purges M, then unblocks; M's feed comes back by gossip",
                        held=held_after_purge == 0 and back == m_seq and status_a == 200, tried=1,
                        entries_lost=m_seq - back, errors=0, purged=purged)  # fmt: skip
            assert back == m_seq and status_a == 200 and page_a["id"] == wm.member_id
            assert page_c["blocked_by"] == []
    finally:
        for n in (a, m, c):
            await n.stop()


async def test_push_of_blocked_entries_is_reported_not_penalised(tmp_path, reliability):
    """The CLI blocks M while A runs; a peer's push mixing M's entries with others'."""
    ha, wa = make_home(tmp_path, "a", charter=dict(CHARTER))
    with Store(ha.db_file) as s:
        network = s.network
    m, pusher = Identity.generate(), Identity.generate()
    feed = [
        entries.create(m, network=network, seq=1, prev=None, kind="profile", body={"name_en": "M"})
    ]
    for i in range(2, 6):
        feed.append(entries.create(m, network=network, seq=i, prev=feed[-1].id, kind="activity",
                                   body={"title": f"x{i}", "kind": "other", "date": "2026-01-01"}))  # fmt: skip
    own = entries.create(
        pusher, network=network, seq=1, prev=None, kind="profile", body={"name_en": "P"}
    )
    a = await start(ha, wa)
    try:
        await a.ctx.store.call(lambda s: s.ingest([feed[0].raw]))
        out = p2p(ha.path, "block", m.member_id, "--yes")  # the CLI, while the node runs
        assert "private" in out.stderr
        async with aiohttp.ClientSession() as session:
            pc = peer_client.PeerClient(session, pusher)
            answer = await pc.send_push(a.peer_url, network, [e.raw for e in feed[1:]] + [own.raw])
            again = await pc.send_push(a.peer_url, network, [own.raw])  # not throttled or refused
            req = FetchRequest(network, [(m.public, 0), (pusher.public, 0)], [m.public], 1 << 20)
            served = [raw async for batch in pc.send_fetch(a.peer_url, req) for raw in batch]
        reliability("moderation", "a push mixing a blocked member's entries with others",
                    held=answer["blocked"] == 4 and answer["accepted"] == 1 and not answer["refused"],
                    tried=len(feed), entries_lost=0, errors=len(answer["refused"]))  # fmt: skip
        assert (answer["accepted"], answer["blocked"], answer["refused"]) == (1, 4, [])
        assert again["duplicates"] == 1
        assert served == [own.raw]  # A holds M's profile but does not relay it
        assert await _held(a, m.public) == 1 and await _tip(a, m.public, 5)
    finally:
        await a.stop()
