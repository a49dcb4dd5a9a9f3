"""The website's pages for keeping the network alive (issue 7): the health report,
help requests and decisions, over real HTTP from a real node holding the sample network.

Beside the sample network (two help requests, one handed on and closed, thanks, a
passed charter change and an open proposal with three options) the store holds
steps and votes that break the rules, which the pages must show as not counting,
with their reasons, and a request whose title carries HTML.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from p2pnet import assist, decisions, health, i18n, ids
from p2pnet.node import website
from p2pnet.store import Store

from .test_website import EVIL_TH, LiveSite, main_text, text_of

EVIL_TITLE = '<script>alert("req")</script> ขอ <b>ห้อง</b>'


class TogetherSite(LiveSite):
    """The live site, plus refused steps and votes and an HTML-laden request."""

    def _add_extras(self, s: Store) -> None:
        super()._add_extras(s)
        p = self.people
        conn = s.conn
        closed = conn.execute(
            "SELECT id FROM requests WHERE author = ?", (p["health_unit"].member_id,)
        ).fetchone()[0]
        open_ = conn.execute(
            "SELECT id FROM requests WHERE author = ?", (p["coop"].member_id,)
        ).fetchone()[0]
        raw = {r: ids.from_text("pe", r) for r in (closed, open_)}
        # a reply after the request was closed; a close by someone who did not ask
        s.append(p["youth"], "reply", {"request": raw[closed], "message": "ช้าไปแล้ว"})
        s.append(self.evil, "close", {"request": raw[open_], "outcome": "done"})
        evil_req = s.append(self.evil, "request", {"title": EVIL_TITLE, "description": "<i>x</i>"})
        self.evil_request = ids.entry(evil_req.id)
        passed, open_p = (
            conn.execute("SELECT id FROM proposals ORDER BY closes").fetchall()[i][0]
            for i in (0, 1)
        )
        raw_p = {r: ids.from_text("pe", r) for r in (passed, open_p)}
        s.append(p["sao"], "vote", {"proposal": raw_p[passed], "option": 0})  # after closing
        s.append(self.evil, "vote", {"proposal": raw_p[open_p], "option": 0})  # not admitted
        s.append(p["coop"], "vote", {"proposal": raw_p[open_p], "option": 5})  # no such option
        self.requests = {"closed": closed, "open": open_}
        self.proposals = {"passed": passed, "open": open_p}

    def call(self, fn):
        """``fn(conn)`` on the node's own store, from its event loop."""

        async def run():
            return await self.node.ctx.store.call(lambda s: fn(s.conn))

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(60)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    s = TogetherSite(tmp_path_factory.mktemp("together"))
    yield s
    s.close()


# --------------------------------------------------------------------------- every page
def pages(site: TogetherSite) -> dict[str, tuple[str, str]]:
    return {
        "/health": ("สุขภาพของเครือข่าย", "The health of the network"),
        f"/health?what_if={site.id('ngo')}": ("ถ้าสมาชิกรายนี้ออกไป", "What if this member left"),
        "/requests": ("ขอความช่วยเหลือและการส่งต่องาน", "Help requests and handing work on"),
        f"/requests/{site.requests['closed']}": ("ขั้นตอนที่ลงนามแล้ว", "Signed steps"),
        "/proposals": ("การตัดสินใจร่วมกัน", "Decisions together"),
        f"/proposals/{site.proposals['passed']}": ("ใครลงคะแนนอะไร", "Who voted what"),
    }


@pytest.mark.parametrize("lang", ["th", "en"])
def test_new_pages_answer_in_both_languages_and_are_in_the_menu(site, lang):
    for path, (th, en) in pages(site).items():
        page = site.page(path, lang)
        assert (th if lang == "th" else en) in text_of(page), (path, lang)
        nav = page.split("<nav", 1)[1].split("</nav>", 1)[0]
        for href in ("/requests", "/proposals", "/health"):
            assert f'href="{href}"' in nav, (path, href)
        section = path.split("?")[0].split("/")[1]
        assert re.search(rf'href="/{section}" aria-current="page"', nav), path
        assert " style=" not in page, path  # the CSP allows no inline style
        assert "<script" not in page, path


@pytest.mark.parametrize("lang", ["th", "en"])
@pytest.mark.parametrize(
    "path,th,en",
    [
        ("/requests/pezzzzzzzzzzzzzzzzzz", "ไม่พบคำขอความช่วยเหลือนี้", "no such help request"),
        ("/requests/<b>x", "ไม่พบคำขอความช่วยเหลือนี้", "no such help request"),
        ("/proposals/pezzzzzzzzzzzzzzzzzz", "ไม่พบข้อเสนอนี้", "no such proposal"),
        ("/health?what_if=pmzzzzzzzzzzzzzz", "ไม่พบสมาชิกนี้", "no such member"),
    ],
)
def test_unknown_ids_are_a_friendly_404(site, path, lang, th, en):
    page = site.page(path, lang, status=404)
    assert (th if lang == "th" else en) in text_of(page)
    assert "<b>x" not in page


