"""Standard formats, read back by the libraries other tools use: feedparser (Atom), rdflib
(JSON-LD, offline), jsonschema (Murmurations fields), csv, networkx (GraphML)."""

from __future__ import annotations

import csv
import io
import warnings

import feedparser
import jsonschema
import networkx as nx
import pytest
from rdflib import RDF, Graph, Literal, Namespace, URIRef

from p2pnet import exports

from .test_api import LiveNode

SDO = Namespace("https://schema.org/")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    node = LiveNode(tmp_path_factory.mktemp("exports"))
    yield node
    node.close()


# --------------------------------------------------------------------------- Atom
def test_network_atom_feed_reads_in_a_feed_reader(live):
    r = live.get("/api/v1/feeds/activities.atom?limit=10")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/atom+xml")
    feed = feedparser.parse(r.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "Don Kaeo–Mae Rim Elderly and Community Health Network"
    assert feed.feed.id.startswith("urn:p2pnet:network:pn")
    assert len(feed.entries) == 10
    newest = live.json("/api/v1/activities?limit=10")["items"]
    for entry, act in zip(feed.entries, newest, strict=True):
        assert entry.id == f"urn:p2pnet:activity:{act['id']}"
        assert entry.title == act["title"]
        assert entry.links[0].href.endswith(f"/api/v1/activities/{act['id']}")
        assert entry.author == act["author_name"]
        assert entry.published_parsed and entry.updated_parsed
        assert act["date"] in entry.summary
        assert entry.tags[0].term == act["kind"]


def test_member_atom_feed_in_thai_shows_buddhist_era(live):
    club = live.id("elderly_club")
    feed = feedparser.parse(live.get(f"/api/v1/members/{club}/activities.atom?lang=th").content)
    assert not feed.bozo
    assert feed.feed.title == "ชมรมผู้สูงอายุบ้านดอนแก้ว"
    mine = live.json(f"/api/v1/activities?member={club}&limit=50")["items"]
    assert [e.title for e in feed.entries] == [a["title"] for a in mine]
    assert "17 ม.ค. 2567" in feed.entries[-1].summary  # the founding meeting, 2024-01-17
    assert live.get("/api/v1/members/nobody-at-all/activities.atom").status_code == 404


# --------------------------------------------------------------------------- JSON-LD
def test_member_json_ld_parses_offline_as_schema_org_organization(live):
    club = live.id("elderly_club")
    r = live.get(f"/api/v1/members/{club}.jsonld")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/ld+json")
    with warnings.catch_warnings():
        # rdflib's JSON-LD parser uses its own deprecated ConjunctiveGraph internally
        warnings.simplefilter("ignore", DeprecationWarning)
        g = Graph().parse(data=r.text, format="json-ld")  # the @context is inline: no fetch
    me = URIRef(f"{live.url}/api/v1/members/{club}")
    assert (me, RDF.type, SDO.Organization) in g
    assert (me, SDO.name, Literal("ชมรมผู้สูงอายุบ้านดอนแก้ว", lang="th")) in g
    assert (me, SDO.name, Literal("Ban Don Kaeo Elderly Club", lang="en")) in g
    assert (me, SDO.identifier, Literal(club)) in g
    address = g.value(me, SDO.address)
    assert g.value(address, SDO.addressCountry) == Literal("TH")
    assert g.value(address, SDO.addressLocality) == Literal("ต.ดอนแก้ว อ.แม่ริม")
    geo = g.value(me, SDO.geo)
    assert float(g.value(geo, SDO.latitude)) == pytest.approx(18.8762)
    offers = {
        str(g.value(g.value(o, SDO.itemOffered), SDO.name)) for o in g.objects(me, SDO.makesOffer)
    }
    assert "ศาลาวัดสำหรับจัดกิจกรรมกลางแจ้ง" in offers
    seeks = {str(g.value(g.value(o, SDO.itemOffered), SDO.name)) for o in g.objects(me, SDO.seeks)}
    assert "ห้องประชุม" in seeks
    endorsers = set(g.objects(me, SDO.endorsers))
    assert URIRef(f"{live.url}/api/v1/members/{live.id('health_unit')}") in endorsers
    assert (g.value(me, SDO.memberOf), RDF.type, SDO.Organization) in g
    assert g.value(me, SDO.telephone) == Literal("+66 53 000 1101")


# --------------------------------------------------------------------------- Murmurations
URL = {"type": "string", "maxLength": 2000, "pattern": "^https?://.*"}
# The constraints of the Murmurations field library that organizations_schema-v1.0.0 uses.
MURMURATIONS = {
    "type": "object",
    "required": ["linked_schemas", "name"],
    "properties": {
        "linked_schemas": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {
                "type": "string",
                "pattern": r"^[a-z][a-z0-9_]{7,97}-v[0-9]+\.[0-9]+\.[0-9]+$",
            },
        },
        "name": {"type": "string", "maxLength": 200},
        "nickname": {"type": "string", "maxLength": 100},
        "primary_url": URL,
        "tags": {
            "type": "array",
            "minItems": 1,
            "maxItems": 100,
            "uniqueItems": True,
            "items": {"type": "string", "maxLength": 100},
        },
        "urls": {
            "type": "array",
            "uniqueItems": True,
            "items": {
                "type": "object",
                "required": ["url"],
                "properties": {"name": {"type": "string"}, "url": URL},
            },
        },
        "description": {"type": "string"},
        "mission": {"type": "string"},
        "status": {"enum": ["active", "completed", "cancelled", "on_hold", "in_planning"]},
        "country_iso_3166": {"type": "string", "pattern": "^[A-Z]{2}$"},
        "country_name": {"type": "string", "maxLength": 100},
        "region": {"type": "string", "maxLength": 100},
        "locality": {"type": "string", "maxLength": 100},
        "geolocation": {
            "type": "object",
            "required": ["lat", "lon"],
            "properties": {
                "lat": {"type": "number", "minimum": -90, "maximum": 90},
                "lon": {"type": "number", "minimum": -180, "maximum": 180},
            },
        },
        "rss": URL,
        "relationships": {
            "type": "array",
            "uniqueItems": True,
            "items": {
                "type": "object",
                "required": ["predicate_url", "object_url"],
                "properties": {"predicate_url": URL, "object_url": URL},
            },
        },
        "contact_details": {
            "type": "object",
            "properties": {"email": {"type": "string"}, "contact_form": URL},
        },
        "telephone": {"type": "string"},
        "geographic_scope": {"enum": ["local", "regional", "national", "international"]},
    },
}


