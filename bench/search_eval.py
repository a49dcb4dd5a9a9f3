"""Compare Thai search strategies on the labelled set, and time p2pnet.search.

    .venv/bin/python bench/search_eval.py [--rows 20000]

Prints micro-averaged precision/recall and MAP over tests/search_labelled.py for
the strategies of ../shared/notes/thai-search.md and for the variants of the
boundary check, then times index_doc and search on a synthetic on-disk corpus.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from p2pnet import search as S  # noqa: E402
from tests.search_labelled import DOCS, QUERIES  # noqa: E402

Ranker = Callable[[sqlite3.Connection, str], list[str]]


def evaluate(conn: sqlite3.Connection, rank: Ranker) -> tuple[float, float, float]:
    """Micro precision, micro recall, MAP."""
    tp = fp = fn = 0
    aps = []
    for query, relevant in QUERIES:
        got = rank(conn, query)
        hits = set(got)
        tp, fp, fn = tp + len(hits & relevant), fp + len(hits - relevant), fn + len(relevant - hits)
        found, precisions = 0, []
        for k, doc_id in enumerate(got, 1):
            if doc_id in relevant:
                found += 1
                precisions.append(found / k)
        aps.append(sum(precisions) / len(relevant))
    return tp / max(1, tp + fp), tp / max(1, tp + fn), statistics.mean(aps)


def module(conn: sqlite3.Connection, query: str) -> list[str]:
    return [h.doc_id for h in S.search(conn, query, limit=10_000)]


def raw_fts(short: str) -> Ranker:
    """Trigram MATCH for terms of 3+ code points, no check, bm25 order; short terms
    via the ICU word index ("word") or LIKE ("like")."""

    def rank(conn: sqlite3.Connection, query: str) -> list[str]:
        terms = S._parse(query)
        long_terms = [t for t in terms if not t.short]
        sql, params = "SELECT d.doc_id FROM search_doc d", []
        where = []
        if long_terms:
            sql += " JOIN search_tri t ON t.rowid = d.id"
            where.append("search_tri MATCH ?")
            params.append(S._phrases(long_terms))
        for t in terms:
            if t.short and short == "word":
                where.append("d.id IN (SELECT rowid FROM search_word WHERE search_word MATCH ?)")
                params.append(S._phrases([t]))
            elif t.short:
                where.append("replace(d.name || ' ' || d.body, char(31), '') LIKE ?")
                params.append(f"%{t.text}%")
        order = " ORDER BY bm25(search_tri, 4.0, 1.0)" if long_terms else ""
        return [r[0] for r in conn.execute(f"{sql} WHERE {' AND '.join(where)}{order}", params)]

    return rank


def icu_words(conn: sqlite3.Connection, query: str) -> list[str]:
    """Every term must match as a phrase of ICU words in the word index."""
    phrase = " ".join('"' + S._segment(t.text).replace('"', '""') + '"' for t in S._parse(query))
    sql = ("SELECT d.doc_id FROM search_word JOIN search_doc d ON d.id = search_word.rowid "
           "WHERE search_word MATCH ? ORDER BY bm25(search_word, 4.0, 1.0)")
    return [r[0] for r in conn.execute(sql, (phrase,))]


@contextlib.contextmanager
def patched(**changes: object) -> Iterator[None]:
    saved = {k: S._Term.__dict__[k] for k in changes}
    for k, v in changes.items():
        setattr(S._Term, k, v)
    try:
        yield
    finally:
        for k, v in saved.items():
            setattr(S._Term, k, v)


def _accept_all(self: S._Term, seg: str) -> int:
    return 2 if self.whole.search(seg) else (1 if self.anywhere.search(seg) else 0)


def _latin_prefix_only(seg: str, start: int, end: int) -> bool:
    for cut in (start, end):
        if cut in (0, len(seg)) or S._SEP in (seg[cut - 1], seg[cut]):
            continue
        if S._is_thai(seg[cut - 1]) != S._is_thai(seg[cut]):
            continue
        if S._is_thai(seg[cut]) or cut == start:
            return False
    return True


def compare() -> None:
    conn = sqlite3.connect(":memory:")
    S.create_schema(conn)
    for d in DOCS:
        S.index_doc(conn, d["id"], d["kind"], d["name"], d["body"])
    relevant = sum(len(r) for _, r in QUERIES)
    print(f"{len(DOCS)} docs, {len(QUERIES)} queries, {relevant} relevant pairs\n")
    print(f"{'strategy':58} {'precision':>9} {'recall':>7} {'MAP':>6}")
    rows: list[tuple[str, Ranker, dict[str, object]]] = [
        ("trigram, no check; short terms: ICU word index", raw_fts("word"), {}),
        ("trigram, no check; short terms: LIKE", raw_fts("like"), {}),
        ("ICU word tokens only (phrase of words)", icu_words, {}),
        ("hybrid, no check (whole words ranked first)", module, {"status": _accept_all}),
        ("hybrid + word boundaries only", module, {"_cuts_ok": staticmethod(lambda s, a, b: False)}),
        ("hybrid + boundaries + Latin prefixes", module, {"_cuts_ok": staticmethod(_latin_prefix_only)}),
        ("hybrid + boundaries + Latin prefixes + Thai dict (CHOSEN)", module, {}),
    ]
    for label, rank, changes in rows:
        with patched(**changes):
            p, r, m = evaluate(conn, rank)
        print(f"{label:58} {p:9.3f} {r:7.3f} {m:6.3f}")


def synthetic(n: int, seed: int = 7) -> Iterator[tuple[str, str, str, str]]:
    """Rows built by recombining sentences of the labelled documents."""
    rng = random.Random(seed)
    names = [d["name"] for d in DOCS]
    pieces = [p for d in DOCS for p in d["body"].split(" ") if p]
    for i in range(n):
        body = " ".join(rng.choice(pieces) for _ in range(rng.randint(25, 45)))
        yield f"doc{i}", rng.choice(("member", "activity")), rng.choice(names) + f" {i}", body


def timing(rows: int) -> None:
    sample = next(iter(synthetic(1, seed=1)))
    text = sample[2] + "\n" + sample[3]
    print(f"\nsample document: {len(text)} characters")
    loops = 2000
    start = time.perf_counter()
    for _ in range(loops):
        S.normalize(sample[2]), S.normalize(sample[3])
    per = (time.perf_counter() - start) / loops * 1e6
    start = time.perf_counter()
    for _ in range(loops):
        S._segment(S.normalize(sample[2])), S._segment(S.normalize(sample[3]))
    print(f"normalize {per:.1f} µs, normalize + ICU segment {(time.perf_counter() - start) / loops * 1e6:.1f} µs")
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(Path(tmp) / "search.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        S.create_schema(conn)
        docs = list(synthetic(rows))
        chars = sum(len(d[2]) + len(d[3]) for d in docs) / rows
        conn.execute("BEGIN")
        start = time.perf_counter()
        for d in docs:
            S.index_doc(conn, *d)
        conn.execute("COMMIT")
        took = time.perf_counter() - start
        print(f"index_doc, {rows} new docs (~{chars:.0f} chars) in one transaction: "
              f"{took / rows * 1e6:.0f} µs/doc")
        start = time.perf_counter()
        for d in docs[:200]:
            conn.execute("BEGIN")
            S.index_doc(conn, d[0], d[1], d[2] + " แก้ไข", d[3])
            conn.execute("COMMIT")
        print(f"index_doc, replacing a doc, one transaction each: "
              f"{(time.perf_counter() - start) / 200 * 1e6:.0f} µs/doc")
        size = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1e6
        print(f"database size {size:.1f} MB")
        print(f"\n{'query':28} {'hits':>6} {'search ms':>9} {'count ms':>8}")
        for query in ("ผู้สูงอายุ", "สูงอายุ", "ยา", "ตาย", "เชียงใหม่ ชมรม", "art",
                      "health volunteers อสม.", "รพ.สต.", "๒๕๖๗", "ไม่มีคำนี้เลย"):
            start = time.perf_counter()
            S.search(conn, query)
            searched = (time.perf_counter() - start) * 1e3
            start = time.perf_counter()
            hits = S.count(conn, query)
            counted = (time.perf_counter() - start) * 1e3
            print(f"{query:28} {hits:6} {searched:9.1f} {counted:8.1f}")
        conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    compare()
    timing(args.rows)