def test_bad_member_filter_is_a_friendly_400(site):
    page = site.page("/requests?member=nobody-at-all", "en", status=400)
    assert "A filter value cannot be used" in text_of(page)


# --------------------------------------------------------------------------- health
@pytest.mark.parametrize("lang", ["th", "en"])
def test_health_shows_every_figure_with_its_explanation(site, lang):
    report = site.call(health.report)
    page = site.page("/health", lang)
    text = main_text(page)
    for f in report["figures"]:
        assert i18n.gettext(lang, f"health.fig.{f['key']}") in text, f["key"]
        explain = f["explain_th"] if lang == "th" else f["explain_en"]
        assert " ".join(explain.split()) in text, f["key"]
        block = page.split(f'id="fig-{f["key"]}"', 1)[1].split("</li>", 1)[0]
        if f.get("trend"):
            # a small chart, one titled bar a month, and the same numbers as a table
            assert block.count("<rect") == len(f["trend"]), f["key"]
            assert 'role="img"' in block and "<table>" in block
    growth = next(f for f in report["figures"] if f["key"] == "growth")
    assert i18n.gettext(lang, f"growth.{growth['value']}") in text
    active = next(f for f in report["figures"] if f["key"] == "active_members_90d")
    assert f"{active['value']} / {active['total']}" in text


def test_health_trends_use_the_readers_era(site):
    th, en = main_text(site.page("/health", "th")), main_text(site.page("/health", "en"))
    th_months = "|".join(
        i18n.format_month(f"2024-{m:02d}-01", "th").split()[0] for m in range(1, 13)
    )
    en_months = "|".join(
        i18n.format_month(f"2024-{m:02d}-01", "en").split()[0] for m in range(1, 13)
    )
    assert re.search(rf"({th_months}) 25\d\d", th)
    assert re.search(rf"({en_months}) 20\d\d", en)
    assert not re.search(r"\b25\d\d\b", en.replace(site.url, ""))


def test_health_support_unmet_and_one_sided_pairs(site):
    report = site.call(health.report)
    figs = {f["key"]: f for f in report["figures"]}
    page = site.page("/health", "en")
    support = page.split('id="support-h"', 1)[1].split("</section>", 1)[0]
    for m in figs["members_needing_support"]["members"]:
        assert f'href="/members/{m["id"]}"' in support
        for r in m["reasons"]:
            assert i18n.gettext("en", f"support.{r}") in text_of(support), r
    th_support = site.page("/health", "th").split('id="support-h"', 1)[1].split("</section>", 1)[0]
    assert "มีความต้องการที่ยังไม่มีใครตอบ" in text_of(th_support)
    unmet = text_of(page.split('id="unmet-h"', 1)[1].split("</section>", 1)[0])
    for n in figs["needs_met"]["unmet"]:
        assert n["need"].replace("<", "") in unmet.replace("<", "")
    one_way = page.split('id="oneway-h"', 1)[1].split("</section>", 1)[0]
    assert one_way.count("<tr>") == len(figs["two_way_pairs"]["one_way"]) + 1
    # member-written needs (with HTML) come out escaped
    assert "<u>ใหญ่</u>" not in page and "&lt;u&gt;ใหญ่&lt;/u&gt;" in page


def test_health_cut_points_and_what_if(site):
    ngo, khonkaen = site.id("ngo"), site.id("khonkaen")
    expect = site.call(lambda c: health.what_if(c, ngo))
    # the escaping and fork extras stand alone: they were apart already and are not counted
    assert len(expect["groups"]) == 4
    page = site.page("/health", "en")
    cuts = page.split('id="cuts-h"', 1)[1].split("</section>", 1)[0]
    assert f'href="/members/{ngo}"' in cuts and f'href="/members/{khonkaen}"' in cuts
    assert f"/health?what_if={ngo}#what-if" in cuts
    splits = "If Lanna Healthy Ageing Foundation left, the members it connects would fall into 2"
    assert splits + " groups" in text_of(cuts)
    assert "Two Minds" not in text_of(cuts)
    # the what-if view for the cut point: the Khon Kaen club is cut off
    page = site.page(f"/health?what_if={ngo}", "th")
    result = page.split('class="what-if-result"', 1)[1].split("</div>", 1)[0]
    assert "แยกเป็น 2 กลุ่ม" in text_of(result)
    assert "สมาชิก 2 รายแยกอยู่นอกกลุ่มนี้อยู่แล้ว" in text_of(page)
    cut_off = result.split('class="cut-off"', 1)[1]
    assert f'href="/members/{khonkaen}"' in cut_off
    assert "จะขาดการเชื่อมต่อกับกลุ่มใหญ่" in text_of(cut_off)
    assert f'<option value="{ngo}" selected>' in page
    # anyone else: the rest stays connected; a unique id prefix works too
    page = site.page(f"/health?what_if={site.id('school')[:10]}", "en")
    assert "the others would all still be connected" in text_of(page)


