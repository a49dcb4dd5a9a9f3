"""Matching offers to needs (p2pnet.matching), on the sample network and on small cases."""

from __future__ import annotations

import pytest

from p2pnet import matching, sample
from p2pnet.matching import Profile


@pytest.fixture(scope="module")
def network():
    data = sample.load()
    profiles = [
        Profile(
            id=m["key"],
            name=m["name_th"] or m["name_en"],
            name_en=m["name_en"] or m["name_th"],
            offers=tuple(m["offers"]),
            needs=tuple(m["needs"]),
        )
        for m in data["members"]
    ]
    return matching.match(profiles).as_dict()


def met(network, member, need):
    for n in network["needs"]:
        if (n["member"], n["need"]) == (member, need):
            return n["offers"]
    return []


# The sample network's deliberate matches: (who needs, need) -> (who offers, level)
EXPECTED = [
    ("youth", "ห้องประชุม", "sao", "phrase"),
    ("elderly_club", "ห้องประชุม", "sao", "phrase"),
    (
        "youth",
        "training on first aid / CPR",
        "health_unit",
        "all-words",
    ),  # English need, Thai+English offer
    ("school", "อบรมปฐมพยาบาลเบื้องต้นสำหรับครู", "health_unit", "some-words"),
    ("school", "วิทยากรภูมิปัญญาท้องถิ่น", "elderly_club", "phrase"),
    ("school", "ผักปลอดสารพิษสำหรับอาหารกลางวันโรงเรียน", "womens_group", "phrase"),
    ("elderly_club", "ตรวจตา คัดกรองต้อกระจก", "ngo", "all-words"),
    ("elderly_club", "อาสาสมัครดูแลผู้สูงอายุ", "youth", "all-words"),
    ("elderly_club", "ความรู้เรื่องการใช้ยาในผู้สูงอายุ", "health_unit", "all-words"),
    ("health_unit", "อาสาสมัครเยี่ยมบ้านผู้ป่วยติดเตียง", "vhv", "some-words"),
    ("vhv", "เครื่องวัดความดันโลหิตและเครื่องตรวจน้ำตาล", "sao", "some-words"),
    ("womens_group", "พื้นที่จำหน่ายสินค้า", "sao", "all-words"),
    ("womens_group", "อบรมการทำบัญชีกลุ่ม", "coop", "phrase"),
    ("sao", "ข้อมูลผู้สูงอายุรายครัวเรือนสำหรับวางแผนงบประมาณ", "vhv", "phrase"),  # the offer is in the need
    ("ngo", "ข้อมูลสุขภาพผู้สูงอายุในชุมชน (community ageing data)", "health_unit", "phrase"),
    ("coop", "ช่วยทำการตลาดออนไลน์ (online marketing)", "youth", "phrase"),
    ("khonkaen", "คู่มือการตั้งโรงเรียนผู้สูงอายุ", "ngo", "phrase"),
    ("khonkaen", "ศึกษาดูงาน (study visit) เครือข่ายที่เข้มแข็ง", "ngo", "some-words"),
]


@pytest.mark.parametrize(("needer", "need", "offerer", "level"), EXPECTED)
def test_sample_matches(network, needer, need, offerer, level):
    offers = met(network, needer, need)
    assert offers, f"{need} found no offer"
    best = offers[0]
    assert (best["member"], best["level"]) == (offerer, level), best
    assert 0 < best["score"] <= 1 and best["shared_words"]
    assert best["offer"] in best["explanation"]["en"] and need in best["explanation"]["en"]
    assert best["offer"] in best["explanation"]["th"] and need in best["explanation"]["th"]


def test_unmet_needs(network):
    unmet = {(u["member"], u["need"]) for u in network["unmet"]}
    assert unmet == {
        ("elderly_club", "ฟันเทียมและบริการทันตกรรมสำหรับผู้สูงอายุ"),  # only "ผู้สูงอายุ" in common
        ("health_unit", "รถรับส่งผู้ป่วยไปตรวจตามนัด"),
        ("coop", "การรับรองมาตรฐาน อย. (Thai FDA registration)"),
    }
    assert network["counts"] == {"needs": 21, "met": 18, "unmet": 3, "matches": 18}


def test_levels_rank_phrase_over_all_words_over_some_words(network):
    bands = {"phrase": (0.85, 1.0), "all-words": (0.65, 0.85), "some-words": (0.2, 0.65)}
    for n in network["needs"]:
        for o in n["offers"]:
            lo, hi = bands[o["level"]]
            assert lo <= o["score"] <= hi, o


def test_explanations_in_both_languages():
    a = Profile(id="a", name="ชมรม ก", name_en="Club A", needs=("ห้องประชุม",))
    b = Profile(id="b", name="อบต. ข", name_en="SAO B", offers=("ห้องประชุมของ อบต. (รองรับ 80 คน)",))
    meet = matching.match([a, b]).as_dict()["needs"][0]["offers"][0]
    assert meet["explanation"]["en"].startswith("SAO B offers “ห้องประชุมของ อบต.")
    assert "Club A's need “ห้องประชุม”" in meet["explanation"]["en"]
    assert "word for word" in meet["explanation"]["en"]
    assert (
        meet["explanation"]["th"].startswith("อบต. ข เสนอ")
        and "ของชมรม ก" in meet["explanation"]["th"]
    )


def test_own_offers_never_meet_own_needs():
    a = Profile(id="a", name="a", name_en="a", offers=("ห้องประชุม",), needs=("ห้องประชุม",))
    result = matching.match([a]).as_dict()
    assert result["needs"] == [] and len(result["unmet"]) == 1


def test_words_inside_other_words_do_not_match():
    # matching compares words, not substrings: "art" is inside "party", ยา inside ยาย
    a = Profile(id="a", name="a", name_en="a", needs=("art teacher", "ยาสมุนไพร"))
    b = Profile(id="b", name="b", name_en="b", offers=("party music", "ยายสอนทำขนม"))
    assert len(matching.match([a, b]).as_dict()["unmet"]) == 2


def test_marks_typed_in_the_wrong_order_and_thai_digits_still_match():
    a = Profile(id="a", name="a", name_en="a", needs=("เเม่บ้าน ๘๐ คน",))  # เ+เ instead of แ
    b = Profile(id="b", name="b", name_en="b", offers=("แม่บ้าน 80 คน",))
    assert matching.match([a, b]).as_dict()["needs"][0]["offers"][0]["level"] == "phrase"


def test_one_member_view_has_what_it_gives(network):
    data = sample.load()
    profiles = [
        Profile(
            id=m["key"],
            name=m["name_th"] or m["name_en"],
            name_en=m["name_en"] or m["name_th"],
            offers=tuple(m["offers"]),
            needs=tuple(m["needs"]),
        )
        for m in data["members"]
    ]
    sao = matching.match(profiles).as_dict("sao")
    assert {n["member"] for n in sao["needs"]} | {u["member"] for u in sao["unmet"]} == {"sao"}
    assert {(g["member"], g["need"]) for g in sao["gives"]} >= {
        ("youth", "ห้องประชุม"),
        ("elderly_club", "ห้องประชุม"),
        ("womens_group", "พื้นที่จำหน่ายสินค้า"),
    }


def test_words():
    assert matching.key_words("อบรมปฐมพยาบาลและ CPR (first aid / CPR training)") == (
        "อบรม",
        "ปฐมพยาบาล",
        "cpr",
        "first",
        "aid",
        "training",
    )
    assert "และ" in matching.words("ผักและผลไม้") and "และ" not in matching.key_words("ผักและผลไม้")
