"""The OpenAPI 3.1 description of the local API, served at ``/api/v1/openapi.json``.

One source of truth: ``PARAMETERS`` are also what the API checks query
parameters against (``p2pnet.node.api``), and a test fuzzes the running API
from this document (schemathesis) to prove it answers every request with a
documented status, media type and schema, never a 500.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from . import schema
from .directory import ACTIVITY_SORTS, MAX_LIMIT, MEMBER_SORTS, STATUSES

__all__ = ["OPERATIONS", "PARAMETERS", "PROBLEM_CODES", "document", "operation"]

API_VERSION = "1.0.0"
JSON = "application/json"
PROBLEM = "application/problem+json"


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(s: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [s, {"type": "null"}]}


STR = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
STRS = {"type": "array", "items": STR}
DATE = {"type": "string", "format": "date"}
BE_DATE = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}$",
    "description": "The same date, year in Buddhist Era (only with lang=th).",
}  # noqa: E501

# --------------------------------------------------------------------------- parameters
# name -> OpenAPI parameter object (in: query). "x-thai-digits": integers may use ๐-๙.
PARAMETERS: dict[str, dict[str, Any]] = {
    "limit": {
        "description": f"Page size, 1 to {MAX_LIMIT}. Thai digits (๐-๙) are accepted.",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50},
    },
    "cursor": {
        "description": "Opaque cursor from the previous page's `next_cursor`.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 400},
    },
    "lang": {
        "description": "Response language. `th` adds Buddhist Era dates (`*_be`). "
        "Without it, `Accept-Language: th` does the same.",
        "schema": {"type": "string", "enum": ["th", "en"]},
    },
    "q": {
        "description": "Full-text query, Thai and/or English; every term must match.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    },
    "search_q": {
        "name": "q",
        "required": True,
        "description": "Full-text query, Thai and/or English (at most 10 terms); every term must "
        "match. Query syntax characters are searched for as text.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    },
    "tag": {
        "description": "Members with an interest, expertise, offer or need containing this text.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    },
    "interest": {
        "description": "Members with an interest containing this text.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    },
    "expertise": {
        "description": "Members with expertise containing this text.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    },
    "offers": {
        "description": "Members offering something containing this text.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    },
    "needs": {
        "description": "Members needing something containing this text.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    },
    "province": {
        "description": "Province: Thai name, English name or ISO 3166-2:TH code (เชียงใหม่, "
        "Chiang Mai, TH-50). An unknown province is refused.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 100},
    },
    "area": {
        "description": "A province (as `province`), or else text contained in the locality.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 100},
    },
    "status": {
        "description": "Admission status.",
        "schema": {"type": "string", "enum": list(STATUSES)},
    },
    "forked": {
        "description": "Only members whose key signed two histories (true), or only the "
        "others (false).",
        "schema": {"type": "boolean"},
    },
    "member_sort": {
        "name": "sort",
        "description": "`name` (Thai dictionary order), `updated` or `joined`; `-` reverses.",
        "schema": {"type": "string", "enum": list(MEMBER_SORTS), "default": "name"},
    },
    "activity_sort": {
        "name": "sort",
        "description": "`-date` (newest first) or `date`.",
        "schema": {"type": "string", "enum": list(ACTIVITY_SORTS), "default": "-date"},
    },
    "what_if": {
        "description": "A member (id, unique id prefix or unique name): what if it left?",
        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    },
    "request_state": {
        "name": "state",
        "description": "Only help requests in this state.",
        "schema": {"type": "string", "enum": ["open", "in-progress", "closed"]},
    },
    "member": {
        "description": "A member: id, unique id prefix, or unique name.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    },
    "kind": {
        "description": "Kind of activity.",
        "schema": {"type": "string", "enum": list(schema.ACTIVITY_KINDS)},
    },
    "since": {
        "description": "From this date, inclusive: YYYY-MM-DD, YYYY-MM or YYYY, Common Era or "
        "Buddhist Era (a year above 2400 is BE: 2567-01-01 = 2024-01-01), Thai digits allowed.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 40},
    },
    "until": {
        "description": "Up to this date, inclusive (a year or month means its last day); "
        "as `since`.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 40},
    },
    "confirmed": {
        "description": "Only activities confirmed by at least one participant.",
        "schema": {"type": "boolean"},
    },
    "search_kind": {
        "name": "kind",
        "description": "Search only members or only activities.",
        "schema": {"type": "string", "enum": ["member", "activity"]},
    },
    "match_limit": {
        "name": "limit",
        "description": f"Needs per page (met and unmet together), 1 to {MAX_LIMIT}.",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 100},
    },
    "feed_limit": {
        "name": "limit",
        "description": f"Number of entries, 1 to {MAX_LIMIT}.",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50},
    },
}
for _key, _p in PARAMETERS.items():
    _p.setdefault("name", _key)
    _p.setdefault("in", "query")
    _p.setdefault("required", False)

PATH_MEMBER = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "Member id, unique id prefix (at least `pm` + 2 characters) or unique name.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
}
PATH_REQUEST = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "Help request id or a unique prefix of it.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
}
PATH_PROPOSAL = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "Proposal id or a unique prefix of it.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
}
PATH_CLAIM = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "Claim id or a unique prefix of it, or the lost member's id or name.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
}
PATH_BLOCKED = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "A blocked member: id, unique id prefix, or the name it had when blocked.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
}
PATH_ACTIVITY = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "Activity id or a unique prefix of it.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
}

# --------------------------------------------------------------------------- problems
PROBLEM_CODES: dict[str, str] = {
    "bad-request": "The request cannot be read (e.g. its body is not JSON).",
    "bad-parameter": "A query parameter has a wrong value; `parameter` names it.",
    "unknown-parameter": "The endpoint has no such query parameter; `parameter` names it.",
    "malformed-query": "The query string is not valid percent-encoded UTF-8 text.",
    "query-too-long": "The query string is over 1 KiB.",
    "bad-cursor": "The cursor was not made by this node for this listing.",
    "bad-date": "A date cannot be read; see the accepted forms.",
    "bad-query": "The search query cannot be searched (empty, too long, too many terms).",
    "unknown-province": "No Thai province has that name or code.",
    "unauthenticated": "The admin token is missing or wrong.",
    "not-found": "No such member, activity or endpoint.",
    "method-not-allowed": "The endpoint does not take that method.",
    "too-large": "The request body is larger than the node accepts.",
    "bad-field": "A field of the request body is wrong; `field` names it.",
    "not-a-participant": "This node's member is not a participant of the activity.",
    "no-network": "This node has not founded or joined a network yet.",
    "internal-error": "The node failed; nothing about it is revealed (see the node's log).",
}


def problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM: {"schema": ref("Problem")}}}


COMMON_ERRORS = {
    "400": problem_response(
        "Bad request or parameter (`bad-parameter`, `unknown-parameter`, "
        "`malformed-query`, `bad-cursor`, `bad-date`, `bad-query`, "
        "`unknown-province`)."
    ),
    "401": problem_response(
        "The admin token is needed (always for writes and the block list; for other reads when "
        "the API is not on loopback)."
    ),
    "404": problem_response("Not found."),
    "405": problem_response("Method not allowed."),
    "414": problem_response("Query string too long."),
}
WRITE_ERRORS = {
    "409": problem_response("This node is in no network yet (`no-network`)."),
    "413": problem_response("Request body too large."),
    "422": problem_response(
        "A body field is wrong (`bad-field`, with `field`) or the write is "
        "refused (`not-a-participant`)."
    ),
}
NOT_MODIFIED = {"304": {"description": "Not modified since the ETag sent in If-None-Match."}}
ETAG_HEADER = {
    "ETag": {"description": "Changes whenever the node's log does.", "schema": STR},
}

# --------------------------------------------------------------------------- schemas
PARTICIPANT = {
    "type": "object",
    "required": ["member", "name", "role", "confirmed"],
    "properties": {
        "member": STR,
        "name": STR,
        "role": {"type": "string", "enum": ["organiser", "participant"]},
        "confirmed": BOOL,
    },
}
ENDORSEMENT = {
    "type": "object",
    "required": ["member", "name", "ts", "note", "status"],
    "properties": {
        "member": STR,
        "name": STR,
        "ts": INT,
        "note": STR,
        "status": {"type": "string", "enum": list(STATUSES)},
    },
}
NULL_STR = {"type": ["string", "null"]}
NULL_INT = {"type": ["integer", "null"]}
MEMBER_KEY = {
    "type": "object",
    "required": ["key", "gen", "current", "until_seq", "ended_by", "entry", "ts"],
    "properties": {
        "key": {**STR, "description": "The key's id (pm…); the member's id is its first key's."},
        "gen": INT,
        "current": BOOL,
        "until_seq": {**NULL_INT, "description": "The key's last entry that counts."},
        "ended_by": {"type": ["string", "null"], "enum": ["rotate", "recover", None]},
        "entry": NULL_STR,
        "ts": NULL_INT,
    },
}
SCHEMAS: dict[str, dict[str, Any]] = {
    "KeyClaim": {
        "type": "object",
        "description": "A claim to take a lost or stolen key's member over with a new key.",
        "required": ["id", "member", "lost_key", "claimant_key", "last_good", "reason", "ts",
                     "vouchers", "counted", "needed", "in_effect"],
        "properties": {
            "id": STR, "member": STR, "lost_key": STR, "claimant_key": STR, "last_good": INT,
            "reason": STR, "ts": INT,
            "vouchers": {"type": "array", "items": STR, "description": "Every member who vouched."},
            "counted": {"type": "array", "items": STR,
                        "description": "Vouchers who endorse the lost member: these count."},
            "needed": INT, "in_effect": BOOL,
        },
    },  # fmt: skip
    "VouchInput": {
        "type": "object",
        "additionalProperties": False,
        "properties": {"note": {"type": "string", "maxLength": 1000}},
    },
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details. `type` is `urn:p2pnet:problem:<code>`, stable.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "pattern": "^urn:p2pnet:problem:[a-z0-9-]+$"},
            "title": STR,
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": STR,
            "parameter": {"type": "string", "description": "The query parameter at fault."},
            "field": {"type": "string", "description": "The body field at fault."},
        },
    },
    "Member": {
        "type": "object",
        "required": [
            "id",
            "name",
            "name_th",
            "name_en",
            "org_type",
            "description",
            "description_en",
            "province",
            "province_th",
            "province_en",
            "locality",
            "geo",
            "website",
            "contact",
            "endpoints",
            "interests",
            "expertise",
            "offers",
            "needs",
            "status",
            "forked",
            "founder",
            "has_profile",
            "profile_entry",
            "first_ts",
            "updated_ts",
            "joined_date",
            "updated_date",
            "entries",
        ],
        "properties": {
            "id": {"type": "string", "pattern": "^pm[a-z2-7]{52}$"},
            "name": STR,
            "name_th": STR,
            "name_en": STR,
            "org_type": STR,
            "description": STR,
            "description_en": STR,
            "province": {"type": "string", "description": "ISO 3166-2:TH code, or empty."},
            "province_th": STR,
            "province_en": STR,
            "locality": STR,
            "geo": nullable({"type": "array", "items": STR, "minItems": 2, "maxItems": 2}),
            "website": STR,
            "contact": {"type": "object", "additionalProperties": STR},
            "endpoints": STRS,
            "interests": STRS,
            "expertise": STRS,
            "offers": STRS,
            "needs": STRS,
            "status": {"type": "string", "enum": list(STATUSES)},
            "forked": BOOL,
            "founder": BOOL,
            "has_profile": BOOL,
            "profile_entry": nullable(STR),
            "first_ts": INT,
            "updated_ts": INT,
            "joined_date": DATE,
            "updated_date": DATE,
            "joined_date_be": BE_DATE,
            "updated_date_be": BE_DATE,
            "entries": INT,
        },
    },
    "Activity": {
        "type": "object",
        "required": [
            "id",
            "author",
            "author_name",
            "title",
            "kind",
            "date",
            "end_date",
            "place",
            "summary",
            "outcome",
            "ts",
            "participants",
            "confirmed",
        ],
        "properties": {
            "id": {"type": "string", "pattern": "^pe[a-z2-7]{52}$"},
            "author": STR,
            "author_name": STR,
            "title": STR,
            "kind": STR,
            "date": DATE,
            "end_date": nullable(DATE),
            "date_be": BE_DATE,
            "end_date_be": nullable(BE_DATE),
            "place": STR,
            "summary": STR,
            "outcome": STR,
            "ts": INT,
            "participants": {"type": "array", "items": PARTICIPANT},
            "confirmed": {"type": "integer", "description": "Participants who confirmed."},
        },
    },
    "MemberDetail": {
        "allOf": [
            ref("Member"),
            {
                "type": "object",
                "required": [
                    "endorsed_by",
                    "endorses",
                    "activities",
                    "activities_total",
                    "fork",
                    "last_update",
                    "keys",
                    "recovery_claims",
                    "blocked_by",
                ],
                "properties": {
                    "endorsed_by": {"type": "array", "items": ENDORSEMENT},
                    "endorses": {"type": "array", "items": ENDORSEMENT},
                    "activities": {
                        "type": "array",
                        "items": ref("Activity"),
                        "description": "The latest activities the member took part in.",
                    },
                    "activities_total": INT,
                    "fork": {
                        "type": "object",
                        "required": ["forked", "conflicting_entries"],
                        "properties": {"forked": BOOL, "conflicting_entries": INT},
                    },
                    "last_update": {"type": "string", "format": "date-time"},
                    "keys": {"type": "array", "items": MEMBER_KEY,
                             "description": "The member's keys, first to current."},
                    "recovery_claims": {"type": "array", "items": ref("KeyClaim")},
                    "blocked_by": {
                        "type": "array",
                        "description": "Blocks of this member that other members published "
                        "(signed block entries). A node's own block list is never shown here.",
                        "items": {
                            "type": "object",
                            "required": ["member", "name", "reason", "ts", "entry"],
                            "properties": {"member": STR, "name": STR, "reason": STR, "ts": INT,
                                           "entry": STR},
                        },
                    },
                },
            },
        ]
    },
    "MemberPage": {
        "type": "object",
        "required": ["items", "next_cursor", "total"],
        "properties": {
            "items": {"type": "array", "items": ref("Member")},
            "next_cursor": nullable(STR),
            "total": INT,
        },
    },
    "ActivityPage": {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": ref("Activity")},
            "next_cursor": nullable(STR),
        },
    },
    "SearchHit": {
        "type": "object",
        "required": [
            "kind",
            "id",
            "score",
            "field",
            "title",
            "snippet",
            "snippet_html",
            "snippet_parts",
        ],
        "properties": {
            "kind": {"type": "string", "enum": ["member", "activity"]},
            "id": STR,
            "score": {"type": "number"},
            "field": {"type": "string", "enum": ["name", "body"]},
            "title": STR,
            "snippet": {"type": "string", "description": "Plain text around the first match."},
            "snippet_html": {
                "type": "string",
                "description": "The snippet HTML-escaped, matches in <mark>.",
            },
            "snippet_parts": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["text", "match"],
                    "properties": {"text": STR, "match": BOOL},
                },
            },
            "date": DATE,
            "date_be": BE_DATE,
            "author": STR,
            "author_name": STR,
        },
    },
    "SearchPage": {
        "type": "object",
        "required": ["query", "items", "next_cursor"],
        "properties": {
            "query": STR,
            "items": {"type": "array", "items": ref("SearchHit")},
            "next_cursor": nullable(STR),
        },
    },
    "MatchOffer": {
        "type": "object",
        "required": ["member", "name", "offer", "score", "level", "shared_words", "explanation"],
        "properties": {
            "member": STR,
            "name": STR,
            "offer": STR,
            "score": {"type": "number", "minimum": 0, "maximum": 1},
            "level": {"type": "string", "enum": ["phrase", "all-words", "some-words"]},
            "shared_words": STRS,
            "explanation": {
                "type": "object",
                "required": ["en", "th"],
                "properties": {"en": STR, "th": STR},
            },
        },
    },
    "Matches": {
        "type": "object",
        "required": ["member", "needs", "unmet", "counts", "next_cursor"],
        "properties": {
            "member": nullable(STR),
            "needs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["member", "name", "need", "offers"],
                    "properties": {
                        "member": STR,
                        "name": STR,
                        "need": STR,
                        "offers": {"type": "array", "items": ref("MatchOffer")},
                    },
                },
            },
            "unmet": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["member", "name", "need"],
                    "properties": {"member": STR, "name": STR, "need": STR},
                },
            },
            "gives": {
                "type": "array",
                "description": "With `member`: needs of others its offers meet.",
                "items": {
                    "type": "object",
                    "required": ["member", "name", "need", "offer", "score", "level"],
                    "properties": {
                        "member": STR,
                        "name": STR,
                        "need": STR,
                        "offer": STR,
                        "score": {"type": "number"},
                        "level": STR,
                    },
                },
            },
            "next_cursor": nullable(STR),
            "counts": {
                "type": "object",
                "description": "Totals over every page.",
                "required": ["needs", "met", "unmet", "matches"],
                "properties": {"needs": INT, "met": INT, "unmet": INT, "matches": INT},
            },
        },
    },
    "Network": {
        "type": "object",
        "required": [
            "charter",
            "network",
            "kind",
            "members",
            "admitted",
            "pending",
            "left",
            "forked",
            "activities",
            "endorsements",
            "entries",
            "activity_kinds",
            "provinces",
        ],
        "properties": {
            "charter": nullable(
                {
                    "type": "object",
                    "description": "The signed genesis: name, "
                    "purpose, vision, kind, admission rule, founder, founded_ts.",
                }
            ),
            "network": nullable(STR),
            "kind": nullable({"type": "string", "enum": list(schema.NETWORK_KINDS)}),
            "members": INT,
            "admitted": INT,
            "pending": INT,
            "left": INT,
            "forked": INT,
            "activities": INT,
            "endorsements": INT,
            "entries": INT,
            "activity_kinds": {"type": "object", "additionalProperties": INT},
            "provinces": {"type": "object", "additionalProperties": INT},
            "founded_date": DATE,
            "founded_date_be": BE_DATE,
        },
    },
    "Graph": {
        "type": "object",
        "required": ["nodes", "edges"],
        "properties": {
            "nodes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "name", "status", "forked", "province", "org_type"],
                    "properties": {
                        "id": STR,
                        "name": STR,
                        "status": {"type": "string", "enum": list(STATUSES)},
                        "forked": BOOL,
                        "province": STR,
                        "org_type": STR,
                    },
                },
            },
            "edges": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["source", "target", "kind", "weight"],
                    "properties": {
                        "source": STR,
                        "target": STR,
                        "kind": {"type": "string", "enum": ["endorsement", "shared-activities"]},
                        "weight": {"type": "integer", "minimum": 1},
                    },
                },
            },
        },
    },
    "Status": {
        "type": "object",
        "required": [
            "member",
            "network",
            "entries",
            "feeds",
            "own_seq",
            "peers",
            "peers_with_latest",
            "started_ts",
            "gossip",
        ],
        "properties": {
            "member": STR,
            "network": nullable(STR),
            "entries": INT,
            "feeds": INT,
            "own_seq": INT,
            "peers": INT,
            "peers_with_latest": INT,
            "started_ts": INT,
            "gossip": nullable({"type": "object"}),
        },
    },
    "Peer": {
        "type": "object",
        "required": [
            "url",
            "source",
            "member",
            "failures",
            "next_try_ts",
            "last_ok_ts",
            "last_error",
            "last_error_ts",
            "entries_in",
            "entries_out",
            "has_my_seq",
        ],
        "properties": {
            "url": STR,
            "source": STR,
            "member": nullable(STR),
            "failures": INT,
            "next_try_ts": INT,
            "last_ok_ts": nullable(INT),
            "last_error": nullable(STR),
            "last_error_ts": nullable(INT),
            "entries_in": INT,
            "entries_out": INT,
            "has_my_seq": INT,
        },
    },
    "Peers": {
        "type": "object",
        "required": ["peers"],
        "properties": {"peers": {"type": "array", "items": ref("Peer")}},
    },
    "ProfileInput": {
        "type": "object",
        "description": "A profile. POST replaces the whole profile (endpoints are kept when "
        "omitted); PATCH merges (RFC 7396: a null removes a field). Needs a Thai or English name.",
        "additionalProperties": False,
        "properties": {
            "name_th": {"type": "string", "maxLength": 200},
            "name_en": {"type": "string", "maxLength": 200},
            "org_type": {"type": "string", "enum": list(schema.ORG_TYPES)},
            "description": {"type": "string", "maxLength": 8000},
            "description_en": {"type": "string", "maxLength": 8000},
            "province": {
                "type": "string",
                "maxLength": 100,
                "description": "Thai name, English name or ISO 3166-2:TH code.",
            },
            "locality": {"type": "string", "maxLength": 200},
            "geo": {
                "type": "array",
                "minItems": 2,
                "maxItems": 2,
                "items": {"type": ["string", "number"]},
                "description": "[latitude, longitude] in decimal degrees.",
            },
            "website": {"type": "string", "maxLength": 500},
            "contact": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    k: {"type": "string", "maxLength": 300} for k in schema.CONTACT_KEYS
                },
            },
            "interests": {
                "type": "array",
                "maxItems": 50,
                "items": {"type": "string", "maxLength": 200},
            },
            "expertise": {
                "type": "array",
                "maxItems": 50,
                "items": {"type": "string", "maxLength": 200},
            },
            "offers": {
                "type": "array",
                "maxItems": 50,
                "items": {"type": "string", "maxLength": 200},
            },
            "needs": {
                "type": "array",
                "maxItems": 50,
                "items": {"type": "string", "maxLength": 200},
            },
            "endpoints": {
                "type": "array",
                "maxItems": 8,
                "items": {"type": "string", "maxLength": 500},
            },
        },
    },
    "ActivityInput": {
        "type": "object",
        "required": ["title", "kind", "date"],
        "additionalProperties": False,
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": 300},
            "kind": {"type": "string", "enum": list(schema.ACTIVITY_KINDS)},
            "date": {
                "type": "string",
                "maxLength": 40,
                "description": "YYYY-MM-DD in CE or BE (a year above 2400 is BE), or DD/MM/YYYY.",
            },
            "end_date": {"type": "string", "maxLength": 40},
            "place": {"type": "string", "maxLength": 300},
            "participants": {
                "type": "array",
                "maxItems": 200,
                "items": {"type": "string", "maxLength": 200},
                "description": "Members (id, unique id prefix or unique name).",
            },
            "summary": {"type": "string", "maxLength": 8000},
            "outcome": {"type": "string", "maxLength": 4000},
        },
    },
    "ConfirmInput": {
        "type": "object",
        "additionalProperties": False,
        "properties": {"note": {"type": "string", "maxLength": 1000}},
    },
    "EndorseInput": {
        "type": "object",
        "required": ["member"],
        "additionalProperties": False,
        "properties": {
            "member": {"type": "string", "minLength": 1, "maxLength": 200},
            "note": {"type": "string", "maxLength": 1000},
        },
    },
    "RequestInput": {
        "type": "object",
        "required": ["title"],
        "additionalProperties": False,
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": 300},
            "description": {"type": "string", "maxLength": 8000},
            "expertise": {"type": "array", "maxItems": 50, "items": {"type": "string", "maxLength": 200}},
            "needed_by": {"type": "string", "maxLength": 40, "description": "A date, CE or BE."},
        },
    },
    "ReplyInput": {
        "type": "object",
        "additionalProperties": False,
        "properties": {"message": {"type": "string", "maxLength": 4000}},
    },
    "AcceptInput": {
        "type": "object",
        "required": ["reply"],
        "additionalProperties": False,
        "properties": {"reply": {"type": "string", "minLength": 1, "maxLength": 200,
                                 "description": "The reply's entry id or a unique prefix."}},
    },
    "HandoffInput": {
        "type": "object",
        "required": ["to"],
        "additionalProperties": False,
        "properties": {
            "to": {"type": "string", "minLength": 1, "maxLength": 200,
                   "description": "The member taking the work on: id, prefix or name."},
            "note": {"type": "string", "maxLength": 2000},
        },
    },
    "CloseInput": {
        "type": "object",
        "required": ["outcome"],
        "additionalProperties": False,
        "properties": {
            "outcome": {"type": "string", "enum": ["done", "cancelled"]},
            "note": {"type": "string", "maxLength": 4000},
        },
    },
    "ThanksInput": {
        "type": "object",
        "required": ["member"],
        "additionalProperties": False,
        "properties": {
            "member": {"type": "string", "minLength": 1, "maxLength": 200},
            "message": {"type": "string", "maxLength": 2000},
            "request": {"type": "string", "minLength": 1, "maxLength": 200},
            "activity": {"type": "string", "minLength": 1, "maxLength": 200},
        },
    },
    "ProposalInput": {
        "type": "object",
        "required": ["title", "closes_in_days"],
        "additionalProperties": False,
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": 300},
            "text": {"type": "string", "maxLength": 8000},
            "options": {"type": "array", "minItems": 2, "maxItems": 10,
                        "items": {"type": "string", "minLength": 1, "maxLength": 200}},
            "closes_in_days": {"type": "integer", "minimum": 1, "maximum": 366},
            "changes": {"type": "object", "description": "Charter fields to change (yes/no vote)."},
        },
    },
    "VoteInput": {
        "type": "object",
        "required": ["option"],
        "additionalProperties": False,
        "properties": {"option": {"type": "integer", "minimum": 0, "maximum": 9,
                                  "description": "Index of the chosen option."}},
    },
    "BlockInput": {
        "type": "object",
        "required": ["member"],
        "additionalProperties": False,
        "properties": {
            "member": {"type": "string", "minLength": 1, "maxLength": 200,
                       "description": "The member to block: id, unique id prefix or unique name."},
            "reason": {"type": "string", "maxLength": 1000},
            "publish": {"type": "boolean", "default": False,
                        "description": "Also write a signed, public `block` entry."},
            "purge": {"type": "boolean", "default": False,
                      "description": "Also delete the member's entries from this node's log."},
        },
    },
    "BlockResult": {
        "type": "object",
        "required": ["member", "name", "changed", "purged", "published", "reindexed"],
        "properties": {
            "member": STR,
            "name": STR,
            "changed": {"type": "boolean",
                        "description": "False when the member was already blocked and nothing "
                        "more was asked."},
            "purged": {"type": "integer", "description": "Entries deleted from the log now."},
            "published": nullable({"type": "string", "description": "The block or unblock "
                                   "entry written now."}),
            "reindexed": {"type": "integer", "description": "Entries replayed into the directory."},
        },
    },
    "BlockList": {
        "type": "object",
        "required": ["blocks"],
        "properties": {
            "blocks": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["member", "name", "reason", "ts", "published", "purged", "held"],
                    "properties": {
                        "member": STR,
                        "name": STR,
                        "reason": STR,
                        "ts": INT,
                        "published": nullable(STR),
                        "purged": {"type": "integer", "description": "Entries deleted."},
                        "held": {"type": "integer", "description": "Entries held, hidden."},
                    },
                },
            }
        },
    },
    "PeerInput": {
        "type": "object",
        "required": ["url"],
        "properties": {"url": {"type": "string", "maxLength": 500}},
    },
    "WriteResult": {
        "type": "object",
        "required": ["entry", "seq"],
        "properties": {
            "entry": nullable(STR),
            "seq": nullable(INT),
            "member": {"type": "object"},
            "activity": {"type": "object"},
        },
        "description": "`entry` is the id of the signed entry written, or null when nothing "
        "needed writing (already confirmed, already endorsed).",
    },
}


# --------------------------------------------------------------------------- operations
def _json(schema_: dict[str, Any], description: str = "OK", *, etag: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description, "content": {JSON: {"schema": schema_}}}
    if etag:
        out["headers"] = ETAG_HEADER
    return out


def _media(media: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": STR}}, "headers": ETAG_HEADER}


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {JSON: {"schema": ref(name)}}}


def _write(path: str, summary: str, body: str, path_param: dict[str, Any] | None = None) -> dict[str, Any]:
    """A POST that signs one entry with this node's member key (issue 7's kinds)."""
    op: dict[str, Any] = dict(
        method="post", path=path, summary=summary, params=[], body=body, write=True,
        ok={"201": _json(ref("WriteResult"), "Written", etag=False)},
    )  # fmt: skip
    if path_param is not None:
        op["path_param"] = path_param
    return op


LIST = ["limit", "cursor", "lang"]
# operation id -> method, path, summary, query parameter keys (PARAMETERS), path_param,
# ok responses, body (schema name), write (needs the token), admin (a read that needs the
# token, even on loopback), cache (ETag; default True)
OPERATIONS: dict[str, dict[str, Any]] = {
    "status": dict(
        method="get",
        path="/api/v1/status",
        summary="This node: member, network, log, peers, gossip.",
        params=[],
        ok={"200": _json(ref("Status"), etag=False)},
        cache=False,
    ),
    "listPeers": dict(
        method="get",
        path="/api/v1/peers",
        summary="Peers and their sync state.",
        params=[],
        ok={"200": _json(ref("Peers"), etag=False)},
        cache=False,
    ),
    "addPeer": dict(
        method="post",
        path="/api/v1/peers",
        summary="Add a peer by URL.",
        params=[],
        body="PeerInput",
        write=True,
        ok={
            "201": _json(
                {"type": "object", "required": ["url"], "properties": {"url": STR}},
                "Added",
                etag=False,
            )
        },
    ),
    "openapi": dict(
        method="get",
        path="/api/v1/openapi.json",
        summary="This document.",
        params=[],
        ok={"200": _json({"type": "object"})},
    ),
    "network": dict(
        method="get",
        path="/api/v1/network",
        summary="The charter, counts and kind of network.",
        params=["lang"],
        ok={"200": _json(ref("Network"))},
    ),
    "graph": dict(
        method="get",
        path="/api/v1/network/graph",
        summary="Members, endorsements (directed) and shared activities (weighted).",
        params=[],
        ok={"200": _json(ref("Graph"))},
    ),
    "graphml": dict(
        method="get",
        path="/api/v1/network/graph.graphml",
        summary="The graph as GraphML.",
        params=[],
        ok={"200": _media("application/graphml+xml", "GraphML")},
    ),
    "listMembers": dict(
        method="get",
        path="/api/v1/members",
        summary="Members, filtered and sorted.",
        params=[
            "q",
            "tag",
            "interest",
            "expertise",
            "offers",
            "needs",
            "province",
            "area",
            "status",
            "forked",
            "member_sort",
            *LIST,
        ],
        ok={"200": _json(ref("MemberPage"))},
    ),
    "memberJsonld": dict(
        method="get",
        path="/api/v1/members/{id}.jsonld",
        summary="A member as schema.org Organization (JSON-LD, inline @context).",
        params=[],
        path_param=PATH_MEMBER,
        ok={
            "200": {
                "description": "JSON-LD",
                "headers": ETAG_HEADER,
                "content": {"application/ld+json": {"schema": {"type": "object"}}},
            }
        },
    ),
    "getMember": dict(
        method="get",
        path="/api/v1/members/{id}",
        summary="One member: profile, endorsements, activities, fork status.",
        params=["lang"],
        path_param=PATH_MEMBER,
        ok={"200": _json(ref("MemberDetail"))},
    ),
    "memberMurmurations": dict(
        method="get",
        path="/api/v1/members/{id}/murmurations.json",
        summary="A member as a Murmurations organizations_schema-v1.0.0 profile.",
        params=[],
        path_param=PATH_MEMBER,
        ok={"200": _json({"type": "object", "required": ["linked_schemas", "name"]})},
    ),
    "memberFeed": dict(
        method="get",
        path="/api/v1/members/{id}/activities.atom",
        summary="A member's activities as an Atom feed.",
        params=["feed_limit", "lang"],
        path_param=PATH_MEMBER,
        ok={"200": _media("application/atom+xml", "Atom feed")},
    ),
    "listActivities": dict(
        method="get",
        path="/api/v1/activities",
        summary="Activities, newest first.",
        params=["member", "kind", "since", "until", "confirmed", "activity_sort", *LIST],
        ok={"200": _json(ref("ActivityPage"))},
    ),
    "addActivity": dict(
        method="post",
        path="/api/v1/activities",
        summary="Record an activity, signed by this node's member.",
        params=[],
        body="ActivityInput",
        write=True,
        ok={"201": _json(ref("WriteResult"), "Written", etag=False)},
    ),
    "getActivity": dict(
        method="get",
        path="/api/v1/activities/{id}",
        summary="One activity.",
        params=["lang"],
        path_param=PATH_ACTIVITY,
        ok={"200": _json(ref("Activity"))},
    ),
    "confirmActivity": dict(
        method="post",
        path="/api/v1/activities/{id}/confirm",
        summary="Confirm, as a participant, that the activity took place.",
        params=[],
        path_param=PATH_ACTIVITY,
        body="ConfirmInput",
        write=True,
        ok={
            "201": _json(ref("WriteResult"), "Written", etag=False),
            "200": _json(ref("WriteResult"), "Already confirmed", etag=False),
        },
    ),
    "search": dict(
        method="get",
        path="/api/v1/search",
        summary="Members and activities together, ranked, with highlighted snippets.",
        params=["search_q", "search_kind", "limit", "cursor", "lang"],
        ok={"200": _json(ref("SearchPage"))},
    ),
    "match": dict(
        method="get",
        path="/api/v1/match",
        summary="Whose offers meet whose needs, scored and explained (th, en).",
        params=["member", "match_limit", "cursor", "lang"],
        ok={"200": _json(ref("Matches"))},
    ),
    "networkHealth": dict(
        method="get",
        path="/api/v1/network/health",
        summary="The health report: the six principles measured, each figure explained "
        "in Thai and English, with monthly trends (docs/cooperation.md).",
        params=["what_if"],
        ok={"200": _json({"type": "object", "description": "The report (`figures`), or with "
                          "`what_if` the groups the network would fall into (`groups`, `cut_off`)."})},
    ),
    "listRequests": dict(
        method="get",
        path="/api/v1/requests",
        summary="Help requests with their derived state, newest first.",
        params=["request_state", "member"],
        ok={"200": _json({"type": "object", "required": ["requests"]})},
    ),
    "getRequest": dict(
        method="get",
        path="/api/v1/requests/{id}",
        summary="One help request: replies, history, refused steps with reasons, thanks.",
        params=[],
        path_param=PATH_REQUEST,
        ok={"200": _json({"type": "object", "required": ["id", "state", "history", "refused"]})},
    ),
    "listProposals": dict(
        method="get",
        path="/api/v1/proposals",
        summary="Proposals with their tallies, latest closing first.",
        params=[],
        ok={"200": _json({"type": "object", "required": ["proposals", "charter"]})},
    ),
    "getProposal": dict(
        method="get",
        path="/api/v1/proposals/{id}",
        summary="One proposal: who voted what, refused votes with reasons, the result.",
        params=[],
        path_param=PATH_PROPOSAL,
        ok={"200": _json({"type": "object", "required": ["id", "result", "counts", "votes"]})},
    ),
    "listKeyClaims": dict(
        method="get",
        path="/api/v1/key-claims",
        summary="Recovery claims for lost keys, newest first, with their vouches.",
        params=["member"],
        ok={"200": _json({"type": "object", "required": ["claims"],
                          "properties": {"claims": {"type": "array", "items": ref("KeyClaim")}}})},
    ),  # fmt: skip
    "vouchClaim": _write("/api/v1/key-claims/{id}/vouch",
                         "Vouch for a recovery claim (this node's member must endorse the lost one to count).",
                         "VouchInput", PATH_CLAIM),  # fmt: skip
    "addRequest": _write("/api/v1/requests", "Post a help request (signed by this node's member).", "RequestInput"),
    "replyRequest": _write("/api/v1/requests/{id}/reply", "Offer help with a request.", "ReplyInput", PATH_REQUEST),
    "acceptReply": _write("/api/v1/requests/{id}/accept", "Accept a reply to this member's request.", "AcceptInput", PATH_REQUEST),
    "handoffRequest": _write("/api/v1/requests/{id}/handoff", "Hand the work on a request on to another member.", "HandoffInput", PATH_REQUEST),
    "closeRequest": _write("/api/v1/requests/{id}/close", "Close this member's request as done or cancelled.", "CloseInput", PATH_REQUEST),
    "thank": _write("/api/v1/thanks", "Thank a member (an acknowledgement).", "ThanksInput"),
    "addProposal": _write("/api/v1/proposals", "Put a proposal to the network.", "ProposalInput"),
    "vote": _write("/api/v1/proposals/{id}/vote", "Vote on a proposal; the latest vote counts.", "VoteInput", PATH_PROPOSAL),
    "networkFeed": dict(
        method="get",
        path="/api/v1/feeds/activities.atom",
        summary="The network's activities as an Atom feed.",
        params=["feed_limit", "lang"],
        ok={"200": _media("application/atom+xml", "Atom feed")},
    ),
    "membersCsv": dict(
        method="get",
        path="/api/v1/export/members.csv",
        summary="Members as CSV.",
        params=[],
        ok={"200": _media("text/csv", "CSV, UTF-8 with BOM")},
    ),
    "activitiesCsv": dict(
        method="get",
        path="/api/v1/export/activities.csv",
        summary="Activities as CSV (streamed).",
        params=[],
        ok={"200": _media("text/csv", "CSV, UTF-8 with BOM")},
    ),
    "getProfile": dict(
        method="get",
        path="/api/v1/profile",
        summary="This node's own member.",
        params=["lang"],
        ok={"200": _json(ref("MemberDetail"))},
    ),
    "setProfile": dict(
        method="post",
        path="/api/v1/profile",
        summary="Replace this node's profile (a signed profile entry).",
        params=[],
        body="ProfileInput",
        write=True,
        ok={"200": _json(ref("WriteResult"), "Written", etag=False)},
    ),
    "patchProfile": dict(
        method="patch",
        path="/api/v1/profile",
        summary="Change some fields of this node's profile (JSON merge patch).",
        params=[],
        body="ProfileInput",
        write=True,
        ok={"200": _json(ref("WriteResult"), "Written", etag=False)},
    ),
    "endorse": dict(
        method="post",
        path="/api/v1/endorsements",
        summary="Endorse a member.",
        params=[],
        body="EndorseInput",
        write=True,
        ok={
            "201": _json(ref("WriteResult"), "Written", etag=False),
            "200": _json(ref("WriteResult"), "Already endorsed", etag=False),
        },
    ),
    "unendorse": dict(
        method="delete",
        path="/api/v1/endorsements/{id}",
        summary="Withdraw this node's endorsement of a member.",
        params=[],
        path_param=PATH_MEMBER,
        write=True,
        ok={"200": _json(ref("WriteResult"), "Withdrawn (or there was none)", etag=False)},
    ),
    "listBlocks": dict(
        method="get",
        path="/api/v1/blocks",
        summary="This node's block list (private: the admin token is needed, even on loopback).",
        params=[],
        admin=True,
        cache=False,
        ok={"200": _json(ref("BlockList"), etag=False)},
    ),
    "addBlock": dict(
        method="post",
        path="/api/v1/blocks",
        summary="Block a member: its entries are no longer stored, relayed or shown here; "
        "optionally purge them and publish the block.",
        params=[],
        body="BlockInput",
        write=True,
        ok={
            "201": _json(ref("BlockResult"), "Blocked", etag=False),
            "200": _json(ref("BlockResult"), "Already blocked; nothing more to do", etag=False),
        },
    ),
    "removeBlock": dict(
        method="delete",
        path="/api/v1/blocks/{id}",
        summary="Unblock a member: its held entries are shown again, purged ones come back "
        "by gossip; a published block is withdrawn with a signed unblock entry.",
        params=[],
        path_param=PATH_BLOCKED,
        write=True,
        ok={"200": _json(ref("BlockResult"), "Unblocked", etag=False)},
    ),
}


def operation(op_id: str) -> dict[str, Any]:
    return OPERATIONS[op_id]


@functools.cache
def _document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op_id, op in OPERATIONS.items():
        params = [PARAMETERS[k] for k in op["params"]]
        if op.get("path_param"):
            params = [op["path_param"], *params]
        responses = {**op["ok"]}
        if op["method"] == "get" and op.get("cache", True):
            responses.update(NOT_MODIFIED)
        responses.update(COMMON_ERRORS)
        if op.get("write"):
            responses.update(WRITE_ERRORS)
        item: dict[str, Any] = {
            "operationId": op_id,
            "summary": op["summary"],
            "parameters": params,
            "responses": dict(sorted(responses.items())),
        }
        if op.get("body"):
            item["requestBody"] = _body(op["body"])
        if op.get("write") or op.get("admin"):
            item["security"] = [{"adminToken": []}]
        paths.setdefault(op["path"], {})[op["method"]] = item
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "p2pnet local directory API",
            "version": API_VERSION,
            "description": (
                "The directory of a p2pnet network as one member's node sees it. Reads need no "
                "token on loopback (but for the private block list); writes need the node's admin "
                "token (`Authorization: Bearer "
                "<admin.token>`). Errors are RFC 9457 problem details with a stable "
                "`type` = `urn:p2pnet:problem:<code>`: "
                + "; ".join(f"`{k}`: {v}" for k, v in PROBLEM_CODES.items())
            ),
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "adminToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The token in the node's home, file admin.token.",
                },
            },
        },
    }


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (a fresh copy)."""
    return copy.deepcopy(_document())
