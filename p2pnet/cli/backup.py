"""Backing a node up: ``backup``.

The store is copied with SQLite's online backup API, which reads one
consistent snapshot while the node goes on writing (a plain ``cp`` of a live
WAL database can copy a torn state). Everything is written into a hidden
folder beside DEST and renamed to DEST at the end, so a backup interrupted
half-way leaves no DEST that looks complete.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import click

from ..doctor import open_store, record_key_backup
from .app import App, pass_app
from .output import (
    EXIT_CHECK_FAILED,
    EXIT_SETUP,
    EXIT_USAGE,
    CliError,
    emit_json,
    json_option,
    note,
)
from .setup import ask_passphrase

STORE_FILE = "node.sqlite3"
CONFIG_FILE = "config.toml"
KEY_FILE = "member-key.pem"


def copy_store(src: sqlite3.Connection, dest: Path) -> int:
    """Copy the store into the new file ``dest`` (one file, no WAL); returns its entries."""
    out = sqlite3.connect(str(dest), isolation_level=None)
    try:
        src.backup(out)  # one step: a consistent snapshot, writers go on meanwhile (WAL)
        out.execute("PRAGMA journal_mode=DELETE")  # a self-contained file
        problems = [str(r[0]) for r in out.execute("PRAGMA quick_check(5)").fetchall()]
        if problems != ["ok"]:
            raise CliError(
                f"the copy fails SQLite's quick_check ({'; '.join(problems)}): the store itself "
                "is damaged; run `p2pnet doctor`",
                EXIT_CHECK_FAILED,
            )
        entries = int(out.execute("SELECT count(*) FROM entries WHERE fork = 0").fetchone()[0])
    finally:
        out.close()
    os.chmod(dest, 0o600)
    return entries


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


@click.command()
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--with-key",
    is_flag=True,
    help=f"Also write the member key into DEST/{KEY_FILE}, encrypted (needs --passphrase).",
)
@click.option(
    "--passphrase",
    is_flag=True,
    help="Encrypt the key of --with-key with a passphrase (asked for twice; may come on stdin).",
)
@json_option
@pass_app
def backup(app: App, dest: Path, with_key: bool, passphrase: bool, as_json: bool) -> None:
    """Copy the database and config.toml (and the key, encrypted) into the new folder DEST.

    Safe while the node runs: the database is copied with SQLite's online
    backup, one consistent snapshot, into DEST/node.sqlite3, then checked. DEST
    must not exist yet, or be empty; it appears only once complete. Restore by
    copying the files into an empty home and importing the key
    (docs/operations.md, "Backups").
    """
    if with_key != passphrase:
        raise CliError(
            "--with-key needs --passphrase (a backup never holds the key unencrypted; "
            "`p2pnet key export` writes a plain copy if you really want one)"
            if with_key
            else "--passphrase encrypts the key of --with-key; give both, or neither",
            EXIT_USAGE,
        )
    app.home.require()
    if not app.home.db_file.exists():
        raise CliError(f"no database at {app.home.db_file} to back up", EXIT_SETUP)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise CliError(
            f"{dest} already exists and is not empty; refusing to overwrite it", EXIT_SETUP
        )
    who = app.identity() if with_key else None
    secret = ask_passphrase() if with_key else None
    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = dest.parent / f".{dest.name}.partial-{os.getpid()}"
    src = open_store(app.home.db_file)
    try:
        tmp.mkdir(mode=0o700)
        try:
            entries = copy_store(src, tmp / STORE_FILE)
            files = [STORE_FILE]
            if app.home.config_file.exists():
                _write_private(tmp / CONFIG_FILE, app.home.config_file.read_bytes())
                files.append(CONFIG_FILE)
            if who is not None:
                _write_private(tmp / KEY_FILE, who.to_pem(secret))
                files.append(KEY_FILE)
            tmp.replace(dest)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if who is not None:
            record_key_backup(src, who, "backup", encrypted=True)
    finally:
        src.close()
    size = (dest / STORE_FILE).stat().st_size
    out: dict[str, Any] = {"dest": str(dest), "entries": entries, "bytes": size, "files": files}
    if as_json:
        emit_json(out)
        return
    click.echo(
        f"backed up {entries} entries ({size / 1024 / 1024:.1f} MiB) to {dest}: {', '.join(files)}"
    )
    if who is None:
        note("the key is not in it: back it up once with `--with-key --passphrase` or "
             "`p2pnet key export --passphrase`")  # fmt: skip


COMMANDS = [backup]
