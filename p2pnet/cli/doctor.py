"""Checking a node's setup: ``doctor``."""

from __future__ import annotations

import click
from rich.text import Text

from .. import doctor as doctormod
from .app import App, pass_app
from .output import EXIT_CHECK_FAILED, CliError, console, emit_json, json_option, table

STYLE = {doctormod.OK: "green", doctormod.WARN: "yellow", doctormod.FAIL: "bold red"}
SHOWN = {doctormod.OK: "ok", doctormod.WARN: "WARN", doctormod.FAIL: "FAIL"}


@click.command()
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 120),
    default=5.0,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for each network request (the node's own endpoints, the URLs in "
    "your profile, each peer).",
)
@click.option(
    "--lang",
    type=click.Choice(["en", "th"]),
    default="en",
    show_default=True,
    help="The language of the explanations (--json has both).",
)
@json_option
@pass_app
def doctor(app: App, timeout: float, lang: str, as_json: bool) -> None:
    """Check this node's setup and say what to do about each problem.

    Checks the home folder and key file permissions, the key, the database
    (SQLite quick_check, schema migrations), the addresses (an API reachable
    from other machines is a warning), whether the node runs and answers on
    its peer endpoint and API, or else whether its ports are free, that the
    endpoint URLs in this member's signed profile reach this node (and not
    another one), clock differences with known peers, free disk space, that
    the key was backed up, and that this member's feed is not forked. Reads
    only; changes nothing. Exits 0 when nothing failed (warnings allowed),
    1 when a check failed.
    """
    report = doctormod.run(app.home, timeout=timeout)
    if as_json:
        emit_json(report.as_dict())
    else:
        rows = [
            (Text(SHOWN[c.status], style=STYLE[c.status]), c.id, c.th if lang == "th" else c.en)
            for c in report.checks
        ]
        table(
            ["", "check", "what was found, what to do"], rows, title=f"p2pnet doctor: {report.home}"
        )
        n = {s: report.count(s) for s in doctormod.STATUSES}
        line = (
            f"ผ่าน {n['ok']} ข้อ เตือน {n['warn']} ข้อ ไม่ผ่าน {n['fail']} ข้อ"
            if lang == "th"
            else f"{n['ok']} ok, {n['warn']} warning(s), {n['fail']} failed"
        )
        if report.skipped:
            line += (" ข้ามการตรวจ: " if lang == "th" else "; not checked: ") + ", ".join(
                report.skipped
            )
        console().print(Text(line))
    if not report.ok:
        failed = [c.id for c in report.checks if c.status == doctormod.FAIL]
        raise CliError(
            f"doctor found {len(failed)} problem(s): {', '.join(failed)}",
            EXIT_CHECK_FAILED,
            thai="พบปัญหาที่ต้องแก้",
        )


COMMANDS = [doctor]
