"""Helpers of the hostile-peer suite: a node under attack, what counts as harm, and the
hypothesis strategies that make hostile input.

``Target`` wraps a real node (``tests.test_api.LiveNode``: real SQLite file, real
sockets on loopback) and judges every exchange by the same rules:

- no 5xx and no dropped connection;
- every 4xx is ``application/problem+json`` whose ``type`` names a stable code;
- the store changes only through requests that may write (a peer's push or join,
  an API write with the admin token), and whatever they add is genuinely valid:
  each new entry passes every check of ``entries.parse`` and sits where it belongs
  in its feed (the next entry, or a true fork kept as proof).

Failures are counted, not raised, so a run of thousands of cases records its figures
(``Tally.figures``) before the test asserts on them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import msgpack
import requests
from hypothesis import strategies as st

from bench.common import CountingProxy
from p2pnet import codec, entries, ids
from p2pnet.errors import EntryRefusedError
from p2pnet.identity import Identity
from p2pnet.sync import httpsig, messages

PROBLEM = "application/problem+json"
PROBLEM_TYPE = re.compile(r"^urn:p2pnet:problem:[a-z0-9][a-z0-9-]*$")
MAX_FAILURES_KEPT = 20


# --------------------------------------------------------------------------- judging
@dataclass
class Tally:
    """What one fuzzing run sent and what came of it."""

    tried: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: int = 0
    drops: int = 0
    bad_problems: int = 0
    refused_but_changed: int = 0
    invalid_stored: int = 0
    valid_stored: int = 0
    failures: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def fail(self, why: str, what: str) -> None:
        if len(self.failures) < MAX_FAILURES_KEPT:
            self.failures.append(f"{why}: {what[:600]}")

    @property
    def harm(self) -> int:
        return (
            self.server_errors
            + self.drops
            + self.bad_problems
            + self.refused_but_changed
            + self.invalid_stored
        )

    def figures(self) -> dict[str, Any]:
        return {
            "tried": self.tried,
            "server_errors": self.server_errors,
            "dropped_connections": self.drops,
            "bad_problems": self.bad_problems,
            "refused_but_changed": self.refused_but_changed,
            "invalid_stored": self.invalid_stored,
            "valid_stored": self.valid_stored,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "seconds": round(time.monotonic() - self.started, 1),
        }


def problem_fault(resp: requests.Response) -> str | None:
    """Why a 4xx answer is not a proper problem document (None when it is)."""
    ctype = resp.headers.get("Content-Type", "")
    if not ctype.startswith(PROBLEM):
        return f"{resp.status_code} answered as {ctype!r}"
    try:
        doc = resp.json()
    except ValueError:
        return f"{resp.status_code} problem is not JSON"
    if not isinstance(doc, dict) or not PROBLEM_TYPE.match(str(doc.get("type", ""))):
        return f"{resp.status_code} problem names no code: {str(doc)[:200]}"
    if doc.get("status") != resp.status_code or not doc.get("detail"):
        return f"{resp.status_code} problem has status {doc.get('status')!r} or no detail"
    return None


class Target:
    """A running node under attack, judged after every exchange."""

    def __init__(self, live: Any) -> None:
        self.live = live
        self.peer_url: str = live.node.peer_url
        self.api_url: str = live.url
        self.token: str = live.token
        self.http = requests.Session()
        uri = f"{live.home.db_file.resolve().as_uri()}?mode=ro"
        self.db = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
        self.network: bytes = live.node.ctx.network

    def close(self) -> None:
        self.http.close()
        self.db.close()

    def run(self, coro: Any, timeout: float = 60) -> Any:
        """Run a coroutine on the node's own event loop."""
        return asyncio.run_coroutine_threadsafe(coro, self.live.loop).result(timeout)

    # -- the store, read from the outside -------------------------------------
    def state(self) -> tuple[int, int, str]:
        """(last arrival number, entries held, digest of every feed's summary)."""
        last, total = self.db.execute(
            "SELECT coalesce(max(n), 0), count(*) FROM entries"
        ).fetchone()
        h = hashlib.sha256()
        for row in self.db.execute("SELECT author, seq, head, forked FROM feeds ORDER BY author"):
            h.update(repr(row).encode())
        return int(last), int(total), h.hexdigest()

    def entry_ids(self) -> set[bytes]:
        return {r[0] for r in self.db.execute("SELECT id FROM entries")}

    def head(self, author: bytes) -> tuple[int, bytes | None]:
        row = self.db.execute("SELECT seq, head FROM feeds WHERE author = ?", (author,)).fetchone()
        return (0, None) if row is None else (int(row[0]), bytes(row[1]))

    def entry_at(self, author: bytes, seq: int) -> bytes | None:
        row = self.db.execute(
            "SELECT raw FROM entries WHERE author = ? AND seq = ? AND fork = 0", (author, seq)
        ).fetchone()
        return None if row is None else bytes(row[0])

    def invalid_since(self, last_n: int) -> tuple[int, list[str]]:
        """Entries that arrived after ``last_n``: how many, and what is wrong with any of them."""
        rows = self.db.execute(
            "SELECT id, author, seq, raw, fork FROM entries WHERE n > ? ORDER BY n", (last_n,)
        ).fetchall()
        bad = []
        for entry_id, author, seq, raw, fork in rows:
            try:
                e = entries.parse(raw, network=self.network)
            except EntryRefusedError as exc:
                bad.append(f"{ids.entry(entry_id)} stored although {exc}")
                continue
            kept = self.entry_at(author, seq)
            if fork and (kept is None or hashlib.sha256(kept).digest() == entry_id):
                bad.append(f"{ids.entry(entry_id)} stored as a fork proof of nothing")
            if not fork and seq > 1:
                before = self.entry_at(author, seq - 1)
                if before is None or hashlib.sha256(before).digest() != e.prev:
                    bad.append(f"{ids.entry(entry_id)} stored out of its feed's chain")
        return len(rows), bad

    def inconsistencies(self) -> list[str]:
        """Feeds whose summary disagrees with the log (should be none, ever)."""
        rows = self.db.execute(
            "SELECT hex(f.author) FROM feeds f "
            "WHERE f.head IS NOT (SELECT id FROM entries e "
            "  WHERE e.author = f.author AND e.seq = f.seq AND e.fork = 0) "
            "OR f.seq != (SELECT max(seq) FROM entries e "
            "  WHERE e.author = f.author AND e.fork = 0) "
            "OR f.forked != EXISTS (SELECT 1 FROM entries e "
            "  WHERE e.author = f.author AND e.fork = 1)"
        ).fetchall()
        return [f"feed {r[0][:16]}… disagrees with the log" for r in rows]

    # -- one exchange ---------------------------------------------------------
    def exchange(
        self,
        tally: Tally,
        method: str,
        url: str,
        *,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        may_write: bool = False,
        what: str = "",
    ) -> requests.Response | None:
        """Send one request and judge the answer and the store; None if the connection dropped."""
        before = self.state()
        what = what or f"{method} {url} {body[:120]!r}"
        try:
            resp = self.http.request(method, url, data=body, headers=headers, timeout=60)
        except (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
        ) as exc:
            tally.tried += 1
            tally.drops += 1
            tally.fail(f"connection dropped ({exc.__class__.__name__})", what)
            return None
        tally.tried += 1
        tally.statuses[resp.status_code] += 1
        if resp.status_code >= 500:
            tally.server_errors += 1
            tally.fail(f"{resp.status_code} {resp.text[:200]}", what)
        elif resp.status_code >= 400 and (fault := problem_fault(resp)):
            tally.bad_problems += 1
            tally.fail(fault, what)
        after = self.state()
        if after != before:
            if not (may_write and 200 <= resp.status_code < 300):
                tally.refused_but_changed += 1
                tally.fail(f"store changed although the answer was {resp.status_code}", what)
            added, bad = self.invalid_since(before[0])
            tally.valid_stored += added - len(bad)
            tally.invalid_stored += len(bad)
            for b in bad:
                tally.fail(b, what)
        return resp

    def healthy(self) -> list[str]:
        """What is wrong with the node now (nothing, we hope): both ports, and a real fetch."""
        problems = self.inconsistencies()
        info = self.http.get(self.peer_url + "/p2p/v1/info", timeout=30)
        if info.status_code != 200 or info.json().get("member") != self.live.identity.member_id:
            problems.append(f"/p2p/v1/info answered {info.status_code}")
        status = self.http.get(self.api_url + "/api/v1/status", timeout=30)
        if status.status_code != 200:
            problems.append(f"/api/v1/status answered {status.status_code}")
        who = Identity.generate()
        body = messages.encode_fetch(
            messages.FetchRequest(self.network, [(self.live.identity.public, 0)], [], 0)
        )
        resp = self.http.post(
            self.peer_url + "/p2p/v1/fetch",
            data=body,
            headers=signed(who, "/p2p/v1/fetch", body),
            timeout=30,
        )
        got = list(messages.unframe([resp.content], entries.MAX_ENTRY_BYTES)) if resp.ok else []
        if resp.status_code != 200 or len(got) != self.head(self.live.identity.public)[0]:
            problems.append(f"an honest fetch answered {resp.status_code} with {len(got)} entries")
        return problems


