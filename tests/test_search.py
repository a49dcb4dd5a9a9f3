"""Tests for p2pnet.search, on a real SQLite file."""

from __future__ import annotations

import contextlib
import sqlite3
import statistics
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pythainlp.util import normalize as pythainlp_normalize

from p2pnet import search
from p2pnet.search import Hit, QueryError
from tests.search_labelled import DOCS, QUERIES

HYPOTHESIS = settings(max_examples=200, deadline=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def conn(tmp_path):
    connection = sqlite3.connect(tmp_path / "search.db")
    search.create_schema(connection)
    yield connection
    connection.close()


@pytest.fixture
def labelled(conn):
    for d in DOCS:
        search.index_doc(conn, d["id"], d["kind"], d["name"], d["body"])
    return conn


def ids(conn, query, **kwargs):
    return [h.doc_id for h in search.search(conn, query, limit=1000, **kwargs)]


def add(conn, doc_id, name, body="", kind="member"):
    search.index_doc(conn, doc_id, kind, name, body)


def index_terms(conn):
    """Terms left in the trigram index (to check that deletes are exact)."""
    conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocab "
                 "USING fts5vocab(main, search_tri, 'row')")
    return conn.execute("SELECT count(*) FROM temp.vocab").fetchone()[0]


# --------------------------------------------------------------------------- requirements
def test_unspaced_thai_finds_words_and_compounds(conn):
    add(conn, "club", "ชมรมผู้สูงอายุบ้านดอนแก้ว")
    add(conn, "other", "ชมรมจักรยานเพื่อสุขภาพ")
    assert ids(conn, "ผู้สูงอายุ") == ["club"]
    assert ids(conn, "สูงอายุ") == ["club"]  # compound inside a word
    assert ids(conn, "ดอนแก้ว") == ["club"]
    assert sorted(ids(conn, "ชมรม")) == ["club", "other"]


def test_compound_that_icu_glues_to_its_neighbour(conn):
    add(conn, "school", "โรงเรียนส่งเสริมสุขภาพบ้านห้วยทราย")  # ICU: ส่ง|เสริมสุข|ภาพ
    assert ids(conn, "สุขภาพ") == ["school"]
    assert ids(conn, "ส่งเสริมสุขภาพ") == ["school"]
    assert ids(conn, "โรงเรียน") == ["school"]


def test_mixed_thai_and_english(conn):
    add(conn, "a1", "อบรม CPR และการใช้เครื่อง AED สำหรับ อสม.")
    add(conn, "a2", "Health check day",
        "Free checks by health volunteers (อสม.) from รพ.สต.บ้านดอนแก้ว")
    add(conn, "a3", "อบรมCPRให้ครู")  # no spaces between scripts
    add(conn, "a4", "CPR training for teachers")
    assert sorted(ids(conn, "อบรม CPR")) == ["a1", "a3"]
    assert ids(conn, "health volunteers อสม.") == ["a2"]
    assert sorted(ids(conn, "cpr")) == ["a1", "a3", "a4"]
    assert ids(conn, "รพ.สต.") == ["a2"]
    assert ids(conn, "รพ") == ["a2"]  # a short word inside an abbreviation


@pytest.mark.parametrize(("query", "expected"), [
    ("ยา", ["drugs", "herbs"]),  # not ยาย, พยาบาล, ยาง, พยายาม, ยาว
    ("ตา", ["eyes", "grandparents"]),  # not ตาย, ตาก, ตาม, ตาราง
    ("คน", ["disabled"]),  # not ยุคนี้
    ("ดี", ["good"]),  # not คดี, ดีเซล
    ("นา", ["rice"]),  # not พัฒนา, นาที, สนาม
])
def test_short_thai_terms_match_whole_words_only(conn, query, expected):
    add(conn, "drugs", "แจกยาถึงบ้าน")
    add(conn, "herbs", "ยาสมุนไพร")
    add(conn, "grandma", "คุณยายสอนหลาน")
    add(conn, "nurse", "พยาบาลวิชาชีพ ระยะยาว")
    add(conn, "rubber", "สวนยางพารา พยายามขายน้ำยาง")
    add(conn, "eyes", "ตรวจตาผู้สูงอายุ")
    add(conn, "grandparents", "ชมรมตายาย")
    add(conn, "death", "ลดการตายบนถนน จังหวัดตาก ตามนโยบาย ตารางเวร")
    add(conn, "disabled", "ชมรมคนพิการ")
    add(conn, "era", "ยุคนี้เด็กๆ ก็รำได้")
    add(conn, "good", "สุขภาพดี")
    add(conn, "court", "คดีความ รถดีเซล")
    add(conn, "rice", "ทำนาปลูกข้าว")
    add(conn, "develop", "พัฒนาชุมชน 10 นาที สนามกีฬา")
    assert sorted(ids(conn, query)) == expected


