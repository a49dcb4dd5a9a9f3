"""Standard formats, so that existing tools can read a node's directory.

Pure functions from the directory's dicts (``p2pnet.directory``) to:

* a **Murmurations** profile (``organizations_schema-v1.0.0``), so directory
  maps that read Murmurations can show a member;
* **schema.org Organization** as JSON-LD, with an inline ``@context`` (no
  network fetch is needed to expand it);
* **Atom** (RFC 4287) feeds of activities, for the whole network and per member;
* **CSV** of members and activities (UTF-8 with a byte-order mark, so that
  spreadsheet programs show Thai; cells that a spreadsheet would run as a
  formula are prefixed with ``'``);
* the network **graph** as JSON and as **GraphML** (via networkx).

``base`` is the URL the client used to reach this node (``http://host:port``);
links in the exports point back at this node's API.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any
from xml.etree import ElementTree as ET

from . import thai

__all__ = [
    "ACTIVITY_CSV_COLUMNS",
    "MEMBER_CSV_COLUMNS",
    "MURMURATIONS_SCHEMA",
    "activities_csv",
    "atom_feed",
    "graphml",
    "jsonld_organization",
    "member_url",
    "members_csv",
    "murmurations_profile",
]

MURMURATIONS_SCHEMA = "organizations_schema-v1.0.0"
SCHEMA_ORG = "https://schema.org/"
ATOM_NS = "http://www.w3.org/2005/Atom"
_TAG_MAX = 100  # Murmurations: tags are at most 100 characters, at most 100 of them
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def member_url(base: str, member_id: str) -> str:
    return f"{base}/api/v1/members/{member_id}"


def _member_link(base: str, m: dict[str, Any]) -> str:
    """A member's canonical URL: its own website, else its page on this node."""
    return str(m.get("website") or member_url(base, m["id"]))


def _phone_international(phone: str) -> str:
    """Thai numbers as written (``053-000-1101``) in international form (``+66 53 000 1101``)."""
    digits = [p for p in re.split(r"[\s\-().]+", thai.arabic_digits(phone.strip())) if p]
    if not digits or not all(p.lstrip("+").isdigit() for p in digits):
        return phone
    if digits[0].startswith("+"):
        return " ".join(digits)
    if digits[0].startswith("0"):
        digits[0] = digits[0][1:]
        return " ".join(["+66", *[d for d in digits if d]])
    return phone


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


# --------------------------------------------------------------------------- Murmurations
def murmurations_profile(
    m: dict[str, Any], *, base: str, network: dict[str, Any] | None
) -> dict[str, Any]:
    """A member as a Murmurations ``organizations_schema-v1.0.0`` profile.

    Mapping: name -> ``name`` (Thai, else English) and ``nickname`` (English);
    description -> ``description``; English description -> ``mission``;
    interests, expertise, offers, needs, org type -> ``tags``; province ->
    ``region``; ``country_iso_3166`` is TH; endorsements received and the
    network -> ``relationships`` (``https://schema.org/endorsers``,
    ``https://schema.org/memberOf``).
    """
    tags = (
        _unique(
            t[:_TAG_MAX].strip()
            for t in [
                *m.get("interests", []),
                *m.get("expertise", []),
                *m.get("offers", []),
                *m.get("needs", []),
                m.get("org_type", ""),
            ]  # fmt: skip
        )[:100]
        or ["organisation"]
    )
    contact = m.get("contact") or {}
    urls = [{"name": "p2pnet profile", "url": member_url(base, m["id"])}]
    if m.get("website"):
        urls.insert(0, {"name": "website", "url": m["website"]})
    if contact.get("facebook", "").startswith(("http://", "https://")):
        urls.append({"name": "facebook", "url": contact["facebook"]})
    out: dict[str, Any] = {
        "linked_schemas": [MURMURATIONS_SCHEMA],
        "name": (m.get("name_th") or m.get("name_en") or m["name"])[:200],
        "primary_url": _member_link(base, m),
        "tags": tags,
        "urls": urls,
        "country_iso_3166": "TH",
        "country_name": "Thailand",
        "geographic_scope": "local",
        "rss": f"{member_url(base, m['id'])}/activities.atom",
        "status": "completed" if m.get("status") == "left" else "active",
    }
    if m.get("name_th") and m.get("name_en"):
        out["nickname"] = m["name_en"][:200]
    if m.get("description") or m.get("description_en"):
        out["description"] = m.get("description") or m.get("description_en")
    if m.get("description_en") and m.get("description"):
        out["mission"] = m["description_en"]
    if m.get("geo"):
        lat, lon = m["geo"]
        out["geolocation"] = {"lat": float(lat), "lon": float(lon)}
    if m.get("province_en"):
        out["region"] = m["province_en"][:100]
    if m.get("locality"):
        out["locality"] = m["locality"][:100]
    if contact.get("address"):
        out["full_address"] = contact["address"]
    if contact.get("email"):
        out["contact_details"] = {"email": contact["email"]}
    if contact.get("phone"):
        out["telephone"] = _phone_international(contact["phone"])
    relationships = [
        {"predicate_url": f"{SCHEMA_ORG}endorsers", "object_url": member_url(base, e["member"])}
        for e in m.get("endorsed_by", [])
    ]
    if network and network.get("network"):
        relationships.append(
            {"predicate_url": f"{SCHEMA_ORG}memberOf", "object_url": f"{base}/api/v1/network"}
        )
    if relationships:
        out["relationships"] = relationships
    return out


