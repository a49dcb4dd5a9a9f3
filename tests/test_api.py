"""The local directory API, read side: a real node on loopback holding the sample network.

One node per module (``live`` fixture) runs in a thread with its own event loop,
and the tests talk to it over HTTP with ``requests``; nothing here writes.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
import requests

from p2pnet import sample
from p2pnet.config import NodeConfig
from p2pnet.store import Store

from .nodes import FAST, make_home, start

PROBLEM = "application/problem+json"


class LiveNode:
    """A real node with the sample network, served from a background event loop."""

    def __init__(
        self, root: Path, *, who: str = "youth", config: NodeConfig = FAST, seed: bool = True
    ):
        self.identity = sample.demo_identity(who)
        self.home, _ = make_home(root, who, who=self.identity)
        if seed:
            with Store(self.home.db_file) as s:
                self.people = sample.seed(s)
        self.token = self.home.admin_token()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="live-node", daemon=True)
        self.thread.start()
        self.node = asyncio.run_coroutine_threadsafe(
            start(self.home, self.identity, config), self.loop
        ).result(30)
        self.url = self.node.api_url
        self.http = requests.Session()

    def id(self, key: str) -> str:
        return sample.demo_identity(key).member_id

    def get(self, path: str, **kw) -> requests.Response:
        return self.http.get(self.url + path, timeout=30, **kw)

    def json(self, path: str, **kw):
        r = self.get(path, **kw)
        assert r.status_code == 200, (path, r.status_code, r.text[:500])
        assert r.headers["Content-Type"].startswith("application/json")
        return r.json()

    def problem(self, path: str, status: int, code: str, **kw) -> dict:
        r = self.get(path, **kw)
        assert r.status_code == status, (path, r.status_code, r.text[:500])
        assert r.headers["Content-Type"].startswith(PROBLEM), r.headers["Content-Type"]
        body = r.json()
        assert body["type"] == f"urn:p2pnet:problem:{code}", body
        assert body["status"] == status and body["title"] and body["detail"]
        return body

    def close(self) -> None:
        self.http.close()
        asyncio.run_coroutine_threadsafe(self.node.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    node = LiveNode(tmp_path_factory.mktemp("live"))
    yield node
    node.close()


def walk(live: LiveNode, path: str) -> list[dict]:
    """Every item of a cursor-paginated listing."""
    items, cursor = [], None
    for _ in range(100):
        sep = "&" if "?" in path else "?"
        page = live.json(path + (f"{sep}cursor={cursor}" if cursor else ""))
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination did not end")


# --------------------------------------------------------------------------- status, network
def test_status_keeps_its_shape(live):
    s = live.json("/api/v1/status")
    for key in (
        "member",
        "network",
        "entries",
        "feeds",
        "own_seq",
        "peers",
        "peers_with_latest",
        "gossip",
    ):
        assert key in s
    assert s["member"] == live.id("youth") and s["feeds"] == 10


def test_network_has_charter_counts_and_kind(live):
    n = live.json("/api/v1/network")
    assert n["kind"] == "hybrid" and n["charter"]["name_en"].startswith("Don Kaeo")
    assert (n["members"], n["admitted"], n["pending"], n["left"]) == (10, 10, 0, 0)
    assert n["activities"] == 32 and n["endorsements"] == 16
    assert n["provinces"] == {"TH-40": 1, "TH-50": 9}
    assert sum(n["activity_kinds"].values()) == 32
    assert "founded_date_be" not in n


def test_thai_responses_add_buddhist_era_dates(live):
    n = live.json("/api/v1/network?lang=th")
    assert n["founded_date"] == "2024-01-17" and n["founded_date_be"] == "2567-01-17"
    assert (
        live.json("/api/v1/network", headers={"Accept-Language": "th-TH,th;q=0.9,en;q=0.5"})[
            "founded_date_be"
        ]
        == "2567-01-17"
    )
    assert "founded_date_be" not in live.json(
        "/api/v1/network", headers={"Accept-Language": "en, th;q=0.5"}
    )
    acts = live.json("/api/v1/activities?lang=th&limit=3")["items"]
    assert all(a["date_be"] == str(int(a["date"][:4]) + 543) + a["date"][4:] for a in acts)


# --------------------------------------------------------------------------- members
def test_members_in_thai_dictionary_order_with_cursor_pages(live):
    everyone = live.json("/api/v1/members?limit=200")
    assert everyone["total"] == 10 and everyone["next_cursor"] is None
    names = [m["name"] for m in everyone["items"]]
    # leading vowels sort by the consonant after them: เครือข่าย would follow ค, not ฮ;
    # Latin names come after Thai ones
    assert names[-1] == "Lanna Healthy Ageing Foundation"
    assert names.index("โรงเรียนบ้านดอนแก้ว (โรงเรียนส่งเสริมสุขภาพ)") < names.index(
        "วิสาหกิจชุมชนสมุนไพรบ้านดอนแก้ว"
    )
    paged = walk(live, "/api/v1/members?limit=3")
    assert [m["id"] for m in paged] == [m["id"] for m in everyone["items"]]
    backwards = walk(live, "/api/v1/members?limit=4&sort=-name")
    assert [m["id"] for m in backwards] == [m["id"] for m in reversed(everyone["items"])]


@pytest.mark.parametrize("sort", ["updated", "-updated", "joined", "-joined"])
def test_members_sorted_by_time_page_consistently(live, sort):
    items = walk(live, f"/api/v1/members?limit=3&sort={sort}")
    assert len({m["id"] for m in items}) == 10
    key = "updated_ts" if "updated" in sort else "first_ts"
    values = [(m[key], m["id"]) for m in items]
    assert values == sorted(values, reverse=sort.startswith("-"))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("province=เชียงใหม่", 9),
        ("province=Chiang%20Mai", 9),
        ("province=th-50", 9),
        ("province=จ.ขอนแก่น", 1),
        ("area=Khon%20Kaen", 1),
        ("area=แม่ริม", 8),  # locality text, not a province
        ("status=admitted", 10),
        ("status=pending", 0),
        ("forked=true", 0),
        ("forked=false", 10),
        ("offers=ห้องประชุม", 1),
        ("needs=ห้องประชุม", 2),
        ("tag=cpr", 2),  # an offer of one member, a need of another
        ("needs=CPR&offers=อาสาสมัคร", 1),
        ("interest=สุขภาพ", 4),
        ("expertise=ภูมิปัญญา", 1),
        ("q=ดอนแก้ว", 8),
        ("q=volunteers&province=TH-50", 2),
    ],
)
def test_member_filters(live, query, expected):
    page = live.json(f"/api/v1/members?{query}&limit=200")
    assert page["total"] == len(page["items"]) == expected, [m["name"] for m in page["items"]]


def test_member_filters_pick_the_right_members(live):
    sao = live.json("/api/v1/members?offers=ห้องประชุม")["items"]
    assert [m["id"] for m in sao] == [live.id("sao")]
    needs = {m["id"] for m in live.json("/api/v1/members?needs=ห้องประชุม")["items"]}
    assert needs == {live.id("elderly_club"), live.id("youth")}
    # Thai digits in a filter match Arabic digits in the profile
    assert [m["id"] for m in live.json("/api/v1/members?offers=๘๐")["items"]] == [live.id("sao")]


def test_one_member_by_id_prefix_or_name(live):
    club = live.id("elderly_club")
    m = live.json(f"/api/v1/members/{club}")
    assert m["id"] == club and m["founder"] and m["status"] == "admitted"
    assert {e["member"] for e in m["endorsed_by"]} == {live.id("health_unit"), live.id("sao")}
    assert {e["member"] for e in m["endorses"]} == {
        live.id("health_unit"),
        live.id("sao"),
        live.id("school"),
        live.id("ngo"),
    }
    assert m["fork"] == {"forked": False, "conflicting_entries": 0}
    assert m["last_update"].endswith("Z") and m["activities_total"] >= len(m["activities"]) > 0
    assert all(club in {p["member"] for p in a["participants"]} for a in m["activities"])
    assert live.json(f"/api/v1/members/{club[:10]}")["id"] == club
    assert live.json("/api/v1/members/Lanna%20Healthy%20Ageing%20Foundation")["id"] == live.id(
        "ngo"
    )
    assert live.json("/api/v1/members/บ้านเป็ด")["id"] == live.id("khonkaen")  # part of one name


def test_member_not_found_or_ambiguous_is_a_404_problem(live):
    live.problem("/api/v1/members/pmzzzzzzzzzz", 404, "not-found")
    live.problem("/api/v1/members/nobody-at-all", 404, "not-found")
    live.problem("/api/v1/members/ดอนแก้ว", 404, "not-found")  # several names contain it
    live.problem("/api/v1/members/pm", 404, "not-found")


# --------------------------------------------------------------------------- activities
def test_activities_newest_first_with_cursor(live):
    everything = walk(live, "/api/v1/activities?limit=7")
    assert len(everything) == 32 == len({a["id"] for a in everything})
    assert [a["date"] for a in everything] == sorted((a["date"] for a in everything), reverse=True)
    oldest_first = walk(live, "/api/v1/activities?limit=5&sort=date")
    assert [a["id"] for a in oldest_first] == [a["id"] for a in reversed(everything)]


def test_activity_dates_in_buddhist_or_common_era(live):
    ce = walk(live, "/api/v1/activities?since=2024-06-01&until=2024-12-31&limit=50")
    be = walk(live, "/api/v1/activities?since=2567-06-01&until=2567-12-31&limit=50")
    thai_digits = walk(live, "/api/v1/activities?since=๒๕๖๗-๐๖-๐๑&until=๒๕๖๗&limit=50")
    year_month = walk(live, "/api/v1/activities?since=2024-06&until=2567&limit=50")
    assert ce and ce == be == thai_digits == year_month
    assert all("2024-06-01" <= a["date"] <= "2024-12-31" for a in ce)
    slash = walk(live, "/api/v1/activities?since=1/6/2567&until=31/12/2567&limit=50")
    assert slash == ce


def test_activity_filters(live):
    hu = live.id("health_unit")
    mine = walk(live, f"/api/v1/activities?member={hu}&limit=50")
    assert mine and all(hu in {p["member"] for p in a["participants"]} for a in mine)
    assert walk(live, f"/api/v1/activities?member={hu[:8]}&limit=50") == mine
    trainings = walk(live, "/api/v1/activities?kind=training&limit=50")
    assert len(trainings) == 6 and {a["kind"] for a in trainings} == {"training"}
    confirmed = walk(live, "/api/v1/activities?confirmed=true&limit=50")
    assert confirmed and all(a["confirmed"] >= 1 for a in confirmed)
    assert len(confirmed) < 32


def test_one_activity(live):
    first = live.json("/api/v1/activities?limit=1")["items"][0]
    assert live.json(f"/api/v1/activities/{first['id']}") == first
    assert live.json(f"/api/v1/activities/{first['id'][:12]}")["id"] == first["id"]
    live.problem("/api/v1/activities/pe0000000000", 404, "not-found")


# --------------------------------------------------------------------------- search
def test_search_members_and_activities_together(live):
    page = live.json("/api/v1/search?q=CPR")
    kinds = {h["kind"] for h in page["items"]}
    assert kinds == {"member", "activity"} and page["query"] == "CPR"
    top = page["items"][0]
    assert top["field"] == "name" and "CPR" in top["title"]  # name matches rank first
    assert all(
        h["score"] >= n["score"] for h, n in zip(page["items"], page["items"][1:], strict=False)
    )
    for h in page["items"]:
        assert "CPR" in h["snippet"]  # the original letter case, not "cpr"
        assert "<mark>CPR</mark>" in h["snippet_html"]
        assert "".join(p["text"] for p in h["snippet_parts"]) == h["snippet"]
        assert [p["text"] for p in h["snippet_parts"] if p["match"]][0] == "CPR"


@pytest.mark.parametrize(
    ("q", "must_find"),
    [
        ("ผู้สูงอายุ", "ชมรมผู้สูงอายุบ้านดอนแก้ว"),
        ("สูงอายุ", "ชมรมผู้สูงอายุบ้านดอนแก้ว"),  # a word inside an unspaced compound
        ("ตา", "หน่วยตรวจตาเคลื่อนที่"),  # two code points
        ("ยา", "อบรมการใช้ยาอย่างปลอดภัยสำหรับผู้สูงอายุ"),
        ("Lanna", "Lanna Healthy Ageing Foundation"),
        ("volunteer", "กลุ่มเยาวชนจิตอาสาแม่ริม"),
        ("รพ.สต.", "โรงพยาบาลส่งเสริมสุขภาพตำบลดอนแก้ว (รพ.สต.ดอนแก้ว)"),
        ("๑/๒๕๖๗", "เยี่ยมบ้านผู้ป่วยติดเตียง รอบที่ 1/2567"),  # Thai digits
    ],
)
def test_search_finds_thai_and_english(live, q, must_find):
    titles = [h["title"] for h in walk(live, f"/api/v1/search?q={q}&limit=50")]
    assert any(t.startswith(must_find) for t in titles), titles


def test_search_snippets_are_safe_html(live):
    for h in live.json("/api/v1/search?q=social%20media")["items"]:
        assert "<" not in h["snippet_html"].replace("<mark>", "").replace("</mark>", "")


def test_search_kind_and_pages(live):
    only = live.json("/api/v1/search?q=ดอนแก้ว&kind=member&limit=200")["items"]
    assert only and {h["kind"] for h in only} == {"member"}
    everything = walk(live, "/api/v1/search?q=ดอนแก้ว&limit=200")
    paged = walk(live, "/api/v1/search?q=ดอนแก้ว&limit=4")
    assert [h["id"] for h in paged] == [h["id"] for h in everything]
    first = live.json("/api/v1/search?q=ดอนแก้ว&limit=4")
    body = live.problem(f"/api/v1/search?q=แม่ริม&cursor={first['next_cursor']}", 400, "bad-cursor")
    assert body["parameter"] == "cursor"


@pytest.mark.parametrize(
    "q",
    [
        '"',
        "*",
        "AND OR NOT",
        "NEAR(a b)",
        "a:b",
        "^x",
        "((",
        "'; DROP TABLE members;--",
        "-x +y",
        "\\",
        "%",
        "_",
        "{}",
        "[]",
        "ตา*",
        'ผู้"สูง',
        "a" * 200,
    ],
)
def test_search_syntax_characters_are_text_not_syntax(live, q):
    r = live.get("/api/v1/search", params={"q": q})
    assert r.status_code in (200, 400), (q, r.status_code, r.text[:300])
    if r.status_code == 400:
        assert r.headers["Content-Type"].startswith(PROBLEM)
        assert r.json()["type"] == "urn:p2pnet:problem:bad-query"


# --------------------------------------------------------------------------- matching
def test_match_whole_network(live):
    m = live.json("/api/v1/match")
    needs = {(n["member"], n["need"]): n["offers"] for n in m["needs"]}
    room = needs[(live.id("youth"), "ห้องประชุม")][0]
    assert room["member"] == live.id("sao") and room["offer"].startswith("ห้องประชุมของ อบต.")
    assert room["level"] == "phrase" and room["score"] >= 0.85
    assert "word for word" in room["explanation"]["en"] and "ห้องประชุม" in room["explanation"]["th"]
    cpr = needs[(live.id("youth"), "training on first aid / CPR")][0]
    assert cpr["member"] == live.id("health_unit") and cpr["level"] == "all-words"
    unmet = {(u["member"], u["need"]) for u in m["unmet"]}
    assert (live.id("elderly_club"), "ฟันเทียมและบริการทันตกรรมสำหรับผู้สูงอายุ") in unmet
    assert m["counts"]["needs"] == m["counts"]["met"] + m["counts"]["unmet"] == 21


def test_match_one_member(live):
    m = live.json("/api/v1/match?member=Mae%20Rim%20Youth")
    assert m["member"] == live.id("youth")
    assert {n["need"] for n in m["needs"]} == {"training on first aid / CPR", "ห้องประชุม"}
    gives = {(g["member"], g["need"]) for g in m["gives"]}
    assert (live.id("coop"), "ช่วยทำการตลาดออนไลน์ (online marketing)") in gives
    assert (live.id("elderly_club"), "อาสาสมัครดูแลผู้สูงอายุ") in gives
    live.problem("/api/v1/match?member=nobody-at-all", 404, "not-found")


# --------------------------------------------------------------------------- graph
def test_graph_json(live):
    g = live.json("/api/v1/network/graph")
    assert len(g["nodes"]) == 10
    kinds = {e["kind"] for e in g["edges"]}
    assert kinds == {"endorsement", "shared-activities"}
    assert sum(1 for e in g["edges"] if e["kind"] == "endorsement") == 16
    ids = {n["id"] for n in g["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids for e in g["edges"])


# --------------------------------------------------------------------------- HTTP conventions
def test_etag_and_if_none_match(live):
    r = live.get("/api/v1/members?limit=2")
    etag = r.headers["ETag"]
    again = live.get("/api/v1/members?limit=2", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag and not again.content
    assert live.get("/api/v1/members?limit=3", headers={"If-None-Match": etag}).status_code == 200
    assert (
        live.get("/api/v1/members?limit=2", headers={"If-None-Match": f'W/{etag}, "x"'}).status_code
        == 304
    )
    th = live.get(
        "/api/v1/members?limit=2", headers={"Accept-Language": "th", "If-None-Match": etag}
    )
    assert th.status_code == 200  # another language, another representation
    assert "ETag" not in live.get("/api/v1/status").headers  # changes without the log changing


def test_no_cors_headers_by_default(live):
    r = live.get("/api/v1/members", headers={"Origin": "https://evil.example"})
    assert r.status_code == 200
    assert not [h for h in r.headers if h.lower().startswith("access-control-")]
    pre = live.http.options(
        live.url + "/api/v1/members",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert not [h for h in pre.headers if h.lower().startswith("access-control-")]
    assert pre.status_code == 405 and pre.headers["Content-Type"].startswith(PROBLEM)


@pytest.mark.parametrize(
    ("path", "status", "code", "param"),
    [
        ("/api/v1/members?limit=0", 400, "bad-parameter", "limit"),
        ("/api/v1/members?limit=201", 400, "bad-parameter", "limit"),
        ("/api/v1/members?limit=1000000000000", 400, "bad-parameter", "limit"),
        ("/api/v1/members?limit=ten", 400, "bad-parameter", "limit"),
        ("/api/v1/members?limit=1&limit=2", 400, "bad-parameter", "limit"),
        ("/api/v1/members?sort=size", 400, "bad-parameter", "sort"),
        ("/api/v1/members?status=vip", 400, "bad-parameter", "status"),
        ("/api/v1/members?forked=yes", 400, "bad-parameter", "forked"),
        ("/api/v1/members?provice=TH-50", 400, "unknown-parameter", "provice"),
        ("/api/v1/members?province=Atlantis", 400, "unknown-province", "province"),
        ("/api/v1/members?cursor=nonsense", 400, "bad-cursor", "cursor"),
        ("/api/v1/members?cursor=eyJ0IjoiYWN0aXZpdGllcyJ9", 400, "bad-cursor", "cursor"),
        ("/api/v1/members?tag=", 400, "bad-parameter", "tag"),
        ("/api/v1/members?q=%22%22", 400, "bad-query", "q"),
        ("/api/v1/members?q=%FF%FE", 400, "malformed-query", "q"),
        ("/api/v1/activities?since=yesterday", 400, "bad-date", "since"),
        ("/api/v1/activities?since=2567-02-30", 400, "bad-date", "since"),
        ("/api/v1/activities?until=2024-13", 400, "bad-date", "until"),
        ("/api/v1/activities?kind=party", 400, "bad-parameter", "kind"),
        ("/api/v1/activities?cursor=" + "A" * 399, 400, "bad-cursor", "cursor"),
        ("/api/v1/search", 400, "bad-parameter", "q"),
        ("/api/v1/search?q=" + "a" * 201, 400, "bad-parameter", "q"),
        ("/api/v1/search?q=" + "+".join("abcdefghijk"), 400, "bad-query", "q"),
        ("/api/v1/search?q=%00", 400, "malformed-query", "q"),
        ("/api/v1/network?lang=fr", 400, "bad-parameter", "lang"),
    ],
)
def test_bad_input_is_a_4xx_problem(live, path, status, code, param):
    body = live.problem(path, status, code)
    assert body.get("parameter") == param


def test_huge_query_strings_are_refused(live):
    live.problem("/api/v1/search?q=" + "x" * 2000, 414, "query-too-long")
    live.problem("/api/v1/members?tag=" + "ก" * 5000, 414, "query-too-long")
    live.problem(
        "/api/v1/members?" + "&".join(f"a{i}=1" for i in range(3000)), 414, "query-too-long"
    )


def test_unknown_paths_and_methods_are_problems(live):
    live.problem("/api/v1/nothing-here", 404, "not-found")
    r = live.http.put(live.url + "/api/v1/members", timeout=10)
    assert r.status_code == 405 and r.headers["Content-Type"].startswith(PROBLEM)


def test_thai_digits_in_numbers(live):
    assert len(live.json("/api/v1/members?limit=๓")["items"]) == 3


def test_match_pages(live):
    full = live.json("/api/v1/match?limit=200")
    assert full["next_cursor"] is None
    seen, cursor = [], None
    for _ in range(10):
        page = live.json("/api/v1/match?limit=5" + (f"&cursor={cursor}" if cursor else ""))
        assert page["counts"] == full["counts"]
        seen += [(n["member"], n["need"]) for n in page["needs"] + page["unmet"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted((n["member"], n["need"]) for n in full["needs"] + full["unmet"])
    network_cursor = live.json("/api/v1/match?limit=5")["next_cursor"]
    live.problem(f"/api/v1/match?member=Lanna&cursor={network_cursor}", 400, "bad-cursor")
