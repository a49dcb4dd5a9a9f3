"""Offline bundles: the file format, and tampering refused entry by entry."""

from __future__ import annotations

import io
from pathlib import Path

import msgpack
import pytest
from click.testing import CliRunner

from p2pnet import bundle, entries, sample
from p2pnet import identity as idmod
from p2pnet.cli import cli
from p2pnet.cli.maintenance import check_store
from p2pnet.config import Home
from p2pnet.errors import Refusal
from p2pnet.store import Store

from .conftest import CHARTER


@pytest.fixture
def seeded(tmp_path: Path):
    s = Store(tmp_path / "a.sqlite3")
    sample.seed(s)
    yield s
    s.close()


def fresh(tmp_path: Path, name: str, network: bytes | None = None) -> Store:
    s = Store(tmp_path / f"{name}.sqlite3")
    if network is not None:
        s.set_network(network)
    return s


def test_round_trip_in_memory(seeded):
    raws = list(seeded.iter_raw())
    buf = io.BytesIO()
    assert bundle.write(buf, seeded.network, raws, created=123) == len(raws)
    data = buf.getvalue()
    assert data.startswith(bundle.MAGIC)
    reader = bundle.Reader(io.BytesIO(data))
    assert reader.header == bundle.Header(seeded.network, 123)
    assert [r for batch in reader.batches(7) for r in batch] == raws
    assert reader.complete and reader.damage is None and reader.read == len(raws)


def test_export_import_gives_the_same_log(seeded, tmp_path):
    path = tmp_path / "all.p2pb"
    count, last = bundle.export(seeded, path)
    assert count == seeded.count() and last == seeded.last_n()
    with fresh(tmp_path, "b", seeded.network) as b:
        report = bundle.import_(b, path, batch=10)  # small batches: feeds span several
        assert report.accepted == count and not report.refused and report.complete
        assert sorted(b.iter_raw()) == sorted(seeded.iter_raw())
        assert b.charter() == seeded.charter()
        again = bundle.import_(b, path)
        assert again.accepted == 0 and again.duplicates == count


def test_a_store_in_no_network_joins_the_bundles(seeded, tmp_path):
    path = tmp_path / "all.p2pb"
    bundle.export(seeded, path)
    with fresh(tmp_path, "c") as c:
        report = bundle.import_(c, path)
        assert report.bound and c.network == seeded.network and c.count() == seeded.count()
    # a partial bundle (no genesis) cannot bind a store
    part = tmp_path / "part.p2pb"
    bundle.export(seeded, part, since=seeded.last_n() - 3)
    with fresh(tmp_path, "d") as d, pytest.raises(bundle.BundleError, match="charter"):
        bundle.import_(d, part)


def test_since_exports_only_newer_entries(seeded, tmp_path):
    _, last = bundle.export(seeded, tmp_path / "1.p2pb")
    who = sample.demo_identity("school")
    e = seeded.append(
        who, "activity", {"title": "หลานพาปู่ย่าเดินป่า", "kind": "visit", "date": "2026-05-01"}
    )
    count, _ = bundle.export(seeded, tmp_path / "2.p2pb", since=last)
    assert count == 1
    with open(tmp_path / "2.p2pb", "rb") as fp:
        assert list(bundle.Reader(fp).entries()) == [e.raw]
    n, _ = bundle.export(seeded, tmp_path / "3.p2pb", since_date="2026-01-01")
    assert 1 <= n < seeded.count()


