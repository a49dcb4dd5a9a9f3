"""What the CLI prints: tables, JSON, and errors as one line with an exit code.

Errors are translated once, in ``P2pnetGroup.invoke`` (the root group), so the
commands raise p2pnet's own exceptions and never catch them just to print.

Exit codes (documented in docs/cli.md):

====  ==========================================================================
0     done
1     a check failed (``verify`` found a bad entry or chain, ``doctor`` a problem to
      fix, ``backup`` a damaged store); or Ctrl-C
2     the command line is wrong: click's usage errors, or a bad value (a date,
      a duration, a province, a URL) reported in one line
3     not found: no such member, activity or peer
4     refused: an invite token is forged, expired, used or for another network;
      an entry or a bundle was refused by validation
5     node or peer problem: the node is not running (when needed), is already
      running, a port is in use, a peer cannot be reached or refused
6     setup problem: no home (run ``init``), no network yet, a bad key file or
      configuration, a file that cannot be read or written
====  ==========================================================================
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import sqlite3
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..bundle import BundleError
from ..errors import (
    ConfigError,
    EntryNotFoundError,
    EntryRefusedError,
    KeyFileError,
    MemberNotFoundError,
    PeerError,
    TokenError,
)
from ..search import QueryError

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_REFUSED = 4
EXIT_NODE = 5
EXIT_SETUP = 6

EXIT_CODES: dict[int, str] = {
    EXIT_OK: "done",
    EXIT_CHECK_FAILED: "a check failed (`verify` found a bad entry or chain, `doctor` a problem "
    "to fix, `backup` a damaged store), or Ctrl-C",
    EXIT_USAGE: "the command line is wrong: a usage error from click (it prints the usage), "
    "or a bad value such as a date, duration, province or URL (one line)",
    EXIT_NOT_FOUND: "not found: no such member, activity or peer",
    EXIT_REFUSED: "refused: an invite token is forged, expired, used up or for another network; "
    "an entry or a bundle failed validation",
    EXIT_NODE: "node or peer problem: the node is not running (when the command needs it) or is "
    "already running, a port is in use, a peer cannot be reached or refused the request",
    EXIT_SETUP: "setup problem: no home yet (`p2pnet init`), no network yet, a bad key file or "
    "configuration, a file that cannot be read or written",
}

# A few words of Thai after each message, so a Thai-speaking admin sees at once what kind of
# problem it is; the message itself stays in English (names and values are quoted as given).
THAI_HINT: dict[int, str] = {
    EXIT_CHECK_FAILED: "ตรวจสอบไม่ผ่าน",
    EXIT_USAGE: "ค่าที่ป้อนไม่ถูกต้อง",
    EXIT_NOT_FOUND: "ไม่พบ",
    EXIT_REFUSED: "ถูกปฏิเสธ",
    EXIT_NODE: "ติดต่อโหนดไม่ได้",
    EXIT_SETUP: "ยังตั้งค่าไม่ครบ",
}


class CliError(click.ClickException):
    """A user error: printed as one line on stderr, exits with ``code``."""

    def __init__(self, message: str, code: int = EXIT_SETUP, *, thai: str | None = None) -> None:
        super().__init__(" ".join(message.split()))
        self.exit_code = code  # type: ignore[misc]  # a class default in click, per error here
        self.thai = THAI_HINT.get(code, "") if thai is None else thai

    def show(self, file: Any = None) -> None:
        hint = f" [{self.thai}]" if self.thai else ""
        click.echo(f"Error: {self.format_message()}{hint}", err=True)


def translate(exc: BaseException) -> CliError | None:
    """The one place where p2pnet's exceptions become exit codes."""
    if isinstance(exc, CliError):
        return exc
    if isinstance(exc, MemberNotFoundError | EntryNotFoundError):
        return CliError(str(exc), EXIT_NOT_FOUND)
    if isinstance(exc, TokenError):
        return CliError(f"invite refused: {exc}", EXIT_REFUSED, thai="บัตรเชิญใช้ไม่ได้")
    if isinstance(exc, EntryRefusedError):
        return CliError(f"refused: {exc}", EXIT_REFUSED)
    if isinstance(exc, PeerError):
        return CliError(str(exc), EXIT_NODE)
    if isinstance(exc, KeyFileError | ConfigError):
        return CliError(str(exc), EXIT_SETUP)
    if isinstance(exc, BundleError):
        return CliError(str(exc), EXIT_REFUSED)
    if isinstance(exc, QueryError):
        return CliError(f"cannot search for that: {exc}", EXIT_USAGE)
    if isinstance(exc, sqlite3.DatabaseError):
        return CliError(f"the node's database: {exc}", EXIT_SETUP)
    if isinstance(exc, OSError):
        binding = "bind" in str(exc)
        if binding and exc.errno in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
            what = (exc.strerror or str(exc)).replace("error while attempting to ", "cannot ")
            return CliError(
                f"{what} — is another node running? Choose other ports with --listen/--api",
                EXIT_NODE,
            )
        where = f"{exc.filename}: " if exc.filename else ""
        return CliError(f"{where}{exc.strerror or exc}", EXIT_SETUP)
    return None


