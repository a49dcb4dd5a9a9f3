"""Fuzzing every peer and API endpoint of a real node with hypothesis.

Three kinds of input reach every endpoint: random bytes, msgpack and JSON; mutations
of valid requests recorded from a real gossip exchange and a real join (bit flips,
truncation, duplication, swapped types, huge ints, deep nesting, wrong lengths); and
requests carrying a valid RFC 9421 signature (a known member's key or an unknown one)
over entries that are wrong in every way a peer can make them wrong. The API's
operations are read from its own OpenAPI document, so a new endpoint is fuzzed
without a change here; each is sent with and without the admin token.

What must hold is ``tests.hostile.Target``'s judgement of every exchange: no 5xx, no
dropped connection, every refusal a problem document naming its code, and nothing
stored that is not genuinely valid; and the node is healthy at the end.

``make test`` runs a few thousand cases in about 40 s (each run stops at its example
count or its time budget, whichever comes first); the ``slow`` runs send over 30,000.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import aiohttp
import msgpack
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from p2pnet import entries, peers, sample
from p2pnet.entries import now_ms
from p2pnet.identity import Identity
from p2pnet.node.peer import make_peer_app
from p2pnet.sync.client import PeerClient

from .hostile import (
    BAD_ENTRY_KINDS,
    JSON_HUGE,
    JSON_SCALARS,
    JSON_VALUES,
    MSGPACK_HUGE,
    MSGPACK_VALUES,
    RANDOM_BODIES,
    Recorded,
    RecordingProxy,
    Tally,
    Target,
    bad_entry,
    mutate_bytes,
    mutate_value,
    pack,
    signed,
    to_json,
)
from .nodes import FAST, make_home, start, summary, wait_for
from .test_api import LiveNode
from .test_join import issue


@dataclasses.dataclass(frozen=True)
class Plan:
    examples: int  # hypothesis max_examples of one run
    seconds: float  # and the wall-clock budget it stops sending at


SHORT = Plan(examples=900, seconds=7.5)  # 5 runs: a few thousand cases, ~40 s
LONG = Plan(examples=6500, seconds=900)  # 5 runs: over 30,000 cases
STRANGERS = [Identity.generate() for _ in range(4)]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    config = dataclasses.replace(FAST, rate_per_minute=10**7, max_body_bytes=1 << 20)
    live = LiveNode(tmp_path_factory.mktemp("hostile"), config=config)
    t = Target(live)
    yield t
    t.close()
    live.close()


@pytest.fixture(scope="module")
def recorded(target, tmp_path_factory) -> list[Recorded]:
    """The requests of a real gossip exchange and a real join, recorded on their way in."""
    root = tmp_path_factory.mktemp("recorder")
    node = target.live.node

    async def record() -> list[Recorded]:
        proxy = RecordingProxy(target.peer_url)
        url = await proxy.start()
        hb, wb = make_home(root, "b", network=target.network)
        b = await start(hb, wb)
        try:
            await b.ctx.store.call(lambda s: peers.add(s, url, now=now_ms()))

            async def synced() -> bool:
                return await summary(b) == await summary(node)

            await wait_for(synced, what="the recording node to sync")
            save, token = issue(node)
            await node.ctx.store.call(save)
            newcomer = Identity.generate()
            profile = entries.create(
                newcomer,
                network=target.network,
                seq=1,
                prev=None,
                kind="profile",
                body={"name_en": "Newcomer club"},
            )
            async with aiohttp.ClientSession() as session:
                await PeerClient(session, newcomer).send_join(url, token, [profile.raw])
        finally:
            await b.stop()
            await proxy.stop()
        return proxy.requests()

    got = target.run(record())
    paths = {r.path for r in got}
    assert {"/p2p/v1/reconcile", "/p2p/v1/fetch", "/p2p/v1/push", "/p2p/v1/join"} <= paths, paths
    return got


def fuzz(target: Target, plan: Plan, case: Callable[[Tally, Any], None]) -> Tally:
    """Run ``case(tally, draw)`` for up to ``plan.examples`` examples or ``plan.seconds``."""
    tally = Tally()
    stop_at = time.monotonic() + plan.seconds

    @settings(
        max_examples=plan.examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def one(data: st.DataObject) -> None:
        case(tally, data.draw)
        if time.monotonic() > stop_at:  # after the case: its draws are complete
            raise OutOfTime

    with contextlib.suppress(OutOfTime):
        one()
    return tally


def one_in(draw, n: int) -> bool:
    """True about once in ``n`` cases. Hypothesis draws the simplest value (0) far more often
    than the others, so the rare branch is the largest value instead."""
    return bool(draw(st.integers(0, n - 1)) == n - 1)


class OutOfTime(BaseException):
    """Ends a fuzzing run at its time budget (hypothesis lets a BaseException through)."""


def judge(target: Target, reliability, case: str, tally: Tally, before: set[bytes]) -> None:
    """Record the run, then assert: no harm, nothing lost, and a healthy node."""
    sick = target.healthy()
    lost = len(before - target.entry_ids())
    reliability(
        "hostile",
        case,
        held=tally.harm == 0 and not sick and lost == 0,
        entries_lost=lost,
        errors=tally.harm + len(sick),
        **tally.figures(),
    )
    print(case, tally.figures())
    assert tally.harm == 0, "\n".join(tally.failures)
    assert not sick, sick
    assert lost == 0


# --------------------------------------------------------------------------- the peer endpoint
def peer_routes(target: Target) -> list[tuple[str, str]]:
    """Every route of the peer endpoint, read from the app the node serves."""
    app = make_peer_app(target.live.node.ctx)
    return sorted(
        {(r.method, r.resource.canonical) for r in app.router.routes() if r.method != "HEAD"}
    )


SAMPLE_PEOPLE = [sample.demo_identity(m["key"]) for m in sample.load()["members"]]


def signer(draw, target: Target) -> Identity:
    """A known member's key (one of the sample network's), the node's own, or a stranger's."""
    return draw(st.sampled_from([*SAMPLE_PEOPLE, target.live.identity, *STRANGERS]))


def sign_or_spoil(draw, who: Identity, method: str, path: str, body: bytes) -> dict[str, str]:
    """Mostly a valid signature; sometimes none, a stale one, or one spoilt in transit."""
    how = draw(st.sampled_from(["valid"] * 16 + ["unsigned", "stale", "other-body", "garbled"]))
    if how == "unsigned":
        return {}
    if how == "stale":
        return signed(
            who, path, body, method, now=time.time() - draw(st.sampled_from([301, 3600, -400]))
        )
    headers = signed(who, path, body if how != "other-body" else body + b"x", method)
    if how == "garbled":
        name = draw(st.sampled_from(["Signature", "Signature-Input", "Content-Digest"]))
        value = headers[name]
        at = draw(st.integers(0, len(value) - 1))
        headers[name] = (
            value[:at] + draw(st.sampled_from(["A", "=", '"', ";", "", "é"])) + value[at + 1 :]
        )
    return headers


def send_peer(
    target: Target,
    tally: Tally,
    method: str,
    path: str,
    body: bytes,
    headers: dict[str, str],
    entries_sent: int | None = None,
) -> None:
    """One peer request; a push's or join's report must also add up."""
    may_write = path in ("/p2p/v1/push", "/p2p/v1/join")
    resp = target.exchange(
        tally,
        method,
        target.peer_url + urllib.parse.quote(path, safe="/%"),
        body=body,
        headers=headers,
        may_write=may_write,
        what=f"{method} {path} {body[:200]!r}",
    )
    if resp is None or resp.status_code != 200 or path != "/p2p/v1/push":
        return
    report = msgpack.unpackb(resp.content)
    n = entries_sent if entries_sent is not None else len(msgpack.unpackb(body)["entries"])
    counted = report["accepted"] + report["duplicates"] + report["forks"] + report.get("blocked", 0)
    if counted + len(report["refused"]) != n:
        tally.bad_problems += 1
        tally.fail(f"push report does not add up to {n} entries: {report}", repr(body[:200]))


def random_peer_case(target: Target, routes: list[tuple[str, str]]) -> Callable[[Tally, Any], None]:
    weird_paths = st.tuples(
        st.sampled_from(METHODS), st.text(max_size=30).map(lambda t: "/p2p/v1/" + t)
    )

    def case(tally: Tally, draw) -> None:
        method, path = draw(weird_paths) if one_in(draw, 10) else draw(st.sampled_from(routes))
        body = draw(RANDOM_BODIES)
        send_peer(
            target,
            tally,
            method,
            path,
            body,
            sign_or_spoil(draw, signer(draw, target), method, path, body),
        )

    return case


def mutated_peer_case(target: Target, seeds: list[Recorded]) -> Callable[[Tally, Any], None]:
    def case(tally: Tally, draw) -> None:
        seed = draw(st.sampled_from(seeds))
        body = seed.body
        for _ in range(draw(st.integers(1, 3))):
            if body and draw(st.booleans()):
                try:
                    value = msgpack.unpackb(body, raw=False, strict_map_key=False)
                except Exception:  # an earlier byte mutation broke it; mutate bytes then
                    body = mutate_bytes(draw, body)
                else:
                    body = pack(mutate_value(draw, value, MSGPACK_VALUES, MSGPACK_HUGE))
            else:
                body = mutate_bytes(draw, body)
        if one_in(draw, 10):  # the recorded headers as they were: a replay
            headers = {
                k: v for k, v in seed.headers.items() if k.lower() not in ("content-length", "host")
            }
        else:
            headers = sign_or_spoil(draw, signer(draw, target), seed.method, seed.path, body)
        send_peer(target, tally, seed.method, seed.path, body, headers)

    return case


def signed_invalid_case(target: Target) -> Callable[[Tally, Any], None]:
    """Properly signed pushes and joins whose entries are wrong (or, now and then, right)."""
    node = target.live.node
    tokens = []
    for _ in range(3):
        save, token = issue(node, uses=10**6)
        target.run(node.ctx.store.call(save))
        tokens.append(token)

    def case(tally: Tally, draw) -> None:
        who = signer(draw, target)
        authors = [who] if draw(st.booleans()) else [signer(draw, target) for _ in range(3)]
        raws = [
            bad_entry(
                draw, target, draw(st.sampled_from(authors)), draw(st.sampled_from(BAD_ENTRY_KINDS))
            )
            for _ in range(draw(st.integers(1, 5)))
        ]
        if one_in(draw, 5):
            path = "/p2p/v1/join"
            token = draw(
                st.sampled_from(tokens) | st.text(max_size=80) | st.just(tokens[0][:-3] + "AAA")
            )
            body = msgpack.packb({"token": token, "entries": raws}, use_bin_type=True)
        else:
            path = "/p2p/v1/push"
            net = draw(st.binary(min_size=32, max_size=32)) if one_in(draw, 10) else target.network
            body = msgpack.packb({"net": net, "entries": raws}, use_bin_type=True)
        send_peer(
            target, tally, "POST", path, body, signed(who, path, body), entries_sent=len(raws)
        )

    return case


def run_peer(target, recorded, reliability, strategy: str, plan: Plan) -> None:
    before = target.entry_ids()
    routes = peer_routes(target)
    assert {p for _, p in routes} >= {
        "/p2p/v1/info",
        "/p2p/v1/reconcile",
        "/p2p/v1/fetch",
        "/p2p/v1/push",
        "/p2p/v1/join",
    }
    make = {
        "random": lambda: random_peer_case(target, routes),
        "mutated": lambda: mutated_peer_case(target, recorded),
        "signed-invalid": lambda: signed_invalid_case(target),
    }[strategy]
    tally = fuzz(target, plan, make())
    judge(target, reliability, f"fuzz peer endpoints: {strategy} input", tally, before)


PEER_STRATEGIES = ["random", "mutated", "signed-invalid"]


@pytest.mark.parametrize("strategy", PEER_STRATEGIES)
def test_peer_endpoints_fuzzed(target, recorded, reliability, strategy):
    run_peer(target, recorded, reliability, strategy, SHORT)


@pytest.mark.slow
@pytest.mark.parametrize("strategy", PEER_STRATEGIES)
def test_peer_endpoints_fuzzed_long(target, recorded, reliability, strategy):
    run_peer(target, recorded, reliability, strategy, LONG)


# --------------------------------------------------------------------------- the local API
@dataclasses.dataclass(frozen=True)
class Operation:
    method: str
    path: str
    params: list[str]
    writes: bool
    has_body: bool
    schema: Any  # schemathesis' operation, to draw valid requests from


def api_operations(target: Target) -> list[Operation]:
    """Every operation of the API, read from the OpenAPI document the node serves."""
    doc = target.http.get(target.api_url + "/api/v1/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(doc)
    shared = doc["components"].get("parameters", {})
    ops = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            params = [
                shared[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
                for p in op.get("parameters", [])
            ]
            ops.append(
                Operation(
                    method.upper(),
                    path,
                    [p["name"] for p in params if p["in"] == "query"],
                    method != "get",
                    "requestBody" in op,
                    schema[path][method.upper()],
                )
            )
    return ops


def member_refs() -> list[str]:
    people = SAMPLE_PEOPLE
    return (
        [p.member_id for p in people] + [p.member_id[:6] for p in people] + ["ชมรมผู้สูงอายุบ้านดอนแก้ว"]
    )


PATH_TEXT = st.one_of(
    st.sampled_from(member_refs()),
    st.text(max_size=60),
    st.text(alphabet="ก๐๑๒abc%./\\\x00\u200b", max_size=40),
    st.integers(0, 10).map(lambda n: "pm" + "a" * n),
    st.just("x" * 3000),
)
QUERY_VALUES = st.one_of(
    st.text(max_size=40),
    st.integers(-(2**40), 2**40).map(str),
    st.sampled_from(["", "๑๐", "true", "yes", "th", "en", "%", "x" * 1100]),
)
EXTRA_HEADERS = st.dictionaries(
    st.sampled_from(["Accept-Language", "If-None-Match", "Origin", "Content-Type", "Accept"]),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60).map(
        str.strip
    ),
    max_size=3,
)


def api_url(
    target: Target, op: Operation, path_values: dict[str, str], query: list[tuple[str, str]]
) -> str:
    path = op.path
    for name, value in path_values.items():
        path = path.replace("{" + name + "}", urllib.parse.quote(str(value), safe=""))
    qs = urllib.parse.urlencode(query)
    return target.api_url + path + ("?" + qs if qs else "")


def token_header(draw, target: Target) -> tuple[dict[str, str], bool]:
    how = draw(st.sampled_from(["good", "good", "none", "wrong", "malformed"]))
    value = {
        "good": f"Bearer {target.token}",
        "wrong": f"Bearer {target.token[:-2]}xx",
        "malformed": draw(
            st.sampled_from(["Bearer", "Basic eDp5", target.token, "Bearer  " + target.token])
        ),
    }
    return ({"Authorization": value[how]} if how in value else {}), how == "good"


def send_api(
    target: Target, tally: Tally, draw, op: Operation, url: str, body: bytes | None
) -> None:
    auth, good = token_header(draw, target)
    headers = {**draw(EXTRA_HEADERS), **auth}
    if body is not None and "Content-Type" not in headers:
        headers["Content-Type"] = "application/json"
    target.exchange(
        tally,
        op.method,
        url,
        body=body or b"",
        headers=headers,
        may_write=op.writes and good,
        what=f"{op.method} {url} {(body or b'')[:200]!r} token={good}",
    )


def random_api_case(target: Target, ops: list[Operation]) -> Callable[[Tally, Any], None]:
    all_params = sorted({p for op in ops for p in op.params})

    def case(tally: Tally, draw) -> None:
        op = draw(st.sampled_from(ops))
        if one_in(draw, 20):
            op = dataclasses.replace(op, method=draw(st.sampled_from(METHODS)), writes=True)
        names = (
            st.sampled_from(op.params or ["lang"])
            | st.sampled_from(all_params)
            | st.text(max_size=8)
        )
        query = draw(st.lists(st.tuples(names, QUERY_VALUES), max_size=4))
        url = api_url(target, op, {"id": draw(PATH_TEXT)}, query)
        body = draw(st.none() | RANDOM_BODIES | JSON_VALUES.map(to_json))
        send_api(target, tally, draw, op, url, body)

    return case


def mutated_api_case(target: Target, ops: list[Operation]) -> Callable[[Tally, Any], None]:
    """Requests valid by the OpenAPI document, each then broken in one or two places."""

    def case(tally: Tally, draw) -> None:
        op = draw(st.sampled_from(ops))
        valid = draw(op.schema.as_strategy())
        path_values = dict(valid.path_parameters or {})
        query = [(k, str(v)) for k, v in (valid.query or {}).items()]
        body: Any = valid.body if op.has_body else None
        for _ in range(draw(st.integers(1, 2))):
            where = draw(st.sampled_from(["body", "body", "query", "path"]))
            if where == "body" and isinstance(body, dict | list):
                body = mutate_value(draw, body, JSON_SCALARS, JSON_HUGE)
            elif where == "query":
                query = [(k, v[: len(v) // 2] + draw(QUERY_VALUES)) for k, v in query] + draw(
                    st.lists(
                        st.tuples(st.sampled_from(op.params or ["x"]), QUERY_VALUES), max_size=2
                    )
                )
            elif where == "path" and path_values:
                path_values = {
                    k: draw(PATH_TEXT) if draw(st.booleans()) else v[:-1]
                    for k, v in path_values.items()
                }
        raw = None if body is None else to_json(body)
        if raw is not None and one_in(draw, 5):
            raw = mutate_bytes(draw, raw)
        send_api(target, tally, draw, op, api_url(target, op, path_values, query), raw)

    return case


def run_api(target, reliability, strategy: str, plan: Plan) -> None:
    before = target.entry_ids()
    ops = api_operations(target)
    make = {"random": random_api_case, "mutated": mutated_api_case}[strategy]
    tally = fuzz(target, plan, make(target, ops))
    judge(target, reliability, f"fuzz API endpoints: {strategy} input", tally, before)


API_STRATEGIES = ["random", "mutated"]


@pytest.mark.parametrize("strategy", API_STRATEGIES)
def test_api_endpoints_fuzzed(target, reliability, strategy):
    run_api(target, reliability, strategy, SHORT)


@pytest.mark.slow
@pytest.mark.parametrize("strategy", API_STRATEGIES)
def test_api_endpoints_fuzzed_long(target, reliability, strategy):
    run_api(target, reliability, strategy, LONG)
