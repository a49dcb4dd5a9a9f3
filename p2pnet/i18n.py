"""Thai and English for the website: the message catalogue, dates, and choosing a language.

Pure and synchronous. Every text the website shows (apart from what members
wrote themselves) lives in :data:`MESSAGES`, one entry per key with its Thai
and English form; :func:`gettext` fills ``{placeholders}``. A test checks that
every key has both languages and the same placeholders in each.

The reader's language is, in order: ``?lang=th|en`` in the URL (the language
switch; the website then remembers it in a cookie), the cookie, the first of
``th``/``en`` in ``Accept-Language``, and else Thai (the network's first
language).

Dates follow the reader: Thai readers see the Buddhist Era (``15 มี.ค. 2567``),
English readers the Common Era (``15 Mar 2024``). Stored dates stay ISO CE.
"""

from __future__ import annotations

# The catalogue keeps each message on one line, whatever its length.
# ruff: noqa: E501
import datetime as dt
import re
import string

from . import thai

__all__ = [
    "COOKIE",
    "DEFAULT_LANG",
    "LANGS",
    "MESSAGES",
    "choose",
    "format_date",
    "format_month",
    "format_ts",
    "from_accept_language",
    "gettext",
    "has_thai",
]

LANGS = ("th", "en")
DEFAULT_LANG = "th"
COOKIE = "p2pnet_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600

_MONTHS_TH_SHORT = (
    "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
    "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.",
)  # fmt: skip
_MONTHS_TH = (
    "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
    "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม",
)  # fmt: skip
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_THAI = re.compile("[\u0e00-\u0e7f]")
_Q = re.compile(r"q\s*=\s*([0-9.]+)")


# --------------------------------------------------------------------------- choosing
def from_accept_language(header: str, default: str = DEFAULT_LANG) -> str:
    """The first of ``th``/``en`` the browser prefers (by q value, then order), else ``default``."""
    best, best_q = default, -1.0
    for part in header.split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGS:
            continue
        q = 1.0
        m = _Q.search(params)
        if m:
            try:
                q = float(m.group(1))
            except ValueError:
                q = 0.0
        if q > best_q and q > 0:
            best, best_q = primary, q
    return best


def choose(query: str | None, cookie: str | None, accept_language: str) -> tuple[str, bool]:
    """(language, whether to remember it in the cookie)."""
    if query in LANGS:
        assert query is not None
        return query, query != cookie
    if cookie in LANGS:
        assert cookie is not None
        return cookie, False
    return from_accept_language(accept_language), False


def has_thai(text: str) -> bool:
    """True if ``text`` holds a Thai letter (to mark it ``lang="th"`` inside English pages)."""
    return bool(_THAI.search(text))


# --------------------------------------------------------------------------- dates
def _date(iso: str | None) -> dt.date | None:
    if not iso:
        return None
    try:
        return dt.date.fromisoformat(iso[:10])
    except ValueError:
        return None


def format_date(iso: str | None, lang: str) -> str:
    """``2024-03-15`` -> ``15 มี.ค. 2567`` (th) or ``15 Mar 2024`` (en)."""
    d = _date(iso)
    if d is None:
        return iso or ""
    if lang == "th":
        return f"{d.day} {_MONTHS_TH_SHORT[d.month - 1]} {thai.be_year(d.year)}"
    return f"{d.day} {_MONTHS_EN[d.month - 1][:3]} {d.year}"


def format_month(iso: str | None, lang: str) -> str:
    """``2024-03-15`` -> ``มีนาคม 2567`` (th) or ``March 2024`` (en)."""
    d = _date(iso)
    if d is None:
        return iso or ""
    if lang == "th":
        return f"{_MONTHS_TH[d.month - 1]} {thai.be_year(d.year)}"
    return f"{_MONTHS_EN[d.month - 1]} {d.year}"


def format_ts(ms: int | None, lang: str, *, time: bool = False) -> str:
    """A timestamp in milliseconds as a Bangkok date (and time), in the reader's era."""
    if ms is None:
        return ""
    when = dt.datetime.fromtimestamp(ms / 1000, thai.BANGKOK)
    out = format_date(when.date().isoformat(), lang)
    if time:
        out += f" {when:%H:%M}" + (" น." if lang == "th" else "")
    return out


def example_date(lang: str) -> str:
    """How to type a date in a filter: BE for Thai readers, CE for English ones."""
    return "2567-03-15" if lang == "th" else "2024-03-15"


# --------------------------------------------------------------------------- messages
def gettext(lang: str, key: str, **values: object) -> str:
    """The message ``key`` in ``lang`` (th or en), ``{placeholders}`` filled from ``values``."""
    forms = MESSAGES[key]
    text = forms.get(lang) or forms["en"]
    return text.format(**values) if values else text


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