def test_tampered_entries_are_refused_one_by_one(seeded, tmp_path):
    raws = list(seeded.iter_raw())
    authors = [entries.decode(r).author for r in raws]
    # flip a signature bit in the last entry of one feed, a body byte in another feed's last entry
    last_of = {a: i for i, a in enumerate(authors)}
    victims = sorted(last_of.values())[2:4]
    bad = list(raws)
    sig_hit, body_hit = victims
    bad[sig_hit] = raws[sig_hit][:-1] + bytes([raws[sig_hit][-1] ^ 0x01])
    body = bytearray(raws[body_hit])
    pos = body.find("ก".encode()) if "ก".encode() in body else len(body) - 70
    body[pos + 2] ^= 0x01  # still UTF-8 Thai? maybe not: either way it must be refused
    bad[body_hit] = bytes(body)
    path = tmp_path / "bad.p2pb"
    with open(path, "wb") as fp:
        bundle.write(fp, seeded.network, bad)
    with fresh(tmp_path, "b", seeded.network) as b:
        report = bundle.import_(b, path)
        assert [i for i, _, _ in report.refused] == [sig_hit, body_hit]
        assert report.refused[0][1] == Refusal.BAD_SIGNATURE
        assert report.refused[1][1] in (
            Refusal.BAD_SIGNATURE,
            Refusal.MALFORMED,
            Refusal.NON_CANONICAL,
        )
        assert report.accepted == len(raws) - 2 and report.complete
        held = set(b.iter_raw())
        assert bad[sig_hit] not in held and bad[body_hit] not in held
        assert check_store(b)["ok"]


def test_damaged_and_foreign_files(seeded, tmp_path):
    path = tmp_path / "all.p2pb"
    count, _ = bundle.export(seeded, path)
    data = path.read_bytes()
    cut = tmp_path / "cut.p2pb"
    cut.write_bytes(data[: len(data) // 2])
    with fresh(tmp_path, "b", seeded.network) as b:
        report = bundle.import_(b, cut)
        assert not report.complete and "cut short" in report.damage
        assert 0 < report.accepted < count and not report.refused
        assert check_store(b)["ok"]
    # a damaged length prefix: the entries before it still import
    broken = bytearray(data)
    first = msgpack.packb(next(seeded.iter_raw()), use_bin_type=True)
    broken[data.index(first) + len(first)] = 0xC1  # the never-used msgpack byte, after entry 0
    path2 = tmp_path / "broken.p2pb"
    path2.write_bytes(bytes(broken))
    with fresh(tmp_path, "c", seeded.network) as c:
        report = bundle.import_(c, path2)
        assert report.read == 1 and "damaged" in report.damage
    other = tmp_path / "other.sqlite3"
    with Store(other) as o:
        o.create_network(idmod.Identity.generate(), dict(CHARTER))
        with pytest.raises(bundle.BundleError, match="is for network"):
            bundle.import_(o, path)
    not_bundle = tmp_path / "photo.jpg"
    not_bundle.write_bytes(b"\xff\xd8\xff\xe0 not a bundle")
    with fresh(tmp_path, "d") as d, pytest.raises(bundle.BundleError, match="not a p2pnet bundle"):
        bundle.import_(d, not_bundle)
    newer = tmp_path / "newer.p2pb"
    newer.write_bytes(b"p2pnet-bundle/9\n")
    with fresh(tmp_path, "e") as e, pytest.raises(bundle.BundleError, match="newer"):
        bundle.import_(e, newer)


def test_cli_reports_each_refusal(seeded, tmp_path):
    raws = list(seeded.iter_raw())
    last_of = {entries.decode(r).author: i for i, r in enumerate(raws)}
    k = sorted(last_of.values())[3]  # the last entry of a feed: nothing after it depends on it
    raws[k] = raws[k][:-1] + bytes([raws[k][-1] ^ 0x80])
    path = tmp_path / "bad.p2pb"
    with open(path, "wb") as fp:
        bundle.write(fp, seeded.network, raws)
    home = Home(tmp_path / "home")
    home.create_dirs()
    idmod.save(sample.demo_identity("youth"), home.key_file)
    result = CliRunner().invoke(
        cli, ["--home", str(home.path), "bundle", "import", str(path)], catch_exceptions=False
    )
    assert result.exit_code == 4, result.output
    assert f"refused entry {k}:" in result.stdout and "bad-signature" in result.stdout
    err = result.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("Error: 1 of") and "Traceback" not in result.output
    with Store(home.db_file) as s:
        assert raws[k] not in set(s.iter_raw()) and s.count() == len(raws) - 1
        assert check_store(s)["ok"]
