"""The website in a real headless browser: Debian's Chromium driven by Playwright.

A node with the sample network serves the site; the tests load every page in
Thai and English, search in both, switch language, follow links, use the
keyboard, check that nothing logs a console error and that Thai text is drawn
with a Thai font (the fonts Chromium actually used, and Thai marks taking no
width of their own, which boxes would). They also write the screenshots in
docs/screenshots/.

`make test` installs Chromium and the Thai fonts (fonts-thai-tlwg); without
/usr/bin/chromium these tests are skipped with the reason.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from .test_website import LiveSite

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
THAI_FONTS = {
    "Loma", "Garuda", "Kinnari", "Norasi", "Sawasdee", "Umpush", "Waree", "Purisa", "Laksaman",
    "Tlwg Typo", "Tlwg Typist", "Tlwg Typewriter", "Tlwg Mono", "Sarabun", "Noto Sans Thai",
    "Noto Sans Thai UI", "Noto Serif Thai", "Leelawadee UI", "Thonburi", "Tahoma",
}  # fmt: skip
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
TALL = {"width": 1280, "height": 1200}  # the map with its legend

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason=f"{CHROMIUM} is absent: install it with `apt-get install chromium fonts-thai-tlwg` "
    "(`make test` does)",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    s = LiveSite(tmp_path_factory.mktemp("browser-site"), extras=False)
    yield s
    s.close()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Tab:
    """A page in a fresh browser context, recording console errors and page errors."""

    def __init__(self, browser, site: LiveSite, *, locale: str = "th-TH", viewport=DESKTOP):
        self.site = site
        self.context = browser.new_context(locale=locale, viewport=viewport)
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"{message.type}: {message.text}")

    def goto(self, path: str, status: int = 200):
        response = self.page.goto(self.site.url + path, wait_until="load")
        assert response is not None, path
        assert response.status == status, (path, response.status)
        return self.page

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(browser, site):
    t = Tab(browser, site)
    yield t
    t.close()


def pages(site: LiveSite) -> list[str]:
    return [
        "/", "/members", f"/members/{site.id('elderly_club')}", "/activities",
        f"/activities?member={site.id('school')}&kind=training", "/map", "/matches", "/node",
        "/search?q=ผู้สูงอายุ",
    ]  # fmt: skip


@pytest.mark.parametrize("locale", ["th-TH", "en-US"])
def test_every_page_loads_without_console_errors(browser, site, locale):
    t = Tab(browser, site, locale=locale)
    try:
        for path in pages(site):
            page = t.goto(path)
            assert page.evaluate("document.documentElement.lang") == locale[:2], path
            assert page.locator("h1").count() >= 1, path
            # one stylesheet, and it applied (the skip link is moved off screen)
            skip = "getComputedStyle(document.querySelector('.skip')).position"
            assert page.evaluate(skip) == "absolute", path
        assert t.errors == [], t.errors
    finally:
        t.close()


def _fonts_used(page, selector: str) -> list[str]:
    """The platform fonts Chromium drew the element's text with (DevTools protocol)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    cdp.detach()
    return [f["familyName"] for f in fonts if f["glyphCount"] > 0]


def test_thai_is_drawn_with_a_thai_font_not_boxes(tab, site):
    page = tab.goto("/")
    title = page.locator("h1").inner_text()
    assert re.search("[\u0e00-\u0e7f]", title)
    used = _fonts_used(page, "h1")
    assert used and all(f in THAI_FONTS for f in used), used
    used = _fonts_used(page, ".charter-facts dd")
    assert used and set(used) <= THAI_FONTS, used
    # in a Thai font, tone and vowel marks sit above/below a letter and take no width;
    # drawn as boxes (no font for them) each would add a box's width
    widths = page.evaluate(
        """() => {
          const c = document.createElement('canvas').getContext('2d');
          c.font = '32px ' + getComputedStyle(document.querySelector('h1')).fontFamily;
          const w = s => c.measureText(s).width;
          return {letter: w('ก'), tone: w('ก่') - w('ก'), vowel: w('กี') - w('ก'),
                  word: w('ผู้สูงอายุ')};
        }"""
    )
    assert widths["letter"] > 5 and widths["tone"] < 1 and widths["vowel"] < 1, widths
    # the Thai map labels are drawn with a Thai font too
    page = tab.goto("/map")
    used = _fonts_used(page, "svg.netmap .label tspan")
    assert used and set(used) <= THAI_FONTS, used
    assert tab.errors == []


def test_search_in_thai_and_in_english(tab, site):
    page = tab.goto("/")
    page.get_by_label("ค้นหาสมาชิกและกิจกรรม").first.fill("ผู้สูงอายุ")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q="))
    marks = page.locator("main mark").all_inner_texts()
    assert marks and all(m == "ผู้สูงอายุ" for m in marks), marks[:5]
    assert page.locator("#res-m").count() == 1 and page.locator("#res-a").count() == 1
    # English, from the search box in the header of another page
    page = tab.goto("/members?lang=en")
    page.fill("#site-q", "herbal")
    page.click("header form.search button")
    page.wait_for_url(re.compile(r"/search\?q=herbal"))
    assert page.locator("main mark").first.inner_text() == "Herbal"
    page.locator("main .results a.hit-title").first.click()
    page.wait_for_url(re.compile(r"/members/pm"))
    assert page.locator("h1").inner_text() == "Ban Don Kaeo Herbal Community Enterprise"
    # a query with nothing to search for is a friendly message, not an error page
    page = tab.goto('/search?q=""', status=400)
    assert "That search cannot be run" in page.locator("main").inner_text()
    assert [e for e in tab.errors if "status of 400" not in e] == []


