"""The website (issue 6) over real HTTP, from a real node holding the sample network.

One node per module runs in a thread with its own event loop (``LiveSite``); the
tests fetch its pages with ``requests`` in Thai and English. Beside the sample
network the store holds a member whose name and profile carry HTML (it must
come out escaped everywhere) and a member whose key signed two histories (a
fork, which every page that lists it must mark).
"""

from __future__ import annotations

import asyncio
import html
import re
import threading
from pathlib import Path

import pytest
import requests

from p2pnet import directory, entries, i18n, netmap, sample
from p2pnet.identity import Identity
from p2pnet.store import Store
from p2pnet import ids, keychain

from .nodes import FAST, make_home, start

EVIL_TH = '<script>alert("th")</script> ชมรม'
EVIL_EN = "<b>Evil</b> & Co <img src=x onerror=alert(1)>"
KHON_KAEN = "ชมรมผู้สูงอายุตำบลบ้านเป็ด"


class LiveSite:
    """A real node with the sample network (plus an escaping case and a fork), served
    from a background event loop; also used by the browser tests."""

    def __init__(self, root: Path, who: str = "youth", *, extras: bool = True) -> None:
        self.identity = sample.demo_identity(who)
        self.home, _ = make_home(root, who, who=self.identity)
        with Store(self.home.db_file) as s:
            self.people = sample.seed(s)
            if extras:
                self._add_extras(s)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="live-site", daemon=True)
        self.thread.start()
        self.node = asyncio.run_coroutine_threadsafe(
            start(self.home, self.identity, FAST), self.loop
        ).result(30)
        self.url = self.node.api_url
        self.http = requests.Session()

    def _add_extras(self, s: Store) -> None:
        """A member whose profile is full of HTML, and a member whose key forked."""
        self.evil = Identity.from_seed(b"e" * 32)
        s.append(self.evil, "profile", {
            "name_th": EVIL_TH, "name_en": EVIL_EN, "description": "<i>ไม่</i> & <b>bold</b>",
            "offers": ["<script>offer()</script>"], "needs": ["ห้องประชุม <u>ใหญ่</u>"],
            "province": "TH-50", "org_type": "ngo",
        })  # fmt: skip
        self.forker = Identity.from_seed(b"f" * 32)
        first = s.append(self.forker, "profile", {"name_th": "กลุ่มสองใจ", "name_en": "Two Minds"})
        twin = entries.create(
            self.forker, network=s.network, seq=first.seq, prev=first.prev, kind="profile",
            body={"name_th": "กลุ่มสองใจ (อีกฉบับ)"},
        )  # fmt: skip
        report = s.ingest([twin.raw])
        assert report.forks, "the twin entry should have made a fork"
        # the women's group handed its feed over to a new key; the VHV club lost its key
        coop = self.people["womens_group"]
        self.coop_key = Identity.from_seed(b"c" * 32)
        s.append(coop, "rotate", keychain.rotation_body(s.network, coop, self.coop_key))
        profile = dict(s.get(ids.from_text(ids.ENTRY, s.conn.execute(
            "SELECT profile_entry FROM members WHERE id = ?", (coop.member_id,)).fetchone()[0])).body)
        profile["offers"] = [*profile.get("offers", []), "ตลาดนัดสินค้าชุมชน"]
        s.append(self.coop_key, "profile", profile)
        self.claim = s.append(Identity.from_seed(b"v" * 32), "recover", {
            "member": self.people["vhv"].public, "last_good": 2, "reason": "โทรศัพท์หาย"})  # fmt: skip
        s.append(self.people["health_unit"], "vouch", {"claim": self.claim.id})

    def id(self, key: str) -> str:
        return sample.demo_identity(key).member_id

    def get(self, path: str, lang: str | None = "th", **kw) -> requests.Response:
        headers = kw.pop("headers", {})
        if lang:
            headers.setdefault("Accept-Language", lang)
        # a fresh cookie jar per call: the language comes only from what the test sends
        return requests.get(self.url + path, headers=headers, timeout=30, **kw)

    def page(self, path: str, lang: str = "th", status: int = 200) -> str:
        r = self.get(path, lang)
        assert r.status_code == status, (path, r.status_code, r.text[:800])
        assert r.headers["Content-Type"].startswith("text/html"), r.headers["Content-Type"]
        assert f'<html lang="{lang}">' in r.text
        return r.text

    def entry_count(self) -> int:
        async def count() -> int:
            return await self.node.ctx.store.call(lambda s: s.count())

        return asyncio.run_coroutine_threadsafe(count(), self.loop).result(30)

    def close(self) -> None:
        self.http.close()
        asyncio.run_coroutine_threadsafe(self.node.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    s = LiveSite(tmp_path_factory.mktemp("site"))
    yield s
    s.close()


def text_of(page: str) -> str:
    """The visible text, roughly: tags dropped, entities decoded, whitespace folded."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def main_text(page: str) -> str:
    """The text of the page's <main> (without the header and the footer)."""
    return text_of(page.split('<main id="main"', 1)[1].split("</main>", 1)[0])


# --------------------------------------------------------------------------- every page
def pages(site: LiveSite) -> dict[str, tuple[str, str]]:
    """path -> (a Thai text, an English text) the page must show."""
    elder = site.id("elderly_club")
    return {
        "/": ("จุดมุ่งหมาย", "Purpose"),
        "/search?q=ผู้สูงอายุ": ("ผลการค้นหา", "Results for"),
        "/search?q=volunteer": ("Mae Rim Youth", "Mae Rim Youth"),
        "/members": ("สมาชิกเครือข่าย", "Members of the network"),
        f"/members/{elder}": ("ชมรมผู้สูงอายุบ้านดอนแก้ว", "Ban Don Kaeo Elderly Club"),
        "/activities": ("ไทม์ไลน์กิจกรรม", "Activity timeline"),
        "/map": ("จุดเชื่อม", "cut point"),
        "/matches": ("ข้อเสนอที่ตอบความต้องการ", "offers that meet needs"),
        "/node": ("คู่เชื่อมต่อ", "Peers"),
    }


@pytest.mark.parametrize("lang", ["th", "en"])
def test_every_page_answers_in_both_languages(site, lang):
    for path, (th, en) in pages(site).items():
        html = site.page(path, lang)
        text = text_of(html)
        assert (th if lang == "th" else en) in text, (path, lang)
        # every page says who signed what it shows, and when
        assert ("ลงนามโดย" if lang == "th" else "signed by") in text.lower(), (path, lang)
        assert "<script" not in html.lower(), path  # no JavaScript, and nothing injected
        assert 'href="#main"' in html and 'id="main"' in html  # skip link
        # the other language is one link away
        assert f'hreflang="{"en" if lang == "th" else "th"}"' in html


def test_activity_page(site):
    act = site.get("/api/v1/activities?limit=1", lang=None).json()["items"][0]
    html = site.page(f"/activities/{act['id']}", "th")
    assert act["title"] in html
    assert "บันทึกและลงนามโดย" in html
    html = site.page(f"/activities/{act['id']}", "en")
    assert "Recorded and signed by" in html and "participants confirmed" in html


def test_charter_and_counts_on_the_home_page(site):
    th = text_of(site.page("/", "th"))
    assert "เครือข่ายผู้สูงอายุและสุขภาพชุมชนดอนแก้ว–แม่ริม" in th
    assert "เครือข่ายแบบผสม" in th and "เครือข่ายตามธรรมชาติ" in th and "เครือข่ายจัดตั้ง" in th
    assert "กฎบัตร" in th or "ผู้ก่อตั้ง" in th
    en = text_of(site.page("/", "en"))
    assert "Don Kaeo–Mae Rim Elderly and Community Health Network" in en
    assert "Hybrid (developed) network" in en and "Natural network" in en
    assert "Formed network" in en
    # 10 sample members + the escaping case + the fork + the key claiming the VHV club back
    # (pending until the claim is in effect), 32 activities
    assert re.search(r"\b13 members\b", en) and re.search(r"\b32 activities\b", en)


# --------------------------------------------------------------------------- dates
def test_dates_are_buddhist_era_in_thai_and_common_era_in_english(site):
    th = text_of(site.page("/activities?since=2567-01-01&until=2567-01-31", "th"))
    assert "17 ม.ค. 2567" in th and "มกราคม 2567" in th
    assert "2024" not in th.replace("2024-", "")
    en = text_of(site.page("/activities?since=2024-01-01&until=2024-01-31", "en"))
    assert "17 Jan 2024" in en and "January 2024" in en
    # a Thai reader may type the year in either era; the filter means the same month
    assert "17 Jan 2024" in text_of(site.page("/activities?since=2567-01&until=2567-01", "en"))
    assert "17 ม.ค. 2567" in text_of(site.page("/activities?since=๒๕๖๗-๐๑-๐๑&until=2024-01", "th"))


# --------------------------------------------------------------------------- escaping
def test_html_in_member_data_comes_out_escaped(site):
    evil = site.evil.member_id
    for path, lang in [
        ("/members", "th"), ("/members", "en"), ("/members?status=pending", "th"),
        (f"/members/{evil}", "th"), (f"/members/{evil}", "en"), ("/search?q=Evil", "en"),
        ("/search?q=ห้องประชุม", "th"), ("/map", "th"), ("/map", "en"), ("/matches", "th"),
        ("/", "en"),
    ]:  # fmt: skip
        html = site.page(path, lang)
        assert "<script>" not in html and "<b>Evil" not in html and "<img src=x" not in html, path
        assert "&amp;lt;" not in html and "&amp;gt;" not in html, path  # escaped once, not twice
    html = site.page(f"/members/{evil}", "th")
    assert "&lt;script&gt;alert(" in html and "&lt;i&gt;ไม่&lt;/i&gt; &amp; &lt;b&gt;bold" in html
    assert "&lt;script&gt;offer()&lt;/script&gt;" in html
    html = site.page(f"/members/{evil}", "en")
    assert "&lt;b&gt;Evil&lt;/b&gt; &amp; Co" in html
    svg = site.get("/map.svg", "en")
    assert svg.status_code == 200 and svg.headers["Content-Type"].startswith("image/svg+xml")
    assert "<b>Evil" not in svg.text and "&lt;b&gt;Evil" in svg.text


def test_search_highlights_matches_after_escaping(site):
    html = site.page("/search?q=ผู้สูงอายุ", "th")
    assert "<mark>ผู้สูงอายุ</mark>" in html
    html = site.page("/search?q=herbal", "en")
    assert "<mark>Herbal</mark>" in html
    html = site.page("/search?q=ใหญ่", "th")  # the evil need: its HTML is text, the match marked
    assert "&lt;u&gt;<mark>ใหญ่</mark>&lt;/u&gt;" in html
    assert "\ue000" not in html and "\ue001" not in html


# --------------------------------------------------------------------------- language
def test_language_from_accept_language_then_cookie(site):
    assert 'lang="en"' in site.get("/", "en-GB,en;q=0.9").text[:200]
    assert 'lang="th"' in site.get("/", "th-TH,th;q=0.9,en;q=0.8").text[:200]
    assert 'lang="th"' in site.get("/", "fr,de;q=0.5").text[:200]  # default: Thai
    assert 'lang="en"' in site.get("/", "fr, en;q=0.5, th;q=0.1").text[:200]
    assert 'lang="th"' in site.get("/", None).text[:200]


def test_language_switch_is_remembered_in_a_cookie(site):
    s = requests.Session()
    r = s.get(site.url + "/members?lang=en", headers={"Accept-Language": "th"}, timeout=30)
    assert r.status_code == 200 and '<html lang="en">' in r.text
    assert s.cookies.get(i18n.COOKIE) == "en"
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    # later pages, without ?lang=, stay English although the browser prefers Thai
    r = s.get(site.url + "/activities", headers={"Accept-Language": "th"}, timeout=30)
    assert '<html lang="en">' in r.text and "Activity timeline" in r.text
    # the switch link on that page goes back to Thai and keeps the page's filters
    r = s.get(site.url + "/activities?kind=training", timeout=30)
    assert 'href="/activities?kind=training&amp;lang=th"' in r.text
    r = s.get(site.url + "/activities?kind=training&lang=th", timeout=30)
    assert '<html lang="th">' in r.text and s.cookies.get(i18n.COOKIE) == "th"
    s.close()


def test_the_language_switch_never_leaves_the_site(site):
    for path in ("//evil.example/x", "/%2F%2Fevil.example", "/\\evil.example"):
        r = requests.get(site.url + path, timeout=30, headers={"Accept-Language": "en"})
        assert r.status_code == 404
        switch = re.search(r'class="lang-switch" href="([^"]*)"', r.text).group(1)
        assert switch.startswith("/") and not switch.startswith(("//", "/\\")), switch


def test_thai_text_is_marked_thai_inside_english_pages(site):
    html = site.page(f"/members/{site.id('vhv')}", "en")  # this member has no English name
    assert '<span lang="th">กลุ่มอาสาสมัครสาธารณสุขประจำหมู่บ้าน' in html


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("path", "lang", "text"),
    [
        ("/members/pmnosuchmemberatall", "th", "ไม่พบสมาชิกนี้"),
        ("/members/pmnosuchmemberatall", "en", "This node holds no such member"),
        ("/activities/penosuchactivity", "th", "ไม่พบกิจกรรมนี้"),
        ("/activities/penosuchactivity", "en", "This node holds no such activity"),
        ("/no/such/page", "th", "ไม่พบหน้านี้"),
        ("/no/such/page", "en", "Page not found"),
    ],
)
def test_unknown_things_are_a_friendly_404(site, path, lang, text):
    html = site.page(path, lang, status=404)
    assert text in html
    assert "Traceback" not in html and "problem" not in html