# --------------------------------------------------------------------------- JSON-LD
def _lang_values(th: str, en: str) -> Any:
    if th and en:
        return [{"@value": th, "@language": "th"}, {"@value": en, "@language": "en"}]
    return th or en or None


def jsonld_organization(
    m: dict[str, Any], *, base: str, network: dict[str, Any] | None
) -> dict[str, Any]:
    """A member as a schema.org ``Organization`` in JSON-LD (inline ``@context``)."""
    contact = m.get("contact") or {}
    doc: dict[str, Any] = {
        "@context": {"@vocab": SCHEMA_ORG},
        "@type": "Organization",
        "@id": member_url(base, m["id"]),
        "identifier": m["id"],
        "name": _lang_values(m.get("name_th", ""), m.get("name_en", "")) or m["name"],
    }
    desc = _lang_values(m.get("description", ""), m.get("description_en", ""))
    if desc:
        doc["description"] = desc
    if m.get("website"):
        doc["url"] = m["website"]
    if contact.get("email"):
        doc["email"] = contact["email"]
    if contact.get("phone"):
        doc["telephone"] = _phone_international(contact["phone"])
    address: dict[str, Any] = {"@type": "PostalAddress", "addressCountry": "TH"}
    if m.get("locality"):
        address["addressLocality"] = m["locality"]
    if m.get("province"):
        address["addressRegion"] = _lang_values(m.get("province_th", ""), m.get("province_en", ""))
    if contact.get("address"):
        address["streetAddress"] = contact["address"]
    doc["address"] = address
    if m.get("geo"):
        lat, lon = m["geo"]
        doc["geo"] = {"@type": "GeoCoordinates", "latitude": float(lat), "longitude": float(lon)}
    knows = _unique([*m.get("interests", []), *m.get("expertise", [])])
    if knows:
        doc["knowsAbout"] = knows
    if m.get("offers"):
        doc["makesOffer"] = [
            {"@type": "Offer", "itemOffered": {"@type": "Service", "name": o}} for o in m["offers"]
        ]
    if m.get("needs"):
        doc["seeks"] = [
            {"@type": "Demand", "itemOffered": {"@type": "Service", "name": n}} for n in m["needs"]
        ]
    if network and network.get("network"):
        c = network.get("charter") or {}
        doc["memberOf"] = {
            "@type": "Organization",
            "@id": f"{base}/api/v1/network",
            "identifier": network["network"],
            "name": _lang_values(c.get("name", ""), c.get("name_en", "")) or network["network"],
        }
    if m.get("endorsed_by"):
        doc["endorsers"] = [
            {"@type": "Organization", "@id": member_url(base, e["member"]), "name": e["name"]}
            for e in m["endorsed_by"]
        ]
    doc["subjectOf"] = {
        "@type": "DataFeed",
        "url": f"{member_url(base, m['id'])}/activities.atom",
        "encodingFormat": "application/atom+xml",
    }
    return doc


# --------------------------------------------------------------------------- Atom
def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
    if text is not None:
        el.text = _xml_safe(text)
    return el


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    return _XML_BAD.sub("", text)


def atom_feed(
    activities: Sequence[dict[str, Any]],
    *,
    base: str,
    feed_id: str,
    title: str,
    self_url: str,
    subtitle: str = "",
    lang: str = "en",
) -> bytes:
    """An Atom feed of activities, newest first; Thai (``lang="th"``) adds BE dates."""
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": lang})
    _sub(feed, "id", feed_id)
    _sub(feed, "title", title)
    if subtitle:
        _sub(feed, "subtitle", subtitle)
    updated = max((a["ts"] for a in activities), default=0)
    _sub(feed, "updated", thai.iso_of_ms(updated))
    _sub(feed, "link", rel="self", href=self_url, type="application/atom+xml")
    _sub(feed, "generator", "p2pnet")
    for a in activities:
        e = _sub(feed, "entry")
        _sub(e, "id", f"urn:p2pnet:activity:{a['id']}")
        _sub(e, "title", a["title"])
        _sub(e, "updated", thai.iso_of_ms(a["ts"]))
        _sub(e, "published", thai.iso_of_ms(a["ts"]))
        author = _sub(e, "author")
        _sub(author, "name", a.get("author_name") or a["author"])
        _sub(author, "uri", member_url(base, a["author"]))
        _sub(
            e,
            "link",
            rel="alternate",
            href=f"{base}/api/v1/activities/{a['id']}",
            type="application/json",
        )
        _sub(e, "category", term=a["kind"])
        when = a["date"] + (f" – {a['end_date']}" if a.get("end_date") else "")
        if lang == "th":
            when = f"{thai.format_th(a['date'])}" + (
                f" – {thai.format_th(a['end_date'])}" if a.get("end_date") else ""
            )
        lines = [f"{'วันที่' if lang == 'th' else 'Date'}: {when}"]
        if a.get("place"):
            lines.append(f"{'สถานที่' if lang == 'th' else 'Place'}: {a['place']}")
        others = [p["name"] for p in a.get("participants", []) if p.get("role") != "organiser"]
        if others:
            lines.append(f"{'ผู้ร่วม' if lang == 'th' else 'With'}: {', '.join(others)}")
        if a.get("summary"):
            lines.append(a["summary"])
        if a.get("outcome"):
            lines.append(f"{'ผลลัพธ์' if lang == 'th' else 'Outcome'}: {a['outcome']}")
        _sub(e, "summary", "\n".join(lines), type="text")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + bytes(
        ET.tostring(feed, encoding="utf-8", xml_declaration=False)
    )