def test_switching_language_is_remembered(tab, site):
    page = tab.goto("/members")
    assert page.evaluate("document.documentElement.lang") == "th"
    assert page.locator("h1").inner_text() == "สมาชิกเครือข่าย"
    page.click("a.lang-switch")
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.locator("h1").inner_text() == "Members of the network"
    # the choice follows the reader to the next page, though the browser prefers Thai
    page.click("nav >> text=Activities")
    page.wait_for_url(re.compile(r"/activities$"))
    assert page.evaluate("document.documentElement.lang") == "en"
    assert "Activity timeline" in page.locator("h1").inner_text()
    assert re.search(r"\d{1,2} [A-Z][a-z]{2} 20\d\d", page.locator("main").inner_text())
    page.click("a.lang-switch")
    page.wait_for_load_state()
    assert "ไทม์ไลน์กิจกรรม" in page.locator("h1").inner_text()
    assert re.search(r"\d{1,2} [ก-๙.]+ 25\d\d", page.locator("main").inner_text())  # BE dates
    assert tab.errors == []


def test_following_member_links(tab, site):
    page = tab.goto("/members")
    first = page.locator("ul.members li h2 a").first
    name = first.inner_text()
    first.click()
    page.wait_for_url(re.compile(r"/members/pm[a-z0-9]+$"))
    assert page.locator("h1").inner_text() == name
    # from an activity on that page to another participant
    page.locator("article.activity .people a").last.click()
    page.wait_for_url(re.compile(r"/members/pm[a-z0-9]+$"))
    assert page.locator("h1").count() == 1
    # on the map, a member is a link too: the cut point leads to the foundation's page
    page = tab.goto("/map?lang=en")
    page.locator("svg.netmap a.cut").first.click()
    page.wait_for_url(re.compile(r"/members/" + site.id("ngo")))
    assert page.locator("h1").inner_text() == "Lanna Healthy Ageing Foundation"
    assert tab.errors == []


def test_keyboard_skip_link_and_focus(tab, site):
    page = tab.goto("/activities")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.className")
    assert focused == "skip"
    assert page.evaluate("document.activeElement.getBoundingClientRect().top") >= 0  # visible
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    # a visible focus ring on links
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    # every form field has a label
    for path in ("/members", "/activities", "/"):
        page = tab.goto(path)
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('input, select')]
                 .filter(e => e.type !== 'hidden' && !(e.labels && e.labels.length))
                 .map(e => e.id || e.name)"""
        )
        assert unlabelled == [], (path, unlabelled)


def test_phone_viewport_has_no_sideways_scrolling(browser, site):
    t = Tab(browser, site, viewport=PHONE)
    try:
        for path in ("/", "/members", f"/members/{site.id('health_unit')}", "/activities",
                     "/matches", "/map", "/node"):  # fmt: skip
            page = t.goto(path)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, (path, overflow)
        assert t.errors == []
    finally:
        t.close()


def test_screenshots(browser, site):
    """The pictures in docs/screenshots/ (README shows home-th.png)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    shots = [
        ("home-th.png", "/", "th-TH", DESKTOP, False),
        ("home-en.png", "/", "en-US", DESKTOP, False),
        ("home-phone-th.png", "/", "th-TH", PHONE, False),
        ("members-th.png", "/members", "th-TH", DESKTOP, False),
        ("member-th.png", f"/members/{site.id('elderly_club')}", "th-TH", DESKTOP, False),
        ("activities-th.png", "/activities", "th-TH", DESKTOP, False),
        ("map-th.png", "/map", "th-TH", TALL, False),
        ("map-en.png", "/map", "en-US", TALL, False),
    ]
    for name, path, locale, viewport, full in shots:
        t = Tab(browser, site, locale=locale, viewport=viewport)
        try:
            page = t.goto(path)
            page.screenshot(path=str(SHOTS / name), full_page=full)
            assert (SHOTS / name).stat().st_size > 10_000, name
            assert t.errors == []
        finally:
            t.close()


def test_health_page_in_the_browser(browser, site):
    """/health: the figures and their charts drawn, the what-if form labelled and working,
    no sideways scrolling on a phone, and its screenshots."""
    views = [
        ("th-TH", TALL, "health-th.png"),
        ("en-US", TALL, "health-en.png"),
        ("th-TH", PHONE, "health-phone-th.png"),
    ]
    for locale, viewport, shot in views:
        t = Tab(browser, site, locale=locale, viewport=viewport)
        try:
            page = t.goto("/health")
            assert page.locator("nav a[aria-current=page]").get_attribute("href") == "/health"
            assert page.locator(".figures > li").count() >= 10
            bars = page.locator("svg.spark rect.bar:not(.zero)")
            assert bars.count() > 0 and bars.first.bounding_box()["height"] > 2
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, (locale, viewport, overflow)
            unlabelled = page.evaluate(
                """() => [...document.querySelectorAll('input, select')]
                     .filter(e => e.type !== 'hidden' && !(e.labels && e.labels.length))
                     .map(e => e.id || e.name)"""
            )
            assert unlabelled == []
            page.screenshot(path=str(SHOTS / shot), full_page=False)
            assert (SHOTS / shot).stat().st_size > 10_000, shot
            if locale == "en-US" and viewport is TALL:
                # "what if it left": choose the foundation, the Khon Kaen club is cut off
                page.select_option("#f-what-if", site.id("ngo"))
                page.click("section.what-if button")
                page.wait_for_url(re.compile(r"/health\?what_if=pm"))
                result = page.locator(".what-if-result").inner_text()
                assert "would fall into 2 groups" in result, result
                assert (
                    "Ban Pet Elderly Club" in page.locator(".what-if-result .cut-off").inner_text()
                )
            assert t.errors == [], t.errors
        finally:
            t.close()