def test_the_api_keeps_its_problem_json(site):
    r = site.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.headers["Content-Type"].startswith("application/problem+json")
    r = site.get("/api/v1/members/pmnosuchmember")
    assert r.status_code == 404 and r.headers["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("path", "th", "en"),
    [
        ('/search?q=""', "ใช้คำค้นนี้ไม่ได้", "That search cannot be run"),
        ("/search?q=" + "+".join("abcdefghijk"), "ใช้คำค้นนี้ไม่ได้", "That search cannot be run"),
        ("/activities?since=yesterday", "อ่านวันที่ไม่ออก", "That date cannot be read"),
        ("/activities?until=2567-02-30", "2567-03-15", "2024-03-15"),
        ("/members?province=Atlantis", "ไม่รู้จักจังหวัดนี้", "Unknown province"),
        ("/members?after=garbage", "ค่าในตัวกรองใช้ไม่ได้", "A filter value cannot be used"),
        ("/activities?member=nobody-at-all", "ค่าในตัวกรองใช้ไม่ได้", "cannot be used"),
        ("/matches?member=nobody-at-all", "ค่าในตัวกรองใช้ไม่ได้", "cannot be used"),
        ("/search?q=%FF%FE", "อ่านคำขอนี้ไม่ออก", "We could not read that request"),
    ],
)
def test_bad_input_is_a_friendly_400(site, path, th, en):
    assert th in site.page(path, "th", status=400)
    assert en in site.page(path, "en", status=400)


