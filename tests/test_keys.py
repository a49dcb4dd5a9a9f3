"""The key life cycle in the store: hand-over, recovery vouched by endorsers, order independence."""

from __future__ import annotations

import random

import pytest

from p2pnet import directory, entries, keychain
from p2pnet.errors import EntryRefusedError, Refusal
from p2pnet.identity import Identity
from p2pnet.store import Store

from .conftest import make_store

DERIVED = (
    "members", "tags", "activities", "participants", "confirmations", "endorsements", "thanks",
    "votes", "key_rotations", "key_claims", "vouches", "member_keys",
)  # fmt: skip


def dump(store: Store) -> dict:
    out = {t: sorted(repr(r) for r in store.conn.execute(f"SELECT * FROM {t}")) for t in DERIVED}
    out["search"] = sorted(repr(r) for r in store.conn.execute("SELECT doc_id, kind, name, body FROM search_doc"))
    return out


def forge(store: Store, who: Identity, kind: str, body: dict, *, ts: int | None = None) -> entries.Entry:
    """Sign ``who``'s next entry without the store's guard (what a thief holding a retired
    key, or any foreign node, can always do) and ingest it."""
    head = store.feed(who.public)
    e = entries.create(who, network=store.network, seq=head.seq + 1 if head else 1,
                       prev=head.head if head else None, kind=kind, body=body, ts=ts)  # fmt: skip
    report = store.ingest([e.raw])
    assert report.accepted == [e], report.refused
    return e


def rotate(store: Store, old: Identity, new: Identity) -> entries.Entry:
    return store.append(old, "rotate", keychain.rotation_body(store.network, old, new))


def name_of(store: Store, member: str) -> str:
    return directory.get_member(store.conn, member)["name_th"]


def test_hand_over_keeps_one_member(store, founder, reliability):
    old, new = Identity.generate(), Identity.generate()
    store.append(old, "profile", {"name_th": "ชมรมผู้สูงอายุบ้านป่าตึง", "offers": ["สมุนไพร"]})
    store.append(founder, "endorse", {"member": old.public})
    act = store.append(old, "activity", {"title": "อบรมสมุนไพร", "kind": "training", "date": "2026-02-01"})
    r = rotate(store, old, new)
    store.append(new, "profile", {"name_th": "ชมรมผู้สูงอายุบ้านป่าตึง (ใหม่)"})
    store.append(new, "activity", {"title": "ประชุมประจำเดือน", "kind": "meeting", "date": "2026-03-01"})
    store.append(founder, "thanks", {"member": new.public, "message": "ขอบคุณ"})

    member = old.member_id
    assert [m["id"] for m in directory.list_members(store.conn)].count(member) == 1
    assert new.member_id not in {m["id"] for m in directory.list_members(store.conn)}
    m = directory.get_member(store.conn, member)
    assert m["name_th"] == "ชมรมผู้สูงอายุบ้านป่าตึง (ใหม่)"  # the new key's profile is the later one
    assert {a["title"] for a in m["activities"]} == {"อบรมสมุนไพร", "ประชุมประจำเดือน"}
    assert directory.statuses(store.conn)[member] == "admitted"  # endorsements follow the member
    assert store.conn.execute("SELECT dst FROM thanks").fetchone()[0] == member
    keys = keychain.member_keys(store.conn, member)
    assert [(k["key"], k["current"], k["ended_by"], k["until_seq"]) for k in keys] == [
        (old.member_id, False, "rotate", r.seq), (new.member_id, True, None, None)]  # fmt: skip
    # the new key's id finds the member too
    assert directory.resolve_member(store.conn, new.member_id) == member
    # the old key may no longer write here ...
    with pytest.raises(EntryRefusedError) as exc:
        store.append(old, "profile", {"name_th": "ปลอม"})
    assert exc.value.code == Refusal.KEY_RETIRED
    # ... and what it signs anyway is kept in the log but counts nowhere
    forge(store, old, "profile", {"name_th": "ปลอม"})
    forge(store, old, "activity", {"title": "ปลอม", "kind": "other", "date": "2026-04-01"})
    counted = name_of(store, member) != "ชมรมผู้สูงอายุบ้านป่าตึง (ใหม่)" or any(
        a["title"] == "ปลอม" for a in directory.get_member(store.conn, member)["activities"])
    reliability("keys", "a handed-over key keeps signing (profile, activity): kept in the log, "
                "counted nowhere; the node refuses to write with it", held=not counted,
                tried=2, counted=int(counted), entries_lost=0)  # fmt: skip
    assert name_of(store, member) == "ชมรมผู้สูงอายุบ้านป่าตึง (ใหม่)"
    assert act.entry_id in {a["id"] for a in directory.get_member(store.conn, member)["activities"]}
    assert len(directory.get_member(store.conn, member)["activities"]) == 2


