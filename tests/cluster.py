"""A cluster of real ``p2pnet run`` processes on loopback, for crash, soak and load tests.

One module starts node processes for the tests and the benchmarks alike
(``bench/common.py`` imports ``spawn_node`` from here):

- ``configure`` / ``spawn_node`` / ``start_node``: write a home's config.toml
  (loopback, ports chosen by the OS) and run ``python -m p2pnet --home H run``;
  the bound URLs are read from the ``node.json`` the node writes.
- ``PeerProxy``: an HTTP forwarding proxy in front of one node's peer
  endpoint. Nodes find each other only through the URLs members publish in
  their signed profiles, so when every profile names a proxy, every byte
  between nodes crosses a proxy, which can cut the network in two: it knows
  its own node's member id and reads the caller's from the RFC 9421
  ``Signature-Input`` keyid of every peer request. Only ``/p2p/v1/info`` is
  unsigned; it carries no entries, so it always passes. A refused request,
  or one for a node that is down, has its connection aborted, as a real
  partition or a dead host would.
- ``Cluster``: N members, each with a home, a proxy and (when running) a
  process; writes through the local API or the CLI with a ledger of every
  acknowledged entry (the API answered 2xx, the CLI exited 0), kill -9 /
  SIGTERM / restart keeping the home, partition and heal, wait for every
  node to hold the same feed summary, and an audit of every store.

Stores are read with read-only SQLite connections, so the audit changes
nothing it looks at.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from p2pnet import entries, ids
from p2pnet import identity as idmod
from p2pnet.config import Home, NodeConfig
from p2pnet.entries import Entry
from p2pnet.identity import Identity
from p2pnet.store import Store
from p2pnet.sync.httpsig import _INPUT as SIGNATURE_INPUT

from .nodes import wait_for

START_TIMEOUT = 60.0

# -- one node process ---------------------------------------------------------------------


def configure(home: Home, **settings: Any) -> NodeConfig:
    """Write ``home``'s config.toml: both listeners on loopback, OS-chosen ports, + settings."""
    config = dataclasses.replace(NodeConfig(listen="127.0.0.1:0", api="127.0.0.1:0"), **settings)
    home.save_config(config)
    return config


def launch(home: Home, *, public_url: str | None = None, verbose: bool = False,
           prelude: str = "") -> subprocess.Popen:  # fmt: skip
    """Start ``p2pnet run`` for ``home`` (as configured) without waiting; output to node.log.

    ``prelude``: Python run in the node's process before p2pnet is imported (a test shifts
    the node's clock with it, as `faketime` would)."""
    if home.runtime_file.exists():
        home.runtime_file.unlink()
    program = ["-m", "p2pnet"]
    if prelude:
        program = ["-c", prelude + "\nimport runpy\nrunpy.run_module('p2pnet', run_name='__main__')"]
    argv = [sys.executable, *program, "--home", str(home.path), "run"]
    if public_url:
        argv += ["--public-url", public_url]
    if verbose:
        argv.append("-v")
    log = open(home.path / "node.log", "a")  # noqa: SIM115 - the child keeps writing to it
    try:
        return subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    finally:
        log.close()


def started(home: Home, proc: subprocess.Popen) -> dict[str, Any] | None:
    """The node.json of ``proc`` once it is up; None while it starts; raises if it exited."""
    info = home.runtime()
    if info and info.get("pid") == proc.pid:
        return info
    if proc.poll() is not None:
        raise AssertionError(f"node {home.path.name} exited ({proc.returncode}):\n{log_tail(home)}")
    return None


def log_tail(home: Home, lines: int = 30) -> str:
    try:
        return "\n".join((home.path / "node.log").read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no node.log)"