def test_odd_input_never_makes_a_500(site):
    odd = ["", " ", "%00", "%27", "<script>", "ก" * 90, "๒๕๖๗", "-1", "99999999999", "%F0%9F%98%80",
           "a%20b", "..%2F..%2Fetc", "*", "%22", "\\", "(", "รพ.สต."]  # fmt: skip
    paths = ["/search?q={}", "/search?q=a&start={}", "/search?q=a&kind={}", "/members?q={}",
             "/members?area={}", "/members?interest={}", "/members?offers={}",
             "/members?needs={}", "/members?status={}", "/members?sort={}", "/members?after={}",
             "/activities?kind={}", "/activities?since={}", "/activities?until={}",
             "/activities?member={}", "/activities?after={}", "/matches?after={}",
             "/members/{}", "/activities/{}", "/?lang={}"]  # fmt: skip
    for p in paths:
        for value in odd:
            r = site.get(p.format(value), "th")
            assert r.status_code in (200, 400, 404), (p, value, r.status_code)
            assert r.headers["Content-Type"].startswith("text/html"), (p, value)


def test_nothing_on_the_site_writes(site):
    before = site.entry_count()
    token = site.home.admin_token()
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        for path in ("/", "/members", f"/members/{site.id('school')}", "/activities", "/search",
                     "/map", "/matches", "/node"):  # fmt: skip
            for headers in ({}, {"Authorization": f"Bearer {token}"}):
                r = requests.request(method, site.url + path, headers=headers, data=b"x=1",
                                     timeout=30)  # fmt: skip
                assert r.status_code == 405, (method, path, r.status_code)
                assert r.headers["Content-Type"].startswith("text/html")
    assert "อ่านได้อย่างเดียว" in requests.post(site.url + "/members", timeout=30).text
    assert site.entry_count() == before
    # and no page offers a form that posts
    for path in pages(site):
        assert 'method="post"' not in site.page(path).lower()


