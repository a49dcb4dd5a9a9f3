"""Writes through the local API: signed with the node's key, validated, behind the admin token."""

from __future__ import annotations

import dataclasses
import io

import aiohttp
import pytest

from p2pnet import sample
from p2pnet.store import Store

from .nodes import FAST, make_home, start

PROBLEM = "application/problem+json"


class Writer:
    def __init__(self, node, session, token):
        self.node, self.http, self.token = node, session, token
        self.url = node.api_url
        self.auth = {"Authorization": f"Bearer {token}"}

    async def call(self, method, path, body=None, *, auth=True, raw=None, headers=None):
        hdrs = {**(self.auth if auth else {}), **(headers or {})}
        kw = {"data": raw} if raw is not None else {"json": body} if body is not None else {}
        async with self.http.request(method, self.url + path, headers=hdrs, **kw) as r:
            ctype = r.headers.get("Content-Type", "")
            data = await r.json(content_type=None) if "json" in ctype else await r.text()
            return r.status, data, r.headers

    async def problem(self, method, path, body, status, code, **kw):
        got, data, headers = await self.call(method, path, body, **kw)
        assert got == status, (got, data)
        assert headers["Content-Type"].startswith(PROBLEM)
        assert data["type"] == f"urn:p2pnet:problem:{code}", data
        return data


@pytest.fixture
async def writer(tmp_path):
    who = sample.demo_identity("youth")
    home, _ = make_home(tmp_path, "youth", who=who)
    with Store(home.db_file) as s:
        people = sample.seed(s)
        # an activity the youth group took part in and has not confirmed yet
        s.append(
            people["health_unit"],
            "activity",
            {
                "title": "อบรม CPR รุ่นที่ 2",
                "kind": "training",
                "date": "2025-03-01",
                "participants": [who.public, people["school"].public],
            },
        )
    node = await start(home, who)
    async with aiohttp.ClientSession() as session:
        yield Writer(node, session, home.admin_token())
    await node.stop()


async def _activity_id(w: Writer, title: str) -> str:
    status, page, _ = await w.call(
        "GET", "/api/v1/search?q=" + title.replace(" ", "+") + "&kind=activity"
    )
    assert status == 200
    return next(h["id"] for h in page["items"] if h["title"] == title)


async def test_writes_need_the_admin_token(writer):
    body = {"title": "x", "kind": "meeting", "date": "2025-01-01"}
    await writer.problem("POST", "/api/v1/activities", body, 401, "unauthenticated", auth=False)
    await writer.problem(
        "POST",
        "/api/v1/activities",
        body,
        401,
        "unauthenticated",
        auth=False,
        headers={"Authorization": "Bearer wrong"},
    )
    await writer.problem(
        "DELETE", "/api/v1/endorsements/khon", None, 401, "unauthenticated", auth=False
    )
    await writer.problem(
        "PATCH", "/api/v1/profile", {"name_en": "x"}, 401, "unauthenticated", auth=False
    )