def spawn_node(home: Home, *, public_url: str | None = None, timeout: float = START_TIMEOUT,
               prelude: str = "", **settings: Any) -> tuple[subprocess.Popen, dict[str, Any]]:  # fmt: skip
    """Configure (with ``settings``, e.g. gossip_interval=0.2) and start a node; wait for it."""
    configure(home, **settings)
    proc = launch(home, public_url=public_url, prelude=prelude)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if info := started(home, proc):
            return proc, info
        time.sleep(0.05)
    stop_process(proc, signal.SIGKILL)
    raise AssertionError(f"node {home.path.name} did not start in {timeout} s:\n{log_tail(home)}")


async def start_node(
    home: Home, *, public_url: str | None = None, timeout: float = START_TIMEOUT  # noqa: ASYNC109
) -> tuple[subprocess.Popen, dict[str, Any]]:
    """Start a configured node without blocking the event loop (proxies keep serving)."""
    proc = launch(home, public_url=public_url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if info := started(home, proc):
            return proc, info
        await asyncio.sleep(0.05)
    stop_process(proc, signal.SIGKILL)
    raise AssertionError(f"node {home.path.name} did not start in {timeout} s:\n{log_tail(home)}")


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
    """Send ``sig`` and reap the process; SIGKILL if it outlives ``timeout``."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    return proc.returncode


async def astop_process(
    proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30.0  # noqa: ASYNC109
) -> int:
    """``stop_process`` that lets the event loop run while the process winds down."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        deadline = time.monotonic() + timeout
        while proc.poll() is None and time.monotonic() < deadline:  # noqa: ASYNC110 - a Popen
            await asyncio.sleep(0.02)
    return stop_process(proc, signal.SIGKILL, timeout=10)


def seeded(seed: int) -> random.Random:
    """The random source of a stress test; its seed is printed so a failure can be replayed."""
    print(f"seed {seed}")
    return random.Random(seed)


def scales(short: dict[str, Any], long: dict[str, Any]) -> list[Any]:
    """The ``scale`` parameters of a stress test: ``short`` runs in ``make test``, ``long`` is
    marked slow (``make reliability``)."""
    import pytest

    return [pytest.param(short, id="short"),
            pytest.param(long, id="long", marks=pytest.mark.slow)]  # fmt: skip


# -- reading a store without changing it --------------------------------------------------


def read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)


def feed_summary(path: Path) -> tuple[tuple[bytes, int, bytes, int], ...]:
    """Every feed's (author, seq, head, forked): what gossip compares."""
    with contextlib.closing(read_only(path)) as c:
        return tuple(c.execute("SELECT author, seq, head, forked FROM feeds ORDER BY author"))


def entry_ids(path: Path) -> set[bytes]:
    with contextlib.closing(read_only(path)) as c:
        return {r[0] for r in c.execute("SELECT id FROM entries")}


def audit_store(path: Path) -> dict[str, Any]:
    """What a crash could have broken: SQLite's own check, forks, holes, derived tables."""
    with contextlib.closing(read_only(path)) as c:
        one = lambda sql: c.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "integrity": one("PRAGMA integrity_check"),
            "entries": one("SELECT count(*) FROM entries"),
            "forks": one("SELECT count(*) FROM entries WHERE fork = 1") + one(
                "SELECT count(*) FROM feeds WHERE forked = 1"),  # fmt: skip
            # each feed holds exactly seq 1..head: no hole, no entry past the head
            "holes": one("SELECT count(*) FROM feeds f WHERE f.seq != (SELECT count(*) "
                         "FROM entries e WHERE e.author = f.author AND e.fork = 0)"),  # fmt: skip
            # every activity in the log is in the directory once, nothing applied twice
            "derived_mismatch": abs(
                one("SELECT count(*) FROM activities")
                - one("SELECT count(*) FROM entries WHERE kind = 'activity' AND fork = 0")
            ),
        }


# -- signed entries made without a node ---------------------------------------------------


