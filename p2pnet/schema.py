"""Body schemas: what each kind of entry may carry, checked field by field.

A body is a map. Unknown fields are refused, required fields must be present,
and every refusal names the field and why (``Refusal.BAD_FIELD``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from . import provinces
from .errors import EntryRefusedError, Refusal

Check = Callable[[str, Any], None]

NETWORK_KINDS = ("natural", "formed", "hybrid")
ORG_TYPES = (
    "elderly-club", "school", "health-unit", "hospital", "womens-group", "youth-group",
    "local-government", "ngo", "cooperative", "temple", "other",
)  # fmt: skip
ACTIVITY_KINDS = (
    "meeting", "training", "joint-project", "exchange", "seminar", "visit", "forum", "other",
)  # fmt: skip
CONTACT_KEYS = ("email", "phone", "line", "facebook", "address")

_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_DECIMAL = re.compile(r"^-?\d{1,3}(\.\d{1,7})?$")


def bad(field: str, why: str) -> EntryRefusedError:
    return EntryRefusedError(Refusal.BAD_FIELD, f"field {field!r}: {why}")


def text(max_len: int, *, nonempty: bool = False) -> Check:
    def check(field: str, v: Any) -> None:
        if not isinstance(v, str):
            raise bad(field, f"must be text, not {type(v).__name__}")
        if len(v) > max_len:
            raise bad(field, f"is {len(v)} characters, at most {max_len} allowed")
        if nonempty and not v.strip():
            raise bad(field, "must not be empty")
        if _CONTROL.search(v):
            raise bad(field, "contains control characters")

    return check


def one_of(choices: tuple[str, ...]) -> Check:
    def check(field: str, v: Any) -> None:
        if v not in choices:
            raise bad(field, f"{v!r} is not one of {', '.join(choices)}")

    return check


def key32(field: str, v: Any) -> None:
    if not isinstance(v, bytes) or len(v) != 32:
        raise bad(field, "must be 32 bytes (a member key or entry id)")


def signature64(field: str, v: Any) -> None:
    if not isinstance(v, bytes) or len(v) != 64:
        raise bad(field, "must be a 64-byte Ed25519 signature")


def integer(lo: int, hi: int) -> Check:
    def check(field: str, v: Any) -> None:
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise bad(field, f"must be a whole number from {lo} to {hi}")

    return check


def date(field: str, v: Any) -> None:
    text(10)(field, v)
    try:
        d = dt.date.fromisoformat(v)
    except ValueError:
        raise bad(field, f"{v!r} is not a date in the form YYYY-MM-DD (Common Era)") from None
    if not 1900 <= d.year <= 2200 or len(v) != 10:
        raise bad(field, f"{v!r} is not a plausible Common Era date (YYYY-MM-DD)")


def url(field: str, v: Any) -> None:
    text(500)(field, v)
    if v and not _URL.match(v):
        raise bad(field, f"{v!r} is not an http(s) URL")


def province(field: str, v: Any) -> None:
    text(8)(field, v)
    if v and v not in provinces.PROVINCES:
        raise bad(field, f"{v!r} is not an ISO 3166-2:TH province code such as TH-50")


def geo(field: str, v: Any) -> None:
    if not isinstance(v, list) or len(v) != 2:
        raise bad(field, "must be [latitude, longitude] as decimal strings")
    for part, limit in zip(v, (90, 180), strict=True):
        if not isinstance(part, str) or not _DECIMAL.match(part) or abs(float(part)) > limit:
            raise bad(field, f"{part!r} is not a decimal degree within ±{limit}")


def list_of(item: Check, max_items: int, *, unique: bool = False) -> Check:
    def check(field: str, v: Any) -> None:
        if not isinstance(v, list):
            raise bad(field, "must be a list")
        if len(v) > max_items:
            raise bad(field, f"has {len(v)} items, at most {max_items} allowed")
        for i, x in enumerate(v):
            item(f"{field}[{i}]", x)
        if unique and len({repr(x) for x in v}) != len(v):
            raise bad(field, "has duplicate items")

    return check


def map_of(spec: dict[str, Check]) -> Check:
    def check(field: str, v: Any) -> None:
        if not isinstance(v, dict):
            raise bad(field, "must be a map")
        for k, x in v.items():
            if k not in spec:
                raise bad(f"{field}.{k}", "is not a known field")
            spec[k](f"{field}.{k}", x)

    return check


TAGS = list_of(text(200, nonempty=True), 50, unique=True)
REQUEST_OUTCOMES = ("done", "cancelled")


def timestamp(field: str, v: Any) -> None:
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < 2**53:
        raise bad(field, "must be milliseconds since 1970 (a whole number)")


def charter_changes(field: str, v: Any) -> None:
    """What a proposal would change in the charter: any charter field but the name's history."""
    map_of({k: c for k, c in SCHEMAS["network"][1].items()})(field, v)
    if not v:
        raise bad(field, "names no charter field to change")