async def test_add_activity_with_buddhist_era_date_and_participants_by_name(writer):
    status, _, before = await writer.call("GET", "/api/v1/activities?limit=1")
    etag = before["ETag"]
    body = {
        "title": "ประชุมเครือข่าย ครั้งที่ ๕",
        "kind": "meeting",
        "date": "๒๕๖๘-๐๑-๑๕",
        "end_date": "16/1/2568",
        "place": "ห้องประชุม อบต.ดอนแก้ว",
        "participants": ["โรงเรียนบ้านดอนแก้ว", "Lanna Healthy", "pmoam"],  # the last is ourselves
    }
    status, data, headers = await writer.call("POST", "/api/v1/activities", body)
    assert status == 201, data
    act = data["activity"]
    assert data["entry"] == act["id"] and headers["Location"] == f"/api/v1/activities/{act['id']}"
    assert (act["date"], act["end_date"]) == ("2025-01-15", "2025-01-16")
    assert act["author"] == writer.node.identity.member_id
    names = {p["name"]: p["role"] for p in act["participants"]}
    assert names["Lanna Healthy Ageing Foundation"] == "participant"
    assert names["กลุ่มเยาวชนจิตอาสาแม่ริม"] == "organiser" and len(names) == 3
    status, same, _ = await writer.call("GET", f"/api/v1/activities/{act['id']}?lang=th")
    assert status == 200 and same["date_be"] == "2568-01-15" and same["end_date_be"] == "2568-01-16"
    status, _, _ = await writer.call(
        "GET", "/api/v1/activities?limit=1", headers={"If-None-Match": etag}
    )
    assert status == 200  # the log changed, so the old ETag no longer matches
    # the entry is in the node's own signed feed
    seq = await writer.node.ctx.store.call(lambda s: s.feed(writer.node.identity.public).seq)
    assert seq == data["seq"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "meeting", "date": "2025-01-01"}, "title"),
        ({"title": "x", "kind": "party", "date": "2025-01-01"}, "kind"),
        ({"title": "x", "kind": "meeting", "date": "next week"}, "date"),
        ({"title": "x", "kind": "meeting", "date": "2025-02-30"}, "date"),
        (
            {"title": "x", "kind": "meeting", "date": "2025-01-02", "end_date": "2025-01-01"},
            "end_date",
        ),
        (
            {
                "title": "x",
                "kind": "meeting",
                "date": "2025-01-01",
                "participants": ["nobody-at-all"],
            },
            "participants[0]",
        ),
        (
            {"title": "x", "kind": "meeting", "date": "2025-01-01", "participants": [7]},
            "participants[0]",
        ),
        ({"title": "x", "kind": "meeting", "date": "2025-01-01", "colour": "red"}, "colour"),
        ({"title": "x" * 301, "kind": "meeting", "date": "2025-01-01"}, "title"),
        ({"title": 5, "kind": "meeting", "date": "2025-01-01"}, "title"),
    ],
)
async def test_bad_activity_bodies_name_the_field(writer, body, field):
    data = await writer.problem("POST", "/api/v1/activities", body, 422, "bad-field")
    assert data["field"] == field


async def test_unreadable_bodies_are_400(writer):
    await writer.problem("POST", "/api/v1/activities", None, 400, "bad-request", raw=b"{not json")
    await writer.problem("POST", "/api/v1/activities", [1, 2], 400, "bad-request")
    await writer.problem("POST", "/api/v1/activities", None, 400, "bad-request", raw=b"\xff\xfe")
    await writer.problem(
        "POST", "/api/v1/activities", None, 413, "too-large", raw=io.BytesIO(b"x" * (2 << 20))
    )


async def test_confirm_as_participant_once(writer):
    aid = await _activity_id(writer, "อบรม CPR รุ่นที่ 2")
    status, data, _ = await writer.call(
        "POST", f"/api/v1/activities/{aid[:14]}/confirm", {"note": "ได้ความรู้มาก"}
    )
    assert status == 201 and data["entry"] and data["activity"]["confirmed"] == 1
    me = writer.node.identity.member_id
    assert next(p for p in data["activity"]["participants"] if p["member"] == me)["confirmed"]
    status, again, _ = await writer.call("POST", f"/api/v1/activities/{aid}/confirm")
    assert status == 200 and again["entry"] is None and again["activity"]["confirmed"] == 1
    await writer.problem("POST", "/api/v1/activities/pe0000000000/confirm", {}, 404, "not-found")
    status, page, _ = await writer.call("GET", "/api/v1/activities?kind=training&limit=50")
    theirs = next(a for a in page["items"] if me not in {p["member"] for p in a["participants"]})
    await writer.problem(
        "POST", f"/api/v1/activities/{theirs['id']}/confirm", {}, 422, "not-a-participant"
    )
    await writer.problem(
        "POST", f"/api/v1/activities/{aid}/confirm", {"mood": "happy"}, 422, "bad-field"
    )


