"""Thai + English full-text search over directory entries (members and activities).

Pure and synchronous: every function takes a plain ``sqlite3.Connection`` and only
executes statements on it; the caller owns the transaction.

How it works (options measured with bench/search_eval.py on tests/search_labelled.py):

* Stored text and queries go through :func:`normalize`.
* ICU's dictionary word break splits each field into words; ``search_doc`` keeps the
  normalised text with U+001F between words.  ``search_tri``, a contentless FTS5
  trigram index with ``detail=none`` (half the insert cost of ``detail=full``), only
  finds candidates: any substring of 3+ code points, and the ICU words of 1-2 code
  points (ตา, ยา, คน), which are appended to the indexed text as STX word ETX.
* Each candidate is checked against the word boundaries.  An occurrence is a
  *whole-word* match when it starts and ends on a boundary (สูงอายุ in ผู้|สูง|อายุ);
  a *sub-word* match when a Latin word only starts there (volunteer -> volunteers)
  or a Thai word is cut between dictionary words (สุขภาพ in ส่ง|เสริมสุข|ภาพ);
  otherwise it is dropped (ตาย in ตา|ยาย, "art" in "party").  Terms of 1-2 code
  points must be whole words (ยา finds แจกยา, not ยาย or พยาบาล).
* Ranking: terms found in the name, then whole-word terms, then a BM25-style
  term-frequency score (FTS5's bm25() would need detail=full; it ranked no better).
"""

from __future__ import annotations

import functools
import hashlib
import re
import sqlite3
import threading
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import icu  # type: ignore[import-untyped]

__all__ = ["SCHEMA", "Hit", "QueryError", "clear", "count", "create_schema", "index_doc",
           "normalize", "remove_doc", "search"]

MAX_QUERY_CHARS = 200
MAX_TERMS = 10
SNIPPET_CHARS = 160
_SEP = "\x1f"  # word boundary in stored text (normalize() turns control characters to spaces)
_VERSION = b"1"  # in each document's digest: bump when normalize() or _segment() change
_NAME_WEIGHT = 4.0  # an occurrence in the name counts as this many in the body
_TYPICAL_LENGTH = 300  # characters of name + body, for length normalisation

