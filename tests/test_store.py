import json
import subprocess
import sys

import pytest

from p2pnet import codec, entries, ids
from p2pnet.entries import SIGN_PREFIX
from p2pnet.errors import EntryRefusedError, Refusal
from p2pnet.identity import Identity
from p2pnet.store import Store

from .conftest import make_store

DERIVED = ("members", "tags", "activities", "participants", "confirmations", "endorsements")


def dump(store):
    out = {}
    for t in DERIVED:
        rows = store.conn.execute(f"SELECT * FROM {t}").fetchall()
        out[t] = sorted(repr(r) for r in rows)
    out["charter"] = store.get_meta("charter")
    return out


def log_state(store):
    return sorted(store.conn.execute("SELECT id, fork FROM entries").fetchall()), sorted(
        store.conn.execute("SELECT * FROM feeds").fetchall()
    )


def profile(name, **extra):
    return {"name_th": name, **extra}


def test_genesis_binds_the_network(store, founder):
    assert store.network is not None
    charter = store.charter()
    assert charter["name"] == "เครือข่ายผู้สูงอายุแม่ริม"
    assert charter["founder"] == founder.member_id
    with pytest.raises(EntryRefusedError, match="already in network"):
        store.create_network(founder, {"name": "x", "kind": "formed"})


def test_append_chains(store, founder):
    a = store.append(founder, "profile", profile("ชมรมผู้สูงอายุ"))
    b = store.append(founder, "leave", {})
    assert (a.seq, b.seq) == (2, 3)
    assert b.prev == a.id
    assert store.feed(founder.public).head == b.id


def test_append_refuses_bad_body_and_changes_nothing(store, founder):
    before = log_state(store)
    with pytest.raises(EntryRefusedError) as err:
        store.append(founder, "activity", {"title": "x"})
    assert err.value.code == Refusal.BAD_FIELD
    assert log_state(store) == before


def test_ingest_is_idempotent(store, founder, tmp_path):
    store.append(founder, "profile", profile("ก"))
    other = make_store(tmp_path / "b.sqlite3", store.network)
    raws = list(store.iter_raw())
    r1 = other.ingest(raws)
    assert len(r1.accepted) == 2 and not r1.refused
    state = log_state(other), dump(other)
    r2 = other.ingest(raws + raws)
    assert r2.accepted == [] and r2.duplicates == 4 and not r2.refused
    assert (log_state(other), dump(other)) == state


def test_ingest_out_of_order_within_batch(store, founder, tmp_path):
    for i in range(5):
        store.append(founder, "profile", profile(f"ชื่อ {i}"))
    other = make_store(tmp_path / "b.sqlite3", store.network)
    report = other.ingest(list(reversed(list(store.iter_raw()))))
    assert len(report.accepted) == 6 and not report.refused
    assert dump(other) == dump(store)


def test_sequence_gap_and_broken_chain(store, founder, tmp_path):
    raws = [store.append(founder, "leave", {}).raw for _ in range(3)]
    other = make_store(tmp_path / "b.sqlite3", store.network)
    genesis = next(store.iter_raw())
    report = other.ingest([genesis, raws[2]])
    assert [r[1] for r in report.refused] == [Refusal.SEQUENCE_GAP]
    # an entry at the right seq whose prev is not the feed's head
    e = entries.create(founder, network=store.network, seq=2, prev=b"\x07" * 32,
                       kind="leave", body={})  # fmt: skip
    report = other.ingest([e.raw])
    assert [r[1] for r in report.refused] == [Refusal.BROKEN_CHAIN]
    assert other.feed(founder.public).seq == 1


def test_fork_is_kept_as_proof(store, founder, tmp_path):
    a = store.append(founder, "profile", profile("ก"))
    other = make_store(tmp_path / "b.sqlite3", store.network)
    other.ingest(list(store.iter_raw()))
    twin = entries.create(founder, network=store.network, seq=a.seq, prev=a.prev,
                          kind="profile", body=profile("ข"))  # fmt: skip
    report = other.ingest([twin.raw])
    assert report.forks == [twin] and not report.accepted
    assert other.feed(founder.public).forked
    assert other.feed(founder.public).head == a.id
    assert sorted(other.fork_proofs(founder.public)) == sorted([a.raw, twin.raw])
    row = other.conn.execute("SELECT forked, name_th FROM members WHERE key=?", (founder.public,))
    assert row.fetchone() == (1, "ก")
    # the proof travels: a third store learns of the fork from the proofs
    third = make_store(tmp_path / "c.sqlite3", store.network)
    third.ingest(list(other.iter_raw()))
    assert third.feed(founder.public).forked
    assert dump(third) == dump(other)


def test_refused_entries_change_nothing(store, founder, tmp_path):
    store.append(founder, "profile", profile("ก"))
    other = make_store(tmp_path / "b.sqlite3", store.network)
    before = log_state(other), dump(other)
    content = codec.encode([1, store.network, founder.public, 1, None, 0, "leave", {}])
    forged = content + Identity.generate().sign(SIGN_PREFIX + content)
    report = other.ingest([forged, b"garbage", b"\x00" * 100_000])
    assert sorted(r[1] for r in report.refused) == sorted(
        [Refusal.BAD_SIGNATURE, Refusal.MALFORMED, Refusal.TOO_LARGE]
    )
    assert (log_state(other), dump(other)) == before