# --------------------------------------------------------------------------- CSV
MEMBER_CSV_COLUMNS = (
    "id", "name_th", "name_en", "org_type", "status", "forked", "province", "province_th",
    "province_en", "locality", "lat", "lon", "website", "email", "phone", "line", "interests",
    "expertise", "offers", "needs", "joined_date", "updated_date",
)  # fmt: skip
ACTIVITY_CSV_COLUMNS = (
    "id", "date", "end_date", "title", "kind", "place", "author", "author_name", "participants",
    "confirmed", "summary", "outcome",
)  # fmt: skip
LIST_SEPARATOR = " | "


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text.startswith(_FORMULA_START):
        text = "'" + text  # spreadsheets would run it as a formula (CSV injection)
    return text


def _csv(rows: Iterable[Sequence[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    for row in rows:
        w.writerow([_cell(v) for v in row])
    return buf.getvalue()


def members_csv(members: Iterable[dict[str, Any]], *, bom: bool = True) -> str:
    """Members as CSV (RFC 4180, CRLF); list fields joined with `` | ``."""

    def row(m: dict[str, Any]) -> list[Any]:
        c = m.get("contact") or {}
        geo = m.get("geo") or [None, None]
        return [
            m["id"], m["name_th"], m["name_en"], m["org_type"], m["status"], m["forked"],
            m["province"], m["province_th"], m["province_en"], m["locality"], geo[0], geo[1],
            m["website"], c.get("email"), c.get("phone"), c.get("line"),
            *(LIST_SEPARATOR.join(m[f]) for f in ("interests", "expertise", "offers", "needs")),
            m["joined_date"], m["updated_date"],
        ]  # fmt: skip

    return ("\ufeff" if bom else "") + _csv([MEMBER_CSV_COLUMNS, *(row(m) for m in members)])


def activities_csv(
    activities: Iterable[dict[str, Any]], *, header: bool = True, bom: bool = True
) -> str:
    """Activities as CSV; ``participants`` holds member ids separated by spaces.

    Takes the flat rows of ``directory.export_activities``; call it batch by
    batch with ``header=False, bom=False`` after the first to stream a large log.
    """
    rows: list[Sequence[Any]] = [ACTIVITY_CSV_COLUMNS] if header else []
    rows += [[a.get(c) for c in ACTIVITY_CSV_COLUMNS] for a in activities]
    return ("\ufeff" if bom and header else "") + _csv(rows)


# --------------------------------------------------------------------------- graph
def graphml(graph: dict[str, Any]) -> bytes:
    """The graph of ``directory.graph`` as GraphML: a directed multigraph whose edges have a
    ``kind`` (``endorsement`` or ``shared-activities``) and a ``weight``."""
    import networkx as nx  # type: ignore[import-untyped]

    g = nx.MultiDiGraph(name="p2pnet network")
    for n in graph["nodes"]:
        g.add_node(n["id"], name=n["name"], status=n["status"], forked=bool(n["forked"]),
                   province=n["province"] or "", org_type=n["org_type"] or "")  # fmt: skip
    for e in graph["edges"]:
        g.add_edge(e["source"], e["target"], kind=e["kind"], weight=int(e["weight"]))
    ns = "http://graphml.graphdrawing.org/xmlns"
    root = ET.fromstring("".join(nx.generate_graphml(g, prettyprint=False)))
    # networkx writes Python's True/False; GraphML booleans are xsd:boolean (true/false).
    booleans = {k.get("id") for k in root.iter(f"{{{ns}}}key") if k.get("attr.type") == "boolean"}
    for data in root.iter(f"{{{ns}}}data"):
        if data.get("key") in booleans and data.text:
            data.text = data.text.lower()
    ET.register_namespace("", ns)
    ET.indent(root)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True)) + b"\n"