def test_substring_hits_across_word_boundaries_are_dropped(conn):
    add(conn, "grandparents", "ชมรมตายายสอนหลาน")
    add(conn, "death", "ลดการตายจากอุบัติเหตุ")
    add(conn, "expand", "ขยายพันธุ์กล้าไม้")
    add(conn, "grandma", "คุณยาย")
    add(conn, "party", "Year-end party, smart quiz, start-up partners")
    add(conn, "art", "Art therapy")
    add(conn, "artists", "Young artists")
    assert ids(conn, "ตาย") == ["death"]
    assert sorted(ids(conn, "ยาย")) == ["grandma", "grandparents"]
    assert sorted(ids(conn, "art")) == ["art", "artists"]  # a Latin word may only start with it


def test_latin_terms_match_at_word_starts(conn):
    add(conn, "v", "Youth Volunteers")
    add(conn, "h", "healthcare centre")
    assert ids(conn, "volunteer") == ["v"]
    assert ids(conn, "volunteers") == ["v"]
    assert ids(conn, "care") == []  # inside "healthcare"
    assert ids(conn, "health") == ["h"]


def test_marks_typed_in_the_wrong_order_and_doubled_sara_e(conn):
    add(conn, "wrong", "ชมรมผ\u0e49\u0e39สูงอายุ", "กลุ่ม\u0e40\u0e40ม่บ้าน น\u0e49\u0e4d\u0e32หนัก")
    add(conn, "right", "ชมรมผู้สูงอายุ", "กลุ่มแม่บ้าน น้ำหนัก")
    for query in ("ผู้สูงอายุ", "ผ\u0e49\u0e39สูงอายุ", "แม่บ้าน", "\u0e40\u0e40ม่บ้าน", "น้ำหนัก",
                  "น\u0e49\u0e4d\u0e32หนัก", "แม่\u200bบ้าน"):
        assert sorted(ids(conn, query)) == ["right", "wrong"], query


def test_thai_digits_match_arabic_digits(conn):
    add(conn, "thai", "ตลาดนัดสุขภาพ ๒๕๖๗")
    add(conn, "arabic", "ปีงบประมาณ 2567", "ประกาศเลขที่ 3/2567")
    add(conn, "other", "ปี 2566 และ 25670 บาท")
    assert sorted(ids(conn, "๒๕๖๗")) == ["arabic", "thai"]
    assert sorted(ids(conn, "2567")) == ["arabic", "thai"]
    assert ids(conn, "3/2567") == ["arabic"]
    assert ids(conn, "๓/๒๕๖๗") == ["arabic"]


def test_all_terms_must_match(conn):
    add(conn, "cm", "ชมรมผู้สูงอายุ", "จังหวัดเชียงใหม่")
    add(conn, "kk", "ชมรมผู้สูงอายุ", "จังหวัดขอนแก่น")
    add(conn, "school", "โรงเรียน", "จังหวัดเชียงใหม่")
    assert ids(conn, "ชมรม เชียงใหม่") == ["cm"]
    assert sorted(ids(conn, "ชมรม")) == ["cm", "kk"]
    assert ids(conn, "ชมรม ลำปาง") == []
    assert ids(conn, "ยา เชียงใหม่") == []