def chain(who: Identity, network: bytes, n: int, *, after: Entry | None = None,
          body: Callable[[int], dict[str, Any]] | None = None) -> list[Entry]:  # fmt: skip
    """``n`` activities continuing ``who``'s feed after ``after`` (or from seq 1)."""
    make = body or (lambda i: {"title": f"กิจกรรมที่ {i} / activity {i}", "kind": "meeting",
                               "date": "2026-05-01", "summary": "ประชุมติดตามงาน " * 8})  # fmt: skip
    out: list[Entry] = []
    seq, prev = (after.seq, after.id) if after else (0, None)
    ts = entries.now_ms() - 10 * n - 1000
    for i in range(n):
        e = entries.create(who, network=network, seq=seq + 1, prev=prev, kind="activity",
                           body=make(seq + 1), ts=ts + i)  # fmt: skip
        seq, prev = e.seq, e.id
        out.append(e)
    return out


# -- the partition proxy ------------------------------------------------------------------

HOP_HEADERS = {"host", "connection", "keep-alive", "transfer-encoding", "content-length",
               "proxy-connection", "te", "trailer", "upgrade"}  # fmt: skip


class PeerProxy:
    """Forwards HTTP to one node's peer endpoint, unless the caller is cut off from it.

    ``allowed(caller_member_id, callee_member_id)`` decides each signed request;
    ``target`` is the node's current peer URL (None while it is down). The proxy's
    own URL stays the same across restarts of the node, so it is what the member
    publishes in its profile.
    """

    def __init__(self, member: str, allowed: Callable[[str, str], bool]) -> None:
        self.member = member
        self.allowed = allowed
        self.target: str | None = None
        self.url = ""
        self.forwarded = 0
        self.dropped = 0  # cut off by a partition
        self.down = 0  # the node was not running
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self._session = aiohttp.ClientSession(
            auto_decompress=False,
            timeout=aiohttp.ClientTimeout(total=None, connect=10, sock_read=60),
            skip_auto_headers=("Accept-Encoding", "User-Agent", "Content-Type"),
        )
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    @staticmethod
    def caller(headers: Any) -> str | None:
        m = SIGNATURE_INPUT.match(headers.get("Signature-Input", ""))
        return m.group(2) if m else None

    def _cut(self, request: web.Request) -> web.StreamResponse:
        """Abort the connection, as a dead host or a cut cable would."""
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=503)  # never sent: the connection is gone

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        caller = self.caller(request.headers)
        if caller is not None and not self.allowed(caller, self.member):
            self.dropped += 1
            return self._cut(request)
        target = self.target
        if target is None:
            self.down += 1
            return self._cut(request)
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        assert self._session is not None
        try:
            async with self._session.request(
                # a BytesIO, not bytes: aiohttp warns (an error under pytest) past 1 MiB of bytes
                request.method, target + request.path_qs, data=io.BytesIO(body), headers=headers,
                allow_redirects=False,
            ) as up:  # fmt: skip
                resp = web.StreamResponse(status=up.status, reason=up.reason)
                for k, v in up.headers.items():
                    if k.lower() not in HOP_HEADERS:
                        resp.headers.add(k, v)
                await resp.prepare(request)
                async for chunk in up.content.iter_any():
                    await resp.write(chunk)
                await resp.write_eof()
                self.forwarded += 1
                return resp
        except (TimeoutError, aiohttp.ClientError, OSError):
            self.down += 1
            return self._cut(request)


# -- a cluster ----------------------------------------------------------------------------


@dataclass
class Member:
    name: str
    home: Home
    who: Identity
    proxy: PeerProxy
    proc: subprocess.Popen | None = None
    info: dict[str, Any] | None = None
    starts: int = 0
    kills: int = 0

    @property
    def member_id(self) -> str:
        return self.who.member_id

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def api_url(self) -> str:
        assert self.info is not None, f"{self.name} has not started"
        return str(self.info["api_url"])


@dataclass
class Ack:
    """An acknowledged write: who took it, how, and when the write was sent."""

    member: str
    via: str
    sent: float  # time.monotonic() when the request or command started
    done: float