def test_other_networks_entries_are_refused(store, tmp_path):
    stranger = Identity.generate()
    elsewhere = Store(tmp_path / "x.sqlite3")
    elsewhere.create_network(stranger, {"name": "อื่น", "kind": "formed"})
    elsewhere.append(stranger, "profile", profile("ค"))
    report = store.ingest(list(elsewhere.iter_raw()))
    assert {r[1] for r in report.refused} == {Refusal.WRONG_NETWORK}
    assert not report.accepted


def build_network(store, founder, n=4):
    members = [founder] + [Identity.generate() for _ in range(n)]
    store.append(founder, "profile", profile("ผู้ก่อตั้ง", offers=["ห้องประชุม"]))
    for i, m in enumerate(members[1:]):
        store.append(m, "profile", profile(f"สมาชิก {i}", needs=["ห้องประชุม"], province="TH-50"))
        store.append(founder, "endorse", {"member": m.public})
    act = store.append(members[1], "activity", {
        "title": "ประชุมเครือข่าย", "kind": "meeting", "date": "2026-01-10",
        "participants": [m.public for m in members[:3]]})  # fmt: skip
    store.append(members[2], "confirm", {"activity": act.id})
    store.append(founder, "unendorse", {"member": members[4].public})
    store.append(members[3], "leave", {"reason": "ย้ายพื้นที่"})
    store.append(members[1], "profile", profile("สมาชิก 0 (ใหม่)"))
    return members, act


def test_reindex_equals_incremental(store, founder, tmp_path):
    build_network(store, founder)
    incremental = dump(store)
    assert store.reindex() == store.count()
    assert dump(store) == incremental
    # and a store that received the same log in another order agrees
    other = make_store(tmp_path / "b.sqlite3", store.network)
    raws = list(store.iter_raw())
    for chunk in (raws[10:], raws[:10], raws):
        other.ingest(chunk)
    assert dump(other) == incremental


def test_derived_tables(store, founder):
    members, act = build_network(store, founder)
    m1 = store.conn.execute("SELECT name_th FROM members WHERE key=?", (members[1].public,))
    assert m1.fetchone()[0] == "สมาชิก 0 (ใหม่)"
    parts = store.conn.execute("SELECT count(*) FROM participants WHERE activity=?",
                               (ids.entry(act.id),)).fetchone()[0]  # fmt: skip
    assert parts == 3
    active = store.conn.execute("SELECT dst, active FROM endorsements WHERE src=?",
                                (founder.member_id,)).fetchall()  # fmt: skip
    assert sum(a for _, a in active) == 3 and len(active) == 4
    left = store.conn.execute("SELECT left_seq FROM members WHERE key=?", (members[3].public,))
    assert left.fetchone()[0] > 0
    tags = store.conn.execute("SELECT count(*) FROM tags WHERE facet='needs'").fetchone()[0]
    assert tags == 3  # member 1's newer profile dropped its need


APPENDER = r"""
import sys
from p2pnet.identity import Identity
from p2pnet.store import Store
who = Identity.from_seed(bytes.fromhex(sys.argv[2]))
s = Store(sys.argv[1])
for i in range(int(sys.argv[3])):
    e = s.append(who, "leave", {"reason": str(i)})
    print(e.seq, flush=True)
"""


def test_two_processes_append_without_forking(store, tmp_path):
    seeds = [Identity.generate() for _ in range(2)]
    who = seeds[0]
    procs = [
        subprocess.Popen([sys.executable, "-c", APPENDER, str(store.path), who.seed.hex(), "40"],
                         stdout=subprocess.PIPE, text=True)  # fmt: skip
        for _ in range(2)
    ]
    seqs = []
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0
        seqs += [int(x) for x in out.split()]
    assert sorted(seqs) == list(range(1, 81))
    feed = store.feed(who.public)
    assert feed.seq == 80 and not feed.forked


def test_charter_json(store):
    assert json.loads(store.get_meta("charter"))["kind"] == "hybrid"


def test_two_stores_ingesting_the_same_entries_at_once(store, founder, tmp_path):
    """Another process commits the same entries between this ingest's duplicate check and
    its write transaction (a node and `p2pnet join` on one home): duplicates, no error."""
    build_network(store, founder)
    raws = list(store.iter_raw(include_forks=False))
    path = tmp_path / "shared.sqlite3"
    first, second = make_store(path, store.network), Store(path)
    calls = []

    def verify_then_let_the_other_commit(batch):
        if not calls:
            calls.append(first.ingest(raws))  # commits while `second` is between its steps
        return [e.verify_signature() for e in batch]

    report = second.ingest(raws, verify=verify_then_let_the_other_commit)
    assert len(calls[0].accepted) == len(raws)
    assert not report.accepted and not report.refused and report.duplicates == len(raws)
    assert second.count() == len(raws) and second.integrity_check() == "ok"
    first.close()
    second.close()
