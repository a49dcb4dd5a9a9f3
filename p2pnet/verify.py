"""Signature verification for big batches, spread over processes.

Ed25519 verification holds the GIL (in PyNaCl as in cryptography), so
threads do not help; a catch-up of many thousands of entries verifies in
worker processes while the store thread decodes and writes. Small batches
(a gossip round, a push) are verified in place: starting work elsewhere
would cost more than it saves.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor

from . import entries
from .entries import SIGN_PREFIX, Entry
from .errors import EntryRefusedError
from .identity import verify

PARALLEL_FROM = 256


def _exit_with_parent(parent: int) -> None:
    """Worker initializer: exit once the node that started this worker is gone.

    A node killed with SIGKILL (kill -9, the OOM killer) cannot shut its pool
    down, and an idle worker waits on its task queue forever: it holds that
    queue's write end itself, so it never sees end-of-file. A daemon thread
    notices the parent's death (the worker is handed to another parent) instead.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _verify_chunk(items: list[tuple[bytes, bytes, bytes]]) -> list[bool]:
    return [verify(author, SIGN_PREFIX + content, sig) for author, content, sig in items]


def _verify_raw_chunk(raws: list[bytes]) -> list[bool]:
    """Decode and verify in a worker; False for anything that does not decode."""
    out = []
    for raw in raws:
        try:
            out.append(entries.decode(raw).verify_signature())
        except EntryRefusedError:
            out.append(False)
    return out


class VerifyPool:
    """Callable like ``store.verify_serial``; uses ``workers`` processes for big batches."""

    def __init__(self, workers: int = 0) -> None:
        self.workers = workers or (os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None

    def __call__(self, batch: Sequence[Entry]) -> list[bool]:
        if self.workers <= 1 or len(batch) < PARALLEL_FROM:
            return [e.verify_signature() for e in batch]
        items = [(e.author, e.content, e.signature) for e in batch]
        size = -(-len(items) // self.workers)
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
        out: list[bool] = []
        for part in self._executor().map(_verify_chunk, chunks):
            out.extend(part)
        return out

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: the node's process has threads and an event loop
            ctx = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=ctx, initializer=_exit_with_parent, initargs=(os.getpid(),)
            )
        return self._pool

    async def presort(self, raws: list[bytes]) -> Callable[[Sequence[Entry]], list[bool]] | None:
        """Verify a big batch in the workers, off the store thread and the event loop.

        Returns a ``verify`` callable for ``Store.ingest`` that answers from
        these results, or None when the batch is small enough to verify in place.
        """
        if self.workers <= 1 or len(raws) < PARALLEL_FROM:
            return None
        loop = asyncio.get_running_loop()
        size = -(-len(raws) // self.workers)
        parts = await asyncio.gather(
            *(
                loop.run_in_executor(self._executor(), _verify_raw_chunk, raws[i : i + size])
                for i in range(0, len(raws), size)
            )
        )
        valid = {raw for part, start in zip(parts, range(0, len(raws), size), strict=True)
                 for raw, ok in zip(raws[start : start + size], part, strict=True) if ok}  # fmt: skip
        return lambda batch: [e.raw in valid for e in batch]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