@dataclass
class Cluster:
    """N members with homes under ``root``, each behind its own PeerProxy.

    The log every home starts with: the founder's genesis and each member's
    profile naming its proxy URL, so every node knows every other from the start
    and only through the proxies.
    """

    root: Path
    size: int
    seed: int
    settings: dict[str, Any] = field(default_factory=dict)
    members: list[Member] = field(default_factory=list)
    ledger: dict[bytes, Ack] = field(default_factory=dict)
    side: dict[str, int] = field(default_factory=dict)  # member id -> side while partitioned
    network: bytes = b""
    write_errors: list[str] = field(default_factory=list)
    orphans: int = 0  # processes a killed node left behind (verify workers)
    _session: aiohttp.ClientSession | None = None

    def __post_init__(self) -> None:
        self.rng = random.Random(f"cluster {self.seed}")  # not the test's own random sequence
        self.settings = {"gossip_interval": 0.5, "fanout": 2, "verify_workers": 1, **self.settings}

    async def __aenter__(self) -> Cluster:
        people = [Identity.from_seed(self.rng.randbytes(32)) for _ in range(self.size)]
        for i, who in enumerate(people):
            proxy = PeerProxy(who.member_id, self.allowed)
            await proxy.start()
            self.members.append(Member(f"n{i}", Home(self.root / f"n{i}"), who, proxy))
        with Store(":memory:") as s:
            genesis = s.create_network(people[0], {"name": "เครือข่ายทดสอบความทนทาน",
                                                   "name_en": "Reliability test network",
                                                   "kind": "hybrid",
                                                   "admission": {"endorsements": 1}})  # fmt: skip
            for m in self.members:
                s.append(m.who, "profile", {"name_th": f"สมาชิก {m.name}",
                                            "name_en": f"Member {m.name}",
                                            "endpoints": [m.proxy.url]})  # fmt: skip
            self.network = genesis.id
            base = list(s.iter_raw())
        for m in self.members:
            m.home.create_dirs()
            idmod.save(m.who, m.home.key_file)
            m.home.write_admin_token()
            configure(m.home, **self.settings)
            with Store(m.home.db_file) as s:
                s.set_network(self.network)
                s.ingest(base)
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop_all()
        for m in self.members:
            await m.proxy.stop()
        if self._session is not None:
            await self._session.close()

    # -- processes ------------------------------------------------------------------------

    async def start(self, m: Member) -> None:
        assert not m.running, f"{m.name} already runs"
        m.proc, m.info = await start_node(m.home, public_url=m.proxy.url)
        m.proxy.target = m.info["peer_url"]
        m.starts += 1

    async def start_all(self, members: Iterable[Member] | None = None) -> None:
        await asyncio.gather(*(self.start(m) for m in (members or self.members) if not m.running))

    async def kill(self, m: Member) -> None:
        """kill -9 the node; its verify workers, if any, must go away by themselves."""
        assert m.proc is not None
        m.proxy.target = None
        children = _children(m.proc.pid)
        await astop_process(m.proc, signal.SIGKILL)
        m.kills += 1
        self.orphans += await _reap_orphans(children)

    async def stop(self, m: Member, sig: int = signal.SIGTERM) -> int:
        assert m.proc is not None
        m.proxy.target = None
        return await astop_process(m.proc, sig)

    async def stop_all(self) -> dict[str, int]:
        """SIGTERM every running node; their exit codes (0 is a clean stop)."""
        running = [m for m in self.members if m.running]
        codes = await asyncio.gather(*(self.stop(m) for m in running))
        return {m.name: c for m, c in zip(running, codes, strict=True)}

    # -- writes ---------------------------------------------------------------------------

    async def write_api(self, m: Member, title: str) -> bytes | None:
        """POST an activity with the admin token; the entry id if acknowledged (201)."""
        assert self._session is not None
        t0 = time.monotonic()
        if not m.running:
            return None
        try:
            async with self._session.post(
                m.api_url + "/api/v1/activities",
                json={"title": title, "kind": "meeting", "date": "2026-06-01"},
                headers={"Authorization": f"Bearer {m.home.admin_token()}"},
            ) as resp:
                data = await resp.json(content_type=None)
                status = resp.status
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError):
            return None  # the node died under the write: not acknowledged, nothing promised
        if status != 201:
            self.write_errors.append(f"{m.name}: {status} {data}")
            return None
        return self._ack(m, "api", data["entry"], t0)

    async def write_cli(
        self, m: Member, title: str, *, kill_after: float | None = None
    ) -> bytes | None:
        """``p2pnet activity add``; the entry id if it exited 0. ``kill_after``: kill -9 it then."""
        t0 = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "p2pnet", "--home", str(m.home.path), "activity", "add", title,
            "--kind", "meeting", "--date", "2026-06-01",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            out, err = await asyncio.wait_for(proc.communicate(), kill_after)
        except TimeoutError:
            proc.kill()
            await proc.communicate()
            return None
        if proc.returncode != 0:
            why = err.decode().strip()
            self.write_errors.append(f"{m.name}: CLI exit {proc.returncode}: {why}")
            return None
        text = out.decode().strip().split(": ", 1)[-1]
        return self._ack(m, "cli", text, t0)

    def _ack(self, m: Member, via: str, entry_text: str, sent: float) -> bytes:
        eid = ids.from_text(ids.ENTRY, entry_text)
        self.ledger[eid] = Ack(m.name, via, sent, time.monotonic())
        return eid

    def ack_all(self, m: Member, made: Iterable[Entry], via: str = "store") -> None:
        now = time.monotonic()
        for e in made:
            self.ledger[e.id] = Ack(m.name, via, now, now)

    # -- partition ------------------------------------------------------------------------

    def allowed(self, caller: str, callee: str) -> bool:
        return self.side.get(caller, 0) == self.side.get(callee, 0)

    def partition(self, *sides: Iterable[Member]) -> None:
        self.side = {m.member_id: i for i, group in enumerate(sides) for m in group}

    def heal(self) -> None:
        self.side = {}

    # -- convergence and audit ------------------------------------------------------------

    def summaries(self, members: Iterable[Member] | None = None) -> list[tuple]:
        return [feed_summary(m.home.db_file) for m in (members or self.members)]

    async def converge(
        self, timeout: float, members: Iterable[Member] | None = None  # noqa: ASYNC109
    ) -> float:
        """Wait until the (running) members hold the same feeds; the seconds it took."""
        chosen = list(members or self.members)
        t0 = time.monotonic()

        def same() -> bool:
            sums = self.summaries(chosen)
            return all(s == sums[0] for s in sums)

        await wait_for(same, timeout=timeout, what=f"{len(chosen)} nodes to converge")
        return time.monotonic() - t0

    def lost(self, members: Iterable[Member] | None = None) -> dict[str, int]:
        """Acknowledged entries each member's store lacks."""
        acked = set(self.ledger)
        return {m.name: len(acked - entry_ids(m.home.db_file)) for m in (members or self.members)}

    def audit(self) -> dict[str, dict[str, Any]]:
        return {m.name: audit_store(m.home.db_file) for m in self.members}

    def tracebacks(self) -> int:
        """Python tracebacks in the nodes' logs (a node must log errors, not crash on them)."""
        return sum((m.home.path / "node.log").read_text(errors="replace").count("Traceback")
                   for m in self.members)  # fmt: skip