def test_security_headers(site):
    r = site.get("/members")
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "Accept-Language" in r.headers["Vary"] and "Cookie" in r.headers["Vary"]


def test_static_files(site):
    r = site.get("/static/site.css")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/css")
    assert "Sarabun" in r.text and "Loma" in r.text
    r = site.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("image/svg+xml")


# --------------------------------------------------------------------------- content
def listed(page: str) -> list[str]:
    """Member ids of the cards on a /members page, in order."""
    return re.findall(r'<h2 class="title"><a href="/members/(pm[a-z0-9]+)"', page)


@pytest.mark.parametrize(
    "query",
    ["province=TH-40", "province=ขอนแก่น", "status=pending", "needs=ห้องประชุม", "q=school",
     "area=แม่ริม", "interest=ผู้สูงอายุ", "offers=อาหาร", "q=ผู้สูงอายุ&sort=-updated",
     "sort=-joined", "status=admitted&province=เชียงใหม่"],
)  # fmt: skip
def test_members_filters_list_what_the_api_lists(site, query):
    api = site.get(f"/api/v1/members?{query}&limit=200", None).json()
    html = site.page(f"/members?{query}", "th")
    assert listed(html) == [m["id"] for m in api["items"]]
    assert f"พบ {api['total']} ราย" in html