class P2pnetGroup(click.Group):
    """The root group: runs a command and turns p2pnet's errors into one line and an exit code.

    Unexpected exceptions (bugs) are left alone, so their traceback can be reported.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            err = translate(exc)
            if err is None:
                raise
            raise err from exc


F = TypeVar("F", bound=Callable[..., Any])


def json_option(fn: F) -> F:
    """``--json``: print JSON (UTF-8, Thai as is) for scripts instead of a table."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print JSON for scripts instead of a table."
    )(fn)


def emit_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def console(*, stderr: bool = False) -> Console:
    """A rich console on the current stdout/stderr (click's test runner swaps them).

    Colour follows rich's rules: off when not a terminal or when NO_COLOR is set.
    Markup and emoji codes are off, since names and titles are user text.
    Off a terminal the width is generous so tables in logs and pipes do not fold.
    """
    file = sys.stderr if stderr else sys.stdout
    is_tty = hasattr(file, "isatty") and file.isatty()
    width = None if is_tty else int(os.environ.get("COLUMNS", "200"))
    return Console(
        file=file, markup=False, emoji=False, highlight=False, width=width, soft_wrap=False
    )


def table(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str | None = None
) -> None:
    """Print a table; cells are plain text (or rich Text)."""
    t = Table(title=title, title_justify="left", show_lines=False, header_style="bold")
    for col in columns:
        t.add_column(col, overflow="fold")
    for row in rows:
        t.add_row(*(c if isinstance(c, Text) else Text("" if c is None else str(c)) for c in row))
    console().print(t)


def fields(pairs: Iterable[tuple[str, Any]]) -> None:
    """Print ``label: value`` lines, labels aligned; empty values are skipped."""
    pairs = [(k, v) for k, v in pairs if v not in (None, "", [], {})]
    width = max((len(k) for k, _ in pairs), default=0)
    out = console()
    for k, v in pairs:
        line = Text(f"{k + ':':<{width + 1}} ", style="bold")
        line.append(v if isinstance(v, Text) else str(v))
        out.print(line)


def member_counts(c: dict[str, Any]) -> str:
    """``3 (2 admitted, 1 pending, 0 left)`` from a network summary."""
    forked = f", {c['forked']} forked" if c.get("forked") else ""
    states = f"{c['admitted']} admitted, {c['pending']} pending, {c['left']} left{forked}"
    return f"{c['members']} ({states})"


def note(message: str) -> None:
    """A hint for the person at the terminal, on stderr (stdout stays for results)."""
    click.echo(message, err=True)


def when(ts_ms: int | None) -> str:
    """Milliseconds since the epoch as local time, or ``never``."""
    if not ts_ms:
        return "never"
    return dt.datetime.fromtimestamp(ts_ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def ago(ts_ms: int | None, now_ms: int) -> str:
    if not ts_ms:
        return "never"
    s = max(0, (now_ms - ts_ms) // 1000)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if s >= size:
            return f"{when(ts_ms)} ({s // size} {unit} ago)"
    return f"{when(ts_ms)} ({s} s ago)"
