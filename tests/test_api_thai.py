"""Thai conventions used by the API: Buddhist Era dates and Thai digits (p2pnet.thai)."""

from __future__ import annotations

import pytest

from p2pnet import thai


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2024-01-17", "2024-01-17"),
        ("2567-01-17", "2024-01-17"),  # a year above 2400 is Buddhist Era
        ("๒๕๖๗-๐๑-๑๗", "2024-01-17"),
        ("2567/1/7", "2024-01-07"),
        ("17/01/2567", "2024-01-17"),
        ("17.1.2024", "2024-01-17"),
        ("พ.ศ. 2567-01-17", "2024-01-17"),
        ("17/1/2567 พ.ศ.", "2024-01-17"),
        ("2024-01-17 ค.ศ.", "2024-01-17"),
        ("2400-01-01", "2400-01-01"),  # 2400 itself is read as CE
        ("2401-01-01", "1858-01-01"),
        ("2567-02-29", "2024-02-29"),  # BE 2567 is CE 2024, a leap year
    ],
)
def test_parse_date(text, iso):
    assert thai.parse_date(text) == iso


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2567", "2024-01-01", "2024-12-31"),
        ("2024-02", "2024-02-01", "2024-02-29"),
        ("2568-02", "2025-02-01", "2025-02-28"),
        ("๒๕๖๗-๐๖-๐๑", "2024-06-01", "2024-06-01"),
    ],
)
def test_range_bounds(text, start, end):
    assert thai.parse_bound(text) == start
    assert thai.parse_bound(text, end=True) == end


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "2567-13-01",
        "2566-02-29",
        "2024-00-10",
        "17/2567",
        "20240117",
        "0000-01-01",
        "2567-01-17T10:00",
        "๒๕๖๗-๑๓",
    ],
)
def test_bad_dates_say_what_is_expected(text):
    with pytest.raises(thai.DateError):
        thai.parse_bound(text)


def test_full_date_required_where_a_day_is_meant():
    with pytest.raises(thai.DateError, match="full date"):
        thai.parse_date("2567-01")


def test_show_dates_in_buddhist_era():
    assert thai.to_be("2024-01-17") == "2567-01-17"
    assert thai.to_be(None) is None and thai.to_be("") == ""
    assert thai.format_th("2024-01-17") == "17 ม.ค. 2567"
    assert thai.format_th("2025-12-31") == "31 ธ.ค. 2568"
    assert thai.be_year(2024) == 2567 and thai.ce_year(2567) == 2024 and thai.ce_year(2024) == 2024


def test_thai_digits():
    assert thai.arabic_digits("รอบที่ ๑/๒๕๖๗ เวลา 10:30") == "รอบที่ 1/2567 เวลา 10:30"


def test_timestamps():
    ms = 1705449600000  # 2024-01-17 00:00 UTC = 07:00 in Bangkok
    assert thai.iso_of_ms(ms) == "2024-01-17T00:00:00Z"
    assert thai.date_of_ms(ms - 3_600_000 * 8) == "2024-01-16"  # 23:00 Bangkok the day before
    assert thai.date_of_ms(ms - 3_600_000 * 6) == "2024-01-17"  # 01:00 Bangkok
