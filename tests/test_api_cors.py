"""CORS is off unless origins are configured."""

import dataclasses

import aiohttp

from .conftest import CHARTER
from .nodes import FAST, make_home, start


async def test_cors_off_by_default_and_on_for_listed_origins(tmp_path):
    home, who = make_home(tmp_path, "a", charter=dict(CHARTER))
    for config, expect in (
        (FAST, None),
        (dataclasses.replace(FAST, cors_origins="https://map.example.org, https://x.example"),
         "https://map.example.org"),
    ):  # fmt: skip
        node = await start(home, who, config)
        try:
            async with aiohttp.ClientSession() as s:
                h = {"Origin": "https://map.example.org"}
                async with s.get(node.api_url + "/api/v1/network", headers=h) as r:
                    assert r.status == 200
                    assert r.headers.get("Access-Control-Allow-Origin") == expect
                async with s.get(node.api_url + "/api/v1/network",
                                 headers={"Origin": "https://evil.example"}) as r:  # fmt: skip
                    assert "Access-Control-Allow-Origin" not in r.headers
        finally:
            await node.stop()