def signed(
    who: Identity, path: str, body: bytes, method: str = "POST", *, now: float | None = None
) -> dict[str, str]:
    """Headers of a properly signed peer request."""
    headers = httpsig.sign_request(who, method, path, body, now=now)
    headers["Content-Type"] = messages.CONTENT_TYPE
    return headers


# --------------------------------------------------------------------------- random values
FIELD_NAMES = ["net", "ranges", "want", "proofs", "max_bytes", "entries", "token", "x", ""]
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.sampled_from([0, -1, 2**53, 2**53 + 1, 2**63 - 1, 2**64 - 1, -(2**63)])
    | st.floats(allow_nan=True)
    | st.binary(max_size=48)
    | st.binary(min_size=31, max_size=33)
    | st.text(max_size=40)
)
MSGPACK_VALUES = st.recursive(
    SCALARS | st.builds(msgpack.ExtType, st.integers(0, 127), st.binary(max_size=8)),
    lambda c: (
        st.lists(c, max_size=6)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=8), c, max_size=6)
    ),
    max_leaves=30,
)
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=60)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda c: st.lists(c, max_size=6) | st.dictionaries(st.text(max_size=12), c, max_size=6),
    max_leaves=30,
)


def pack(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=True)  # type: ignore[no-any-return]


def to_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


