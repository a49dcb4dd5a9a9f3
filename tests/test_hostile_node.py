"""The hostile-peer suite against whole nodes: refusals that must store nothing, floods,
replayed requests, forks, slow clients and memory.

Every case runs real nodes on loopback (in this process, or as a real ``p2pnet run``
process where memory is measured) with real SQLite files, and records its figures
with the ``reliability`` fixture before asserting on them.
"""

from __future__ import annotations

import aiohttp

from .conftest import CHARTER
from .nodes import make_home, start


async def test_json_nested_too_deep_is_refused_not_a_crash(tmp_path):
    """Python's JSON parser gives up on deep nesting with RecursionError: a 400, like bad JSON."""
    home, who = make_home(tmp_path, "a", charter=dict(CHARTER))
    node = await start(home, who)
    headers = {"Authorization": f"Bearer {home.admin_token()}", "Content-Type": "application/json"}
    deep = b"[" * 100_000 + b"]" * 100_000
    try:
        async with aiohttp.ClientSession() as session:
            for path in ("/api/v1/activities", "/api/v1/peers", "/api/v1/profile", "/api/v1/endorsements"):
                async with session.post(node.api_url + path, data=deep, headers=headers) as resp:
                    problem = await resp.json(content_type=None)
                    assert resp.status == 400, (path, problem)
                    assert problem["type"] == "urn:p2pnet:problem:bad-request"
        assert await node.ctx.store.call(lambda s: s.count()) == 2
    finally:
        await node.stop()