SCHEMA: list[str] = [
    """CREATE TABLE IF NOT EXISTS search_doc (
        id INTEGER PRIMARY KEY,
        doc_id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        digest BLOB NOT NULL,  -- of the indexed input, to skip unchanged documents
        name TEXT NOT NULL,  -- normalised, ICU words separated by U+001F
        body TEXT NOT NULL
    )""",
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_tri USING fts5("
    "text, content='', detail=none, tokenize='trigram')",  # rowid = search_doc.id
]


class QueryError(ValueError):
    """The query cannot be searched; the message says why."""


@dataclass(frozen=True)
class Hit:
    doc_id: str
    kind: str
    score: float  # higher is better: 1000 per term in the name + 10 per whole-word term + [0, 1)
    field: str  # "name" or "body": where the best match was
    snippet: str  # plain text (not HTML-escaped) with matches wrapped in the mark strings


# --------------------------------------------------------------------------- normalisation
_THAI = "\u0e00-\u0e7f"
_THAI_WORD = "\u0e01-\u0e2e\u0e30-\u0e3a\u0e40-\u0e45\u0e47-\u0e4e\u0e50-\u0e59"  # not ฯ ๆ ฿ ๏ ๚ ๛
_CONSONANT = "\u0e01-\u0e23\u0e25\u0e27-\u0e2e"
_VOWEL = "\u0e24\u0e26\u0e30-\u0e39\u0e40-\u0e45\u0e47\u0e4d"
_TONE = "\u0e48-\u0e4b"
_ABOVE_BELOW = "\u0e31\u0e34-\u0e39\u0e47\u0e4d"  # vowels written above or below
_FOLLOW = "\u0e30\u0e32\u0e33\u0e45"
_NO_REPEAT = "\u0e30-\u0e3a\u0e40-\u0e45\u0e47\u0e4c-\u0e4e"  # vowels and signs never doubled
_DANGLING = "\u0e31\u0e34-\u0e3a\u0e47-\u0e4e"  # marks that need a base character
# The rules of pythainlp.util.normalize 5.x in its order, as (detector, pattern, replacement):
# cheap detectors keep correct text fast (pythainlp takes ~390 µs for 300 characters).  Rules
# without a detector share _MARK_ORDER: correct Thai never has a tone or sara aa before an
# above/below vowel or a tone, and no other rule creates such a pair.  The text gets a
# leading space first, so "after a space" also covers "at the start".
_MARK_ORDER = re.compile(f"[{_TONE}\u0e4c{_FOLLOW}][{_ABOVE_BELOW}{_TONE}]")
_THAI_RULES = [(re.compile(d) if d else None, re.compile(p), r) for d, p, r in [
    (f" [{_DANGLING}]", f"([{_CONSONANT}])(?<![{_VOWEL}][{_CONSONANT}]) ([{_DANGLING}])",
     r"\1\2"),  # a space typed before a mark: "พ ุ่ม"
    ("\u0e40\u0e40", "\u0e40\u0e40", "\u0e41"),  # เเ -> แ
    (None, f"([{_TONE}\u0e4c]+)([{_ABOVE_BELOW}]+)", r"\2\1"),  # tone typed before the vowel
    ("\u0e4d", f"\u0e4d([{_TONE}]*)\u0e32", "\\1\u0e33"),  # nikhahit + sara aa -> sara am
    (None, f"([{_FOLLOW}]+)([{_TONE}]+)", r"\2\1"),  # sara aa typed before tone
    ("\u0e45", "(?!^)([^\u0e24\u0e26])\u0e45", "\\1\u0e32"),  # lakkhangyao -> sara aa
    (f"([{_NO_REPEAT}]) *\\1", f"([{_NO_REPEAT}])(?: *\\1)+", r"\1"),  # doubled vowels, signs
    (None, f"[{_TONE}]+(?=[{_TONE}])", ""),  # doubled tones: keep the last
    (f" [{_DANGLING}]", f"(?<= )[{_DANGLING}]+", ""),  # marks without a base character
]]
_HAS_THAI = re.compile(f"[{_THAI}]")
_NEWLINES = re.compile("[ \n]*\n[ \n]*")
# Control characters become spaces (which frees U+001F), invisible ones go, Thai digits
# become 0-9, lone surrogates (which SQLite cannot store) become U+FFFD.  str.translate()
# would cost ~50 µs on 300 Thai characters; this only touches the characters concerned.
_TRANSLATE: dict[int, str | None] = {0x0E50 + i: str(i) for i in range(10)}
_TRANSLATE.update({c: " " for c in range(32) if chr(c) not in "\t\n"})
_TRANSLATE.update({ord(c): None for c in "\u00ad\u200b\u200c\u200d\u2060\ufeff"})
_TRANSLATE.update({c: "\ufffd" for c in range(0xD800, 0xE000)})
_TO_TRANSLATE = re.compile(
    "[\x00-\x08\x0b-\x1f\u00ad\u200b-\u200d\u2060\ufeff\u0e50-\u0e59\ud800-\udfff]+")


def normalize(text: str) -> str:
    """NFC; Thai digits -> 0-9; invisible characters removed; repeated spaces and blank
    lines collapsed; Thai marks typed in the wrong order, เเ, doubled vowels fixed as
    pythainlp.util.normalize does; casefold."""
    text = unicodedata.normalize("NFC", text)
    text = _TO_TRANSLATE.sub(lambda m: m.group().translate(_TRANSLATE), text)
    while "  " in text:
        text = text.replace("  ", " ")
    if "\n" in text:
        text = _NEWLINES.sub("\n", text)
    text = text.strip()
    if _HAS_THAI.search(text):
        text, mark_order = " " + text, None
        for detector, pattern, repl in _THAI_RULES:
            if detector is None and mark_order is None:  # searched once, at its first rule
                mark_order = bool(_MARK_ORDER.search(text))
            if mark_order if detector is None else detector.search(text):
                text = pattern.sub(repl, text)
        text = text[1:]
    return text.casefold()


# --------------------------------------------------------------------------- words
_SEPS = re.compile("\x1f{2,}")
_local = threading.local()  # a BreakIterator is not thread-safe: one per thread, made once


def _segment(text: str) -> str:
    """``text`` with U+001F at every ICU word boundary (ผู้สูงอายุ -> ผู้␟สูง␟อายุ), and
    around "." and before "ๆ", which ICU leaves inside words (รพ.สต.บ้าน, เด็กๆ)."""
    try:
        bi = _local.bi
    except AttributeError:
        bi = _local.bi = icu.BreakIterator.createWordInstance(icu.Locale("th"))
    bi.setText(text)
    cuts = [0, *bi]
    seg = _SEP.join([text[a:b] for a, b in zip(cuts, cuts[1:], strict=False)])
    if "." in seg or "ๆ" in seg:
        seg = _SEPS.sub(_SEP, seg.replace(".", "\x1f.\x1f").replace("ๆ", "\x1fๆ")).strip(_SEP)
    return seg


def _indexed_text(name: str, body: str) -> str:
    """What search_tri indexes for a document: its plain text, then each word of 1-2 code
    points as STX word ETX, whose trigrams occur nowhere else: so trigrams find short
    words too.  Deleting from a contentless table needs the very same text, so changing
    this function needs clear() and a reindex (normalize() and _segment() may change)."""
    text = name + "\x1f\n\x1f" + body
    short = dict.fromkeys([w for w in text.split(_SEP) if len(w) < 3])
    marked = "".join(["\x02" + w + "\x03" for w in short if w[:1].isalnum() and w != "ๆ"])
    return text.replace(_SEP, "") + "\n" + marked


def _trigrams(term: str) -> list[str]:
    """The strings search_tri must contain for ``term`` (see _indexed_text)."""
    if len(term) < 3:
        term = f"\x02{term}\x03"
    return [term[i:i + 3] for i in range(len(term) - 2)]


_THAI_BLOCK = "".join(map(chr, range(0x0E00, 0x0E80)))
# whether a character is a Thai letter, vowel, mark or digit (ฯ and ๆ count as punctuation)
_is_thai = frozenset(re.findall(f"[{_THAI_WORD}]", _THAI_BLOCK)).__contains__


@functools.cache
def _thai_words() -> frozenset[str]:
    from pythainlp.corpus import thai_words  # 62k words, ~0.2 s: loaded on first need

    return frozenset(thai_words())


@functools.lru_cache(maxsize=65536)
def _wordable(piece: str) -> bool:
    """Whether ``piece`` splits into Thai dictionary words."""
    words, n = _thai_words(), len(piece)
    ok = [True] + [False] * n
    for end in range(1, n + 1):
        ok[end] = any(ok[i] and piece[i:end] in words for i in range(max(0, end - 24), end))
    return ok[n]


def _cuts_ok(seg: str, start: int, end: int) -> bool:
    """Whether an occurrence not on word boundaries is a sub-word match: a Latin word
    may go on after it but not start before it; a Thai word may be cut only between
    dictionary words (เสริม|สุข yes, ตา|ย|าย no)."""
    for cut in (start, end):
        if cut in (0, len(seg)) or _SEP in (seg[cut - 1], seg[cut]):
            continue
        before, after = _is_thai(seg[cut - 1]), _is_thai(seg[cut])
        if before != after:  # Thai next to Latin, digits or punctuation: a boundary
            continue
        if not before:  # words go on after a prefix (volunteer|s), numbers do not (2567|0)
            if (seg[cut - 1].isalnum() and seg[cut].isalnum() if cut == start
                    else seg[cut - 1].isdigit() and seg[cut].isdigit()):
                return False
            continue
        a, b = cut, cut  # the run of Thai characters (an ICU word) around the cut
        while a > 0 and _is_thai(seg[a - 1]):
            a -= 1
        while b < len(seg) and _is_thai(seg[b]):
            b += 1
        cuts = sorted({a, b, *(c for c in (start, end) if a < c < b)})
        if not all(_wordable(seg[x:y]) for x, y in zip(cuts, cuts[1:], strict=False)):
            return False
    return True


# --------------------------------------------------------------------------- query terms
@dataclass(frozen=True)
class _Term:
    text: str
    whole: re.Pattern[str]  # an occurrence starting and ending on word boundaries
    anywhere: re.Pattern[str]  # any occurrence (U+001F may split it)
    short: bool  # 1-2 code points: whole words only

    def occurrences(self, seg: str) -> Iterator[tuple[int, int]]:
        """Every occurrence in ``seg``, overlapping ones included."""
        m = self.anywhere.search(seg)
        while m:
            yield m.start(), m.end()
            m = self.anywhere.search(seg, m.start() + 1)

    def accepts(self, seg: str, start: int, end: int) -> bool:
        return bool(self.whole.match(seg, start)) or (not self.short and _cuts_ok(seg, start, end))

    def find(self, seg: str) -> tuple[int, int]:
        """(2 = whole word | 1 = sub-word only | 0 = absent, number of such occurrences)."""
        n = len(self.whole.findall(seg))
        if n or self.short:
            return (2 if n else 0), n
        n = sum(1 for s, e in self.occurrences(seg) if _cuts_ok(seg, s, e))
        return (1 if n else 0), n


_ALNUM = rf"[^\W_{_THAI}]"  # a letter or digit of a script other than Thai
_NON_WORD = rf"[^\w{_THAI_WORD}]|[_\u0e2f\u0e3f\u0e46\u0e4f\u0e5a\u0e5b]"
_EDGE_PUNCT = re.compile(rf"^(?:{_NON_WORD})+|(?:{_NON_WORD})+$")


@functools.lru_cache(maxsize=1024)
def _term(text: str) -> _Term:
    # A boundary is U+001F, the text edge, or a change between Thai, other letters and
    # digits, and punctuation.  Patterns start with a literal so that re scans fast: the
    # test before the first character is a lookbehind placed after it.
    first, *rest = (re.escape(c) for c in text)
    core = first + "".join("\x1f?" + c for c in rest)
    before = f"[{_THAI_WORD}]" if _is_thai(text[0]) else _ALNUM
    after = f"(?![{_THAI_WORD}])" if _is_thai(text[-1]) else f"(?!{_ALNUM})"
    whole = f"{first}(?<!{before}{first}){core[len(first):]}{after}"
    return _Term(text, re.compile(whole), re.compile(core), len(text) < 3)


def _parse(query: str) -> list[_Term]:
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"query is longer than {MAX_QUERY_CHARS} characters")
    terms: list[str] = []
    for raw in normalize(query).split():
        word = _EDGE_PUNCT.sub("", raw)
        if word and word not in terms:
            terms.append(word)
    if not terms:
        raise QueryError("query has no letters or digits to search for")
    if len(terms) > MAX_TERMS:
        raise QueryError(f"query has more than {MAX_TERMS} terms")
    return [_term(t) for t in terms]