def test_members_filters(site):
    only_kk = main_text(site.page("/members?province=TH-40", "th"))
    assert KHON_KAEN in only_kk and "ชมรมผู้สูงอายุบ้านดอนแก้ว" not in only_kk
    pending = main_text(site.page("/members?status=pending", "en"))
    assert "<b>Evil</b>" in pending and "Ban Don Kaeo Elderly Club" not in pending
    assert len(listed(site.page("/members?status=pending"))) == 2  # the HTML case and the fork
    html = site.page("/members", "th")
    assert len(listed(html)) == 12
    assert 'value="TH-40"' in html and "ขอนแก่น" in html  # provinces offered in the filter


def test_activities_filters(site):
    school = site.id("school")
    html = site.page(f"/activities?member={school}&kind=training", "en")
    api = site.get(f"/api/v1/activities?member={school}&kind=training&limit=50", None).json()
    titles = [a["title"] for a in api["items"]]
    assert titles and all(t in html for t in titles)
    assert html.count('class="activity"') == len(titles)


def test_member_page_shows_profile_endorsements_activities_and_provenance(site):
    m = site.get(f"/api/v1/members/{site.id('health_unit')}", None).json()
    html = site.page(f"/members/{m['id']}", "th")
    text = text_of(html)
    for offer in m["offers"]:
        assert offer in text
    for need in m["needs"]:
        assert need in text
    for e in m["endorsed_by"]:
        assert f'href="/members/{e["member"]}"' in html
    assert "ได้รับการรับรองจาก" in text and "รับรองสมาชิกอื่น" in text
    assert "ยืนยันแล้ว" in html  # confirmations
    assert "โปรไฟล์ลงนามโดย" in text and m["profile_entry"] in html


def test_member_keys_and_recovery_claims_are_shown(site):
    coop = site.id("womens_group")
    html = site.page(f"/members/{coop}", "th")
    assert "กุญแจของสมาชิก" in html and site.coop_key.member_id in html and "ใช้อยู่" in html
    assert "ตลาดนัดสินค้าชุมชน" in html  # the new key's profile is the group's
    # the new key's id is a way to the same page
    assert site.page(f"/members/{site.coop_key.member_id}", "en").count("handed over after entry") == 1
    html = site.page(f"/members/{site.id('vhv')}", "en")
    assert "waiting for vouches" in html and "โทรศัพท์หาย" in html
    assert "2 members who endorse it must vouch: 1 did so far" in html
    assert f'href="/members/{site.id("health_unit")}"' in html
    assert "กุญแจของสมาชิก" not in site.page(f"/members/{site.id('school')}", "th")


def test_fork_and_pending_are_marked(site):
    html = site.page(f"/members/{site.forker.member_id}", "th")
    assert "พบประวัติซ้อน" in html and "ขัดกัน" in html
    html = site.page(f"/members/{site.forker.member_id}", "en")
    assert "forked" in html and "conflicting histories" in html
    listing = site.page("/members", "en")
    assert 'class="badge forked"' in listing and 'class="badge pending"' in listing
    html = site.page(f"/members/{site.evil.member_id}", "en")
    assert "Not yet endorsed by 1 admitted member" in html


