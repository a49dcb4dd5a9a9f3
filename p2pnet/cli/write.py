"""Writing to this member's feed: ``profile``, ``activity``, ``endorse``, ``unendorse``, ``leave``.

Each write is a signed entry appended straight to the node's SQLite file; a
running node notices it and pushes it to peers within a second.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

import click

from .. import directory, ids, provinces
from ..errors import ConfigError, EntryNotFoundError
from ..peers import normalise_url
from ..schema import ACTIVITY_KINDS, CONTACT_KEYS, ORG_TYPES
from ..store import Store
from .app import App, name_fields, pass_app
from .output import EXIT_REFUSED, EXIT_USAGE, CliError, json_option
from .query import print_activities, print_activity, print_member

LIST_FIELDS = {
    "offer": "offers",
    "need": "needs",
    "interest": "interests",
    "expertise": "expertise",
}
CLEARABLE = (
    "offers",
    "needs",
    "interests",
    "expertise",
    "endpoints",
    "contact",
    "geo",
    "website",
    "description",
    "description_en",
    "locality",
    "province",
    "org_type",
    "name_th",
    "name_en",
)
BUDDHIST_ERA_OFFSET = 543
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_DECIMAL = re.compile(r"^-?\d{1,3}(\.\d{1,7})?$")


def parse_date(text: str, flag: str = "--date") -> str:
    """A YYYY-MM-DD (or D/M/YYYY) date in the Common Era; a Buddhist Era year
    (above 2400, e.g. 2569) is converted by subtracting 543."""
    raw = text.strip()
    m = _DMY.match(raw)
    try:
        if m:
            day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        else:
            parts = raw.split("-")
            if len(parts) != 3 or len(parts[0]) != 4:
                raise ValueError
            year, month, day = (int(p) for p in parts)
        if year > 2400:
            year -= BUDDHIST_ERA_OFFSET
        d = dt.date(year, month, day)
    except ValueError:
        raise CliError(
            f"{flag} {text!r} is not a date: use YYYY-MM-DD (e.g. 2026-03-01, or "
            "2569-03-01 in the Buddhist Era)",
            EXIT_USAGE,
        ) from None
    if not 1900 <= d.year <= 2200:
        raise CliError(f"{flag} {text!r} is not a plausible date", EXIT_USAGE)
    return d.isoformat()


def parse_geo(text: str) -> list[str]:
    """``"18.79,98.98"`` -> ``["18.79", "98.98"]`` (decimal strings, as profiles keep them)."""
    parts = [p.strip() for p in text.replace(" ", ",").split(",") if p.strip()]
    try:
        if len(parts) != 2:
            raise ValueError
        values = [float(p) for p in parts]
    except ValueError:
        raise CliError(
            f"--geo {text!r} must be LAT,LON in decimal degrees, e.g. 18.79,98.98", EXIT_USAGE
        ) from None
    if abs(values[0]) > 90 or abs(values[1]) > 180:
        raise CliError(
            f"--geo {text!r}: latitude must be within ±90 and longitude within ±180", EXIT_USAGE
        )
    return [
        p if _DECIMAL.match(p) else f"{v:.7f}".rstrip("0").rstrip(".")
        for p, v in zip(parts, values, strict=True)
    ]


def parse_province(text: str) -> str:
    code = provinces.lookup(text)
    if code is None:
        raise CliError(
            f"--province {text!r} is not a Thai province: give its Thai name (เชียงใหม่), "
            "English name (Chiang Mai) or ISO code (TH-50)",
            EXIT_USAGE,
        )
    return code


def current_profile(s: Store, author: bytes) -> dict[str, Any]:
    """The body of the latest profile of the member ``author`` signs for (any of its keys), or {}."""
    member = directory.member_of_key(s.conn, author)
    row = s.conn.execute("SELECT profile_entry FROM members WHERE id = ?", (member,)).fetchone()
    if row is None or not row[0]:
        return {}
    return dict(s.get(ids.from_text(ids.ENTRY, row[0])).body)


def member_key(s: Store, text: str) -> tuple[str, bytes]:
    """A member named by id, unique id prefix or name -> (id, public key)."""
    mid = directory.resolve_member(s.conn, text)
    return mid, ids.from_text(ids.MEMBER, mid)


# --------------------------------------------------------------------------- profile


@click.group()
def profile() -> None:
    """Set or show this member's profile."""