def _fts_query(strings: Iterable[str]) -> str:
    """An FTS5 MATCH expression requiring every string, each quoted (no syntax gets through)."""
    return " ".join('"' + s.replace('"', '""') + '"' for s in dict.fromkeys(strings))


# --------------------------------------------------------------------------- indexing
def create_schema(conn: sqlite3.Connection) -> None:
    for statement in SCHEMA:
        conn.execute(statement)


def index_doc(conn: sqlite3.Connection, doc_id: str, kind: str, name: str, body: str) -> None:
    """Index (or re-index) one document; ``name`` holds names/titles, ``body`` the rest."""
    data = "\0".join((kind, name, body)).encode("utf-8", "surrogatepass")
    digest = hashlib.blake2b(data, digest_size=16, key=_VERSION).digest()
    old = conn.execute("SELECT digest FROM search_doc WHERE doc_id = ?", (doc_id,)).fetchone()
    if old is not None:
        if old[0] == digest:
            return
        remove_doc(conn, doc_id)
    name_seg, body_seg = _segment(normalize(name)), _segment(normalize(body))
    rowid = conn.execute("INSERT INTO search_doc (doc_id, kind, digest, name, body) VALUES "
                         "(?, ?, ?, ?, ?)", (doc_id, kind, digest, name_seg, body_seg)).lastrowid
    conn.execute("INSERT INTO search_tri (rowid, text) VALUES (?, ?)",
                 (rowid, _indexed_text(name_seg, body_seg)))