def _children(pid: int) -> list[int]:
    import psutil

    with contextlib.suppress(psutil.Error):
        return [c.pid for c in psutil.Process(pid).children(recursive=True)]
    return []


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


async def _reap_orphans(pids: list[int], grace: float = 10.0) -> int:
    """Wait for the children of a killed node to exit; kill (and count) any that stay."""

    deadline = time.monotonic() + grace
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if _alive(p)]
        if alive:
            await asyncio.sleep(0.1)
    for p in alive:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signal.SIGKILL)
    return len(alive)


# -- a node holding the sample network, and a load of API and website clients -------------


def sample_home(root: Path, *, extra_members: int = 0, per_member: int = 0,
                seed: int = 1) -> tuple[Home, dict[str, list[str]]]:  # fmt: skip
    """A home run by the sample network's founder (p2pnet.sample, as ``p2pnet demo``),
    plus ``extra_members`` generated members with ``per_member`` activities each.
    Returns the home and the member and activity ids it holds."""
    from p2pnet import sample

    rng = random.Random(seed)
    home = Home(root)
    home.create_dirs()
    data = sample.load()
    with Store(home.db_file) as s:
        people = sample.seed(s, data)
        network = s.network or b""
        made: list[Entry] = []
        for i in range(extra_members):
            who = Identity.from_seed(rng.randbytes(32))
            village = rng.choice(["ดอนแก้ว", "หนองบัว", "แม่ริม", "สันทราย", "ป่าแดด"])
            body = {"name_th": f"ชมรมผู้สูงอายุบ้าน{village} {i}", "name_en": f"{village} club {i}",
                    "province": "TH-50", "offers": ["อาสาสมัคร"], "needs": ["ข้อมูลสุขภาพ"]}
            profile = entries.create(who, network=network, seq=1, prev=None, kind="profile",
                                     body=body)  # fmt: skip
            made += [profile, *chain(who, network, per_member, after=profile)]
        s.ingest([e.raw for e in made])
        members = [r[0] for r in s.conn.execute("SELECT id FROM members")]
        acts = [r[0] for r in s.conn.execute("SELECT id FROM activities")]
    idmod.save(people[data["members"][0]["key"]], home.key_file)
    home.write_admin_token()
    configure(home, gossip_interval=3600.0, verify_workers=1)
    return home, {"members": members, "activities": acts}


