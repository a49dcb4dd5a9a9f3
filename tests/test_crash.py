"""Kill -9 a process while it appends: nothing it acknowledged is lost."""

import random
import subprocess
import sys
import time

from p2pnet.identity import Identity
from p2pnet.store import Store

WRITER = r"""
import sys
from p2pnet.identity import Identity
from p2pnet.store import Store
who = Identity.from_seed(bytes.fromhex(sys.argv[2]))
s = Store(sys.argv[1])
while True:
    e = s.append(who, "activity", {"title": "บันทึกกิจกรรม", "kind": "meeting",
                                   "date": "2026-01-01", "summary": "ก" * 200})
    print(e.entry_id, flush=True)   # acknowledged: the transaction committed
"""

INGESTER = r"""
import sys
from p2pnet.store import Store
s = Store(sys.argv[1])
raws = open(sys.argv[2], "rb").read().split(b"\n--\n")
for i in range(0, len(raws), 50):
    r = s.ingest(raws[i:i + 50])
    print(len(r.accepted), flush=True)
"""


def test_kill9_during_local_appends(tmp_path, founder):
    path = tmp_path / "node.sqlite3"
    with Store(path) as s:
        s.create_network(founder, {"name": "ทดสอบ", "kind": "natural"})
    writer = Identity.generate()
    acknowledged: list[str] = []
    rng = random.Random(7)
    for _ in range(25):
        p = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), writer.seed.hex()],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        # let it start and write a little, then kill it at a random moment
        first = p.stdout.readline()
        if first.strip():
            acknowledged.append(first.strip())
        time.sleep(rng.uniform(0.0, 0.05))
        p.kill()
        out, _ = p.communicate()
        acknowledged += [line for line in out.split("\n") if line.strip()]
    with Store(path) as s:
        assert s.integrity_check() == "ok"
        held = {r[0] for r in s.conn.execute("SELECT id FROM entries")}
        from p2pnet import ids

        assert {ids.from_text("pe", a) for a in acknowledged} <= held
        feed = s.feed(writer.public)
        assert feed is not None and feed.seq >= len(acknowledged) and not feed.forked
        # the feed is contiguous and the directory agrees with the log
        seqs = [r[0] for r in s.conn.execute("SELECT seq FROM entries WHERE author=? ORDER BY seq",
                                             (writer.public,))]  # fmt: skip
        assert seqs == list(range(1, feed.seq + 1))
        assert s.conn.execute("SELECT count(*) FROM activities").fetchone()[0] == feed.seq


def test_kill9_during_ingest(tmp_path, founder):
    src = Store(tmp_path / "src.sqlite3")
    src.create_network(founder, {"name": "ทดสอบ", "kind": "natural"})
    authors = [Identity.generate() for _ in range(10)]
    for i in range(600):
        src.append(authors[i % 10], "leave", {"reason": f"{i}"})
    raws = list(src.iter_raw())
    dump = tmp_path / "raws.bin"
    dump.write_bytes(b"\n--\n".join(raws))
    assert all(b"\n--\n" not in r for r in raws)
    path = tmp_path / "dst.sqlite3"
    with Store(path) as s:
        s.set_network(src.network)
    rng = random.Random(11)
    for _ in range(10):
        p = subprocess.Popen([sys.executable, "-c", INGESTER, str(path), str(dump)],
                             stdout=subprocess.PIPE, text=True)  # fmt: skip
        p.stdout.readline()
        time.sleep(rng.uniform(0.0, 0.1))
        p.kill()
        p.communicate()
        with Store(path) as s:
            assert s.integrity_check() == "ok"
            # every feed is a contiguous prefix of the source feed
            for f in s.feeds():
                n = s.conn.execute("SELECT count(*) FROM entries WHERE author=?", (f.author,))
                assert n.fetchone()[0] == f.seq
    with Store(path) as s:
        s.ingest(raws)
        assert s.count() == src.count()
        assert {f.head for f in s.feeds()} == {f.head for f in src.feeds()}
