"""Keeping the network alive: ``match``, ``health``, help ``request``s, ``thanks``,
``proposal``s and ``vote``.

Writes are signed entries appended to this member's feed, like every other
write; states (a request's, a proposal's tally) are computed from the log the
same way on every node.
"""

from __future__ import annotations

from typing import Any

import click

from .. import assist, decisions, directory, health, ids
from ..entries import now_ms
from .app import App, pass_app
from .invite import parse_duration
from .output import EXIT_USAGE, CliError, emit_json, fields, json_option, table, when
from .write import member_key, parse_date


def _raw(entry_id: str) -> bytes:
    return ids.from_text(ids.ENTRY, entry_id)


# --------------------------------------------------------------------------- match, health


@click.command()
@click.argument("member", required=False)
@json_option
@pass_app
def match(app: App, member: str | None, as_json: bool) -> None:
    """Whose offers meet whose needs (all of them, or around MEMBER)."""
    s = app.network_store()
    mid = directory.resolve_member(s.conn, member) if member else None
    result = directory.matches(s.conn, mid)
    if as_json:
        emit_json(result)
        return
    rows = []
    for need in result.get("needs", []):
        for m in need.get("offers", [])[:3]:
            rows.append((need["name"], need["need"], m["name"], m["offer"], f"{m['score']:.2f}"))
    table(["needs", "need", "offered by", "offer", "score"], rows, title="offers meeting needs")
    unmet = result.get("unmet", [])
    if unmet:
        table(["member", "need nobody meets yet"],
              [(u["name"], u["need"]) for u in unmet])  # fmt: skip


@click.command()
@click.option("--what-if", "what_if", metavar="MEMBER", help="Show what happens if MEMBER left.")
@click.option("--lang", type=click.Choice(["en", "th"]), default="en", show_default=True)
@json_option
@pass_app
def health_(app: App, what_if: str | None, lang: str, as_json: bool) -> None:
    """The network's health: the six principles of a living network, measured."""
    s = app.network_store()
    if what_if:
        w = health.what_if(s.conn, directory.resolve_member(s.conn, what_if))
        if as_json:
            emit_json(w)
            return
        click.echo(f"if {w.get('name', w['member'])} left, the network would be in "
                   f"{len(w['groups'])} group(s)")  # fmt: skip
        for g in w["groups"]:
            click.echo("  - " + ", ".join(m["name"] for m in g))
        return
    r = health.report(s.conn)
    if as_json:
        emit_json(r)
        return
    rows = []
    for f in r["figures"]:
        v = f["value"]
        shown = ", ".join(x.get("name", "") for x in v) if isinstance(v, list) else v
        if "total" in f:
            shown = f"{shown} / {f['total']}"
        shown = "—" if shown in ("", None) else shown
        rows.append((f["key"], shown, f["explain_th" if lang == "th" else "explain_en"]))
    table(["figure", "value", "what it means"], rows, title=f"network health, {r['month']}")


health_.name = "health"


# --------------------------------------------------------------------------- requests


@click.group()
def request() -> None:
    """Ask the network for help, answer, hand work on, close (the system for handing work on)."""


@request.command("add")
@click.argument("title")
@click.option("--description", default="", help="What is needed, in a few sentences.")
@click.option("--expertise", multiple=True, help="Expertise that would help (repeatable).")
@click.option("--needed-by", help="A date (YYYY-MM-DD, Buddhist Era years accepted).")
@pass_app
def request_add(app: App, title: str, description: str, expertise: tuple[str, ...],
                needed_by: str | None) -> None:  # fmt: skip
    """Post a request for help."""
    s = app.network_store()
    body: dict[str, Any] = {"title": title}
    if description:
        body["description"] = description
    if expertise:
        body["expertise"] = list(dict.fromkeys(expertise))
    if needed_by:
        body["needed_by"] = parse_date(needed_by, "--needed-by")
    app.wrote(s.append(app.identity(), "request", body), "request posted")


@request.command("list")
@click.option("--state", type=click.Choice(["open", "in-progress", "closed"]))
@click.option("--mine", is_flag=True, help="Only requests this member posted, answered or works on.")
@json_option
@pass_app
def request_list(app: App, state: str | None, mine: bool, as_json: bool) -> None:
    """Requests for help, newest first."""
    s = app.network_store()
    rows = assist.list_requests(s.conn, state=state, member=app.member_id() if mine else None)
    if as_json:
        emit_json(rows)
        return
    table(["id", "state", "title", "by", "working on it", "replies"],
          [(r["id"][:12], r["state"], r["title"], r["author_name"], r["assignee_name"] or "",
            len(r["replies"])) for r in rows])  # fmt: skip