def test_rotation_needs_the_new_keys_consent(store, founder):
    new, other = Identity.generate(), Identity.generate()
    body = keychain.rotation_body(store.network, founder, new)
    for bad in ({**body, "key": other.public}, {**body, "proof": bytes(64)}):
        with pytest.raises(EntryRefusedError) as exc:
            store.append(founder, "rotate", bad)
        assert exc.value.code == Refusal.BAD_FIELD and "proof" in exc.value.detail
    with pytest.raises(EntryRefusedError) as exc:
        store.append(founder, "rotate", keychain.rotation_body(store.network, founder, founder))
    assert "itself" in exc.value.detail
    # a proof made for another network does not carry over
    foreign = keychain.rotation_body(bytes(32), founder, new)
    with pytest.raises(EntryRefusedError):
        store.append(founder, "rotate", foreign)
    assert store.feed(founder.public).seq == 1  # nothing was written


def recovery_network(store: Store, founder: Identity, endorsers: int = 3):
    """A lost member L endorsed by the founder and ``endorsers`` others, all admitted."""
    lost = Identity.generate()
    friends = [Identity.generate() for _ in range(endorsers)]
    store.append(founder, "profile", {"name_th": "ผู้ก่อตั้ง"})
    store.append(lost, "profile", {"name_th": "โรงเรียนบ้านแม่ริม"})
    store.append(founder, "endorse", {"member": lost.public})
    for i, f in enumerate(friends):
        store.append(f, "profile", {"name_th": f"เพื่อน {i}"})
        store.append(founder, "endorse", {"member": f.public})
        store.append(f, "endorse", {"member": lost.public})
    return lost, friends