@dataclass(frozen=True)
class Call:
    """One request of a load and the statuses that are right for it."""

    kind: str
    method: str
    path: str
    expect: tuple[int, ...] = (200,)
    body: dict[str, Any] | None = None
    admin: bool = False  # send the admin token

    @property
    def html(self) -> bool:
        return not self.path.startswith("/api/")


SEARCHES = ["ผู้สูงอายุ", "สุขภาพ", "อสม.", "โรงเรียน", "เชียงใหม่", "ปฐมพยาบาล", "ดอนแก้ว",
            "volunteer", "health", "school", "elderly club", "first aid",
            "สุขภาพ elderly"]  # fmt: skip


def request_mix(held: dict[str, list[str]], rng: random.Random) -> Callable[[], Call]:
    """What people and scripts ask a node for, weighted; a few admin writes and wrong requests."""
    from urllib.parse import quote

    def pick(kind: str) -> str:
        return rng.choice(held[kind])

    mix: list[tuple[int, Callable[[], Call]]] = [
        (12, lambda: Call("api members", "GET", f"/api/v1/members?limit={rng.choice([10, 50])}")),
        (10, lambda: Call("api member", "GET", f"/api/v1/members/{pick('members')}")),
        (14, lambda: Call("api search", "GET", f"/api/v1/search?q={quote(rng.choice(SEARCHES))}")),
        (8, lambda: Call("api activities", "GET", "/api/v1/activities?limit=20")),
        (6, lambda: Call("api activity", "GET", f"/api/v1/activities/{pick('activities')}")),
        (3, lambda: Call("api network", "GET", "/api/v1/network")),
        (3, lambda: Call("api match", "GET", "/api/v1/match?limit=10")),
        (2, lambda: Call("api health", "GET", "/api/v1/network/health")),
        (2, lambda: Call("api status", "GET", "/api/v1/status")),
        (6, lambda: Call("page home", "GET", rng.choice(["/", "/?lang=en"]))),
        (5, lambda: Call("page members", "GET", "/members")),
        (8, lambda: Call("page member", "GET", f"/members/{pick('members')}")),
        (4, lambda: Call("page activities", "GET", "/activities")),
        (6, lambda: Call("page search", "GET", f"/search?q={quote(rng.choice(SEARCHES))}")),
        (2, lambda: Call("page map", "GET", "/map")),
        (2, lambda: Call("page health", "GET", "/health")),
        (2, lambda: Call("admin write", "POST", "/api/v1/activities", (201,), admin=True, body={
            "title": f"บันทึกภายใต้โหลด {rng.randrange(10**6)}", "kind": "meeting",
            "date": "2569-06-01"})),  # fmt: skip
        # wrong on purpose: each has its one right answer
        (1, lambda: Call("write without token", "POST", "/api/v1/activities", (401,),
                         body={"title": "ไม่มีโทเค็น", "kind": "meeting"})),  # fmt: skip
        (1, lambda: Call("unknown member", "GET", "/api/v1/members/pmnosuchmember", (404,))),
        (1, lambda: Call("search without q", "GET", "/api/v1/search", (400,))),
    ]
    weights = [w for w, _ in mix]
    makers = [m for _, m in mix]
    return lambda: rng.choices(makers, weights)[0]()