def remove_doc(conn: sqlite3.Connection, doc_id: str) -> None:
    sql = "SELECT id, name, body FROM search_doc WHERE doc_id = ?"
    row = conn.execute(sql, (doc_id,)).fetchone()
    if row is not None:  # a contentless FTS5 table needs the exact indexed text to delete
        conn.execute("INSERT INTO search_tri (search_tri, rowid, text) VALUES ('delete', ?, ?)",
                     (row[0], _indexed_text(row[1], row[2])))
        conn.execute("DELETE FROM search_doc WHERE id = ?", (row[0],))


def clear(conn: sqlite3.Connection) -> None:
    conn.execute("INSERT INTO search_tri (search_tri) VALUES ('delete-all')")
    conn.execute("DELETE FROM search_doc")


# --------------------------------------------------------------------------- searching
_Match = tuple[float, str, str, str, str]  # score, doc_id, kind, field, segmented field text


def _candidates(conn: sqlite3.Connection, terms: list[_Term],
                kinds: Sequence[str] | None) -> Iterable[tuple[str, str, str, str]]:
    """(doc_id, kind, name, body) of documents containing every term's trigrams."""
    if isinstance(kinds, str):
        kinds = (kinds,)
    if kinds is not None and not kinds:
        return []
    sql = ("SELECT doc_id, kind, name, body FROM search_doc"
           " WHERE id IN (SELECT rowid FROM search_tri WHERE search_tri MATCH ?)")
    params = [_fts_query(g for t in terms for g in _trigrams(t.text))]
    if kinds is not None:
        sql += f" AND kind IN ({', '.join('?' * len(kinds))})"
        params.extend(kinds)
    return conn.execute(sql, params)