# kind -> (required fields, {field: check})
SCHEMAS: dict[str, tuple[frozenset[str], dict[str, Check]]] = {
    "network": (
        frozenset({"name", "kind"}),
        {
            "name": text(200, nonempty=True),
            "name_en": text(200),
            "purpose": text(4000),
            "purpose_en": text(4000),
            "vision": text(4000),
            "vision_en": text(4000),
            "kind": one_of(NETWORK_KINDS),
            "admission": map_of({"endorsements": integer(0, 100)}),
            "quorum": integer(0, 100),
            # how many endorsing members must vouch for a lost key's recovery (default 2)
            "recovery": map_of({"vouches": integer(1, 100)}),
        },
    ),
    "profile": (
        frozenset(),
        {
            "name_th": text(200),
            "name_en": text(200),
            "org_type": one_of(ORG_TYPES),
            "description": text(8000),
            "description_en": text(8000),
            "province": province,
            "locality": text(200),
            "geo": geo,
            "website": url,
            "contact": map_of({k: text(300) for k in CONTACT_KEYS}),
            "interests": TAGS,
            "expertise": TAGS,
            "offers": TAGS,
            "needs": TAGS,
            "endpoints": list_of(url, 8, unique=True),
        },
    ),
    "activity": (
        frozenset({"title", "kind", "date"}),
        {
            "title": text(300, nonempty=True),
            "kind": one_of(ACTIVITY_KINDS),
            "date": date,
            "end_date": date,
            "place": text(300),
            "participants": list_of(key32, 200, unique=True),
            "summary": text(8000),
            "outcome": text(4000),
        },
    ),
    "confirm": (frozenset({"activity"}), {"activity": key32, "note": text(1000)}),
    "endorse": (frozenset({"member"}), {"member": key32, "note": text(1000)}),
    "unendorse": (frozenset({"member"}), {"member": key32}),
    "leave": (frozenset(), {"reason": text(1000)}),
    # help requests and handing work on: request -> reply* -> accept -> handoff* -> close
    "request": (
        frozenset({"title"}),
        {"title": text(300, nonempty=True), "description": text(8000), "expertise": TAGS,
         "needed_by": date},
    ),  # fmt: skip
    "reply": (frozenset({"request"}), {"request": key32, "message": text(4000)}),
    "accept": (frozenset({"request", "reply"}), {"request": key32, "reply": key32}),
    "handoff": (
        frozenset({"request", "to"}), {"request": key32, "to": key32, "note": text(2000)},
    ),  # fmt: skip
    "close": (
        frozenset({"request", "outcome"}),
        {"request": key32, "outcome": one_of(REQUEST_OUTCOMES), "note": text(4000)},
    ),
    "thanks": (
        frozenset({"member"}),
        {"member": key32, "request": key32, "activity": key32, "message": text(2000)},
    ),
    # decisions together
    "proposal": (
        frozenset({"title", "options", "closes"}),
        {"title": text(300, nonempty=True), "text": text(8000),
         "options": list_of(text(200, nonempty=True), 10, unique=True), "closes": timestamp,
         "changes": charter_changes},
    ),  # fmt: skip
    "vote": (frozenset({"proposal", "option"}), {"proposal": key32, "option": integer(0, 9)}),
    # the key life cycle (docs/operations.md "Keys"): a member hands its feed over to a new
    # key, or, when the old key is lost or stolen, claims it back with a new key and
    # endorsing members vouch for the claim
    "rotate": (frozenset({"key", "proof"}), {"key": key32, "proof": signature64}),
    "recover": (
        frozenset({"member", "last_good"}),
        {"member": key32, "last_good": integer(0, 2**53), "reason": text(1000)},
    ),
    "vouch": (frozenset({"claim"}), {"claim": key32, "note": text(1000)}),
    # moderation: a node's block of a member, made public by the blocker (docs/operations.md)
    "block": (frozenset({"member"}), {"member": key32, "reason": text(1000)}),
    "unblock": (frozenset({"member"}), {"member": key32}),
}

KINDS = frozenset(SCHEMAS)


def validate_body(kind: str, body: Any) -> None:
    """Raise EntryRefusedError unless ``body`` fits the schema of ``kind``."""
    if kind not in SCHEMAS:
        raise EntryRefusedError(Refusal.UNKNOWN_KIND, f"unknown kind {kind!r}")
    if not isinstance(body, dict):
        raise bad("body", "must be a map")
    required, fields = SCHEMAS[kind]
    missing = required - body.keys()
    if missing:
        raise bad(sorted(missing)[0], f"is required in a {kind} entry")
    for name, value in body.items():
        check = fields.get(name)
        if check is None:
            raise bad(name, f"is not a field of a {kind} entry")
        check(name, value)
    if kind == "profile" and not (body.get("name_th") or body.get("name_en")):
        raise bad("name_th", "a profile needs a Thai or an English name")
    if kind == "activity" and "end_date" in body and body["end_date"] < body["date"]:
        raise bad("end_date", "is before the start date")
    if kind == "proposal":
        if len(body["options"]) < 2:
            raise bad("options", "a proposal needs at least two options")
        if "changes" in body and len(body["options"]) != 2:
            raise bad("options", "a charter change is voted on with two options: yes, no")