def test_map_links_every_member_and_highlights_cut_points(site):
    html = site.page("/map", "en")
    graph = site.get("/api/v1/network/graph", None).json()
    for n in graph["nodes"]:
        assert f'href="/members/{n["id"]}"' in html
    # the foundation is the only tie of the Khon Kaen club to the rest
    lanna = site.id("ngo")
    assert re.search(rf'<a class="member cut[^"]*" href="/members/{lanna}"', html)
    assert "Lanna Healthy Ageing Foundation" in text_of(html.split('id="cuts-h"')[1])
    assert html.count('class="member cut') == 1
    assert "<svg" in html and 'role="group"' in html and "<title" in html


def test_matches_page_uses_the_matcher(site):
    html = text_of(site.page("/matches", "th"))
    assert "ข้อมูลผู้สูงอายุรายครัวเรือน" in html
    en = text_of(site.page(f"/matches?member={site.id('sao')}", "en"))
    assert "Don Kaeo Sub-district Administrative Organisation" in en


def test_node_page(site):
    html = text_of(site.page("/node", "en"))
    assert "Mae Rim Youth Volunteers" in html and site.identity.member_id in html
    assert "No peers yet" in html and "rounds" in html


# --------------------------------------------------------------------------- pure parts
def test_the_catalogue_has_both_languages_with_the_same_placeholders():
    for key, forms in i18n.MESSAGES.items():
        assert set(forms) == {"th", "en"}, key
        assert forms["th"].strip() and forms["en"].strip(), key
        assert i18n.placeholders(forms["th"]) == i18n.placeholders(forms["en"]), key


def test_date_formats():
    assert i18n.format_date("2024-03-15", "th") == "15 มี.ค. 2567"
    assert i18n.format_date("2024-03-15", "en") == "15 Mar 2024"
    assert i18n.format_month("2024-03-15", "th") == "มีนาคม 2567"
    assert i18n.format_month("2024-03-15", "en") == "March 2024"
    assert i18n.format_date("not a date", "th") == "not a date"
    assert i18n.from_accept_language("en-US,en;q=0.9,th;q=0.8") == "en"
    assert i18n.from_accept_language("th;q=0.9, en;q=0.95") == "en"
    assert i18n.from_accept_language("") == "th"


def test_netmap_is_deterministic_and_finds_cut_points(tmp_path):
    with Store(tmp_path / "s.sqlite3") as s:
        sample.seed(s)
        graph = directory.graph(s.conn)
        names = {m: th or en for m, th, en in s.conn.execute(
            "SELECT id, name_th, name_en FROM members")}  # fmt: skip
    one = netmap.build(graph, names)
    two = netmap.build(graph, names)
    draw = dict(href=lambda i: f"/members/{i}", title="t", desc="d")
    assert netmap.svg(one, **draw) == netmap.svg(two, **draw)
    assert one.cut_points == [sample.demo_identity("ngo").member_id]
    # no two members' circle-and-label boxes overlap
    boxes = [netmap._label_box(n) for n in one.nodes]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert min(a[2], b[2]) - max(a[0], b[0]) <= 0 or min(a[3], b[3]) - max(a[1], b[1]) <= 0
    # everything is inside the picture
    for n in one.nodes:
        assert 0 < n.x < one.width and 0 < n.y < one.height


def test_netmap_cut_points_on_a_path_and_labels():
    g = {
        "nodes": [{"id": x, "name": x, "status": "admitted"} for x in "abcd"],
        "edges": [{"source": "a", "target": "b", "kind": "shared-activities", "weight": 2},
                  {"source": "b", "target": "c", "kind": "endorsement", "weight": 1},
                  {"source": "c", "target": "d", "kind": "shared-activities", "weight": 1}],
    }  # fmt: skip
    m = netmap.build(g, {})
    assert set(m.cut_points) == {"b", "c"}
    assert m.by_id["b"].splits == 2 and m.components == 1
    lines = netmap.wrap_label("กลุ่มอาสาสมัครสาธารณสุขประจำหมู่บ้าน (อสม.) ตำบลดอนแก้ว")
    assert 1 < len(lines) <= netmap.LABEL_LINES
    assert "".join(lines).replace(" ", "") == "กลุ่มอาสาสมัครสาธารณสุขประจำหมู่บ้าน(อสม.)ตำบลดอนแก้ว"
    assert netmap.wrap_label("ชมรมผู้สูงอายุบ้านดอนแก้ว") == ["ชมรมผู้สูงอายุบ้านดอนแก้ว"]
    assert netmap.build({"nodes": [], "edges": []}, {}).nodes == []