@profile.command("set")
@click.option("--name", help="Name in Thai or English (goes to --name-th if it has Thai letters).")
@click.option("--name-th", help="Name in Thai, e.g. ชมรมผู้สูงอายุบ้านดอนแก้ว.")
@click.option("--name-en", help="Name in English.")
@click.option("--org-type", type=click.Choice(ORG_TYPES), help="Kind of organisation.")
@click.option("--description", help="What the organisation does (Thai).")
@click.option("--description-en", help="What the organisation does (English).")
@click.option(
    "--province",
    metavar="PROVINCE",
    help="Thai name, English name or ISO code: เชียงใหม่, Chiang Mai, TH-50.",
)
@click.option("--locality", help="Sub-district and district, e.g. ต.ดอนแก้ว อ.แม่ริม.")
@click.option("--geo", metavar="LAT,LON", help="Location in decimal degrees, e.g. 18.8762,98.9481.")
@click.option("--website", metavar="URL", help="The organisation's own website.")
@click.option("--contact-email", metavar="EMAIL")
@click.option("--contact-phone", metavar="PHONE")
@click.option("--contact-line", metavar="LINE_ID", help="LINE id, e.g. @donkaeo-elderly.")
@click.option("--contact-facebook", metavar="PAGE")
@click.option("--contact-address", metavar="ADDRESS")
@click.option(
    "--offer", "offers", multiple=True, help="Something you offer other members (repeatable)."
)
@click.option("--need", "needs", multiple=True, help="Something you need (repeatable).")
@click.option("--interest", "interests", multiple=True, help="An interest (repeatable).")
@click.option("--expertise", "expertise", multiple=True, help="An area of expertise (repeatable).")
@click.option(
    "--endpoint",
    "endpoints",
    multiple=True,
    metavar="URL",
    help="A peer URL where your node can be reached (repeatable).",
)
@click.option(
    "--clear",
    "clear",
    multiple=True,
    type=click.Choice(CLEARABLE),
    help="Empty a field first (repeatable); with --offer etc. this replaces a list.",
)
@pass_app
def profile_set(
    app: App,
    name: str | None,
    name_th: str | None,
    name_en: str | None,
    org_type: str | None,
    description: str | None,
    description_en: str | None,
    province: str | None,
    locality: str | None,
    geo: str | None,
    website: str | None,
    contact_email: str | None,
    contact_phone: str | None,
    contact_line: str | None,
    contact_facebook: str | None,
    contact_address: str | None,
    offers: tuple[str, ...],
    needs: tuple[str, ...],
    interests: tuple[str, ...],
    expertise: tuple[str, ...],
    endpoints: tuple[str, ...],
    clear: tuple[str, ...],
) -> None:
    """Update this member's profile: fields not given keep their current values.

    List options (--offer, --need, --interest, --expertise, --endpoint) add to
    the current list; use --clear FIELD to empty a field first.
    """
    s = app.network_store()
    who = app.identity()
    old = current_profile(s, who.public) or app.draft_profile()
    body = {k: v for k, v in old.items() if k not in clear}
    scalars: dict[str, Any] = {
        **name_fields(name),
        "org_type": org_type,
        "description": description,
        "description_en": description_en,
        "locality": locality,
    }
    if name_th is not None:
        scalars["name_th"] = name_th
    if name_en is not None:
        scalars["name_en"] = name_en
    if province is not None:
        scalars["province"] = parse_province(province) if province.strip() else ""
    if geo is not None:
        scalars["geo"] = parse_geo(geo)
    if website is not None:
        scalars["website"] = _website(website) if website.strip() else ""
    for k, v in scalars.items():
        if v is not None:
            body[k] = v.strip() if isinstance(v, str) else v
    contact = dict(body.get("contact") or {})
    for k, v in zip(
        CONTACT_KEYS,
        (contact_email, contact_phone, contact_line, contact_facebook, contact_address),
        strict=True,
    ):
        if v is not None:
            contact[k] = v.strip()
    body["contact"] = {k: v for k, v in contact.items() if v}
    for field, added in (
        ("offers", offers),
        ("needs", needs),
        ("interests", interests),
        ("expertise", expertise),
        ("endpoints", tuple(_url(u, "--endpoint") for u in endpoints)),
    ):
        items = list(body.get(field) or [])
        for item in added:
            item = item.strip()
            if item and item not in items:
                items.append(item)
        body[field] = items
    body = {k: v for k, v in body.items() if v not in ("", [], {}, None)}
    if body == current_profile(s, who.public):
        click.echo("nothing to change")
        return
    if not (body.get("name_th") or body.get("name_en")):
        raise CliError("a profile needs a name: give --name-th or --name-en", EXIT_USAGE)
    entry = s.append(who, "profile", body)
    app.wrote(entry, "profile updated")