def test_kinds_filter(conn):
    add(conn, "m", "ชมรมผู้สูงอายุ", kind="member")
    add(conn, "a", "วันผู้สูงอายุ", kind="activity")
    assert sorted(ids(conn, "ผู้สูงอายุ")) == ["a", "m"]
    assert ids(conn, "ผู้สูงอายุ", kinds=["activity"]) == ["a"]
    assert ids(conn, "ผู้สูงอายุ", kinds="member") == ["m"]
    assert ids(conn, "ผู้สูงอายุ", kinds=[]) == []
    assert search.count(conn, "ผู้สูงอายุ", kinds=("member",)) == 1


# --------------------------------------------------------------------------- ranking
def test_name_matches_rank_before_body_matches(conn):
    add(conn, "body", "กลุ่มแม่บ้าน", "ร่วมกับชมรมผู้สูงอายุ ผู้สูงอายุ ผู้สูงอายุ ผู้สูงอายุ")
    add(conn, "name", "ชมรมผู้สูงอายุบ้านดอนแก้ว", "ออกกำลังกายทุกเช้า")
    hits = search.search(conn, "ผู้สูงอายุ")
    assert [h.doc_id for h in hits] == ["name", "body"]
    assert [h.field for h in hits] == ["name", "body"]
    assert hits[0].score > hits[1].score


def test_whole_word_matches_rank_before_sub_word_matches(conn):
    add(conn, "prefix", "Volunteers for events")
    add(conn, "whole", "Volunteer drivers")
    add(conn, "sub", "โรงเรียนส่งเสริมสุขภาพ")  # สุขภาพ cut out of เสริมสุข|ภาพ
    add(conn, "word", "ตรวจสุขภาพประจำปี")
    assert ids(conn, "volunteer") == ["whole", "prefix"]
    assert ids(conn, "สุขภาพ") == ["word", "sub"]


def test_more_occurrences_rank_higher_within_a_tier(conn):
    add(conn, "once", "กลุ่มหนึ่ง", "เรื่องเบาหวาน และเรื่องอื่นๆ อีกมาก " * 3)
    add(conn, "often", "กลุ่มสอง", "คัดกรองเบาหวาน ป้องกันเบาหวาน อาหารสำหรับผู้ป่วยเบาหวาน")
    assert ids(conn, "เบาหวาน") == ["often", "once"]


# --------------------------------------------------------------------------- snippets
def test_snippet_marks_every_match_near_the_first(conn):
    body = "ข้อมูลทั่วไป " * 20 + "ชมรมผู้สูงอายุ ออกกำลังกาย และผู้สูงอายุ ในตำบล " + "อื่นๆ " * 40
    add(conn, "d", "กลุ่มหนึ่ง", body)
    (hit,) = search.search(conn, "สูงอายุ", mark=("[", "]"))
    assert hit.field == "body"
    assert hit.snippet.count("[สูงอายุ]") == 2
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert len(hit.snippet.replace("[", "").replace("]", "")) <= search.SNIPPET_CHARS + 2


def test_snippet_keeps_the_match_between_long_unbroken_runs(conn):
    add(conn, "d", "กลุ่ม", "x" * 300 + " ผู้สูงอายุ " + "y" * 300)
    (hit,) = search.search(conn, "สูงอายุ", mark=("[", "]"))
    assert "ผู้[สูงอายุ] yyy" in hit.snippet
    assert hit.snippet.startswith("…x") and hit.snippet.endswith("y…")
    assert len(hit.snippet) <= search.SNIPPET_CHARS + 4


def test_snippet_of_a_name_and_default_marks(conn):
    add(conn, "n", "ชมรมผู้สูงอายุบ้านดอนแก้ว\nBan Don Kaeo Elderly Club", "ไม่เกี่ยว")
    (hit,) = search.search(conn, "elderly ผู้สูงอายุ")
    assert hit == Hit("n", "member", hit.score, "name",
                      "ชมรม<mark>ผู้สูงอายุ</mark>บ้านดอนแก้ว ban don kaeo <mark>elderly</mark> club")


def test_snippet_does_not_mark_rejected_occurrences(conn):
    add(conn, "d", "Art party", "smart art")
    (hit,) = search.search(conn, "art", mark=("[", "]"))
    assert hit.snippet == "[art] party"