@request.command("show")
@click.argument("request_id")
@json_option
@pass_app
def request_show(app: App, request_id: str, as_json: bool) -> None:
    """One request with its replies, history and refused steps."""
    s = app.network_store()
    r = assist.request_state(s.conn, assist.resolve_request(s.conn, request_id))
    if as_json:
        emit_json(r)
        return
    fields([("request", r["id"]), ("title", r["title"]), ("by", r["author_name"]),
            ("state", r["state"] + (f" ({r['outcome']})" if r["outcome"] else "")),
            ("working on it", r["assignee_name"]), ("needed by", r["needed_by"]),
            ("description", r["description"]), ("expertise", ", ".join(r["expertise"]))])  # fmt: skip
    table(["when", "step", "by", "detail"],
          [(when(h["ts"]), h["kind"], h["author_name"],
            h.get("message") or h.get("note") or h.get("to_name") or h.get("outcome") or "")
           for h in r["history"]], title="history")  # fmt: skip
    if r["refused"]:
        table(["step", "by", "why it does not count"],
              [(x["kind"], x["author_name"], x["reason"]) for x in r["refused"]])  # fmt: skip


@request.command("reply")
@click.argument("request_id")
@click.option("--message", default="", help="What you offer.")
@pass_app
def request_reply(app: App, request_id: str, message: str) -> None:
    """Offer to help with a request."""
    s = app.network_store()
    rid = assist.resolve_request(s.conn, request_id)
    body: dict[str, Any] = {"request": _raw(rid)}
    if message:
        body["message"] = message
    app.wrote(s.append(app.identity(), "reply", body), "reply sent")


@request.command("accept")
@click.argument("request_id")
@click.argument("reply_id")
@pass_app
def request_accept(app: App, request_id: str, reply_id: str) -> None:
    """Accept a reply to your request: its author takes the work on."""
    s = app.network_store()
    rid = assist.resolve_request(s.conn, request_id)
    reply = assist.resolve_prefix(s.conn, "request_events", "entry", reply_id, "reply")
    app.wrote(s.append(app.identity(), "accept", {"request": _raw(rid), "reply": _raw(reply)}),
              "reply accepted")  # fmt: skip


@request.command("handoff")
@click.argument("request_id")
@click.argument("member")
@click.option("--note", default="", help="What the next member should know.")
@pass_app
def request_handoff(app: App, request_id: str, member: str, note: str) -> None:
    """Hand the work on a request on to MEMBER."""
    s = app.network_store()
    rid = assist.resolve_request(s.conn, request_id)
    _, pub = member_key(s, member)
    body: dict[str, Any] = {"request": _raw(rid), "to": pub}
    if note:
        body["note"] = note
    app.wrote(s.append(app.identity(), "handoff", body), "work handed on")


@request.command("close")
@click.argument("request_id")
@click.option("--outcome", type=click.Choice(["done", "cancelled"]), required=True)
@click.option("--note", default="", help="How it went.")
@pass_app
def request_close(app: App, request_id: str, outcome: str, note: str) -> None:
    """Close your request as done or cancelled."""
    s = app.network_store()
    rid = assist.resolve_request(s.conn, request_id)
    body: dict[str, Any] = {"request": _raw(rid), "outcome": outcome}
    if note:
        body["note"] = note
    app.wrote(s.append(app.identity(), "close", body), "request closed")


@click.command()
@click.argument("member")
@click.option("--message", default="", help="What you thank them for.")
@click.option("--request", "request_id", help="The request they helped with.")
@click.option("--activity", "activity_id", help="The activity they helped with.")
@pass_app
def thanks(app: App, member: str, message: str, request_id: str | None, activity_id: str | None) -> None:
    """Thank MEMBER: acknowledgements are the network's incentive (principle 3)."""
    s = app.network_store()
    _, pub = member_key(s, member)
    body: dict[str, Any] = {"member": pub}
    if message:
        body["message"] = message
    if request_id:
        body["request"] = _raw(assist.resolve_request(s.conn, request_id))
    if activity_id:
        body["activity"] = _raw(directory.resolve_activity(s.conn, activity_id))
    app.wrote(s.append(app.identity(), "thanks", body), "thanks sent")


