"""StoreRunner: the one thread that owns the node's Store.

A SQLite connection belongs to the thread that made it, and one writer at a
time is what SQLite wants anyway, so every store call from the event loop
goes through this single-thread executor (datasette does the same with its
write thread).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from ..store import Store

T = TypeVar("T")


class StoreRunner:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self._store: Store | None = None

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        self._store = await loop.run_in_executor(self._pool, Store, self.path)

    async def call(self, fn: Callable[[Store], T]) -> T:
        """Run ``fn(store)`` on the store thread and return its result."""
        store = self._store
        if store is None:
            raise RuntimeError("the store is not open")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, fn, store)

    async def close(self) -> None:
        if self._store is not None:
            store, self._store = self._store, None
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._pool, store.close)
        self._pool.shutdown(wait=True)
