"""The sample network that ``p2pnet demo`` and the tests build.

``data/sample_network.json`` describes a Chiang Mai elderly-and-health
network in Thai and English: ten member organisations, their offers and
needs, about thirty activities and who endorses whom. ``seed`` writes it as
signed entries, each member into its own feed, dated as the story goes.

Demo keys are derived from the members' handles so ids are the same in every
run; they are for demonstrations only, never for a real node.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from importlib import resources
from typing import Any

from .entries import Entry
from .identity import Identity
from .store import Store

PROFILE_FIELDS = (
    "name_th", "name_en", "org_type", "description", "description_en", "province", "locality",
    "geo", "website", "contact", "interests", "expertise", "offers", "needs",
)  # fmt: skip


def load() -> dict[str, Any]:
    text = resources.files("p2pnet").joinpath("data/sample_network.json").read_text("utf-8")
    return dict(json.loads(text))


def demo_identity(key: str) -> Identity:
    return Identity.from_seed(hashlib.sha256(b"p2pnet demo member " + key.encode()).digest())


def _ms(date: str, hour: int = 10) -> int:
    d = dt.datetime.fromisoformat(date).replace(hour=hour, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    return int(d.timestamp() * 1000)


def profile_body(member: dict[str, Any], endpoints: list[str] | None = None) -> dict[str, Any]:
    body = {k: member[k] for k in PROFILE_FIELDS if member.get(k) not in (None, "", [], {})}
    body["contact"] = {k: v for k, v in member.get("contact", {}).items() if v}
    if endpoints:
        body["endpoints"] = endpoints
    return body


def seed(store: Store, data: dict[str, Any] | None = None) -> dict[str, Identity]:
    """Write the whole sample network into ``store``; returns handle -> identity.

    The first member founds the network. Each activity's participants confirm
    it a few days later, as ``confirmed_by`` says.
    """
    data = data or load()
    people = {m["key"]: demo_identity(m["key"]) for m in data["members"]}
    founder_key = data["members"][0]["key"]
    start = min(a["date"] for a in data["activities"])
    store.create_network(people[founder_key], dict(data["network"]), ts=_ms(start, 7))
    for i, m in enumerate(data["members"]):
        store.append(people[m["key"]], "profile", profile_body(m), ts=_ms(start, 8) + i * 60_000)
    for i, (src, dst) in enumerate(data["endorsements"]):
        store.append(people[src], "endorse", {"member": people[dst].public}, ts=_ms(start, 9) + i * 60_000)
    made: list[tuple[dict[str, Any], Entry]] = []
    for a in sorted(data["activities"], key=lambda a: a["date"]):
        body = {k: a[k] for k in ("title", "kind", "date", "place", "summary", "outcome") if a.get(k)}
        body["participants"] = [people[k].public for k in a.get("with", [])]
        made.append((a, store.append(people[a["by"]], "activity", body, ts=_ms(a["date"]))))
    for a, entry in made:
        for k in a.get("confirmed_by", []):
            store.append(people[k], "confirm", {"activity": entry.id}, ts=_ms(a["date"], 18))
    _cooperation(store, data, people)
    return people


def _cooperation(store: Store, data: dict[str, Any], people: dict[str, Identity]) -> None:
    """Help requests handed on and closed, thanks, and proposals with votes."""
    for r in data.get("requests", []):
        body = {k: r[k] for k in ("title", "description", "expertise", "needed_by") if r.get(k)}
        req = store.append(people[r["by"]], "request", body, ts=_ms(r["date"], 9))
        replies = [
            store.append(people[x["by"]], "reply", {"request": req.id, "message": x["message"]},
                         ts=_ms(x["date"], 11))  # fmt: skip
            for x in r.get("replies", [])
        ]
        if "accept" in r:
            store.append(people[r["by"]], "accept", {"request": req.id, "reply": replies[r["accept"]].id},
                         ts=_ms(r["replies"][r["accept"]]["date"], 15))  # fmt: skip
        if "handoff" in r:
            h = r["handoff"]
            store.append(people[h["by"]], "handoff", {"request": req.id, "to": people[h["to"]].public,
                                                      "note": h["note"]}, ts=_ms(h["date"], 10))  # fmt: skip
        if "close" in r:
            c = r["close"]
            store.append(people[r["by"]], "close", {"request": req.id, "outcome": c["outcome"],
                                                    "note": c["note"]}, ts=_ms(c["date"], 16))  # fmt: skip
            for i, t in enumerate(r.get("thanks", [])):
                store.append(people[r["by"]], "thanks", {"member": people[t["to"]].public,
                             "request": req.id, "message": t["message"]}, ts=_ms(c["date"], 17) + i)  # fmt: skip
    for t in data.get("thanks", []):
        store.append(people[t["by"]], "thanks", {"member": people[t["to"]].public, "message": t["message"]},
                     ts=_ms(t["date"], 12))  # fmt: skip
    for p in data.get("proposals", []):
        body = {"title": p["title"], "text": p.get("text", ""), "options": p.get("options", ["yes", "no"]),
                "closes": _ms(p["closes"], 23)}  # fmt: skip
        if p.get("changes"):
            body["changes"] = p["changes"]
        prop = store.append(people[p["by"]], "proposal", body, ts=_ms(p["date"], 9))
        for i, (who, choice) in enumerate(sorted(p.get("votes", {}).items())):
            option = body["options"].index(choice) if isinstance(choice, str) else choice
            store.append(people[who], "vote", {"proposal": prop.id, "option": option},
                         ts=_ms(p["date"], 10) + i * 3_600_000)  # fmt: skip