# --------------------------------------------------------------------------- proposals, votes


@click.group()
def proposal() -> None:
    """Decide together: proposals, votes and their tally."""


@proposal.command("add")
@click.argument("title")
@click.option("--option", "options", multiple=True, help="A choice (repeatable; default yes, no).")
@click.option("--text", default="", help="The proposal in full.")
@click.option("--closes", default="7d", show_default=True, help="Voting closes after this long.")
@click.option("--set-endorsements", type=click.IntRange(0, 100),
              help="A charter change: endorsements needed to admit a member.")  # fmt: skip
@click.option("--set-quorum", type=click.IntRange(0, 100),
              help="A charter change: percent of members who must vote.")  # fmt: skip
@pass_app
def proposal_add(app: App, title: str, options: tuple[str, ...], text: str, closes: str,
                 set_endorsements: int | None, set_quorum: int | None) -> None:  # fmt: skip
    """Put a proposal to the network's members."""
    s = app.network_store()
    changes: dict[str, Any] = {}
    if set_endorsements is not None:
        changes["admission"] = {"endorsements": set_endorsements}
    if set_quorum is not None:
        changes["quorum"] = set_quorum
    if changes and options and list(options) != ["yes", "no"]:
        raise CliError("a charter change is voted yes or no: leave out --option", EXIT_USAGE)
    body: dict[str, Any] = {
        "title": title,
        "options": list(options) or ["yes", "no"],
        "closes": now_ms() + parse_duration(closes, "--closes"),
    }
    if text:
        body["text"] = text
    if changes:
        body["changes"] = changes
    app.wrote(s.append(app.identity(), "proposal", body), "proposal posted")


@proposal.command("list")
@json_option
@pass_app
def proposal_list(app: App, as_json: bool) -> None:
    """Proposals with their tallies."""
    s = app.network_store()
    rows = decisions.list_proposals(s.conn)
    if as_json:
        emit_json(rows)
        return
    table(["id", "title", "closes", "result", "votes"],
          [(p["id"][:12], p["title"], when(p["closes"]), p["result"] + (f": {p['winner']}" if p["winner"] else ""),
            ", ".join(f"{k} {v}" for k, v in p["counts"].items())) for p in rows])  # fmt: skip


@proposal.command("show")
@click.argument("proposal_id")
@json_option
@pass_app
def proposal_show(app: App, proposal_id: str, as_json: bool) -> None:
    """One proposal: who voted what, and the tally."""
    s = app.network_store()
    t = decisions.tally(s.conn, decisions.resolve_proposal(s.conn, proposal_id))
    if as_json:
        emit_json(t)
        return
    fields([("proposal", t["id"]), ("title", t["title"]), ("by", t["author_name"]),
            ("closes", when(t["closes"])), ("result", t["result"]), ("winner", t["winner"]),
            ("quorum", f"{t['voted']} voted of {t['eligible']} (needs {t['quorum_votes']})"),
            ("changes", t["changes"]), ("text", t["text"])])  # fmt: skip
    table(["member", "vote"], [(v["name"], v["option"]) for v in t["votes"]], title="votes")
    if t["refused"]:
        table(["member", "why it does not count"], [(r["name"], r["reason"]) for r in t["refused"]])


@click.command()
@click.argument("proposal_id")
@click.argument("choice")
@pass_app
def vote(app: App, proposal_id: str, choice: str) -> None:
    """Vote CHOICE (an option's text or number) on a proposal; your latest vote counts."""
    s = app.network_store()
    t = decisions.tally(s.conn, decisions.resolve_proposal(s.conn, proposal_id))
    opts = t["options"]
    if choice in opts:
        option = opts.index(choice)
    elif choice.isdigit() and 1 <= int(choice) <= len(opts):
        option = int(choice) - 1
    else:
        raise CliError(f"{choice!r} is not an option; choose one of: {', '.join(opts)}", EXIT_USAGE)
    if t["result"] != "open":
        raise CliError(f"voting on «{t['title']}» closed {when(t['closes'])}", EXIT_USAGE)
    body = {"proposal": _raw(t["id"]), "option": option}
    app.wrote(s.append(app.identity(), "vote", body), f"voted {opts[option]!r}")


COMMANDS = [match, health_, request, thanks, proposal, vote]
