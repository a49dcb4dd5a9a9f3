"""AppKeys: what the node's two aiohttp applications hold."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    pass

context_key = web.AppKey("context_key", "NodeContext")
max_body_key = web.AppKey("max_body_key", int)
