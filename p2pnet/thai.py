"""Thai conventions: Buddhist Era dates and Thai digits.

Pure and synchronous. Thai people write years in the Buddhist Era (พ.ศ.,
BE = CE + 543) and often use Thai digits (๐-๙). The directory stores Common
Era ISO dates (``2024-01-17``); this module turns what people type into those
and back.

The rule for a year typed without an era: **a year greater than 2400 is
Buddhist Era**, anything else Common Era. No plausible CE year in a community
directory is above 2400, and no plausible BE year is below it (BE 2400 is CE
1857), so the rule never guesses wrong for real dates.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

__all__ = [
    "BE_OFFSET",
    "BE_THRESHOLD",
    "DateError",
    "arabic_digits",
    "be_year",
    "ce_year",
    "date_of_ms",
    "format_th",
    "iso_of_ms",
    "parse_bound",
    "parse_date",
    "to_be",
]

BE_OFFSET = 543
BE_THRESHOLD = 2400  # a year above this is Buddhist Era
BANGKOK = dt.timezone(dt.timedelta(hours=7), "Asia/Bangkok")
_THAI_DIGITS = {0x0E50 + i: str(i) for i in range(10)}
_MONTHS_TH = (
    "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
    "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.",
)  # fmt: skip
# 2567-01-17, 2567-1-7, 2567/01/17; 17/01/2567, 17-1-2567; 2567-01; 2567
_ISO = re.compile(r"^(\d{4})(?:[-/](\d{1,2})(?:[-/](\d{1,2}))?)?$")
_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_ERA = re.compile(r"^(?:พ\.?\s?ศ\.?|b\.?e\.?)\s*|\s*(?:พ\.?\s?ศ\.?|b\.?e\.?)$", re.IGNORECASE)
_ERA_CE = re.compile(
    r"^(?:ค\.?\s?ศ\.?|c\.?e\.?|a\.?d\.?)\s*|\s*(?:ค\.?\s?ศ\.?|c\.?e\.?|a\.?d\.?)$", re.IGNORECASE
)


class DateError(ValueError):
    """A date could not be read; the message says what was expected."""


def arabic_digits(text: str) -> str:
    """``"๒๕๖๗"`` -> ``"2567"``; other characters are left as they are."""
    return text.translate(_THAI_DIGITS)


def ce_year(year: int) -> int:
    """The Common Era year for a year typed as BE or CE (a year > 2400 is BE)."""
    return year - BE_OFFSET if year > BE_THRESHOLD else year


def be_year(year: int) -> int:
    """The Buddhist Era year of a Common Era year."""
    return year + BE_OFFSET


def _parts(text: str) -> tuple[int, int | None, int | None, bool | None]:
    """(year, month, day, era) where era is True for BE, False for CE, None if unsaid."""
    raw = arabic_digits(text).strip()
    era: bool | None = None
    if _ERA.search(raw):
        era, raw = True, _ERA.sub("", raw).strip()
    elif _ERA_CE.search(raw):
        era, raw = False, _ERA_CE.sub("", raw).strip()
    m = _ISO.match(raw)
    if m:
        y, mo, d = m.groups()
        return int(y), int(mo) if mo else None, int(d) if d else None, era
    m = _DMY.match(raw)
    if m:
        d, mo, y = m.groups()
        return int(y), int(mo), int(d), era
    raise DateError(
        f"{text[:40]!r} is not a date: use YYYY-MM-DD, YYYY-MM or YYYY (Common Era, or Buddhist "
        "Era when the year is above 2400, e.g. 2567-01-17 = 2024-01-17), or DD/MM/YYYY"
    )


def _resolve(text: str, *, end: bool) -> dt.date:
    year, month, day, era = _parts(text)
    if era is True:
        year -= BE_OFFSET
    elif era is None:
        year = ce_year(year)
    if not 1 <= year <= 9999:
        raise DateError(f"{text[:40]!r}: year {year} is out of range")
    try:
        if month is None:
            return dt.date(year, 12, 31) if end else dt.date(year, 1, 1)
        if day is None:
            last = calendar.monthrange(year, month)[1] if 1 <= month <= 12 else 0
            return dt.date(year, month, last if end else 1)
        return dt.date(year, month, day)
    except ValueError as exc:
        raise DateError(f"{text[:40]!r} is not a real date ({exc})") from None


def parse_date(text: str) -> str:
    """A full date typed in BE or CE, Thai or Arabic digits -> ISO CE ``YYYY-MM-DD``.

    >>> parse_date("2567-01-17"), parse_date("๑๗/๑/๒๕๖๗"), parse_date("2024-01-17")
    ('2024-01-17', '2024-01-17', '2024-01-17')
    """
    _, month, day, _ = _parts(text)
    if month is None or day is None:
        raise DateError(f"{text[:40]!r} is not a full date: use YYYY-MM-DD")
    return _resolve(text, end=False).isoformat()


def parse_bound(text: str, *, end: bool = False) -> str:
    """A range bound: like :func:`parse_date`, but ``YYYY`` and ``YYYY-MM`` are allowed and
    mean the first day (``end=False``) or the last day (``end=True``) of that year or month.
    """
    return _resolve(text, end=end).isoformat()


def to_be(date: str | None) -> str | None:
    """``"2024-01-17"`` -> ``"2567-01-17"`` (the same date, its year in Buddhist Era)."""
    if not date:
        return date
    year, rest = date[:4], date[4:]
    if not year.isdigit():
        return date
    return f"{be_year(int(year)):04d}{rest}"


def format_th(date: str | None) -> str | None:
    """``"2024-01-17"`` -> ``"17 ม.ค. 2567"``, as a Thai reader writes a date."""
    if not date:
        return date
    try:
        d = dt.date.fromisoformat(date[:10])
    except ValueError:
        return date
    return f"{d.day} {_MONTHS_TH[d.month - 1]} {be_year(d.year)}"


def date_of_ms(ms: int) -> str:
    """The Bangkok calendar date of a timestamp in milliseconds, ``YYYY-MM-DD``."""
    return dt.datetime.fromtimestamp(ms / 1000, BANGKOK).date().isoformat()


def iso_of_ms(ms: int) -> str:
    """A timestamp in milliseconds as RFC 3339 in UTC: ``2024-01-17T03:00:00Z``."""
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