def test_recovery_takes_effect_with_enough_vouches(store, founder, reliability):
    lost, (b, c, d) = recovery_network(store, founder)
    store.append(lost, "activity", {"title": "กิจกรรมจริง", "kind": "meeting", "date": "2026-01-05"})
    last_good = store.feed(lost.public).seq
    # the key is stolen: the thief rewrites the profile and hands the feed over to itself
    thief = Identity.generate()
    forge(store, lost, "profile", {"name_th": "ถูกขโมย"})
    forge(store, lost, "rotate", keychain.rotation_body(store.network, lost, thief))
    forge(store, thief, "activity", {"title": "ของโจร", "kind": "other", "date": "2026-01-06"})
    member = lost.member_id
    assert name_of(store, member) == "ถูกขโมย"

    new = Identity.generate()
    claim = store.append(new, "recover", {"member": lost.public, "last_good": last_good,
                                          "reason": "ทำคอมพิวเตอร์หาย"})  # fmt: skip
    store.append(new, "profile", {"name_th": "โรงเรียนบ้านแม่ริม"})
    store.append(b, "vouch", {"claim": claim.id})
    store.append(new, "vouch", {"claim": claim.id})  # the claimant's own vouch does not count
    outsider = Identity.generate()
    store.append(outsider, "vouch", {"claim": claim.id})  # nor one from a non-endorser
    (pending,) = keychain.claims(store.conn, member=member)
    assert (pending["needed"], len(pending["counted"]), pending["in_effect"]) == (2, 1, False)
    assert name_of(store, member) == "ถูกขโมย"

    store.append(c, "vouch", {"claim": claim.id})
    (done,) = keychain.claims(store.conn, member=member)
    assert done["in_effect"] and sorted(done["counted"]) == sorted([b.member_id, c.member_id])
    m = directory.get_member(store.conn, member)
    reliability("keys", "a stolen key rewrites the profile and hands the feed to the thief; a "
                "claim with 2 counted vouches (1 own and 1 outsider vouch not counted) takes it back",
                held=m["name_th"] == "โรงเรียนบ้านแม่ริม" and {a["title"] for a in m["activities"]} == {"กิจกรรมจริง"},
                tried=1, vouches=4, counted=len(done["counted"]), entries_lost=0)  # fmt: skip
    assert m["name_th"] == "โรงเรียนบ้านแม่ริม"
    assert {a["title"] for a in m["activities"]} == {"กิจกรรมจริง"}  # the thief's are gone
    held = {r[0] for r in store.conn.execute("SELECT id FROM members")}
    assert thief.member_id in held  # the thief's key stands on its own, not as this member
    keys = keychain.member_keys(store.conn, member)
    assert [(k["key"], k["ended_by"], k["until_seq"]) for k in keys] == [
        (lost.member_id, "recover", last_good), (new.member_id, None, None)]  # fmt: skip
    assert directory.statuses(store.conn)[member] == "admitted"
    # the thief's later forks of the lost key do not mark the member as forked
    fork = entries.create(lost, network=store.network, seq=last_good + 1,
                          prev=store.get(store.feed(lost.public).head).prev, kind="leave",
                          body={}, ts=None)  # fmt: skip
    assert store.ingest([fork.raw]).forks
    assert not directory.get_member(store.conn, member)["forked"]


def test_recovery_threshold_comes_from_the_charter(tmp_path):
    founder = Identity.generate()
    s = Store(tmp_path / "one.sqlite3")
    s.create_network(founder, {"name": "เครือข่ายทดลอง", "kind": "formed", "recovery": {"vouches": 1}})
    lost, (b,) = recovery_network(s, founder, endorsers=1)
    new = Identity.generate()
    claim = s.append(new, "recover", {"member": lost.public, "last_good": 1})
    s.append(b, "vouch", {"claim": claim.id})
    assert keychain.claims(s.conn)[0]["in_effect"]
    s.close()


def test_a_hand_over_before_the_loss_stands(store, founder):
    lost, (b, c, _d) = recovery_network(store, founder)
    successor = Identity.generate()
    r = rotate(store, lost, successor)
    new = Identity.generate()
    claim = store.append(new, "recover", {"member": lost.public, "last_good": r.seq})
    store.append(b, "vouch", {"claim": claim.id})
    store.append(c, "vouch", {"claim": claim.id})
    keys = keychain.member_keys(store.conn, lost.member_id)
    assert [k["key"] for k in keys] == [lost.member_id, successor.member_id]
    assert not keychain.claims(store.conn)[0]["in_effect"]


def feeds_in_random_order(raws: list[bytes], rng: random.Random) -> list[list[bytes]]:
    """The entries as batches a node might receive: feeds interleaved at random, each in order."""
    feeds: dict[bytes, list[entries.Entry]] = {}
    for raw in raws:
        e = entries.decode(raw)
        feeds.setdefault(e.author, []).append(e)
    for f in feeds.values():
        f.sort(key=lambda e: e.seq)
    out: list[bytes] = []
    while feeds:
        author = rng.choice(sorted(feeds))
        out.append(feeds[author].pop(0).raw)
        if not feeds[author]:
            del feeds[author]
    batches, i = [], 0
    while i < len(out):
        n = rng.randint(1, 6)
        batches.append(out[i : i + n])
        i += n
    return batches