@dataclass
class LoadResult:
    requests: int = 0
    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=dict)  # kind -> seconds
    errors: list[str] = field(default_factory=list)
    written: list[bytes] = field(default_factory=list)  # acknowledged admin writes

    def percentile(self, p: float, kind: str | None = None) -> float:
        values = sorted(v for k, vs in self.latencies.items() if kind in (None, k) for v in vs)
        return values[min(len(values) - 1, int(len(values) * p))] if values else 0.0

    def figures(self) -> dict[str, Any]:
        return {"requests": self.requests, "seconds": round(self.seconds, 1),
                "req_per_s": round(self.requests / self.seconds, 1) if self.seconds else 0,
                "p50_ms": round(self.percentile(0.5) * 1000, 1),
                "p99_ms": round(self.percentile(0.99) * 1000, 1),
                "admin_writes": len(self.written)}  # fmt: skip


async def api_load(api_url: str, token: str, make: Callable[[], Call], *, clients: int,
                   seconds: float, request_timeout: float = 60.0) -> LoadResult:  # fmt: skip
    """``clients`` concurrent loops of ``make()`` requests for ``seconds``. An error is a
    status not right for the request, a wrong content type or body, a connection error or
    a timeout; every one is kept with what was asked."""
    import json

    out = LoadResult()
    deadline = time.monotonic() + seconds

    def check(call: Call, resp: aiohttp.ClientResponse, data: bytes) -> str | None:
        if resp.status not in call.expect:
            return f"{resp.status}, expected {call.expect}: {data[:200]!r}"
        ctype = resp.headers.get("Content-Type", "")
        if call.html:
            return None if ctype.startswith("text/html") else f"content type {ctype}"
        want = "application/json" if resp.status < 400 else "application/problem+json"
        if not ctype.startswith(want):
            return f"content type {ctype}, expected {want}"
        try:
            doc = json.loads(data)
        except ValueError:
            return "body is not JSON"
        if call.admin and resp.status == 201:
            if not isinstance(doc, dict) or not isinstance(doc.get("entry"), str):
                return "a write answered without the new entry's id"
            out.written.append(ids.from_text(ids.ENTRY, doc["entry"]))
        return None

    async def client(session: aiohttp.ClientSession) -> None:
        while time.monotonic() < deadline:
            call = make()
            headers = {"Authorization": f"Bearer {token}"} if call.admin else {}
            t = time.monotonic()
            try:
                async with session.request(call.method, api_url + call.path, json=call.body,
                                           headers=headers) as resp:  # fmt: skip
                    data = await resp.read()
                    problem = check(call, resp, data)
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                problem = f"{exc.__class__.__name__}: {exc}"
            out.latencies.setdefault(call.kind, []).append(time.monotonic() - t)
            out.requests += 1
            if problem:
                out.errors.append(f"{call.method} {call.path}: {problem}")

    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=request_timeout)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        t0 = time.monotonic()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        out.seconds = time.monotonic() - t0
    return out