def _url(text: str, flag: str) -> str:
    """A peer URL (``http://host:port``, normalised) for --endpoint."""
    try:
        return normalise_url(text)
    except ConfigError:
        raise CliError(f"{flag} {text!r} is not an http(s) URL", EXIT_USAGE) from None


def _website(text: str) -> str:
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in text.strip():
        raise CliError(f"--website {text!r} is not an http(s) URL", EXIT_USAGE)
    return text.strip()


@profile.command("show")
@click.argument("member", required=False)
@json_option
@pass_app
def profile_show(app: App, member: str | None, as_json: bool) -> None:
    """Show this member's profile (or MEMBER's) as the directory holds it."""
    s = app.network_store()
    mid = directory.resolve_member(s.conn, member) if member else app.member_id()
    print_member(directory.get_member(s.conn, mid), as_json=as_json)


# --------------------------------------------------------------------------- activities


@click.group()
def activity() -> None:
    """Record activities done together, confirm them, list them."""


@activity.command("add")
@click.argument("title")
@click.option("--kind", type=click.Choice(ACTIVITY_KINDS), default="meeting", show_default=True)
@click.option(
    "--date",
    "date_",
    metavar="DATE",
    help="YYYY-MM-DD; a Buddhist Era year is converted (2569-03-01 -> 2026-03-01). Default: today.",
)
@click.option("--end-date", metavar="DATE", help="Last day, for an activity over several days.")
@click.option("--place", default="", help="Where it happened.")
@click.option(
    "--with",
    "with_",
    multiple=True,
    metavar="MEMBER",
    help="A member who took part: id, id prefix or name (repeatable). They can confirm it.",
)
@click.option("--summary", default="", help="What was done.")
@click.option("--outcome", default="", help="What came of it.")
@pass_app
def activity_add(
    app: App,
    title: str,
    kind: str,
    date_: str | None,
    end_date: str | None,
    place: str,
    with_: tuple[str, ...],
    summary: str,
    outcome: str,
) -> None:
    """Record an activity this member organised (TITLE in Thai or English)."""
    s = app.network_store()
    who = app.identity()
    body: dict[str, Any] = {
        "title": title.strip(),
        "kind": kind,
        "date": parse_date(date_) if date_ else dt.date.today().isoformat(),
    }
    if end_date:
        body["end_date"] = parse_date(end_date, "--end-date")
    participants: list[bytes] = []
    for text in with_:
        _, pub = member_key(s, text)
        if pub != who.public and pub not in participants:
            participants.append(pub)
    if participants:
        body["participants"] = participants
    for k, v in (("place", place), ("summary", summary), ("outcome", outcome)):
        if v.strip():
            body[k] = v.strip()
    entry = s.append(who, "activity", body)
    app.wrote(entry, "activity")