@pytest.mark.parametrize("key", ["elderly_club", "school", "vhv", "ngo", "khonkaen"])
def test_murmurations_profile_fits_the_organizations_schema(live, key):
    mid = live.id(key)
    p = live.json(f"/api/v1/members/{mid}/murmurations.json")
    jsonschema.validate(p, MURMURATIONS)
    assert p["linked_schemas"] == ["organizations_schema-v1.0.0"]
    assert p["country_iso_3166"] == "TH" and p["geolocation"]["lat"] > 0
    member = live.json(f"/api/v1/members/{mid}")
    assert set(member["interests"]) <= set(p["tags"])
    assert {
        r["object_url"] for r in p["relationships"] if r["predicate_url"].endswith("endorsers")
    } == {f"{live.url}/api/v1/members/{e['member']}" for e in member["endorsed_by"]}


def test_murmurations_uses_the_members_own_website_as_primary_url(live):
    p = live.json(f"/api/v1/members/{live.id('school')}/murmurations.json")
    assert p["primary_url"] == "https://www.bandonkaeo-school.ac.th"
    assert p["region"] == "Chiang Mai" and p["locality"] == "ต.ดอนแก้ว อ.แม่ริม"


# --------------------------------------------------------------------------- CSV
def test_members_csv(live):
    r = live.get("/api/v1/export/members.csv")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")  # BOM: spreadsheets then read Thai as UTF-8
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 10 and tuple(rows[0]) == exports.MEMBER_CSV_COLUMNS
    sao = next(row for row in rows if row["id"] == live.id("sao"))
    assert sao["province_th"] == "เชียงใหม่" and "ห้องประชุมของ อบต. (รองรับ 80 คน)" in sao[
        "offers"
    ].split(" | ")
    assert sao["status"] == "admitted" and sao["forked"] == "false"


def test_activities_csv_streams_every_activity(live):
    r = live.get("/api/v1/export/activities.csv")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    again = live.get("/api/v1/export/activities.csv", headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 32 and tuple(rows[0]) == exports.ACTIVITY_CSV_COLUMNS
    api = {a["id"]: a for a in live.json("/api/v1/activities?limit=50")["items"]}
    for row in rows:
        a = api[row["id"]]
        assert row["title"] == a["title"] and row["date"] == a["date"]
        assert set(row["participants"].split()) == {
            p["member"] for p in a["participants"] if p["role"] == "participant"
        }
        assert int(row["confirmed"]) == a["confirmed"]


def test_csv_cells_cannot_become_spreadsheet_formulas():
    member = {
        "id": "pm1",
        "name_th": '=HYPERLINK("http://x")',
        "name_en": "+1",
        "org_type": "",
        "status": "pending",
        "forked": False,
        "province": "",
        "province_th": "",
        "province_en": "",
        "locality": "@x",
        "geo": None,
        "website": "",
        "contact": {"phone": "-5"},
        "interests": [],
        "expertise": [],
        "offers": [],
        "needs": [],
        "joined_date": "2024-01-01",
        "updated_date": "2024-01-01",
    }
    row = next(csv.DictReader(io.StringIO(exports.members_csv([member], bom=False))))
    assert row["name_th"].startswith("'=") and row["name_en"] == "'+1"
    assert row["locality"] == "'@x" and row["phone"] == "'-5"


# --------------------------------------------------------------------------- graph
def test_graphml_loads_in_networkx_and_matches_the_json(live):
    r = live.get("/api/v1/network/graph.graphml")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/graphml+xml")
    g = nx.read_graphml(io.BytesIO(r.content))
    data = live.json("/api/v1/network/graph")
    assert set(g.nodes) == {n["id"] for n in data["nodes"]}
    assert g.number_of_edges() == len(data["edges"])
    club = live.id("elderly_club")
    assert g.nodes[club]["name"] == "ชมรมผู้สูงอายุบ้านดอนแก้ว" and g.nodes[club]["forked"] is False
    kinds = [d["kind"] for _, _, d in g.edges(data=True)]
    assert kinds.count("endorsement") == 16
    shared = [d["weight"] for _, _, d in g.edges(data=True) if d["kind"] == "shared-activities"]
    assert shared and min(shared) >= 1
    # a shared-activities edge counts the activities both members took part in
    pair = {
        (e["source"], e["target"]): e["weight"]
        for e in data["edges"]
        if e["kind"] == "shared-activities"
    }
    hu = live.id("health_unit")
    together = [
        a
        for a in live.json("/api/v1/activities?limit=50")["items"]
        if {club, hu} <= {p["member"] for p in a["participants"]}
    ]
    assert pair[tuple(sorted((club, hu)))] == len(together) > 0
