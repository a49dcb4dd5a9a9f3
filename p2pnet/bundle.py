"""Offline bundles: a file of signed entries, carried on a USB stick or sent as a chat attachment.

A member with a poor connection exports what its node holds, another member
imports it, and the two are as synced as after a gossip round.

Format, version 1 (all msgpack values are in their shortest form)::

    magic     the 16 bytes  b"p2pnet-bundle/1\\n"
    header    a msgpack map {"created": <ms since 1970>, "network": <32-byte bin>, "version": 1}
    entries   one msgpack bin per entry: the entry's signed bytes, exactly as in the log
    trailer   the msgpack array ["end", <number of entries>]

A bundle has no signature of its own: every entry carries its author's, and
the importer checks each one as if a peer had sent it (``Store.ingest``), so
an entry changed on the way is refused on its own, with its reason, and
nothing invalid is stored. The trailer tells a complete bundle from one cut
short. A full export lists the entries feed by feed in sequence order (fork
proofs after the entry they contradict); an export ``since`` an arrival
number or a date lists them in the exporting node's arrival order, which
also keeps every feed in sequence order.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import msgpack  # type: ignore[import-untyped]

from . import codec, entries, ids
from .entries import MAX_ENTRY_BYTES
from .errors import EntryRefusedError, P2pnetError, Refusal
from .store import Store, Verify, verify_serial

MAGIC = b"p2pnet-bundle/1\n"
VERSION = 1
BATCH = 1000


class BundleError(P2pnetError):
    """The file is not a bundle, or is for another network."""


@dataclass(frozen=True)
class Header:
    network: bytes
    created: int


@dataclass
class ImportReport:
    """What importing a bundle did, entry by entry (indexes count from 0 in the bundle)."""

    header: Header
    read: int = 0
    accepted: int = 0
    duplicates: int = 0
    forks: int = 0
    refused: list[tuple[int, Refusal, str]] = field(default_factory=list)
    blocked: int = 0  # entries of members this node blocked: left out, not refused
    complete: bool = False
    damage: str | None = None
    bound: bool = False  # the store joined the bundle's network (it was in none)

    def as_dict(self) -> dict[str, Any]:
        return {
            "network": ids.network(self.header.network),
            "created": self.header.created,
            "read": self.read,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "forks": self.forks,
            "refused": [{"index": i, "code": str(c), "detail": d} for i, c, d in self.refused],
            "blocked": self.blocked,
            "complete": self.complete,
            "damage": self.damage,
            "bound": self.bound,
        }


# --------------------------------------------------------------------------- writing


def write(
    fp: BinaryIO, network: bytes, raws: Iterable[bytes], *, created: int | None = None
) -> int:
    """Write a bundle of ``raws`` to ``fp``; returns how many entries it holds."""
    created = entries.now_ms() if created is None else created
    fp.write(MAGIC)
    fp.write(codec.encode({"created": created, "network": network, "version": VERSION}))
    count = 0
    for raw in raws:
        fp.write(msgpack.packb(raw, use_bin_type=True))
        count += 1
    fp.write(codec.encode(["end", count]))
    return count


def export(
    store: Store, path: Path, *, since: int = 0, since_date: str | None = None
) -> tuple[int, int]:
    """Write the store's entries (those that arrived after ``since``, or dated from
    ``since_date``) to ``path``; returns (entries written, the last arrival number).

    The file appears complete or not at all (written aside, then renamed).
    """
    network = store.network
    if network is None:
        raise BundleError("this node is in no network yet: there is nothing to export")
    last = store.last_n()
    if since_date is not None:
        start = int(dt.datetime.fromisoformat(since_date).timestamp() * 1000)  # local midnight
        raws: Iterable[bytes] = (
            r
            for (r,) in store.conn.execute(
                "SELECT raw FROM entries WHERE ts >= ? AND n <= ? ORDER BY n", (start, last)
            )
        )
    elif since:
        raws = _since(store, since, last)
    else:
        raws = store.iter_raw(include_forks=True)
    blocked = store.blocked_authors()
    if blocked:  # a node does not pass on the entries of members it blocked
        raws = (r for r in raws if entries.decode(r).author not in blocked)
    tmp = path.with_name(path.name + ".part")
    try:
        with open(tmp, "wb") as fp:
            count = write(fp, network, raws)
            fp.flush()
            os.fsync(fp.fileno())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return count, last


def _since(store: Store, n: int, last: int) -> Iterator[bytes]:
    while True:
        rows = store.since(n, BATCH)
        for n, raw in rows:
            if n > last:
                return
            yield raw
        if len(rows) < BATCH:
            return


# --------------------------------------------------------------------------- reading


class Reader:
    """Reads a bundle: the header at once, then the entries in batches.

    After the entries are read, ``complete`` says whether the trailer was
    found and agreed, and ``damage`` says what broke the reading, if anything
    (the entries before the damage were still given out).
    """

    def __init__(self, fp: BinaryIO) -> None:
        magic = fp.read(len(MAGIC))
        if magic != MAGIC:
            if magic.startswith(b"p2pnet-bundle/"):
                raise BundleError(
                    f"this bundle's format ({magic.strip().decode(errors='replace')}) "
                    "is newer than this p2pnet understands"
                )
            raise BundleError("not a p2pnet bundle (it does not start with 'p2pnet-bundle/1')")
        self._unpacker = msgpack.Unpacker(
            fp,
            raw=False,
            use_list=True,
            strict_map_key=True,
            max_bin_len=MAX_ENTRY_BYTES,
            max_str_len=1024,
            max_array_len=16,
            max_map_len=16,
            max_ext_len=0,
            max_buffer_size=2 * MAX_ENTRY_BYTES,
        )
        try:
            head = next(self._unpacker)
        except (StopIteration, ValueError, msgpack.UnpackException) as exc:
            raise BundleError(f"the bundle's header is damaged ({exc or 'cut short'})") from None
        network = head.get("network") if isinstance(head, dict) else None
        created = head.get("created") if isinstance(head, dict) else None
        if not (
            isinstance(network, bytes)
            and len(network) == 32
            and isinstance(created, int)
            and head.get("version") == VERSION
        ):
            raise BundleError("the bundle's header is damaged (it does not name a network)")
        self.header = Header(network, created)
        self.read = 0
        self.complete = False
        self.damage: str | None = None

    def entries(self) -> Iterator[bytes]:
        it = iter(self._unpacker)
        while True:
            try:
                item = next(it)
            except StopIteration:
                if not self.complete and self.damage is None:
                    self.damage = (
                        f"the bundle is cut short after {self.read} entries (no end marker)"
                    )
                return
            except (ValueError, msgpack.UnpackException) as exc:
                self.damage = (
                    f"the bundle is damaged after {self.read} entries; "
                    f"the rest cannot be read ({exc})"
                )
                return
            if self.complete:
                self.damage = "there is data after the bundle's end marker"
                self.complete = False
                return
            if isinstance(item, bytes):
                self.read += 1
                yield item
            elif isinstance(item, list) and len(item) == 2 and item[0] == "end":
                if item[1] != self.read:
                    self.damage = f"the end marker says {item[1]} entries but {self.read} were read"
                    return
                self.complete = True
            else:
                self.damage = (
                    f"item {self.read} of the bundle is not an entry; the rest cannot be read"
                )
                return

    def batches(self, size: int = BATCH) -> Iterator[list[bytes]]:
        batch: list[bytes] = []
        for raw in self.entries():
            batch.append(raw)
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch


def read_header(path: Path) -> Header:
    with open(path, "rb") as fp:
        return Reader(fp).header


def import_(
    store: Store, path: Path, *, verify: Verify = verify_serial, batch: int = BATCH
) -> ImportReport:
    """Verify and store a bundle's entries as if a peer had sent them.

    A store in no network yet joins the bundle's network, but only if the
    bundle holds that network's genesis entry, correctly signed.
    """
    with open(path, "rb") as fp:
        reader = Reader(fp)
        header = reader.header
        report = ImportReport(header)
        if store.network is None:
            _bind(store, reader, header)
            report.bound = True
        elif store.network != header.network:
            raise BundleError(
                f"the bundle is for network {ids.network(header.network)}, this node is in "
                f"{ids.network(store.network)}"
            )
    with open(path, "rb") as fp:
        reader = Reader(fp)
        offset = 0
        for raws in reader.batches(batch):
            r = store.ingest(raws, verify=verify)
            report.accepted += len(r.accepted)
            report.duplicates += r.duplicates
            report.forks += len(r.forks)
            report.blocked += len(r.blocked)
            report.refused.extend((offset + i, code, detail) for i, code, detail in r.refused)
            offset += len(raws)
        report.read = reader.read
        report.complete = reader.complete
        report.damage = reader.damage
    report.refused.sort()
    return report


def _bind(store: Store, reader: Reader, header: Header) -> None:
    for raw in reader.entries():
        try:
            e = entries.decode(raw)
        except EntryRefusedError:
            continue
        if e.is_genesis and e.id == header.network:
            entries.parse(raw, network=None)  # raises if its signature does not verify
            store.set_network(header.network)
            return
    raise BundleError(
        "this node is in no network yet and the bundle does not hold its network's charter "
        "(genesis): join the network first, or import a full export"
    )