async def test_endorse_and_withdraw(writer):
    khonkaen = sample.demo_identity("khonkaen").member_id
    status, data, _ = await writer.call(
        "POST", "/api/v1/endorsements", {"member": "บ้านเป็ด", "note": "ดูงานกัน"}
    )
    assert status == 201 and data["member"]["id"] == khonkaen
    me = writer.node.identity.member_id
    assert me in {e["member"] for e in data["member"]["endorsed_by"]}
    status, again, _ = await writer.call("POST", "/api/v1/endorsements", {"member": khonkaen})
    assert status == 200 and again["entry"] is None
    status, gone, _ = await writer.call("DELETE", f"/api/v1/endorsements/{khonkaen[:8]}")
    assert (
        status == 200
        and gone["entry"]
        and me not in {e["member"] for e in gone["member"]["endorsed_by"]}
    )
    status, none, _ = await writer.call("DELETE", f"/api/v1/endorsements/{khonkaen}")
    assert status == 200 and none["entry"] is None
    assert (await writer.problem("POST", "/api/v1/endorsements", {"member": me}, 422, "bad-field"))[
        "field"
    ] == "member"
    assert (
        await writer.problem(
            "POST", "/api/v1/endorsements", {"member": "nobody-at-all"}, 422, "bad-field"
        )
    )["field"] == "member"
    await writer.problem("POST", "/api/v1/endorsements", {}, 422, "bad-field")
    await writer.problem("DELETE", "/api/v1/endorsements/nobody-at-all", None, 404, "not-found")


async def test_profile_patch_and_replace(writer):
    status, data, _ = await writer.call(
        "PATCH",
        "/api/v1/profile",
        {"province": "เชียงราย", "geo": [19.9105, 99.8406], "locality": "อ.เมือง"},
    )
    assert status == 200, data
    m = data["member"]
    assert m["province"] == "TH-57" and m["geo"] == ["19.9105", "99.8406"]
    assert m["name_en"] == "Mae Rim Youth Volunteers"  # kept: a patch changes only what it names
    status, data, _ = await writer.call("PATCH", "/api/v1/profile", {"locality": None})
    assert status == 200 and data["member"]["locality"] == ""
    status, data, _ = await writer.call(
        "POST", "/api/v1/profile", {"name_en": "Youth", "org_type": "youth-group"}
    )
    assert status == 200
    m = data["member"]
    assert (m["name_en"], m["name_th"], m["province"], m["offers"]) == ("Youth", "", "", [])
    status, own, _ = await writer.call("GET", "/api/v1/profile")
    assert status == 200 and own["id"] == writer.node.identity.member_id and own["name"] == "Youth"
    assert (await writer.problem("POST", "/api/v1/profile", {"org_type": "ngo"}, 422, "bad-field"))[
        "field"
    ] == "name_th"
    assert (
        await writer.problem("PATCH", "/api/v1/profile", {"province": "Atlantis"}, 422, "bad-field")
    )["field"] == "province"
    assert (await writer.problem("PATCH", "/api/v1/profile", {"geo": [91, 0]}, 422, "bad-field"))[
        "field"
    ] == "geo"
    assert (
        await writer.problem("PATCH", "/api/v1/profile", {"offers": "rooms"}, 422, "bad-field")
    )["field"] == "offers"


async def test_writes_before_joining_a_network_are_409(tmp_path):
    home, who = make_home(tmp_path, "alone")
    node = await start(home, who)
    try:
        async with aiohttp.ClientSession() as session:
            w = Writer(node, session, home.admin_token())
            await w.problem(
                "POST",
                "/api/v1/activities",
                {"title": "x", "kind": "meeting", "date": "2025-01-01"},
                409,
                "no-network",
            )
            await w.problem("GET", "/api/v1/profile", None, 404, "not-found")
            status, net, _ = await w.call("GET", "/api/v1/network")
            assert status == 200 and net["charter"] is None and net["members"] == 0
    finally:
        await node.stop()


@pytest.mark.parametrize("open_api", [False, True])
async def test_reads_off_loopback_need_the_token_unless_opened(tmp_path, open_api):
    home, who = make_home(tmp_path, "public")
    config = dataclasses.replace(FAST, api="0.0.0.0:0", open_api=open_api)
    node = await start(home, who, config)
    try:
        async with aiohttp.ClientSession() as session:
            w = Writer(node, session, home.admin_token())
            status, _, _ = await w.call("GET", "/api/v1/members", auth=False)
            assert status == (200 if open_api else 401)
            status, _, _ = await w.call("GET", "/api/v1/members")
            assert status == 200
    finally:
        await node.stop()