RANDOM_BODIES = st.one_of(
    st.binary(max_size=2048),
    MSGPACK_VALUES.map(pack),
    JSON_VALUES.map(to_json),
    st.sampled_from(
        [
            b"",
            b"\x80",
            b"\xc1",
            b"{}",
            b"null",
            b"[" * 5000,
            b"[" * 5000 + b"]" * 5000,
            b'{"a":' * 3000 + b"1" + b"}" * 3000,
            b"\x91" * 5000 + b"\xc0",
        ]
    ),
)


# --------------------------------------------------------------------------- mutations
def _slots(value: Any, out: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Every (container, key) inside ``value``, containers first."""
    if isinstance(value, list):
        for i, v in enumerate(value):
            out.append((value, i))
            _slots(v, out)
    elif isinstance(value, dict):
        for k, v in list(value.items()):
            out.append((value, k))
            _slots(v, out)
    return out


MSGPACK_HUGE = [2**53, 2**53 + 1, 2**63 - 1, -(2**63), 2**64 - 1, -1]
JSON_HUGE = [*MSGPACK_HUGE, 10**30, -(10**30), 1e308, -1e-308, 2**1000]


def mutate_value(draw: Any, value: Any, scalars: st.SearchStrategy[Any], huge: list[Any]) -> Any:
    """One structural mutation of a decoded message: swap a type, break a length, nest, repeat."""
    root = [value]
    slots = _slots(root, [])
    container, key = slots[draw(st.integers(0, len(slots) - 1))]
    old = container[key]
    op = draw(st.sampled_from(["swap", "huge", "length", "nest", "repeat", "drop", "extra"]))
    if op == "swap":
        container[key] = draw(scalars)
    elif op == "huge":
        container[key] = draw(st.sampled_from(huge))
    elif op == "length" and isinstance(old, bytes | str):
        cut = draw(st.integers(0, max(0, len(old) - 1)))
        container[key] = (
            old[:cut] if draw(st.booleans()) else old + old[:1] * draw(st.integers(1, 70_000))
        )
    elif op == "nest":
        for _ in range(draw(st.integers(1, 40))):
            old = [old]
        container[key] = old
    elif op == "repeat" and isinstance(old, list) and old:
        container[key] = old * draw(st.integers(2, 3000))
    elif op == "drop" and isinstance(container, dict):
        del container[key]
    elif op == "extra" and isinstance(old, dict):
        old[draw(st.text(max_size=10))] = draw(scalars)
    else:
        container[key] = draw(scalars)
    return root[0]


def mutate_bytes(draw: Any, data: bytes) -> bytes:
    """One byte-level mutation: flip bits, truncate, duplicate, splice, wrap in nesting."""
    op = draw(st.sampled_from(["flip", "truncate", "duplicate", "insert", "delete", "nest"]))
    n = len(data)
    if n == 0 or op == "insert":
        at = draw(st.integers(0, n))
        return data[:at] + draw(st.binary(min_size=1, max_size=64)) + data[at:]
    at = draw(st.integers(0, n - 1))
    if op == "flip":
        return data[:at] + bytes([data[at] ^ (1 << draw(st.integers(0, 7)))]) + data[at + 1 :]
    if op == "truncate":
        return data[:at]
    if op == "duplicate":
        end = draw(st.integers(at, n))
        return data[:end] + data[at:end] * draw(st.integers(1, 50)) + data[end:]
    if op == "delete":
        return data[:at] + data[draw(st.integers(at, n)) :]
    opener, closer = draw(st.sampled_from([(b"\x91", b""), (b"[", b"]"), (b'{"a":', b"}")]))
    depth = draw(st.integers(100, 100_000))
    return opener * depth + data + closer * depth


# ---------------------------------------------------------------- signed-but-invalid entries
BAD_ENTRY_KINDS = [
    "valid-next",
    "bad-signature",
    "wrong-network",
    "foreign-genesis",
    "gap",
    "fork",
    "broken-chain",
    "non-canonical",
    "oversize-field",
    "too-large",
    "future-timestamp",
    "unknown-kind",
    "bad-field",
    "unsupported-version",
    "duplicate",
    "truncated",
]
NON_CANONICAL = [
    "uint64-seq",
    "int64-ts",
    "str8-kind",
    "unsorted-body",
    "float-body",
    "array16",
    "trailing",
]


def sign_content(who: Identity, content: bytes) -> bytes:
    return content + who.sign(entries.SIGN_PREFIX + content)


def _items(
    version: int,
    net: bytes,
    who: Identity,
    seq: int,
    prev: bytes | None,
    ts: int,
    kind: str,
    body: dict[str, Any],
) -> list[Any]:
    return [version, net, who.public, seq, prev, ts, kind, body]


def non_canonical(flavour: str, items: list[Any]) -> bytes:
    """The content of an entry, encoded in a way a canonical encoder never would."""
    parts = [pack(v) for v in items]
    if flavour == "uint64-seq":
        parts[3] = b"\xcf" + items[3].to_bytes(8, "big")
    elif flavour == "int64-ts":
        parts[5] = b"\xd3" + items[5].to_bytes(8, "big", signed=True)
    elif flavour == "str8-kind":
        raw = items[6].encode()
        parts[6] = b"\xd9" + bytes([len(raw)]) + raw
    elif flavour == "unsorted-body":
        parts[7] = pack(dict(sorted(items[7].items(), reverse=True)) | {"zz": 1, "aa": 2})
    elif flavour == "float-body":
        parts[7] = pack({**items[7], "note": 1.5})
    elif flavour == "array16":
        return b"\xdc\x00\x08" + b"".join(parts)
    elif flavour == "trailing":
        return b"\x98" + b"".join(parts) + b"\xc0"
    return b"\x98" + b"".join(parts)


def bad_entry(draw: Any, target: Target, who: Identity, kind_of_harm: str) -> bytes:
    """A signed entry by ``who`` that is wrong in the way ``kind_of_harm`` says (or valid).

    What is drawn never depends on the node's state (hypothesis replays draws and insists
    they repeat); the state only decides what the drawn numbers mean.
    """
    net = target.network
    seq, head = target.head(who.public)
    pick = draw(st.integers(0, 2**32))  # which earlier entry, how far ahead, where to cut
    blob = draw(st.binary(min_size=32, max_size=32))
    ts = entries.now_ms() - draw(st.integers(0, 10**9))
    body: dict[str, Any] = {"name_en": draw(st.text(min_size=1, max_size=30).filter(str.strip))}
    kind = "profile"
    nxt, prev = seq + 1, head
    if kind_of_harm == "duplicate" and seq:
        return target.entry_at(who.public, 1 + pick % seq) or b""
    if kind_of_harm == "gap":
        nxt, prev = seq + 2 + pick % 1000, blob
    elif kind_of_harm == "fork" and seq:
        nxt = 1 + pick % seq
        before = target.entry_at(who.public, nxt - 1) if nxt > 1 else None
        prev = hashlib.sha256(before).digest() if before else None
    elif kind_of_harm == "broken-chain" and seq:
        prev = blob
    elif kind_of_harm == "wrong-network":
        net = blob
    elif kind_of_harm == "foreign-genesis":
        net, kind, nxt, prev = b"", "network", 1, None
        body = {"name": "เครือข่ายอื่น", "kind": "formed"}
    elif kind_of_harm == "oversize-field":
        field_name, limit = draw(
            st.sampled_from([("name_en", 200), ("description", 8000), ("locality", 200)])
        )
        body[field_name] = "ก" * (limit + 1 + pick % 50)
    elif kind_of_harm == "too-large":
        kind, body = (
            "activity",
            {
                "title": "t",
                "kind": "other",
                "date": "2026-01-01",
                "summary": "x" * (66_000 + pick % 100_000),
            },
        )
    elif kind_of_harm == "future-timestamp":
        ts = draw(st.sampled_from([11 * 60_000, 86_400_000, 10**12])) + entries.now_ms()
    elif kind_of_harm == "unknown-kind":
        kind = draw(st.sampled_from(["profiles", "", "network2", "ลบ", "x" * 300]))
    elif kind_of_harm == "bad-field":
        body = draw(
            st.sampled_from(
                [
                    {},
                    {"name_en": 5},
                    {"name_en": "a", "secret": 1},
                    {"name_en": "a", "province": "TH-99"},
                    {"name_en": "a\x00b"},
                    {"name_en": "a", "endpoints": ["ftp://x"]},
                ]
            )
        )
    items = _items(
        2 if kind_of_harm == "unsupported-version" else 1, net, who, nxt, prev, ts, kind, body
    )
    if kind_of_harm == "non-canonical":
        content = non_canonical(draw(st.sampled_from(NON_CANONICAL)), items)
    else:
        try:
            content = codec.encode(items)
        except EntryRefusedError:
            content = pack(items)
    raw = sign_content(who, content)
    if kind_of_harm == "bad-signature":
        at = len(raw) - 1 - pick % 64
        raw = raw[:at] + bytes([raw[at] ^ 1]) + raw[at + 1 :]
    elif kind_of_harm == "truncated":
        raw = raw[: pick % len(raw)]
    return raw


# --------------------------------------------------------------------------- recorded requests
@dataclass(frozen=True)
class Recorded:
    """One HTTP request as a real client sent it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    raw: bytes


def parse_requests(stream: bytes) -> list[Recorded]:
    """The HTTP/1.1 requests (Content-Length bodies) one connection carried, in order."""
    from multidict import CIMultiDict

    out = []
    while (end := stream.find(b"\r\n\r\n")) >= 0:
        lines = stream[:end].decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = CIMultiDict(
            (k.strip(), v.strip()) for k, _, v in (x.partition(":") for x in lines[1:])
        )
        size = end + 4 + int(headers.get("Content-Length", "0"))
        out.append(Recorded(method, path, dict(headers), stream[end + 4 : size], stream[:size]))
        stream = stream[size:]
    return out


class RecordingProxy(CountingProxy):
    """A loopback TCP proxy that also keeps every byte clients send through it."""

    def __init__(self, target_url: str) -> None:
        host, _, port = target_url.removeprefix("http://").rpartition(":")
        super().__init__(host, int(port))
        self._sent: dict[int, bytearray] = {}

    def passed(self, data: bytes, up: bool, source: asyncio.StreamReader) -> None:
        super().passed(data, up, source)
        if up:
            self._sent.setdefault(id(source), bytearray()).extend(data)

    def requests(self) -> list[Recorded]:
        return [r for stream in self._sent.values() for r in parse_requests(bytes(stream))]