# key -> {"th": ..., "en": ...}
MESSAGES: dict[str, dict[str, str]] = {
    # layout
    "site.tagline": {
        "th": "สมุดรายชื่อเครือข่าย ที่ทุกโหนดของสมาชิกเผยแพร่เหมือนกัน",
        "en": "The network's directory, served alike by every member's node",
    },
    "skip": {"th": "ข้ามไปยังเนื้อหา", "en": "Skip to content"},
    "nav.label": {"th": "เมนูหลัก", "en": "Main menu"},
    "nav.home": {"th": "หน้าแรก", "en": "Home"},
    "nav.members": {"th": "สมาชิก", "en": "Members"},
    "nav.activities": {"th": "กิจกรรม", "en": "Activities"},
    "nav.map": {"th": "แผนที่เครือข่าย", "en": "Network map"},
    "nav.matches": {"th": "จับคู่ความช่วยเหลือ", "en": "Matches"},
    "nav.node": {"th": "โหนดนี้", "en": "This node"},
    "nav.requests": {"th": "ขอความช่วยเหลือ", "en": "Help requests"},
    "nav.proposals": {"th": "ตัดสินใจร่วม", "en": "Decisions"},
    "nav.health": {"th": "สุขภาพเครือข่าย", "en": "Network health"},
    "lang.switch": {"th": "English", "en": "ภาษาไทย"},
    "lang.switch_label": {"th": "Read this page in English", "en": "อ่านหน้านี้เป็นภาษาไทย"},
    "search.label": {"th": "ค้นหาสมาชิกและกิจกรรม", "en": "Search members and activities"},
    "search.placeholder": {
        "th": "เช่น ผู้สูงอายุ, อบรม, herbal",
        "en": "e.g. elderly, training, ผู้สูงอายุ",
    },
    "search.button": {"th": "ค้นหา", "en": "Search"},
    "footer.served": {
        "th": "หน้านี้แสดงจากโหนดของ {member} · ทุกข้อมูลลงนามดิจิทัลโดยสมาชิกผู้เขียน",
        "en": "Served by the node of {member} · every entry is digitally signed by the member who wrote it",
    },
    "footer.latest": {
        "th": "ข้อมูลล่าสุดที่โหนดนี้ได้รับ: ลงนามโดย {member} เมื่อ {when}",
        "en": "Latest entry this node received: signed by {member} on {when}",
    },
    "footer.entries": {
        "th": "{entries} รายการที่ลงนามแล้ว จากสมาชิก {members} ราย",
        "en": "{entries} signed entries from {members} members",
    },
    "footer.api": {"th": "ข้อมูลแบบ JSON", "en": "JSON API"},
    "footer.no_network": {
        "th": "โหนดนี้ยังไม่ได้ก่อตั้งหรือเข้าร่วมเครือข่าย",
        "en": "This node has not founded or joined a network yet",
    },
    "signed.by": {"th": "ลงนามโดย", "en": "Signed by"},
    "signed.on": {"th": "เมื่อ", "en": "on"},
    "signed.entry": {"th": "รายการ", "en": "entry"},
    "signed.self": {"th": "ลงนามโดยสมาชิกเอง", "en": "signed by the member itself"},
    "signed.derived": {
        "th": "คำนวณจาก {entries} รายการที่ลงนามแล้ว ข้อมูลล่าสุดลงนามโดย {member} เมื่อ {when}",
        "en": "Computed from {entries} signed entries; the latest was signed by {member} on {when}",
    },
    "more": {"th": "ดูเพิ่มเติม", "en": "More"},
    "next_page": {"th": "หน้าถัดไป", "en": "Next page"},
    "first_page": {"th": "กลับหน้าแรกของรายการ", "en": "Back to the first page"},
    "none": {"th": "ยังไม่มี", "en": "None yet"},
    "apply": {"th": "กรอง", "en": "Filter"},
    "clear": {"th": "ล้างตัวกรอง", "en": "Clear filters"},
    "any": {"th": "ทั้งหมด", "en": "Any"},
    "this_node": {"th": "โหนดนี้", "en": "this node"},
    # home
    "home.title": {"th": "หน้าแรก", "en": "Home"},
    "home.purpose": {"th": "จุดมุ่งหมาย", "en": "Purpose"},
    "home.vision": {"th": "วิสัยทัศน์ร่วม", "en": "Shared vision"},
    "home.kind": {"th": "ประเภทเครือข่าย", "en": "Kind of network"},
    "home.kinds_all": {"th": "เครือข่ายสามประเภท", "en": "The three kinds of network"},
    "home.admission": {
        "th": "สมาชิกใหม่ได้รับการรับรองเมื่อมีสมาชิกที่ได้รับการรับรองแล้ว {n} รายรับรอง",
        "en": "A new member is admitted once {n} admitted member(s) endorse it",
    },
    "home.founded": {
        "th": "กฎบัตรลงนามโดยผู้ก่อตั้ง {member} เมื่อ {when}",
        "en": "Charter signed by the founder, {member}, on {when}",
    },
    "home.counts": {"th": "เครือข่ายในตัวเลข", "en": "The network in numbers"},
    "count.members": {"th": "สมาชิก", "en": "members"},
    "count.admitted": {"th": "ได้รับการรับรอง", "en": "admitted"},
    "count.pending": {"th": "รอการรับรอง", "en": "pending"},
    "count.activities": {"th": "กิจกรรม", "en": "activities"},
    "count.endorsements": {"th": "การรับรอง", "en": "endorsements"},
    "count.provinces": {"th": "จังหวัด", "en": "provinces"},
    "home.newest_members": {"th": "สมาชิกใหม่ล่าสุด", "en": "Newest members"},
    "home.newest_activities": {"th": "กิจกรรมล่าสุด", "en": "Latest activities"},
    "home.all_members": {"th": "ดูสมาชิกทั้งหมด", "en": "All members"},
    "home.all_activities": {"th": "ดูกิจกรรมทั้งหมด", "en": "All activities"},
    "home.no_network": {
        "th": "โหนดนี้ยังไม่ได้อยู่ในเครือข่าย ผู้ดูแลสามารถก่อตั้งเครือข่าย (p2pnet network create) หรือเข้าร่วมด้วยบัตรเชิญ (p2pnet join)",
        "en": "This node is not in a network yet. Its admin can found one (p2pnet network create) or join one with an invite (p2pnet join).",
    },
    "home.joined": {"th": "เข้าร่วมเมื่อ", "en": "joined"},
    # network kinds
    "kind.natural": {"th": "เครือข่ายตามธรรมชาติ", "en": "Natural network"},
    "kind.natural.about": {
        "th": "เกิดจากคนหรือองค์กรที่มีความคิด งาน หรือปัญหาคล้ายกัน มักอยู่ในพื้นที่เดียวกัน เช่น เครือญาติ ชุมชน บ้านเกิด ก่อตัวช้า แต่เมื่อเกิดแล้วเข้มแข็งและยั่งยืน",
        "en": "Like-minded people or organisations with similar work or the same problem, often in one place (kin, community, home town). Slow to form, then strong and lasting.",
    },
    "kind.formed": {"th": "เครือข่ายจัดตั้ง", "en": "Formed network"},
    "kind.formed.about": {
        "th": "จัดตั้งขึ้นตามนโยบายของรัฐหรือหน่วยงาน จากบนลงล่าง มักอยู่ชั่วคราว และอาจหดตัวหรือสลายไปเมื่อหมดนโยบายหรืองบประมาณ",
        "en": "Set up from the top down through government or agency policy. Tends to be temporary, and may shrink or fade when the policy or budget ends.",
    },
    "kind.hybrid": {"th": "เครือข่ายแบบผสม (เครือข่ายพัฒนา)", "en": "Hybrid (developed) network"},
    "kind.hybrid.about": {
        "th": "เกิดจากเป้าหมายกว้าง ๆ หรือได้แรงบันดาลใจจากการเห็นเครือข่ายอื่น แล้วพัฒนาจนเข้มแข็งได้เท่าเครือข่ายตามธรรมชาติ เช่น เครือข่ายผู้สูงอายุ เครือข่ายโรงเรียนส่งเสริมสุขภาพ",
        "en": "Grows from broad aims, or from seeing another network at work, and can become as strong as a natural one: for example elderly networks and health-promoting-school networks.",
    },
    # member statuses and marks
    "status.label": {"th": "สถานะ", "en": "Status"},
    "status.admitted": {"th": "ได้รับการรับรอง", "en": "admitted"},
    "status.pending": {"th": "รอการรับรอง", "en": "pending"},
    "status.left": {"th": "ออกจากเครือข่ายแล้ว", "en": "left"},
    "status.forked": {"th": "พบประวัติซ้อน", "en": "forked"},
    "status.pending.about": {
        "th": "ยังไม่มีสมาชิกที่ได้รับการรับรองครบ {n} รายมารับรองสมาชิกนี้ตามกฎบัตร",
        "en": "Not yet endorsed by {n} admitted member(s), as the charter requires.",
    },
    "status.left.about": {
        "th": "สมาชิกนี้ลงนามออกจากเครือข่ายแล้ว ข้อมูลเดิมยังคงอยู่เป็นหลักฐาน",
        "en": "This member signed a leave entry; what it wrote before stays on record.",
    },
    "status.forked.about": {
        "th": "กุญแจของสมาชิกนี้ลงนามประวัติสองชุดที่ขัดกัน ({n} รายการขัดแย้ง) ทุกโหนดเก็บทั้งสองชุดไว้เป็นหลักฐาน โปรดตรวจสอบกับสมาชิกก่อนเชื่อข้อมูล",
        "en": "This member's key signed two conflicting histories ({n} conflicting entries). Every node keeps both as proof; check with the member before trusting what it says.",
    },
    "founder": {"th": "ผู้ก่อตั้ง", "en": "founder"},
    # members
    "members.title": {"th": "สมาชิกเครือข่าย", "en": "Members of the network"},
    "members.count": {"th": "พบ {n} ราย", "en": "{n} found"},
    "members.filters": {"th": "ตัวกรอง", "en": "Filters"},
    "filter.q": {"th": "ค้นหาชื่อหรือรายละเอียด", "en": "Name or description"},
    "filter.province": {"th": "จังหวัด", "en": "Province"},
    "filter.area": {"th": "พื้นที่ (ตำบล อำเภอ)", "en": "Area (sub-district, district)"},
    "filter.interest": {"th": "ความสนใจ", "en": "Interest"},
    "filter.offers": {"th": "สิ่งที่เสนอให้", "en": "Offers"},
    "filter.needs": {"th": "สิ่งที่ต้องการ", "en": "Needs"},
    "filter.status": {"th": "สถานะ", "en": "Status"},
    "filter.sort": {"th": "เรียงตาม", "en": "Sort by"},
    "sort.name": {"th": "ชื่อ (ก–ฮ)", "en": "Name"},
    "sort.-updated": {"th": "ปรับปรุงล่าสุด", "en": "Recently updated"},
    "sort.-joined": {"th": "เข้าร่วมล่าสุด", "en": "Newest members"},
    "members.none": {
        "th": "ไม่พบสมาชิกที่ตรงกับตัวกรอง ลองล้างตัวกรองบางช่อง",
        "en": "No member matches these filters; try clearing some of them.",
    },
    "member.offers": {"th": "เสนอให้", "en": "Offers"},
    "member.needs": {"th": "ต้องการ", "en": "Needs"},
    "member.interests": {"th": "ความสนใจ", "en": "Interests"},
    "member.expertise": {"th": "ความเชี่ยวชาญ", "en": "Expertise"},
    "member.updated": {"th": "ปรับปรุงโปรไฟล์ล่าสุด", "en": "Profile last updated"},
    "member.joined": {"th": "เข้าร่วมเครือข่าย", "en": "Joined"},
    "member.profile": {"th": "ข้อมูลองค์กร", "en": "Profile"},
    "member.type": {"th": "ประเภทองค์กร", "en": "Kind of organisation"},
    "member.where": {"th": "ที่ตั้ง", "en": "Where"},
    "member.website": {"th": "เว็บไซต์", "en": "Website"},
    "member.contact": {"th": "ติดต่อ", "en": "Contact"},
    "member.id": {"th": "รหัสสมาชิก (กุญแจสาธารณะ)", "en": "Member id (public key)"},
    "member.entries": {"th": "จำนวนรายการที่ลงนาม", "en": "Signed entries"},
    "member.keys": {"th": "กุญแจของสมาชิก", "en": "The member's keys"},
    "member.keys.about": {
        "th": "สมาชิกเปลี่ยนกุญแจได้โดยไม่เปลี่ยนตัวตน: รหัสสมาชิกคือกุญแจดอกแรกเสมอ "
              "รายการที่กุญแจเก่าลงนามหลังการเปลี่ยนจะไม่ถูกนับ",
        "en": "A member can change keys and stay itself: its id is always its first key's. "
              "What an old key signs after the change counts nowhere.",
    },
    "key.current": {"th": "ใช้อยู่", "en": "in use"},
    "key.rotate": {"th": "ส่งต่อให้กุญแจใหม่ หลังรายการที่ {n}", "en": "handed over after entry {n}"},
    "key.recover": {"th": "กู้คืนแล้ว นับถึงรายการที่ {n}", "en": "claimed back; counts up to entry {n}"},
    "member.claims": {"th": "คำขอกู้คืนกุญแจ", "en": "Key recovery claims"},
    "claim.about": {
        "th": "กุญแจใหม่ {newkey} ขอรับช่วงสมาชิกนี้ (นับรายการเก่าถึงที่ {n}) "
              "ต้องมีสมาชิกที่รับรองสมาชิกนี้ยืนยัน {need} ราย: ยืนยันแล้ว {got} ราย",
        "en": "A new key {newkey} claims this member (its old entries count up to {n}); "
              "{need} members who endorse it must vouch: {got} did so far",
    },
    "claim.in_effect": {"th": "มีผลแล้ว", "en": "in effect"},
    "claim.pending": {"th": "รอการยืนยัน", "en": "waiting for vouches"},
    "claim.vouchers": {"th": "ผู้ยืนยัน", "en": "Vouched by"},
    "member.endorsed_by": {"th": "ได้รับการรับรองจาก", "en": "Endorsed by"},
    "member.endorses": {"th": "รับรองสมาชิกอื่น", "en": "Endorses"},
    "member.activities": {"th": "กิจกรรมที่ร่วม ({n})", "en": "Activities taken part in ({n})"},
    "member.activities_more": {
        "th": "ดูกิจกรรมทั้งหมดของสมาชิกนี้",
        "en": "All of this member's activities",
    },
    "member.matches": {"th": "ใครช่วยได้บ้าง", "en": "Who can help"},
    "member.export": {"th": "ข้อมูลนี้ในรูปแบบอื่น", "en": "This profile as data"},
    "member.thanks": {"th": "คำขอบคุณที่ได้รับ", "en": "Thanks received"},
    "member.requests": {"th": "คำขอความช่วยเหลือที่เกี่ยวข้อง", "en": "Help requests it takes part in"},
    "member.blocked_by": {"th": "ถูกบล็อกโดย {member}", "en": "Blocked by {member}"},
    "member.blocked_by.about": {
        "th": "สมาชิกเหล่านี้ประกาศต่อเครือข่ายว่าโหนดของตนไม่เก็บ ไม่ส่งต่อ และไม่แสดงข้อมูลของสมาชิกนี้อีก",
        "en": "These members announced to the network that their nodes no longer store, relay or show this member's entries.",
    },
    "block.done": {
        "th": "บล็อก {name} แล้ว: ข้อมูลของสมาชิกนี้ถูกซ่อน และโหนดนี้จะไม่เก็บหรือส่งต่ออีก",
        "en": "blocked {name}: its entries are hidden, and this node no longer stores or relays them",
    },
    "block.already": {
        "th": "{name} ถูกบล็อกอยู่แล้ว ไม่มีอะไรต้องเปลี่ยน",
        "en": "{name} is already blocked; nothing to change",
    },
    "block.purged": {
        "th": "ลบข้อมูลของสมาชิกนี้ออกจากบันทึกแล้ว {n} รายการ",
        "en": "deleted {n} of its entries from the log",
    },
    "block.published": {
        "th": "ประกาศการบล็อกต่อเครือข่ายแล้ว (รายการที่ลงนาม {entry})",
        "en": "published the block to the network (signed entry {entry})",
    },
    "block.private": {
        "th": "การบล็อกนี้เป็นเรื่องภายในโหนดนี้ สมาชิกอื่นไม่เห็น",
        "en": "this block is private to this node: other members do not see it",
    },
    "unblock.done": {
        "th": "เลิกบล็อก {name} แล้ว: ข้อมูลที่ยังเก็บไว้จะแสดงอีกครั้ง ส่วนที่ลบไปจะได้รับคืนจากเพื่อนโหนด",
        "en": "unblocked {name}: its entries held are shown again, purged ones come back from peers",
    },
    "unblock.published": {
        "th": "ประกาศการเลิกบล็อกต่อเครือข่ายแล้ว (รายการที่ลงนาม {entry})",
        "en": "published the unblock to the network (signed entry {entry})",
    },
    "member.signed": {
        "th": "โปรไฟล์ลงนามโดย {member} เมื่อ {when}",
        "en": "Profile signed by {member} on {when}",
    },
    "member.no_profile": {
        "th": "สมาชิกนี้ยังไม่ได้เขียนโปรไฟล์",
        "en": "This member has not written a profile yet",
    },
    "contact.email": {"th": "อีเมล", "en": "Email"},
    "contact.phone": {"th": "โทรศัพท์", "en": "Phone"},
    "contact.line": {"th": "LINE", "en": "LINE"},
    "contact.facebook": {"th": "Facebook", "en": "Facebook"},
    "contact.address": {"th": "ที่อยู่", "en": "Address"},
    # activities
    "activities.title": {"th": "ไทม์ไลน์กิจกรรม", "en": "Activity timeline"},
    "activities.none": {"th": "ไม่พบกิจกรรมที่ตรงกับตัวกรอง", "en": "No activity matches these filters."},
    "filter.member": {"th": "สมาชิก", "en": "Member"},
    "filter.kind": {"th": "ประเภทกิจกรรม", "en": "Kind"},
    "filter.since": {"th": "ตั้งแต่วันที่", "en": "From"},
    "filter.until": {"th": "ถึงวันที่", "en": "Until"},
    "filter.date_hint": {
        "th": "ปี พ.ศ. หรือ ค.ศ. เช่น {example}, 2567-03 หรือ 2567",
        "en": "Common or Buddhist Era, e.g. {example}, 2024-03 or 2024",
    },
    "activity.organiser": {"th": "ผู้จัด", "en": "Organiser"},
    "activity.participants": {"th": "ผู้ร่วมกิจกรรม", "en": "Participants"},
    "activity.confirmed": {"th": "ยืนยันแล้ว", "en": "confirmed"},
    "activity.unconfirmed": {"th": "ยังไม่ยืนยัน", "en": "not confirmed yet"},
    "activity.confirmations": {
        "th": "ผู้ร่วมยืนยันแล้ว {n} จาก {of} ราย",
        "en": "{n} of {of} participants confirmed",
    },
    "activity.place": {"th": "สถานที่", "en": "Place"},
    "activity.date": {"th": "วันที่", "en": "Date"},
    "activity.summary": {"th": "สรุป", "en": "Summary"},
    "activity.outcome": {"th": "ผลที่เกิดขึ้น", "en": "Outcome"},
    "activity.signed": {
        "th": "บันทึกและลงนามโดย {member} เมื่อ {when}",
        "en": "Recorded and signed by {member} on {when}",
    },
    "activity.kind": {"th": "ประเภท", "en": "Kind"},
    "akind.meeting": {"th": "ประชุม", "en": "meeting"},
    "akind.training": {"th": "อบรม", "en": "training"},
    "akind.joint-project": {"th": "โครงการร่วม", "en": "joint project"},
    "akind.exchange": {"th": "แลกเปลี่ยนเรียนรู้", "en": "exchange"},
    "akind.seminar": {"th": "สัมมนา", "en": "seminar"},
    "akind.visit": {"th": "ศึกษาดูงาน", "en": "visit"},
    "akind.forum": {"th": "เวทีประชาคม", "en": "forum"},
    "akind.other": {"th": "อื่น ๆ", "en": "other"},
    # organisation types
    "org.elderly-club": {"th": "ชมรมผู้สูงอายุ", "en": "elderly club"},
    "org.school": {"th": "โรงเรียน", "en": "school"},
    "org.health-unit": {"th": "หน่วยบริการสุขภาพ (รพ.สต.)", "en": "health promoting hospital"},
    "org.hospital": {"th": "โรงพยาบาล", "en": "hospital"},
    "org.womens-group": {"th": "กลุ่มสตรี / แม่บ้าน", "en": "women's group"},
    "org.youth-group": {"th": "กลุ่มเยาวชน", "en": "youth group"},
    "org.local-government": {"th": "องค์กรปกครองส่วนท้องถิ่น", "en": "local government"},
    "org.ngo": {"th": "องค์กรพัฒนาเอกชน / มูลนิธิ", "en": "NGO / foundation"},
    "org.cooperative": {"th": "วิสาหกิจชุมชน / สหกรณ์", "en": "community enterprise / cooperative"},
    "org.temple": {"th": "วัด", "en": "temple"},
    "org.other": {"th": "องค์กรอื่น ๆ", "en": "other organisation"},
    # search
    "search.title": {"th": "ค้นหา", "en": "Search"},
    "search.results": {"th": "ผลการค้นหา “{q}”", "en": "Results for “{q}”"},
    "search.members": {"th": "สมาชิก", "en": "Members"},
    "search.activities": {"th": "กิจกรรม", "en": "Activities"},
    "search.none": {
        "th": "ไม่พบ “{q}” ลองใช้คำที่สั้นลง หรือสะกดแบบอื่น",
        "en": "Nothing found for “{q}”. Try a shorter word or another spelling.",
    },
    "search.empty": {
        "th": "พิมพ์คำที่ต้องการค้นหา ภาษาไทยหรือภาษาอังกฤษก็ได้",
        "en": "Type what you are looking for, in Thai or English.",
    },
    "search.more": {"th": "ผลลัพธ์เพิ่มเติม", "en": "More results"},
    # map
    "map.title": {"th": "แผนที่เครือข่าย: ใครทำงานร่วมกับใคร", "en": "Network map: who works with whom"},
    "map.intro": {
        "th": "วงกลมแต่ละวงคือสมาชิก เส้นทึบคือการทำกิจกรรมร่วมกัน (ยิ่งหนายิ่งทำด้วยกันบ่อย) เส้นประมีลูกศรคือการรับรอง สมาชิกที่มีวงสีส้มเป็น “จุดเชื่อม” หากจุดเชื่อมออกไป เครือข่ายจะแยกเป็นส่วน ๆ",
        "en": "Each circle is a member. Solid lines are shared activities (thicker: more of them); dashed arrows are endorsements. Members ringed in orange are cut points: if one of them left, the network would fall apart into pieces.",
    },
    "map.svg_title": {"th": "แผนที่เครือข่าย", "en": "Network map"},
    "map.svg_desc": {
        "th": "สมาชิก {nodes} ราย เชื่อมกัน {links} เส้น จุดเชื่อม {cuts} ราย",
        "en": "{nodes} members, {links} links, {cuts} cut points",
    },
    "map.legend": {"th": "คำอธิบายสัญลักษณ์", "en": "Legend"},
    "map.legend.member": {"th": "สมาชิก (ยิ่งใหญ่ยิ่งมีความสัมพันธ์มาก)", "en": "member (bigger: more ties)"},
    "map.legend.cut": {
        "th": "จุดเชื่อม: ถ้าออกไป เครือข่ายแยกส่วน",
        "en": "cut point: the network splits without it",
    },
    "map.legend.pending": {"th": "รอการรับรอง", "en": "pending"},
    "map.legend.activity": {"th": "ทำกิจกรรมร่วมกัน", "en": "shared activities"},
    "map.legend.endorse": {
        "th": "รับรอง (ลูกศรชี้ไปยังผู้ได้รับการรับรอง)",
        "en": "endorsement (arrow points to the endorsed member)",
    },
    "map.legend.self": {"th": "สมาชิกของโหนดนี้", "en": "this node's member"},
    "map.cuts": {"th": "จุดเชื่อมของเครือข่าย", "en": "Cut points of the network"},
    "map.cuts.none": {
        "th": "ไม่มีจุดเชื่อม: ไม่ว่าสมาชิกรายใดออกไป สมาชิกที่เหลือยังเชื่อมถึงกันได้",
        "en": "No cut points: whichever member left, the others would still be connected.",
    },
    "map.cut.splits": {
        "th": "ถ้าออกไป สมาชิกที่เหลือจะแยกเป็น {n} กลุ่ม",
        "en": "without it the others fall into {n} groups",
    },
    "map.components": {
        "th": "เครือข่ายนี้มี {n} กลุ่มที่ไม่เชื่อมถึงกัน",
        "en": "This network has {n} groups that are not connected to each other",
    },
    "map.shown": {
        "th": "แสดงสมาชิก {shown} รายที่เชื่อมโยงมากที่สุด จากทั้งหมด {total} ราย",
        "en": "Showing the {shown} most connected of {total} members",
    },
    "map.table": {
        "th": "ความสัมพันธ์ของสมาชิกแต่ละราย (ข้อความแทนแผนที่)",
        "en": "Each member's ties (the map as text)",
    },
    "map.works_with": {"th": "ทำกิจกรรมร่วมกับ", "en": "Works with"},
    "map.shared": {"th": "{n} กิจกรรม", "en": "{n} activities"},
    "map.empty": {"th": "ยังไม่มีสมาชิกที่จะแสดง", "en": "No members to draw yet."},
    "map.svg_link": {"th": "ดาวน์โหลดแผนที่ (SVG)", "en": "Download the map (SVG)"},
    # matches
    "matches.title": {"th": "จับคู่: ข้อเสนอที่ตอบความต้องการ", "en": "Matches: offers that meet needs"},
    "matches.intro": {
        "th": "จุดแข็งของสมาชิกหนึ่งช่วยเติมจุดอ่อนของอีกสมาชิกหนึ่ง (1+1>2) รายการนี้จับคู่ “สิ่งที่ต้องการ” ของแต่ละสมาชิกกับ “สิ่งที่เสนอให้” ของสมาชิกอื่น",
        "en": "One member's strength mends another's weakness (1+1>2). Here each member's needs are paired with what other members offer.",
    },
    "matches.counts": {
        "th": "ความต้องการ {needs} รายการ มีผู้เสนอช่วยแล้ว {met} รายการ ยังไม่มี {unmet} รายการ",
        "en": "{needs} needs: {met} met by an offer, {unmet} not yet",
    },
    "matches.needs": {"th": "ต้องการ", "en": "needs"},
    "matches.offered_by": {"th": "ข้อเสนอที่ตรงกัน", "en": "Offers that meet it"},
    "matches.unmet": {"th": "ความต้องการที่ยังไม่มีใครเสนอ", "en": "Needs nobody offers yet"},
    "matches.none": {"th": "ยังไม่มีคู่ที่ตรงกัน", "en": "No matches yet."},
    "matches.for": {"th": "เฉพาะสมาชิก", "en": "For member"},
    "matches.gives": {"th": "สิ่งที่สมาชิกนี้ช่วยผู้อื่นได้", "en": "Needs of others this member can meet"},
    "level.phrase": {"th": "ตรงกันทั้งวลี", "en": "exact phrase"},
    "level.all-words": {"th": "ตรงทุกคำสำคัญ", "en": "all key words"},
    "level.some-words": {"th": "ตรงบางคำ", "en": "some key words"},
    "matches.how": {
        "th": "จับคู่โดยโมดูล p2pnet.matching จากข้อความในโปรไฟล์ที่สมาชิกลงนาม",
        "en": "Paired by p2pnet.matching from the text of the members' signed profiles",
    },
    # health report
    "health.title": {"th": "สุขภาพของเครือข่าย", "en": "The health of the network"},
    "health.intro": {
        "th": "เครือข่ายจะอยู่ได้ด้วยกิจกรรมร่วมที่ต่อเนื่อง ความสัมพันธ์ที่ดี แรงจูงใจ ทรัพยากรที่พอเพียง การช่วยเหลือกัน และผู้นำรุ่นใหม่ ตัวเลขเหล่านี้คำนวณจากข้อมูลที่สมาชิกลงนาม ทุกโหนดจึงเห็นเหมือนกัน",
        "en": "A network stays alive through continuous joint activities, good relationships, incentives, enough resources, mutual help and new leaders. These figures are computed from the members' signed entries, so every node shows the same.",
    },
    "health.generated": {
        "th": "คำนวณเมื่อ {when} · สมาชิกปัจจุบัน {n} ราย",
        "en": "Computed on {when} · {n} current members",
    },
    "health.figures": {"th": "ตัวชี้วัด", "en": "Figures"},
    "health.trend": {"th": "รายเดือน", "en": "By month"},
    "health.trend_table": {"th": "ตัวเลขรายเดือน", "en": "The numbers by month"},
    "health.month": {"th": "เดือน", "en": "Month"},
    "health.value": {"th": "จำนวน", "en": "Number"},
    "health.joined": {"th": "เข้าร่วม", "en": "Joined"},
    "health.left": {"th": "ออก", "en": "Left"},
    "health.members": {"th": "สมาชิก", "en": "Members"},
    "health.fig.joint_activities_per_month": {
        "th": "กิจกรรมร่วมเดือนนี้",
        "en": "Joint activities this month",
    },
    "health.fig.active_members_90d": {
        "th": "สมาชิกที่เคลื่อนไหวใน 90 วัน",
        "en": "Members active in 90 days",
    },
    "health.fig.longest_gap_months": {
        "th": "ช่วงว่างกิจกรรมยาวที่สุด (เดือน)",
        "en": "Longest gap (months)",
    },
    "health.fig.working_pairs": {"th": "คู่ที่ทำงานร่วมกัน", "en": "Pairs working together"},
    "health.fig.two_way_pairs": {"th": "คู่ที่แลกเปลี่ยนสองทาง", "en": "Two-way pairs"},
    "health.fig.confirmed_participation": {
        "th": "การเข้าร่วมที่ยืนยันแล้ว",
        "en": "Confirmed participation",
    },
    "health.fig.cut_points": {"th": "จุดเชื่อม", "en": "Cut points"},
    "health.fig.bridges": {"th": "สะพานเชื่อมกลุ่ม", "en": "Bridges"},
    "health.fig.needs_met": {"th": "ความต้องการที่มีผู้ตอบ", "en": "Needs met"},
    "health.fig.thanks": {"th": "คำขอบคุณ", "en": "Thanks"},
    "health.fig.members_needing_support": {
        "th": "สมาชิกที่ควรได้รับการช่วยเหลือ",
        "en": "Members needing support",
    },
    "health.fig.new_leaders": {"th": "ผู้นำรุ่นใหม่", "en": "New leaders"},
    "health.fig.growth": {"th": "การเติบโต", "en": "Growth"},
    "growth.growing": {"th": "เติบโต", "en": "growing"},
    "growth.stable": {"th": "คงที่", "en": "stable"},
    "growth.shrinking": {"th": "หดตัว", "en": "shrinking"},
    "health.gap_months": {"th": "เดือนที่ไม่มีกิจกรรมร่วม", "en": "Months with no joint activity"},
    "health.most_thanked": {"th": "ได้รับคำขอบคุณมากที่สุด", "en": "Thanked most"},
    "health.support": {
        "th": "สมาชิกที่ควรได้รับการช่วยเหลือ และเหตุผล",
        "en": "Members who may need help, and why",
    },
    "health.support.none": {
        "th": "ไม่มีสมาชิกที่ต้องเป็นห่วงในตอนนี้",
        "en": "No member needs particular support now.",
    },
    "support.inactive": {"th": "ไม่มีความเคลื่อนไหวใน 90 วัน", "en": "inactive for 90 days"},
    "support.isolated": {
        "th": "โดดเดี่ยว ยังไม่ได้ทำงานร่วมกับใคร",
        "en": "isolated: works with nobody yet",
    },
    "support.unmet-needs": {"th": "มีความต้องการที่ยังไม่มีใครตอบ", "en": "has needs nobody meets"},
    "support.no-endorsements": {"th": "ยังไม่มีสมาชิกใดรับรอง", "en": "no endorsement yet"},
    "health.unmet": {"th": "ความต้องการที่ยังไม่มีใครตอบ", "en": "Needs nobody meets yet"},
    "health.unmet.none": {
        "th": "ทุกความต้องการมีผู้เสนอช่วยแล้ว",
        "en": "Every need is met by someone's offer.",
    },
    "health.one_way": {"th": "คู่ที่ให้หรือรับฝ่ายเดียว", "en": "One-sided pairs"},
    "health.one_way.about": {
        "th": "ฝ่ายแรกเคยจัดกิจกรรมที่อีกฝ่ายเข้าร่วม แต่อีกฝ่ายยังไม่เคยจัดกิจกรรมให้ฝ่ายแรกร่วมบ้าง",
        "en": "The first has organised activities the second took part in, but not the other way round yet.",
    },
    "health.one_way.none": {
        "th": "ทุกคู่แลกเปลี่ยนกันสองทาง",
        "en": "Every pair's exchange runs both ways.",
    },
    "health.gives": {"th": "ให้", "en": "gives"},
    "health.receives": {"th": "รับ", "en": "receives"},
    "health.cuts": {"th": "จุดเชื่อม: ถ้าออกไปจะเกิดอะไรขึ้น", "en": "Cut points: what if one left"},
    "health.cuts.none": {
        "th": "ไม่มีจุดเชื่อม: ไม่ว่าสมาชิกรายใดออกไป สมาชิกที่เหลือยังเชื่อมถึงกันได้",
        "en": "No cut points: whichever member left, the others would still be connected.",
    },
    "health.cut.splits": {
        "th": "ถ้า {member} ออกไป สมาชิกที่เชื่อมถึงกันผ่านรายนี้จะแยกเป็น {n} กลุ่ม ผู้ที่จะขาดการเชื่อมต่อ:",
        "en": "If {member} left, the members it connects would fall into {n} groups. Cut off:",
    },
    "health.bridges": {"th": "สะพานเชื่อมกลุ่ม", "en": "Bridges between groups"},
    "health.bridges.none": {
        "th": "ไม่มีความสัมพันธ์ที่เป็นสะพานเดียว",
        "en": "No tie is the only link between two groups.",
    },
    "health.leaders": {"th": "ผู้นำรุ่นใหม่", "en": "New leaders"},
    "health.leaders.none": {
        "th": "ยังไม่มีสมาชิกใหม่ที่จัดกิจกรรมร่วม",
        "en": "No new member organises joint activities yet.",
    },
    "health.organised": {"th": "จัดกิจกรรมร่วม {n} ครั้ง", "en": "organised {n} joint activities"},
    "health.what_if": {"th": "ถ้าสมาชิกรายนี้ออกไป", "en": "What if this member left"},
    "health.what_if.label": {"th": "เลือกสมาชิก", "en": "Choose a member"},
    "health.what_if.button": {"th": "ดูผล", "en": "Show"},
    "health.what_if.split": {
        "th": "ถ้า {member} ออกไป สมาชิกที่เชื่อมถึงกันผ่านรายนี้จะแยกเป็น {n} กลุ่ม",
        "en": "If {member} left, the members it connects would fall into {n} groups",
    },
    "health.what_if.whole": {
        "th": "ถ้า {member} ออกไป สมาชิกที่เหลือยังเชื่อมถึงกันได้เหมือนเดิม",
        "en": "If {member} left, the others would all still be connected as they are now",
    },
    "health.what_if.apart": {
        "th": "สมาชิก {n} รายแยกอยู่นอกกลุ่มนี้อยู่แล้ว จึงไม่นับรวมข้างต้น",
        "en": "{n} member(s) were apart from this group already and are not counted above.",
    },
    "health.what_if.outside": {
        "th": "{member} ไม่ได้อยู่ในเครือข่ายความร่วมมือ (ยังไม่มีโปรไฟล์ หรือออกไปแล้ว)",
        "en": "{member} is not in the collaboration graph (no profile yet, or it has left)",
    },
    "health.group": {"th": "กลุ่มที่ {n} ({size} ราย)", "en": "Group {n} ({size} members)"},
    "health.cut_off": {
        "th": "จะขาดการเชื่อมต่อกับกลุ่มใหญ่",
        "en": "would be cut off from the largest group",
    },
    # help requests
    "requests.title": {
        "th": "ขอความช่วยเหลือและการส่งต่องาน",
        "en": "Help requests and handing work on",
    },
    "requests.intro": {
        "th": "สมาชิกขอความช่วยเหลือ สมาชิกอื่นเสนอช่วย ผู้ขอรับข้อเสนอ งานส่งต่อกันได้ และผู้ขอปิดคำขอพร้อมผลลัพธ์ ทุกขั้นตอนลงนามโดยสมาชิกผู้ทำ",
        "en": "A member asks for help, others offer it, the requester accepts an offer, the work can be handed on, and the requester closes the request with an outcome. Every step is signed by the member who took it.",
    },
    "requests.count": {"th": "พบ {n} คำขอ", "en": "{n} requests"},
    "requests.none": {"th": "ไม่พบคำขอที่ตรงกับตัวกรอง", "en": "No request matches these filters."},
    "request.state": {"th": "สถานะ", "en": "State"},
    "rstate.open": {"th": "เปิดรับความช่วยเหลือ", "en": "open"},
    "rstate.in-progress": {"th": "กำลังดำเนินการ", "en": "in progress"},
    "rstate.closed": {"th": "ปิดแล้ว", "en": "closed"},
    "outcome.done": {"th": "สำเร็จ", "en": "done"},
    "outcome.cancelled": {"th": "ยกเลิก", "en": "cancelled"},
    "request.by": {"th": "ผู้ขอ", "en": "Requested by"},
    "request.posted": {"th": "ขอเมื่อ", "en": "Posted"},
    "request.needed_by": {"th": "ต้องการภายใน", "en": "Needed by"},
    "request.expertise": {"th": "ความเชี่ยวชาญที่ต้องการ", "en": "Expertise wanted"},
    "request.assignee": {"th": "ผู้รับผิดชอบงาน", "en": "Doing the work"},
    "request.outcome": {"th": "ผลลัพธ์", "en": "Outcome"},
    "request.replies": {"th": "ข้อเสนอ {n} รายการ", "en": "{n} offers"},
    "request.thanks_n": {"th": "คำขอบคุณ {n}", "en": "{n} thanks"},
    "request.description": {"th": "รายละเอียด", "en": "Details"},
    "request.steps": {"th": "ขั้นตอนที่ลงนามแล้ว", "en": "Signed steps"},
    "request.step.request": {"th": "ขอความช่วยเหลือ", "en": "asked for help"},
    "request.step.reply": {"th": "เสนอช่วย", "en": "offered help"},
    "request.step.accept": {"th": "รับข้อเสนอของ {member}", "en": "accepted the offer of {member}"},
    "request.step.accept_plain": {"th": "รับข้อเสนอ", "en": "accepted an offer"},
    "request.step.handoff": {"th": "ส่งต่องานให้ {member}", "en": "handed the work on to {member}"},
    "request.step.close": {"th": "ปิดคำขอ: {outcome}", "en": "closed the request: {outcome}"},
    "request.refused": {"th": "ขั้นตอนที่ไม่นับ", "en": "Steps that do not count"},
    "request.refused.about": {
        "th": "รายการเหล่านี้ลงนามแล้วแต่ผิดกติกา จึงไม่มีผลต่อสถานะของคำขอ ทุกโหนดแสดงเหมือนกัน",
        "en": "These entries are signed but break the rules, so they change nothing about the request. Every node shows them alike.",
    },
    "refused.mark": {"th": "ไม่นับ", "en": "does not count"},
    "refused.reason": {"th": "เหตุผล", "en": "Reason"},
    "request.thanks": {"th": "คำขอบคุณ", "en": "Thanks"},
    "request.thanked": {"th": "{src} ขอบคุณ {dst}", "en": "{src} thanked {dst}"},
    "request.for_member": {"th": "เฉพาะที่เกี่ยวกับ", "en": "Involving"},
    "request.signed": {
        "th": "คำขอลงนามโดย {member} เมื่อ {when}",
        "en": "Request signed by {member} on {when}",
    },
    "reason.author_forked": {"th": "ผู้ลงนามมีประวัติซ้อน", "en": "its author is forked"},
    "reason.closed": {"th": "คำขอปิดไปแล้ว", "en": "the request was already closed"},
    "reason.own_reply": {
        "th": "ผู้ขอเสนอช่วยคำขอของตนเองไม่ได้",
        "en": "the requester cannot reply to its own request",
    },
    "reason.accept_owner": {
        "th": "เฉพาะผู้ขอเท่านั้นที่รับข้อเสนอได้",
        "en": "only the requester can accept a reply",
    },
    "reason.no_reply": {"th": "ไม่มีข้อเสนอนี้ในคำขอ", "en": "no such reply to this request"},
    "reason.already_accepted": {"th": "รับข้อเสนออื่นไปแล้ว", "en": "a reply was already accepted"},
    "reason.nothing_to_hand_on": {
        "th": "ยังไม่มีงานให้ส่งต่อ: ยังไม่ได้รับข้อเสนอใด",
        "en": "nothing to hand on: no reply was accepted",
    },
    "reason.handoff_who": {
        "th": "เฉพาะผู้รับผิดชอบงานหรือผู้ขอเท่านั้นที่ส่งต่องานได้",
        "en": "only the member doing the work or the requester can hand it on",
    },
    "reason.already_with": {
        "th": "งานอยู่กับสมาชิกรายนั้นอยู่แล้ว",
        "en": "the work is already with that member",
    },
    "reason.close_owner": {
        "th": "เฉพาะผู้ขอเท่านั้นที่ปิดคำขอได้",
        "en": "only the requester can close a request",
    },
    "reason.after_close": {"th": "ลงคะแนนหลังปิดรับ", "en": "cast after the proposal closed"},
    "reason.voter_forked": {"th": "ผู้ลงคะแนนมีประวัติซ้อน", "en": "the voter is forked"},
    "reason.not_admitted": {
        "th": "ผู้ลงคะแนนไม่ใช่สมาชิกที่ได้รับการรับรอง",
        "en": "the voter is not an admitted member",
    },
    "reason.no_option": {"th": "ไม่มีตัวเลือกที่ {n}", "en": "there is no option {n}"},
    # decisions together
    "proposals.title": {"th": "การตัดสินใจร่วมกัน", "en": "Decisions together"},
    "proposals.intro": {
        "th": "สมาชิกเสนอเรื่อง สมาชิกที่ได้รับการรับรองลงคะแนนด้วยลายเซ็นของตน คนละหนึ่งเสียง (นับเสียงล่าสุดก่อนปิด) ทุกโหนดนับคะแนนได้ผลเดียวกัน การแก้กฎบัตรมีผลเมื่อข้อเสนอผ่านเท่านั้น",
        "en": "A member proposes; admitted members vote with signed entries, one vote each (the latest before closing counts), and every node tallies alike. The charter changes only through a passed proposal.",
    },
    "proposals.none": {"th": "ยังไม่มีข้อเสนอ", "en": "No proposals yet."},
    "proposal.by": {"th": "เสนอโดย", "en": "Proposed by"},
    "proposal.closes": {"th": "ปิดลงคะแนน", "en": "Voting closes"},
    "proposal.closed_on": {"th": "ปิดลงคะแนนเมื่อ", "en": "Voting closed"},
    "proposal.result": {"th": "ผล", "en": "Result"},
    "presult.open": {"th": "เปิดลงคะแนน", "en": "open"},
    "presult.decided": {"th": "ได้ข้อสรุป", "en": "decided"},
    "presult.tied": {"th": "คะแนนเท่ากัน", "en": "tied"},
    "presult.no-quorum": {"th": "ไม่ครบองค์ประชุม", "en": "no quorum"},
    "presult.passed": {"th": "ผ่าน", "en": "passed"},
    "presult.rejected": {"th": "ไม่ผ่าน", "en": "rejected"},
    "proposal.winner": {"th": "ตัวเลือกที่ได้รับเลือก", "en": "Chosen option"},
    "proposal.leading": {"th": "คะแนนนำขณะนี้", "en": "Leading so far"},
    "proposal.charter": {"th": "ข้อเสนอแก้กฎบัตร", "en": "Charter change"},
    "proposal.changes": {"th": "สิ่งที่จะเปลี่ยนในกฎบัตร", "en": "What it changes in the charter"},
    "proposal.change.quorum": {
        "th": "องค์ประชุม: ร้อยละ {n} ของสมาชิกที่ลงคะแนนได้",
        "en": "quorum: {n}% of the members who may vote",
    },
    "proposal.change.admission": {
        "th": "สมาชิกใหม่ต้องมีผู้รับรอง {n} ราย",
        "en": "a new member needs {n} endorsement(s)",
    },
    "option.yes": {"th": "เห็นด้วย", "en": "yes"},
    "option.no": {"th": "ไม่เห็นด้วย", "en": "no"},
    "proposal.tally": {"th": "ผลการนับคะแนน", "en": "The tally"},
    "proposal.option": {"th": "ตัวเลือก", "en": "Option"},
    "proposal.votes_n": {"th": "คะแนน", "en": "Votes"},
    "proposal.quorum": {
        "th": "องค์ประชุม: ร้อยละ {percent} ของสมาชิก {eligible} รายที่ลงคะแนนได้ = {needed} เสียง · ลงคะแนนแล้ว {voted} เสียง",
        "en": "Quorum: {percent}% of the {eligible} members who may vote = {needed} votes · {voted} voted",
    },
    "proposal.quorum_met": {"th": "ครบองค์ประชุม", "en": "quorum reached"},
    "proposal.quorum_short": {"th": "ยังขาดอีก {n} เสียง", "en": "{n} more votes needed"},
    "proposal.voted_n": {
        "th": "ลงคะแนน {voted} จาก {eligible} ราย",
        "en": "{voted} of {eligible} voted",
    },
    "proposal.who": {"th": "ใครลงคะแนนอะไร", "en": "Who voted what"},
    "proposal.voter": {"th": "สมาชิก", "en": "Member"},
    "proposal.choice": {"th": "เลือก", "en": "Voted for"},
    "proposal.when": {"th": "ลงนามเมื่อ", "en": "Signed on"},
    "proposal.no_votes": {"th": "ยังไม่มีผู้ลงคะแนน", "en": "No votes yet."},
    "proposal.refused": {"th": "คะแนนที่ไม่นับ", "en": "Votes that do not count"},
    "proposal.refused.about": {
        "th": "คะแนนเหล่านี้ลงนามแล้วแต่ผิดกติกา จึงไม่นับในผลลัพธ์ ทุกโหนดแสดงเหมือนกัน",
        "en": "These votes are signed but break the rules, so they are left out of the tally. Every node shows them alike.",
    },
    "proposal.signed": {
        "th": "ข้อเสนอลงนามโดย {member} เมื่อ {when}",
        "en": "Proposal signed by {member} on {when}",
    },
    "proposal.late": {
        "th": "คะแนนที่ลงก่อนปิดแต่มาถึงโหนดนี้ทีหลังยังนับได้ ผลจึงอาจเปลี่ยนจนกว่าทุกโหนดจะได้รับครบ",
        "en": "Votes cast before closing that reach this node later still count, so a tally can change until every node has every vote.",
    },
    # node
    "node.title": {"th": "โหนดนี้", "en": "This node"},
    "node.intro": {
        "th": "สถานะของโหนดที่แสดงหน้านี้ สำหรับผู้ดูแล: คู่เชื่อมต่อ (peers) และการประสานข้อมูล",
        "en": "The node serving this site, for its admin: its peers and how in sync they are.",
    },
    "node.member": {"th": "สมาชิกของโหนดนี้", "en": "This node's member"},
    "node.network": {"th": "รหัสเครือข่าย", "en": "Network id"},
    "node.entries": {"th": "รายการที่เก็บไว้", "en": "Entries held"},
    "node.feeds": {"th": "จำนวนสมาชิกที่มีประวัติ", "en": "Members' feeds"},
    "node.own_seq": {
        "th": "รายการที่สมาชิกของโหนดนี้เขียน",
        "en": "Entries written by this node's member",
    },
    "node.started": {"th": "เริ่มทำงานเมื่อ", "en": "Running since"},
    "node.peers": {"th": "คู่เชื่อมต่อ (peers)", "en": "Peers"},
    "node.peers.none": {
        "th": "ยังไม่มีคู่เชื่อมต่อ เพิ่มได้ด้วยคำสั่ง p2pnet peers add URL",
        "en": "No peers yet; add one with p2pnet peers add URL",
    },
    "node.peer.url": {"th": "ที่อยู่", "en": "Address"},
    "node.peer.member": {"th": "สมาชิก", "en": "Member"},
    "node.peer.state": {"th": "สถานะการประสานข้อมูล", "en": "Sync state"},
    "node.peer.last_ok": {"th": "ประสานข้อมูลล่าสุด", "en": "Last sync"},
    "node.peer.traffic": {"th": "รับ / ส่ง (รายการ)", "en": "In / out (entries)"},
    "node.peer.source": {"th": "รู้จักจาก", "en": "Known from"},
    "node.peer.in_sync": {"th": "มีข้อมูลของเราครบ", "en": "has all our entries"},
    "node.peer.behind": {"th": "ขาดข้อมูลของเรา {n} รายการ", "en": "missing {n} of our entries"},
    "node.peer.failing": {"th": "ติดต่อไม่ได้ {n} ครั้งติดกัน", "en": "unreachable {n} times in a row"},
    "node.peer.never": {"th": "ยังไม่เคย", "en": "never"},
    "node.peer.unknown": {"th": "ยังไม่ทราบ", "en": "not known yet"},
    "node.gossip": {"th": "การกระจายข้อมูล (gossip)", "en": "Gossip"},
    "node.gossip.rounds": {"th": "รอบ", "en": "rounds"},
    "node.gossip.syncs": {"th": "ประสานสำเร็จ", "en": "successful syncs"},
    "node.gossip.failures": {"th": "ล้มเหลว", "en": "failures"},
    "node.gossip.in": {"th": "รายการที่รับเข้า", "en": "entries received"},
    "node.gossip.out": {"th": "รายการที่ส่งออก", "en": "entries sent"},
    "node.gossip.pushes": {"th": "ส่งทันที (push)", "en": "pushes"},
    "node.gossip.last": {"th": "ประสานข้อมูลล่าสุด", "en": "last sync"},
    "node.readonly": {
        "th": "เว็บไซต์นี้อ่านได้อย่างเดียว การเขียนข้อมูลทำผ่านคำสั่ง p2pnet หรือ API ที่ต้องใช้โทเค็นผู้ดูแล",
        "en": "This website is read-only. Writing goes through the p2pnet command or the API, with the admin token.",
    },
    "source.manual": {"th": "เพิ่มเอง", "en": "added by hand"},
    "source.profile": {"th": "โปรไฟล์สมาชิก", "en": "a member's profile"},
    "source.invite": {"th": "บัตรเชิญ", "en": "an invite"},
    # errors
    "error.404.title": {"th": "ไม่พบหน้านี้", "en": "Page not found"},
    "error.404.text": {
        "th": "ไม่พบสิ่งที่คุณหา อาจพิมพ์ที่อยู่ผิด หรือข้อมูลยังมาไม่ถึงโหนดนี้",
        "en": "We could not find what you were looking for. The address may be mistyped, or the entry has not reached this node yet.",
    },
    "error.member.text": {
        "th": "ไม่พบสมาชิกนี้ในโหนดนี้ อาจพิมพ์รหัสผิด หรือข้อมูลของสมาชิกยังมาไม่ถึง",
        "en": "This node holds no such member. The id may be mistyped, or the member's entries have not arrived yet.",
    },
    "error.activity.text": {
        "th": "ไม่พบกิจกรรมนี้ในโหนดนี้ อาจพิมพ์รหัสผิด หรือข้อมูลยังมาไม่ถึง",
        "en": "This node holds no such activity. The id may be mistyped, or the entry has not arrived yet.",
    },
    "error.request.text": {
        "th": "ไม่พบคำขอความช่วยเหลือนี้ในโหนดนี้ อาจพิมพ์รหัสผิด หรือข้อมูลยังมาไม่ถึง",
        "en": "This node holds no such help request. The id may be mistyped, or the entry has not arrived yet.",
    },
    "error.proposal.text": {
        "th": "ไม่พบข้อเสนอนี้ในโหนดนี้ อาจพิมพ์รหัสผิด หรือข้อมูลยังมาไม่ถึง",
        "en": "This node holds no such proposal. The id may be mistyped, or the entry has not arrived yet.",
    },
    "error.400.title": {"th": "อ่านคำขอนี้ไม่ออก", "en": "We could not read that request"},
    "error.query": {
        "th": "ใช้คำค้นนี้ไม่ได้: ลองพิมพ์คำที่มีตัวอักษรหรือตัวเลข ไม่เกิน 10 คำ",
        "en": "That search cannot be run: type a few words (up to 10) with letters or digits.",
    },
    "error.date": {
        "th": "อ่านวันที่ไม่ออก: พิมพ์แบบ {example} (ปี พ.ศ. หรือ ค.ศ.) หรือ 15/03/2567",
        "en": "That date cannot be read: type it like {example} (Common or Buddhist Era) or 15/03/2024.",
    },
    "error.province": {
        "th": "ไม่รู้จักจังหวัดนี้: เลือกจากรายการ หรือพิมพ์ชื่อจังหวัดภาษาไทยหรืออังกฤษ",
        "en": "Unknown province: choose one from the list, or type its Thai or English name.",
    },
    "error.param": {"th": "ค่าในตัวกรองใช้ไม่ได้", "en": "A filter value cannot be used"},
    "error.details": {"th": "รายละเอียดทางเทคนิค", "en": "Technical details"},
    "error.405.title": {"th": "เว็บไซต์นี้อ่านได้อย่างเดียว", "en": "This website is read-only"},
    "error.401.title": {"th": "ต้องใช้โทเค็นผู้ดูแล", "en": "The admin token is needed"},
    "error.401.text": {
        "th": "โหนดนี้เปิดให้อ่านข้อมูลได้เฉพาะจากเครื่องเดียวกัน หรือเมื่อผู้ดูแลเปิด open_api",
        "en": "This node serves its directory only to its own machine, unless its admin turns on open_api.",
    },
    "error.500.title": {"th": "โหนดขัดข้อง", "en": "The node failed to answer"},
    "error.500.text": {
        "th": "เกิดข้อผิดพลาดภายในโหนด ผู้ดูแลดูรายละเอียดได้ในบันทึกของโหนด",
        "en": "Something went wrong inside the node; its admin can find the details in the node's log.",
    },
    "error.other.title": {"th": "ไม่สามารถแสดงหน้านี้ได้", "en": "This page cannot be shown"},
    "error.back": {"th": "กลับหน้าแรก", "en": "Back to the home page"},
}
