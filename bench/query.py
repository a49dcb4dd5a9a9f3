"""Query benchmark: search and list queries through the local HTTP API under load.

    .venv/bin/python bench/query.py                      # quick: 1,000 members, 20,000 activities
    .venv/bin/python bench/query.py --members 10000 --activities 1000000 \\
        --db /tmp/p2pnet-bench-1m.sqlite3 --seconds 10   # full size (builds once, ~10 min)

Builds a network of generated members and activities (Thai and English text) as
real signed entries: signed in worker processes, ingested (verified) by a Store
and indexed for search exactly as a node does. ``--db`` keeps the file, so the
next run with the same sizes skips the build.

Then it starts a real node on that file in a separate process and, for each
kind of query, runs ``--clients`` concurrent aiohttp clients for ``--seconds``,
printing median and p99 latency and requests/s; beside them, the same queries
straight on SQLite (the directory functions the API calls, one at a time, on a
read-only connection in this process).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import multiprocessing
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from p2pnet import directory, entries, provinces  # noqa: E402
from p2pnet import identity as idmod  # noqa: E402
from p2pnet.config import Home, NodeConfig  # noqa: E402
from p2pnet.identity import Identity  # noqa: E402
from p2pnet.store import Store  # noqa: E402

VILLAGES = [
    "ดอนแก้ว",
    "หนองบัว",
    "แม่ริม",
    "สันทราย",
    "ป่าแดด",
    "หนองหอย",
    "ท่าศาลา",
    "ช้างเผือก",
    "บ้านเป็ด",
    "โนนสูง",
    "ห้วยทราย",
    "ทุ่งรวงทอง",
    "นาหว้า",
    "โคกสูง",
    "บางกระทุ่ม",
    "คลองสาม",
    "หัวหิน",
    "บ่อผุด",
    "Nong Khai",
    "Ban Pong",
    "Mae Sai",
    "Pak Chong",
    "Don Chedi",
    "Khlong Luang",
    "Sattahip",
]
ORGS = [
    "ชมรมผู้สูงอายุบ้าน",
    "โรงเรียนบ้าน",
    "โรงพยาบาลส่งเสริมสุขภาพตำบล",
    "กลุ่มอาสาสมัครสาธารณสุข",
    "กลุ่มแม่บ้านเกษตรกร",
    "กลุ่มเยาวชนจิตอาสา",
    "องค์การบริหารส่วนตำบล",
    "วิสาหกิจชุมชน",
    "วัด",
    "Community Health Club",
    "Elderly Association of",
    "Youth Volunteers of",
]
TOPICS = [
    "การดูแลผู้ป่วยติดเตียง",
    "คัดกรองเบาหวานและความดัน",
    "ตรวจตาคัดกรองต้อกระจก",
    "การใช้ยาอย่างปลอดภัย",
    "ปลูกผักปลอดสารพิษ",
    "ทอผ้าไหม",
    "การทำบัญชีกลุ่ม",
    "การตลาดออนไลน์",
    "ปฐมพยาบาลและ CPR",
    "ภูมิปัญญาล้านนา",
    "นวดแผนไทย",
    "สมุนไพรพื้นบ้าน",
    "ออกกำลังกายผู้สูงอายุ",
    "โภชนาการเด็ก",
    "ทันตสุขภาพ",
    "ป้องกันการหกล้ม",
    "ธนาคารเวลา",
    "โรงเรียนผู้สูงอายุ",
    "สุขภาพจิตชุมชน",
    "ขยะและสิ่งแวดล้อม",
    "ป้องกันไข้เลือดออก",
    "กองทุนหลักประกันสุขภาพ",
    "หมอลำพื้นบ้าน",
    "ทำตุงล้านนา",
    "home visits",
    "diabetes screening",
    "first aid training",
    "digital literacy",
    "herbal medicine",
    "community garden",
    "mental health",
    "fall prevention",
    "oral health",
    "study visit",
]
VERBS = [
    "อบรม",
    "ประชุมเรื่อง",
    "แลกเปลี่ยนเรียนรู้",
    "ศึกษาดูงาน",
    "รณรงค์",
    "สาธิต",
    "เวทีเสวนา",
    "Workshop on",
    "Meeting on",
    "Training in",
]
SENTENCES = [
    "ผู้เข้าร่วม {n} คนแลกเปลี่ยนประสบการณ์เรื่อง{t}",
    "{o} ร่วมกับ อสม. และ รพ.สต. จัดกิจกรรม{t}ที่ศาลาอเนกประสงค์",
    "ตายายในชุมชนถ่ายทอดความรู้ให้ลูกหลาน",
    "ได้ข้อตกลงร่วมกันในการทำงานต่อเนื่องทุกเดือน",
    "Participants practised {t} with volunteers from the village",
    "The group agreed to meet again next month",
    "เยาวชน {n} คนช่วยเยี่ยมบ้านผู้สูงอายุที่อยู่ลำพัง",
]
KINDS = ["meeting", "training", "joint-project", "exchange", "seminar", "visit", "forum", "other"]
CODES = [c for c in provinces.PROVINCES if c != "TH-S"]


def member_identity(i: int) -> Identity:
    return Identity.from_seed(hashlib.sha256(b"p2pnet bench member %d" % i).digest())


def _pick(rng: random.Random, items: list[str]) -> str:
    # Zipf-like: early items far more common, as real topics are
    return items[min(len(items) - 1, int(rng.paretovariate(1.2)) - 1)]


def profile_body(i: int, rng: random.Random) -> dict[str, Any]:
    village = rng.choice(VILLAGES)
    org = rng.choice(ORGS)
    body: dict[str, Any] = {
        "name_th"
        if org[0] > "z"
        else "name_en": f"{org}{'' if org[0] > 'z' else ' '}{village} {i}",
        "org_type": rng.choice(
            ["elderly-club", "school", "health-unit", "ngo", "local-government", "other"]
        ),
        "description": f"องค์กรชุมชนใน{village} ทำงานด้าน{_pick(rng, TOPICS)} และ{_pick(rng, TOPICS)}",
        "province": _pick(rng, CODES),
        "locality": f"ต.{village}",
        "interests": sorted({_pick(rng, TOPICS) for _ in range(3)}),
        "offers": sorted(
            {_pick(rng, TOPICS) for _ in range(2)} | {"ห้องประชุม"}
            if i % 7 == 0
            else {_pick(rng, TOPICS) for _ in range(2)}
        ),
        "needs": sorted({f"วิทยากรเรื่อง{_pick(rng, TOPICS)}", rng.choice(TOPICS)}),
    }
    return body


def activity_body(rng: random.Random, n_members: int, me: int, keys: list[bytes]) -> dict[str, Any]:
    topic = _pick(rng, TOPICS)
    village = rng.choice(VILLAGES)
    others = {rng.randrange(n_members) for _ in range(rng.randint(0, 3))} - {me}
    text = " ".join(
        rng.choice(SENTENCES).format(
            n=rng.randint(5, 120), t=_pick(rng, TOPICS), o=rng.choice(ORGS)
        )
        for _ in range(rng.randint(1, 3))
    )
    return {
        "title": f"{rng.choice(VERBS)} {topic} {village} ครั้งที่ {rng.randint(1, 40)}",
        "kind": rng.choice(KINDS),
        "date": f"{rng.randint(2019, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "place": f"ศาลาอเนกประสงค์บ้าน{village}",
        "participants": [keys[o] for o in sorted(others)],
        "summary": text,
    }


def sign_members(job: tuple[bytes, bytes, int, int, int, int, int]) -> list[bytes]:
    """Signed entries of members [lo, hi): profile, an endorsement or two, activities."""
    network, genesis, lo, hi, n_members, n_activities, seed = job
    keys = [member_identity(i).public for i in range(n_members)]
    per, extra = divmod(n_activities, n_members)
    base_ts = entries.now_ms() - 400 * 86_400_000
    out: list[bytes] = []
    for i in range(lo, hi):
        rng = random.Random(seed * 1_000_003 + i)
        who = member_identity(i)
        seq, prev = (1, genesis) if i == 0 else (0, None)
        bodies: list[tuple[str, dict[str, Any]]] = [("profile", profile_body(i, rng))]
        vouch = {i - 1, rng.randrange(n_members)} - {i, -1}
        bodies += [("endorse", {"member": keys[v]}) for v in sorted(vouch)]
        count = per + (1 if i < extra else 0)
        bodies += [("activity", activity_body(rng, n_members, i, keys)) for _ in range(count)]
        for j, (kind, body) in enumerate(bodies):
            e = entries.create(
                who,
                network=network,
                seq=seq + 1,
                prev=prev,
                kind=kind,
                body=body,
                ts=base_ts + i * 1000 + j,
            )
            seq, prev = e.seq, e.id
            out.append(e.raw)
    return out


def build(path: Path, n_members: int, n_activities: int, seed: int) -> None:
    tag = f"{n_members}:{n_activities}:{seed}"
    if path.exists():
        with Store(path) as s:
            if s.get_meta("bench") == tag:
                print(f"reusing {path} ({n_members:,} members, {n_activities:,} activities)")
                return
        path.unlink()
    t0 = time.perf_counter()
    founder = member_identity(0)
    store = Store(path)
    g = store.create_network(
        founder,
        {
            "name": "เครือข่ายทดสอบ",
            "name_en": "Benchmark network",
            "kind": "hybrid",
            "admission": {"endorsements": 1},
        },
        ts=entries.now_ms() - 401 * 86_400_000,
    )
    step = max(1, min(200, n_members // 20))
    jobs = [
        (g.id, g.id, lo, min(n_members, lo + step), n_members, n_activities, seed)
        for lo in range(0, n_members, step)
    ]
    done = 0
    with multiprocessing.Pool(os.cpu_count() or 2) as pool:
        for raws in pool.imap(sign_members, jobs):
            for k in range(0, len(raws), 5000):
                report = store.ingest(raws[k : k + 5000])
                assert not report.refused, report.refused[:3]
            done += len(raws)
            print(
                f"\r  signed and ingested {done:,} entries ({time.perf_counter() - t0:.0f} s)",
                end="",
                flush=True,
            )
    t1 = time.perf_counter()
    print("\n  indexing for search…", flush=True)
    while store.index_pending(limit=50_000):
        print(f"\r  indexed… ({time.perf_counter() - t1:.0f} s)", end="", flush=True)
    store.set_meta("bench", tag)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    print(
        f"\nbuilt {path}: {done:,} entries in {time.perf_counter() - t0:.0f} s "
        f"(indexing {time.perf_counter() - t1:.0f} s)"
    )


# --------------------------------------------------------------------------- queries
Query = tuple[str, Callable[[sqlite3.Connection], Any]]  # (API path, the same query on SQLite)
# At full size: rare words are in ~0.2% of the documents, medium ones in 1-4%,
# common ones in ~30%; two-letter Thai words are looked up in the word index.
SEARCH_TERMS = {
    "search rare word": ["หมอลำ", "ไข้เลือดออก", "ธนาคารเวลา", "herbal medicine", "mental health"],
    "search medium word": ["ทอผ้าไหม", "สมุนไพร"],
    "search common word": ["ผู้สูงอายุ", "volunteers"],
    "search short Thai (2 chars)": ["ตา", "ยา"],
}


def query_kinds(conn: sqlite3.Connection, rng: random.Random) -> dict[str, Callable[[], Query]]:
    ids = [r[0] for r in conn.execute("SELECT id FROM members ORDER BY id")]

    def search_of(terms: list[str]) -> Callable[[], Query]:
        def make() -> Query:
            q = rng.choice(terms)
            return (
                f"/api/v1/search?q={q}&limit=20",
                lambda c: directory.search_page(c, q, limit=20, mark=("\ue000", "\ue001")),
            )

        return make

    def members_by_province() -> Query:
        p = rng.choice(["เชียงใหม่", "Khon Kaen", "TH-10", "สงขลา"])
        return f"/api/v1/members?province={p}&limit=50", lambda c: directory.member_page(
            c, province=p, limit=50
        )

    def members_offering() -> Query:
        t = rng.choice(["ห้องประชุม", "ทอผ้าไหม", "CPR"])
        return f"/api/v1/members?offers={t}&limit=50", lambda c: directory.member_page(
            c, offers=t, limit=50
        )

    def activities_newest() -> Query:
        return "/api/v1/activities?limit=50", lambda c: directory.activity_page(c, limit=50)

    def activities_of_member() -> Query:
        m = rng.choice(ids)
        return (
            f"/api/v1/activities?member={m}&limit=20",
            lambda c: directory.activity_page(c, member=m, limit=20),
        )

    def activities_in_be_year() -> Query:
        y = rng.choice([2563, 2565, 2567])
        return (
            f"/api/v1/activities?since={y}&until={y}&kind=training&limit=50",
            lambda c: directory.activity_page(
                c, since=str(y), until=str(y), kind="training", limit=50
            ),
        )

    def one_member() -> Query:
        m = rng.choice(ids)
        return f"/api/v1/members/{m}", lambda c: directory.get_member(c, m, activities_limit=20)

    kinds = {name: search_of(terms) for name, terms in SEARCH_TERMS.items()}
    kinds.update(
        {
            "members by province": members_by_province,
            "members offering": members_offering,
            "activities newest": activities_newest,
            "activities of a member": activities_of_member,
            "activities in a BE year": activities_in_be_year,
            "one member": one_member,
        }
    )
    return kinds


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def direct(conn: sqlite3.Connection, make: Callable[[], Query], seconds: float) -> list[float]:
    out: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(out) < 3:
        _, fn = make()
        t = time.perf_counter()
        conn.execute("BEGIN")
        fn(conn)
        conn.execute("COMMIT")
        out.append(time.perf_counter() - t)
    return out


async def load(
    base: str, make: Callable[[], Query], clients: int, seconds: float, request_timeout: float
) -> tuple[list[float], int, float]:
    """``clients`` loops sending requests until ``seconds`` have passed; a request that
    fails or takes longer than ``request_timeout`` counts as an error (at that many seconds)."""
    import aiohttp

    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            path, _ = make()
            t = time.perf_counter()
            try:
                async with session.get(base + path) as r:
                    await r.read()
                    if r.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - t)
            except (TimeoutError, aiohttp.ClientError):
                errors += 1
                latencies.append(request_timeout)

    limits = aiohttp.ClientTimeout(total=request_timeout)
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, timeout=limits) as session:
        t0 = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        elapsed = time.perf_counter() - t0
    return latencies, errors, elapsed


def serve(home_dir: str) -> None:
    """Run a node on the benchmark's store until stdin closes (the parent exits)."""
    from p2pnet.node.server import Node

    home = Home(home_dir)
    who = idmod.load(home.key_file)
    config = NodeConfig(
        listen="127.0.0.1:0", api="127.0.0.1:0", gossip_interval=3600.0, verify_workers=1
    )

    async def run() -> None:
        node = Node(home, config, who)
        await node.start()
        print(json.dumps({"api": node.api_url}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await node.stop()

    asyncio.run(run())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--members", type=int, default=1000)
    ap.add_argument("--activities", type=int, default=20_000)
    ap.add_argument(
        "--db", type=Path, help="keep the generated store here (reused when sizes match)"
    )
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=4.0, help="load time per kind of query")
    ap.add_argument("--direct-seconds", type=float, default=2.0)
    ap.add_argument("--timeout", type=float, default=60.0, help="per request, in seconds")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", help="run only the kinds of query whose name contains this")
    ap.add_argument("--serve", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve)
        return

    with tempfile.TemporaryDirectory() as tmp:
        home = Home(Path(tmp) / "home")
        home.create_dirs()
        db = args.db or home.db_file
        build(db, args.members, args.activities, args.seed)
        if db != home.db_file:
            home.db_file.symlink_to(db.resolve())  # SQLite follows it: -wal and -shm sit beside db
        idmod.save(member_identity(0), home.key_file)
        home.write_admin_token()
        proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(home.path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            base = json.loads(proc.stdout.readline())["api"]
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, isolation_level=None)
            rng = random.Random(args.seed)
            kinds = query_kinds(conn, rng)
            if args.only:
                kinds = {k: v for k, v in kinds.items() if args.only in k}
            with urlopen_json(base + "/api/v1/network") as net:
                print(
                    f"node: {net['members']:,} members, {net['activities']:,} activities, "
                    f"{net['entries']:,} entries; {args.clients} clients, "
                    f"{args.seconds:g} s per query"
                )
            head = ("query", "HTTP median", "p99", "req/s", "SQLite median", "p99")
            print("{:<28} {:>12} {:>9} {:>8}   {:>13} {:>9}".format(*head))
            for name, make in kinds.items():
                direct(conn, make, 0.3)  # warm the page cache and the per-connection memo
                asyncio.run(load(base, make, min(args.clients, 5), 0.5, args.timeout))
                run = load(base, make, args.clients, args.seconds, args.timeout)
                lat, errors, elapsed = asyncio.run(run)
                sq = direct(conn, make, args.direct_seconds)
                row = (
                    name,
                    f"{statistics.median(lat) * 1000:.1f} ms",
                    f"{percentile(lat, 0.99) * 1000:.0f} ms",
                    f"{len(lat) / elapsed:.1f}",
                    f"{statistics.median(sq) * 1000:.1f} ms",
                    f"{percentile(sq, 0.99) * 1000:.0f} ms",
                )
                extra = f"  ({errors} errors or timeouts)" if errors else ""
                print("{:<28} {:>12} {:>9} {:>8}   {:>13} {:>9}".format(*row) + extra, flush=True)
            conn.close()
        finally:
            if proc.stdin:
                proc.stdin.close()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:  # still busy with queued requests
                proc.terminate()
                proc.wait(30)


class urlopen_json:
    """``with urlopen_json(url) as data`` for one small JSON GET."""

    def __init__(self, url: str) -> None:
        import urllib.request

        with urllib.request.urlopen(url, timeout=60) as r:
            self.data = json.loads(r.read())

    def __enter__(self) -> Any:
        return self.data

    def __exit__(self, *exc: object) -> None:
        return None


if __name__ == "__main__":
    main()