@activity.command("confirm")
@click.argument("activity_id", metavar="ID")
@click.option("--note", default="", help="A word about it.")
@pass_app
def activity_confirm(app: App, activity_id: str, note: str) -> None:
    """Confirm that this member took part in activity ID (id or unique prefix)."""
    s = app.network_store()
    who = app.identity()
    aid = directory.resolve_activity(s.conn, activity_id)
    act = directory.get_activity(s.conn, aid)
    mine = [p for p in act["participants"] if p["member"] == app.member_id()]
    if not mine:
        raise CliError(
            f"you are not listed in «{act['title']}»: only its participants can confirm it",
            EXIT_REFUSED,
        )
    if mine[0]["role"] == "organiser":
        raise CliError(
            f"you organised «{act['title']}»: the participants confirm it, not you", EXIT_REFUSED
        )
    if mine[0]["confirmed"]:
        click.echo(f"already confirmed: {aid}")
        return
    body: dict[str, Any] = {"activity": ids.from_text(ids.ENTRY, aid)}
    if note.strip():
        body["note"] = note.strip()
    app.wrote(s.append(who, "confirm", body), f"confirmed «{act['title']}»")


@activity.command("list")
@click.option("--member", metavar="MEMBER", help="Only activities this member took part in.")
@click.option("--kind", type=click.Choice(ACTIVITY_KINDS))
@click.option("--since", metavar="DATE", help="From this date (YYYY-MM-DD, Buddhist Era accepted).")
@click.option("--until", metavar="DATE", help="Up to this date.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@json_option
@pass_app
def activity_list(
    app: App,
    member: str | None,
    kind: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """List activities, newest first, with who took part and who confirmed."""
    s = app.network_store()
    mid = directory.resolve_member(s.conn, member) if member else None
    rows = directory.list_activities(
        s.conn,
        member=mid,
        kind=kind,
        since=parse_date(since, "--since") if since else None,
        until=parse_date(until, "--until") if until else None,
        limit=limit,
    )
    print_activities(rows, as_json=as_json)


@activity.command("show")
@click.argument("activity_id", metavar="ID")
@json_option
@pass_app
def activity_show(app: App, activity_id: str, as_json: bool) -> None:
    """Show one activity (id or unique prefix)."""
    s = app.network_store()
    print_activity(
        directory.get_activity(s.conn, directory.resolve_activity(s.conn, activity_id)),
        as_json=as_json,
    )


# --------------------------------------------------------------------------- endorsements, leave


@click.command()
@click.argument("member")
@click.option("--note", default="", help="Why you vouch for them.")
@pass_app
def endorse(app: App, member: str, note: str) -> None:
    """Vouch for MEMBER (id, id prefix or name): endorsements admit newcomers."""
    s = app.network_store()
    who = app.identity()
    mid, pub = member_key(s, member)
    if pub == who.public:
        raise CliError("you cannot endorse yourself", EXIT_REFUSED)
    body: dict[str, Any] = {"member": pub}
    if note.strip():
        body["note"] = note.strip()
    app.wrote(s.append(who, "endorse", body), f"endorsed {_name(s, mid)}")


@click.command()
@click.argument("member")
@pass_app
def unendorse(app: App, member: str) -> None:
    """Withdraw this member's endorsement of MEMBER."""
    s = app.network_store()
    who = app.identity()
    mid, pub = member_key(s, member)
    active = s.conn.execute(
        "SELECT 1 FROM endorsements WHERE src = ? AND dst = ? AND active = 1", (app.member_id(), mid)
    ).fetchone()
    if not active:
        raise EntryNotFoundError(f"you do not endorse {_name(s, mid)}")
    app.wrote(
        s.append(who, "unendorse", {"member": pub}), f"withdrew the endorsement of {_name(s, mid)}"
    )


@click.command()
@click.option("--reason", default="", help="A word for the other members.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def leave(app: App, reason: str, yes: bool) -> None:
    """Leave the network: a signed entry telling every member you left.

    Joining is voluntary and so is leaving. Publishing a profile again later
    rejoins.
    """
    s = app.network_store()
    who = app.identity()
    charter = s.charter() or {}
    if not yes:
        click.confirm(f"leave «{charter.get('name', '?')}»?", abort=True, err=True)
    body = {"reason": reason.strip()} if reason.strip() else {}
    app.wrote(s.append(who, "leave", body), "left the network")


def _name(s: Store, mid: str) -> str:
    row = s.conn.execute("SELECT name_th, name_en FROM members WHERE id = ?", (mid,)).fetchone()
    return (row and (row[0] or row[1])) or mid[:16]


COMMANDS = [profile, activity, endorse, unendorse, leave]