# --------------------------------------------------------------------------- maintenance
def test_reindexing_replaces_the_document(conn):
    add(conn, "d", "ชมรมผู้สูงอายุ")
    add(conn, "d", "กลุ่มแม่บ้าน")
    assert ids(conn, "ผู้สูงอายุ") == []
    assert ids(conn, "แม่บ้าน") == ["d"]
    assert conn.execute("SELECT count(*) FROM search_doc").fetchone()[0] == 1
    search.index_doc(conn, "d", "activity", "กลุ่มแม่บ้าน", "")
    assert search.search(conn, "แม่บ้าน")[0].kind == "activity"


def test_remove_doc_and_clear_leave_no_index_terms(conn):
    add(conn, "a", "ชมรมผู้สูงอายุ", "แจกยา รพ.สต. health volunteers ๒๕๖๗")
    add(conn, "b", "กลุ่มแม่บ้าน", "ทำนา")
    search.remove_doc(conn, "a")
    search.remove_doc(conn, "missing")  # no error
    assert ids(conn, "ยา") == [] and ids(conn, "แม่บ้าน") == ["b"]
    search.remove_doc(conn, "b")
    assert index_terms(conn) == 0
    add(conn, "c", "ชมรม")
    search.clear(conn)
    assert ids(conn, "ชมรม") == [] and index_terms(conn) == 0
    assert conn.execute("SELECT count(*) FROM search_doc").fetchone()[0] == 0


@HYPOTHESIS
@given(st.lists(st.tuples(st.sampled_from("abc"), st.text(max_size=60), st.text(max_size=200)),
                max_size=6))
def test_any_text_indexes_and_removes_exactly(conn, docs):
    search.clear(conn)
    for doc_id, name, body in docs:
        add(conn, doc_id, name, body)
    for doc_id, _, _ in docs:
        search.remove_doc(conn, doc_id)
    assert index_terms(conn) == 0


def test_functions_leave_the_transaction_to_the_caller(tmp_path):
    conn = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    search.create_schema(conn)
    conn.execute("BEGIN")
    add(conn, "d", "ชมรมผู้สูงอายุ")
    search.search(conn, "ชมรม")
    search.count(conn, "ชมรม")
    search.remove_doc(conn, "x")
    assert conn.in_transaction
    conn.execute("ROLLBACK")
    assert ids(conn, "ชมรม") == []


def test_create_schema_is_idempotent(conn):
    search.create_schema(conn)
    add(conn, "d", "ชมรม")
    search.create_schema(conn)
    assert ids(conn, "ชมรม") == ["d"]


def test_pagination(conn):
    for i in range(25):
        add(conn, f"d{i:02}", f"ชมรมที่ {i}", "ผู้สูงอายุ" * (i % 4 + 1))
    everything = ids(conn, "ผู้สูงอายุ")
    assert len(everything) == search.count(conn, "ผู้สูงอายุ") == 25
    pages = [search.search(conn, "ผู้สูงอายุ", limit=10, offset=o) for o in (0, 10, 20)]
    assert [h.doc_id for page in pages for h in page] == everything
    assert [len(page) for page in pages] == [10, 10, 5]
    assert search.search(conn, "ผู้สูงอายุ", limit=0) == []
    with pytest.raises(ValueError):
        search.search(conn, "ผู้สูงอายุ", offset=-1)


# --------------------------------------------------------------------------- hostile queries
@pytest.mark.parametrize("query", [
    "รพ.สต.", "3/2567", '"', '""', "*", "AND", "OR", "NOT", "NEAR(", "NEAR(a b)", "-", "a-b",
    "'; DROP TABLE search_doc; --", "col:value", "^ชมรม", "(ชมรม", "ชมรม)", "{a b}:c", "a + b",
    "\x00", "\x1f", "\x02ยา\x03", "ยา\x02", "\u200b", "ๆ", "ฯ", "😀", "😀😀😀", "a\"b", "ก\\",
    "ชมรม AND ผู้สูงอายุ", "ชมรม OR", "%", "_", "%ยา%",
])
def test_hostile_queries_never_break_the_syntax(labelled, query):
    try:
        hits = search.search(labelled, query)
        total = search.count(labelled, query)
    except QueryError:
        return
    assert total >= len(hits)