def _rank(candidates: Iterable[tuple[str, str, str, str]], terms: list[_Term]) -> list[_Match]:
    """The candidates in which every term is found, best first."""
    out = []
    for doc_id, kind, name, body in candidates:
        in_name = whole = 0
        relevance = 0.0
        # BM25's term saturation and length normalisation (k1=1.2, b=0.75), without IDF
        norm = 1.2 * (0.25 + 0.75 * (len(name) + len(body)) / _TYPICAL_LENGTH)
        for term in terms:
            (name_status, name_count), (body_status, body_count) = term.find(name), term.find(body)
            if not (name_status or body_status):
                break
            in_name += name_status > 0
            whole += max(name_status, body_status) == 2
            frequency = _NAME_WEIGHT * name_count + body_count
            relevance += frequency / (frequency + norm)
        else:
            score = 1000.0 * in_name + 10.0 * whole + relevance / len(terms)
            field, text = ("name", name) if in_name else ("body", body)
            out.append((score, doc_id, kind, field, text))
    out.sort(key=lambda m: (-m[0], m[1]))
    return out


def _snippet(seg: str, terms: Sequence[_Term], mark: tuple[str, str]) -> str:
    """About SNIPPET_CHARS of the field around its first match, every match marked.
    Works on the segmented text, whose U+001F give word boundaries to cut at."""
    spans: list[list[int]] = []  # accepted occurrences, merged
    found = sorted((s, e) for t in terms for s, e in t.occurrences(seg) if t.accepts(seg, s, e))
    for s, e in found:
        if spans and s <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], e)
        else:
            spans.append([s, e])
    first = spans[0] if spans else [0, 0]
    start = max(0, first[0] - SNIPPET_CHARS // 4)
    start = max(0, start - seg.count(_SEP, start, first[0]))  # separators do not count
    if start > 0:  # begin after a word boundary close before
        start = seg.rfind(_SEP, max(0, start - 20), start + 1) + 1 or start
    end = start + SNIPPET_CHARS
    end = min(len(seg), end + seg.count(_SEP, start, end))
    if end < len(seg):  # stop at a word boundary close before
        cut = seg.rfind(_SEP, first[1], end)
        end = cut if cut >= end - 20 else max(end, first[1])

    def plain(a: int, b: int) -> str:
        return seg[a:b].replace(_SEP, "").replace("\n", " ")

    out, at = [], start
    for s, e in spans:
        s, e = max(s, at), min(e, end)
        if s < e:
            out += [plain(at, s), mark[0], plain(s, e), mark[1]]
            at = e
    out.append(plain(at, end))
    text = "".join(out).strip()
    return ("…" if start > 0 else "") + text + ("…" if end < len(seg) else "")


def search(conn: sqlite3.Connection, query: str, *, kinds: Sequence[str] | None = None,
           limit: int = 20, offset: int = 0,
           mark: tuple[str, str] = ("<mark>", "</mark>")) -> list[Hit]:
    """Documents matching every term of ``query`` (split on whitespace), best first."""
    if limit < 0 or offset < 0:
        raise ValueError("limit and offset must not be negative")
    terms = _parse(query)
    page = _rank(_candidates(conn, terms, kinds), terms)[offset:offset + limit]
    return [Hit(doc_id, kind, score, field, _snippet(text, terms, mark))
            for score, doc_id, kind, field, text in page]


def count(conn: sqlite3.Connection, query: str, *, kinds: Sequence[str] | None = None) -> int:
    """Number of documents :func:`search` finds for ``query`` (for pagination)."""
    terms = _parse(query)
    return len(_rank(_candidates(conn, terms, kinds), terms))