# --------------------------------------------------------------------------- help requests
def test_requests_list_and_filters(site):
    page = site.page("/requests", "th")
    for rid in (*site.requests.values(), site.evil_request):
        assert f'href="/requests/{rid}"' in page
    assert "ปิดแล้ว · สำเร็จ" in text_of(page) and "เปิดรับความช่วยเหลือ" in text_of(page)
    closed = site.page("/requests?state=closed", "en")
    assert f'href="/requests/{site.requests["closed"]}"' in closed
    assert f'href="/requests/{site.requests["open"]}"' not in closed
    assert "1 requests" in text_of(closed)
    coop = site.page(f"/requests?member={site.id('coop')}", "en")
    assert f'href="/requests/{site.requests["open"]}"' in coop
    assert f'href="/requests/{site.requests["closed"]}"' not in coop
    # an unknown state is ignored, like the other filters' unknown values
    assert site.get("/requests?state=nonsense").status_code == 200


@pytest.mark.parametrize("lang", ["th", "en"])
def test_request_shows_who_signed_each_step_and_when(site, lang):
    rid = site.requests["closed"]
    r = site.call(lambda c: assist.request_state(c, rid))
    page = site.page(f"/requests/{rid[:12]}", lang)  # a unique prefix works
    steps = page.split('<ol class="steps">', 1)[1].split("</ol>", 1)[0]
    assert steps.count('<li class="step') == len(r["history"]) + 1
    for ev in r["history"]:
        item = steps.split(ev["entry"], 1)[0].rsplit('<li class="step', 1)[1]
        assert f'href="/members/{ev["author"]}"' in item, ev["kind"]
        assert i18n.format_ts(ev["ts"], lang, time=True) in text_of(item), ev["kind"]
    text = text_of(steps)
    if lang == "th":
        assert "ส่งต่องานให้ กลุ่มอาสาสมัครสาธารณสุขประจำหมู่บ้าน" in text
        assert "ปิดคำขอ: สำเร็จ" in text and "รับข้อเสนอของ องค์การบริหารส่วนตำบลดอนแก้ว" in text
        assert re.search(r"\d{1,2} ต\.ค\. 2569", text)  # Buddhist Era
    else:
        assert "closed the request: done" in text and "handed the work on to" in text
        assert re.search(r"\d{1,2} Oct 2026", text)
    thanks = text_of(page.split('id="thanks-h"', 1)[1].split("</section>", 1)[0])
    assert len(r["thanks"]) >= 1 and all(t["message"] in thanks for t in r["thanks"])


@pytest.mark.parametrize("lang", ["th", "en"])
def test_refused_steps_are_shown_with_reasons_and_do_not_count(site, lang):
    for key, reason in (("closed", "reason.closed"), ("open", "reason.close_owner")):
        rid = site.requests[key]
        r = site.call(lambda c, rid=rid: assist.request_state(c, rid))
        assert r["refused"], key
        page = site.page(f"/requests/{rid}", lang)
        box = page.split('class="refused-box"', 1)[1].split("</section>", 1)[0]
        assert box.count(
            'class="badge refused-mark">✗ ' + i18n.gettext(lang, "refused.mark")
        ) == len(r["refused"])
        assert i18n.gettext(lang, reason) in text_of(box), key
        steps = page.split('<ol class="steps">', 1)[1].split("</ol>", 1)[0]
        for ev in r["refused"]:
            assert ev["entry"] in box and ev["entry"] not in steps
            assert i18n.format_ts(ev["ts"], lang, time=True) in text_of(box)
    # the evil close did not close the open request
    page = site.page(f"/requests/{site.requests['open']}", "en")
    assert "open" in text_of(page.split('<dl class="facts card">', 1)[1].split("</dl>", 1)[0])


def test_request_text_is_escaped(site):
    for path in ("/requests", f"/requests/{site.evil_request}"):
        page = site.page(path, "en")
        assert "<script>alert" not in page and "<b>ห้อง</b>" not in page, path
        assert "&lt;script&gt;alert(&#34;req&#34;)&lt;/script&gt;" in page, path
        assert "&lt;b&gt;ห้อง&lt;/b&gt;" in page
    page = site.page(f"/requests/{site.evil_request}", "en")
    assert "&lt;i&gt;x&lt;/i&gt;" in page and EVIL_TH not in page