def test_lone_surrogates_are_replaced(conn):
    add(conn, "d", "ชมรม\ud800ผู้สูงอายุ", "\udfff")
    assert ids(conn, "ผู้สูงอายุ\udc00") == ["d"]  # U+FFFD is punctuation at a term edge
    assert ids(conn, "ผู้สูงอายุ") == ["d"]
    with pytest.raises(QueryError):
        search.search(conn, "\ud800")


def test_sql_injection_is_plain_text(labelled):
    search.search(labelled, "'; DROP TABLE search_doc; --")
    assert labelled.execute("SELECT count(*) FROM search_doc").fetchone()[0] == len(DOCS)


@pytest.mark.parametrize(("query", "reason"), [
    ("", "no letters"), ("   ", "no letters"), ("!!! ?? ...", "no letters"),
    ('" * -', "no letters"),
    ("ก" * 201, "longer than 200"), (" ".join("abcdefghijk"), "more than 10 terms"),
])
def test_unsearchable_queries_raise_query_error(labelled, query, reason):
    with pytest.raises(QueryError, match=reason):
        search.search(labelled, query)
    with pytest.raises(QueryError):
        search.count(labelled, query)


@HYPOTHESIS
@given(st.text(st.characters(exclude_categories=()), max_size=60))
def test_any_query_gives_hits_or_query_error(labelled, query):
    try:
        hits = search.search(labelled, query, mark=("[", "]"))
    except QueryError:
        return
    assert all(isinstance(h, Hit) and h.field in ("name", "body") for h in hits)


@HYPOTHESIS
@given(st.text(alphabet=st.sampled_from("กขคตนยาีู่้๊็ัิ์ำเแโะๆฯ .\"*-()๑2aA"), max_size=30))
def test_any_thai_like_query_gives_hits_or_query_error(labelled, query):
    with contextlib.suppress(QueryError):
        search.search(labelled, query)


# --------------------------------------------------------------------------- normalisation
def test_normalize_examples():
    assert search.normalize("ผ\u0e49\u0e39สูงอายุ") == "ผู้สูงอายุ"
    assert search.normalize("\u0e40\u0e40ม่บ้าน") == "แม่บ้าน"
    assert search.normalize("น\u0e49\u0e4d\u0e32") == "น้ำ"
    assert search.normalize("ปี ๒๕๖๗") == "ปี 2567"
    assert search.normalize("อสม.\u200bดอนแก้ว") == "อสม.ดอนแก้ว"
    assert search.normalize("Health  VOLUNTEERS") == "health volunteers"
    assert search.normalize("Cafe\u0301") == "café"
    assert "\x1f" not in search.normalize("a\x1fb\x00c")


_THAI_TYPING = st.text(alphabet=st.sampled_from(
    [chr(c) for c in range(0x0E01, 0x0E5C) if unicodedata.category(chr(c)) != "Cn"] + [" ", "\n"]),
    max_size=40)


@HYPOTHESIS
@given(_THAI_TYPING)
def test_normalize_agrees_with_pythainlp(text):
    expected = pythainlp_normalize(unicodedata.normalize("NFC", text))
    assert search.normalize(text) == expected.translate({0x0E50 + i: str(i) for i in range(10)})


# --------------------------------------------------------------------------- labelled set
def test_labelled_set_precision_and_recall(labelled, capsys):
    tp = fp = fn = 0
    average_precisions = []
    for query, relevant in QUERIES:
        got = ids(labelled, query)
        tp += len(set(got) & relevant)
        fp += len(set(got) - relevant)
        fn += len(relevant - set(got))
        found, precisions = 0, []
        for rank, doc_id in enumerate(got, 1):
            if doc_id in relevant:
                found += 1
                precisions.append(found / rank)
        average_precisions.append(sum(precisions) / len(relevant))
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    mean_ap = statistics.mean(average_precisions)
    with capsys.disabled():
        print(f"\nlabelled set: {len(DOCS)} docs, {len(QUERIES)} queries: "
              f"precision {precision:.3f}, recall {recall:.3f}, MAP {mean_ap:.3f}")
    assert len(DOCS) >= 60 and len(QUERIES) >= 30
    assert precision >= 0.95
    assert recall >= 0.95