def test_same_directory_in_any_arrival_order(store, founder, tmp_path, reliability):
    lost, (b, c, d) = recovery_network(store, founder)
    mover, successor = Identity.generate(), Identity.generate()
    store.append(mover, "profile", {"name_th": "อบต.ริมใต้"})
    store.append(founder, "endorse", {"member": mover.public})
    store.append(b, "endorse", {"member": successor.public})  # named by its new key before the move
    rotate(store, mover, successor)
    store.append(successor, "profile", {"name_th": "อบต.ริมใต้ (กุญแจใหม่)"})
    store.append(successor, "activity", {"title": "เวทีประชาคม", "kind": "forum", "date": "2026-05-01",
                                         "participants": [lost.public, b.public]})  # fmt: skip
    last_good = store.feed(lost.public).seq
    thief = Identity.generate()
    forge(store, lost, "profile", {"name_th": "ถูกขโมย"})
    forge(store, lost, "rotate", keychain.rotation_body(store.network, lost, thief))
    new = Identity.generate()
    claim = store.append(new, "recover", {"member": lost.public, "last_good": last_good})
    store.append(new, "profile", {"name_th": "โรงเรียนบ้านแม่ริม"})
    for v in (b, c, d):
        store.append(v, "vouch", {"claim": claim.id})
    store.append(c, "unendorse", {"member": lost.public})  # c's vouch stops counting; b, d remain
    store.append(new, "endorse", {"member": successor.public})

    incremental = dump(store)
    assert store.reindex() == store.count()
    assert dump(store) == incremental
    assert name_of(store, lost.member_id) == "โรงเรียนบ้านแม่ริม"
    assert name_of(store, mover.member_id) == "อบต.ริมใต้ (กุญแจใหม่)"
    raws = list(store.iter_raw(include_forks=False))
    differ, refused = [], 0
    for seed in range(30):
        other = make_store(tmp_path / f"o{seed}.sqlite3", store.network)
        for batch in feeds_in_random_order(raws, random.Random(seed)):
            refused += len(other.ingest(batch).refused)
        other.index_pending()
        if dump(other) != incremental:
            differ.append(seed)
        other.close()
    reliability("keys", "hand-over, stolen key, vouched recovery, withdrawn endorsement: "
                "the log in 30 random arrival orders gives the same directory",
                held=not differ and not refused, tried=30, differing_orders=len(differ),
                refused=refused, entries=len(raws), entries_lost=0)  # fmt: skip
    assert not refused and not differ, f"arrival orders {differ} give another directory"


@pytest.mark.parametrize("purge", [False, True])
def test_a_block_covers_every_key_of_the_member(store, founder, purge):
    """Blocked after its hand-over was held here: the later key is blocked with the first."""
    old, new = Identity.generate(), Identity.generate()
    store.append(old, "profile", {"name_th": "ร้านขายตรง"})
    rotate(store, old, new)
    first = store.append(new, "activity", {"title": "ขายของ", "kind": "other", "date": "2026-05-01"})
    store.block(old.member_id, founder, purge=purge)
    later = entries.create(new, network=store.network, seq=2, prev=first.id, kind="profile",
                           body={"name_th": "ชื่อใหม่"})  # fmt: skip
    report = store.ingest([later.raw])
    assert len(report.blocked) == 1 and not report.accepted
    held = {r[0] for r in store.conn.execute("SELECT id FROM members")}
    assert old.member_id not in held and new.member_id not in held
    assert (store.feed(new.public) is None) == purge  # a purge deletes the new key's feed too
    store.unblock(old.member_id, founder)
    if not purge:  # the hidden entries come back under the one member
        assert name_of(store, old.member_id) == "ร้านขายตรง"
        assert directory.resolve_member(store.conn, new.member_id) == old.member_id
