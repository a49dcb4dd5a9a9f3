"""Reading the directory: ``members``, ``show``, ``search``, and the printers they share."""

from __future__ import annotations

from typing import Any

import click
from rich.text import Text

from .. import directory, provinces
from ..search import QueryError
from .app import App, pass_app
from .output import EXIT_USAGE, CliError, console, emit_json, fields, json_option, table, when

STATUS_STYLE = {"admitted": "green", "pending": "yellow", "left": "dim"}
_MARK = ("\x02", "\x03")  # search highlights, turned into bold text


def status_text(m: dict[str, Any]) -> Text:
    text = Text(m["status"], style=STATUS_STYLE.get(m["status"], ""))
    if m.get("founder"):
        text.append(" (founder)")
    if m.get("forked"):
        text.append(" FORKED", style="bold red")
    return text


@click.command()
@click.option(
    "--status",
    type=click.Choice(["admitted", "pending", "left"]),
    help="Only members with this status.",
)
@click.option(
    "--province", metavar="PROVINCE", help="Only members in this province (name or code)."
)
@click.option("--limit", type=click.IntRange(1, 100_000), default=1000, show_default=True)
@json_option
@pass_app
def members(app: App, status: str | None, province: str | None, limit: int, as_json: bool) -> None:
    """List the network's members: admitted, pending (not yet endorsed enough) and left.

    A member whose key signed two different histories is marked FORKED.
    """
    s = app.network_store()
    code = None
    if province:
        code = provinces.lookup(province)
        if code is None:
            raise CliError(f"--province {province!r} is not a Thai province", EXIT_USAGE)
    rows = directory.list_members(s.conn, status=status, province=code, limit=limit)
    if as_json:
        emit_json(rows)
        return
    table(
        ["name", "name (en)", "type", "province", "status", "id"],
        [
            (
                m["name"],
                m["name_en"] if m["name_en"] != m["name"] else "",
                m["org_type"],
                m["province_th"],
                status_text(m),
                m["id"][:14] + "…",
            )
            for m in rows
        ],
    )
    counts: dict[str, int] = {}
    for m in rows:
        counts[m["status"]] = counts.get(m["status"], 0) + 1
    click.echo(f"{len(rows)} members: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))


def print_member(m: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        emit_json(m)
        return
    c = m.get("contact") or {}
    geo = m.get("geo")
    fields(
        [
            ("name", m["name_th"]),
            ("name (en)", m["name_en"]),
            ("id", m["id"]),
            ("status", status_text(m)),
            ("type", m["org_type"]),
            (
                "province",
                f"{m['province_th']} / {m['province_en']} ({m['province']})"
                if m["province"]
                else "",
            ),
            ("locality", m["locality"]),
            ("geo", f"{geo[0]},{geo[1]}" if geo else ""),
            ("description", m["description"]),
            ("description (en)", m["description_en"]),
            ("website", m["website"]),
            *((f"contact {k}", v) for k, v in c.items()),
            ("offers", "; ".join(m["offers"])),
            ("needs", "; ".join(m["needs"])),
            ("interests", "; ".join(m["interests"])),
            ("expertise", "; ".join(m["expertise"])),
            ("endpoints", " ".join(m["endpoints"])),
            ("endorsed by", ", ".join(e["name"] for e in m.get("endorsed_by", []))),
            ("endorses", ", ".join(e["name"] for e in m.get("endorses", []))),
            ("entries", m["entries"]),
            ("updated", when(m["updated_ts"])),
        ]
    )
    acts = m.get("activities") or []
    if acts:
        click.echo()
        print_activities(acts, as_json=False, title=f"activities ({len(acts)})")


@click.command()
@click.argument("member")
@json_option
@pass_app
def show(app: App, member: str, as_json: bool) -> None:
    """Show one member (by id, unique id prefix, or name — Thai or English)."""
    s = app.network_store()
    print_member(
        directory.get_member(s.conn, directory.resolve_member(s.conn, member)), as_json=as_json
    )


def _people(a: dict[str, Any]) -> Text:
    text = Text()
    for i, p in enumerate(p for p in a["participants"] if p["role"] == "participant"):
        if i:
            text.append(", ")
        text.append(
            p["name"] + (" ✓" if p["confirmed"] else ""), style="" if p["confirmed"] else "dim"
        )
    return text


def print_activities(
    rows: list[dict[str, Any]], *, as_json: bool, title: str | None = None
) -> None:
    if as_json:
        emit_json(rows)
        return
    table(
        ["date", "title", "kind", "by", "with (✓ confirmed)", "id"],
        [
            (a["date"], a["title"], a["kind"], a["author_name"], _people(a), a["id"][:14] + "…")
            for a in rows
        ],
        title=title,
    )


def print_activity(a: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        emit_json(a)
        return
    fields(
        [
            ("title", a["title"]),
            ("id", a["id"]),
            ("kind", a["kind"]),
            ("date", a["date"] + (f" – {a['end_date']}" if a.get("end_date") else "")),
            ("place", a["place"]),
            ("by", a["author_name"]),
            ("with (✓ confirmed)", _people(a)),
            ("summary", a["summary"]),
            ("outcome", a["outcome"]),
        ]
    )


def _marked(snippet: str) -> Text:
    text = Text()
    rest = snippet
    while _MARK[0] in rest:
        before, _, after = rest.partition(_MARK[0])
        hit, _, rest = after.partition(_MARK[1])
        text.append(before)
        text.append(hit, style="bold reverse" if console().is_terminal else "bold")
    text.append(rest)
    return text


@click.command()
@click.argument("query")
@click.option(
    "--kind", type=click.Choice(["member", "activity"]), help="Only members or only activities."
)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@json_option
@pass_app
def search(app: App, query: str, kind: str | None, limit: int, as_json: bool) -> None:
    """Search members and activities in Thai or English.

    Every word of QUERY must match, e.g. ผู้สูงอายุ, "ปฐมพยาบาล อสม.", "health volunteers".
    Thai needs no spaces between words.
    """
    s = app.network_store()
    try:
        hits = directory.find(
            s.conn,
            query,
            kinds=[kind] if kind else None,
            limit=limit,
            mark=_MARK if not as_json else ("<mark>", "</mark>"),
        )
    except QueryError as exc:
        raise CliError(f"cannot search for {query!r}: {exc}", EXIT_USAGE) from None
    if as_json:
        emit_json(hits)
        return
    if not hits:
        click.echo(f"nothing matches {query!r}")
        return
    table(
        ["kind", "name / title", "where", "id"],
        [
            (
                h["kind"],
                h["title"]
                + (f" ({h['date']}, {h['author_name']})" if h["kind"] == "activity" else ""),
                _marked(h["snippet"]),
                h["id"][:14] + "…",
            )
            for h in hits
        ],
    )


COMMANDS = [members, show, search]