# --------------------------------------------------------------------------- decisions
def test_proposals_list(site):
    page = site.page("/proposals", "th")
    for pid in site.proposals.values():
        assert f'href="/proposals/{pid}"' in page
    text = text_of(page)
    assert "ผ่าน" in text and "ข้อเสนอแก้กฎบัตร" in text and "เห็นด้วย" in text
    assert "ขอนแก่น (เยี่ยมเครือข่ายเพื่อน)" in text


@pytest.mark.parametrize("which", ["passed", "open"])
@pytest.mark.parametrize("lang", ["th", "en"])
def test_proposal_shows_who_voted_what_the_tally_and_quorum(site, which, lang):
    pid = site.proposals[which]
    p = site.call(lambda c: decisions.tally(c, pid))
    page = site.page(f"/proposals/{pid}", lang)
    votes = page.split('<table class="votes">', 1)[1].split("</table>", 1)[0]
    assert votes.count("<tr>") == len(p["votes"]) + 1
    for v in p["votes"]:
        row = votes.split(f'href="/members/{v["member"]}"', 1)[1].split("</tr>", 1)[0]
        label = i18n.gettext(lang, f"option.{v['option']}") if p["changes"] else v["option"]
        assert label in text_of(row), v
    tally = page.split('<table class="tally">', 1)[1].split("</table>", 1)[0]
    for option, n in p["counts"].items():
        label = i18n.gettext(lang, f"option.{option}") if p["changes"] else option
        assert re.search(re.escape(label) + r"( ✓)? " + str(n) + r"\b", text_of(tally)), option
    quorum = i18n.gettext(
        lang, "proposal.quorum", percent=p["quorum_percent"], eligible=p["eligible"],
        needed=p["quorum_votes"], voted=p["voted"],
    )  # fmt: skip
    assert quorum in text_of(page)
    assert i18n.gettext(lang, f"presult.{p['result']}") in text_of(page)
    # refused votes: listed with their translated reason, marked, and left out of the tally
    assert p["refused"], which
    box = page.split('class="refused-box"', 1)[1].split("</section>", 1)[0]
    assert box.count('class="badge refused-mark">✗ ' + i18n.gettext(lang, "refused.mark")) == len(
        p["refused"]
    )
    for v in p["refused"]:
        assert website.reason_text(v["reason"], lang) in text_of(box)
        assert f'href="/members/{v["member"]}"' in box
        assert f'href="/members/{v["member"]}"' not in votes or v["member"] in {
            x["member"] for x in p["votes"]
        }
    if which == "passed":
        assert i18n.gettext(lang, "proposal.change.quorum", n=60) in text_of(page)
        assert i18n.gettext(lang, "reason.after_close") in text_of(box)
    else:
        assert len(p["options"]) == 3
        assert i18n.gettext(lang, "reason.no_option", n=6) in text_of(box) or any(
            v["reason"] == "cast after the proposal closed" for v in p["refused"]
        )


# --------------------------------------------------------------------------- members and helpers
def test_member_page_shows_thanks_received(site):
    sao = site.id("sao")
    n = site.call(
        lambda c: c.execute("SELECT count(*) FROM thanks WHERE dst = ?", (sao,)).fetchone()[0]
    )
    assert n >= 1
    page = site.page(f"/members/{sao}", "en")
    dd = page.split('class="thanks-count">', 1)[1].split("</dd>", 1)[0]
    assert text_of(dd).startswith(f"{n} ")
    assert f"/requests?member={sao}" in dd


def test_every_refusal_reason_has_a_translation():
    root = Path(website.__file__).resolve().parent.parent
    reasons = set()
    for name in ("assist.py", "decisions.py"):
        src = (root / name).read_text(encoding="utf-8")
        reasons |= set(re.findall(r'why = f?"([^"]+)"', src))
    assert len(reasons) >= 12
    for r in reasons:
        if "{" in r:
            r = re.sub(r"\{[^}]+\}", "3", r)
        for lang in ("th", "en"):
            assert website.reason_text(r, lang) != r or lang == "en", r
        assert website.reason_text(r, "en") == (r if "option" not in r else "there is no option 4")


def test_bar_chart_is_plain_svg():
    svg = str(website.bar_chart([("2026-01", 0), ("2026-02", 3), ("2026-03", 6)], "a <b>", "th"))
    assert svg.count("<rect") == 3 and " style=" not in svg and "<b>" not in svg
    heights = [int(h) for h in re.findall(r'height="(\d+)"', svg)[1:]]
    assert heights[0] <= 1 and heights[2] == 2 * heights[1]
    assert "มีนาคม 2569: 6" in svg
