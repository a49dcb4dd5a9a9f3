"""Matching: whose offers meet whose needs (the complementary relationship, 1+1>2).

Pure and synchronous: :func:`match` takes profiles and returns every need
with the offers of *other* members that meet it, scored and explained in Thai
and English, and the needs that nobody meets.

How a need is compared with an offer:

1. Both texts are normalised (``search.normalize``: Thai marks in order, Thai
   digits as 0-9, case folded) and cut into words: Thai runs with pythainlp's
   dictionary tokenizer (``newmm``, which keeps compounds such as ผู้สูงอายุ and
   ห้องประชุม whole), other runs at letters/digits. Punctuation is dropped.
2. Function words (และ, สำหรับ, ของ, the, for, …) are not *key words*. Each key
   word is weighted by how rare it is among all offers and needs of the network
   (``1 + ln(texts / texts with the word)``), so "ผู้สูงอายุ", which half the
   network mentions, counts for less than "ต้อกระจก".
3. Three levels, best first:

   ``phrase``      the whole need appears in the offer word for word
                   (ห้องประชุม in "ห้องประชุมของ อบต."), or the whole offer in
                   the need, covering at least half its weight: score 0.85-1.00;
   ``all-words``   every key word of the need is in the offer, in any order
                   or language mix: score 0.65-0.85;
   ``some-words``  the shared key words carry at least ``min_share`` (a third)
                   of the need's weight and one of them is not a common word
                   (in 10% of texts or fewer): score 0.20-0.65.

   Within a level, a tighter offer (less text beyond the need) scores higher.

Matching looks at each need's rarest words first to find candidate offers, so
it stays fast on networks of thousands of members.
"""

from __future__ import annotations

import functools
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import search

__all__ = ["Meet", "Profile", "Result", "key_words", "match", "words"]

DEFAULT_MIN_SHARE = 0.34
MAX_OFFERS_PER_NEED = 5
_CANDIDATE_BUDGET = 5000  # postings read per need before stopping at rarer words only

_STOPWORDS_TH = "และ หรือ สำหรับ ของ ใน ที่ การ ความ ให้ กับ โดย จาก เพื่อ ไป มา เรื่อง แก่ ต่อ ด้วย ซึ่ง อย่าง ราย ได้ เป็น มี จะ ใช้ ทำ ช่วย ทุก แบบ ผ่าน ตาม ถึง"  # noqa: E501
_STOPWORDS_EN = "a an and or for the of in on to with by from at as into our your their its is be"
# function words: never key words
STOPWORDS = frozenset(_STOPWORDS_TH.split() + _STOPWORDS_EN.split())
_THAI_RUN = re.compile(r"[\u0e01-\u0e2e\u0e30-\u0e3a\u0e40-\u0e4e\u0e50-\u0e59]+")
_OTHER_WORD = re.compile(r"[^\W_\u0e00-\u0e7f]+")
_WORDISH = re.compile(r"[^\W_]")


@dataclass(frozen=True)
class Profile:
    """What matching needs to know of a member."""

    id: str
    name: str  # shown in Thai text
    name_en: str  # shown in English text
    offers: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Meet:
    """One offer meeting one need."""

    need_member: str
    need: str
    offer_member: str
    offer: str
    score: float
    level: str  # "phrase" | "all-words" | "some-words"
    shared: tuple[str, ...]  # the key words both share, most telling first
    key_words: int  # key words of the need
    explanation_en: str
    explanation_th: str

    def as_dict(self, names: dict[str, Profile]) -> dict[str, Any]:
        p = names.get(self.offer_member)
        return {
            "member": self.offer_member,
            "name": p.name if p else self.offer_member[:12],
            "offer": self.offer,
            "score": round(self.score, 4),
            "level": self.level,
            "shared_words": list(self.shared),
            "explanation": {"en": self.explanation_en, "th": self.explanation_th},
        }


@dataclass
class Result:
    """Every need of the network and the offers that meet it."""

    profiles: dict[str, Profile]
    meets: dict[tuple[str, str], list[Meet]] = field(
        default_factory=dict
    )  # (member, need) -> best first

    def as_dict(
        self, member: str | None = None, *, offset: int = 0, limit: int | None = None
    ) -> dict[str, Any]:
        """JSON shape: ``needs`` met, ``unmet`` needs and, for one member, ``gives``
        (the needs of others that its offers meet). ``offset``/``limit`` take one page
        of the needs (met and unmet together, by member id); ``counts`` are totals."""
        mine = [(k, found) for k, found in self.meets.items() if member is None or k[0] == member]
        page = mine[offset:] if limit is None else mine[offset : offset + limit]
        needs, unmet = [], []
        for (mid, need), found in page:
            p = self.profiles[mid]
            if found:
                offers = [m.as_dict(self.profiles) for m in found]
                needs.append({"member": mid, "name": p.name, "need": need, "offers": offers})
            else:
                unmet.append({"member": mid, "name": p.name, "need": need})
        out: dict[str, Any] = {"member": member, "needs": needs, "unmet": unmet}
        if member is not None:
            gives = []
            for (mid, need), found in self.meets.items():
                for m in found:
                    if m.offer_member == member:
                        meet = m.as_dict(self.profiles)
                        del meet["member"], meet["name"]
                        gives.append(
                            {"member": mid, "name": self.profiles[mid].name, "need": need, **meet}
                        )
            gives.sort(key=lambda g: (-g["score"], g["member"], g["need"]))
            out["gives"] = gives
        met = sum(1 for _, found in mine if found)
        out["counts"] = {
            "needs": len(mine),
            "met": met,
            "unmet": len(mine) - met,
            "matches": sum(len(found) for _, found in mine),
        }
        out["more"] = limit is not None and offset + limit < len(mine)
        return out


# --------------------------------------------------------------------------- words
@functools.lru_cache(maxsize=1)
def _tokenizer() -> Any:
    from pythainlp.tokenize import Tokenizer

    return Tokenizer(engine="newmm")


@functools.lru_cache(maxsize=1 << 16)
def words(text: str) -> tuple[str, ...]:
    """Every word of ``text``, normalised, in order (function words included)."""
    norm = search.normalize(text)
    out: list[str] = []
    pos = 0
    for m in _THAI_RUN.finditer(norm):
        out += _OTHER_WORD.findall(norm[pos : m.start()])
        out += [w for w in _tokenizer().word_tokenize(m.group()) if _WORDISH.search(w)]
        pos = m.end()
    out += _OTHER_WORD.findall(norm[pos:])
    return tuple(out)


def key_words(text: str) -> tuple[str, ...]:
    """The words of ``text`` that carry meaning (no function words), each once, in order."""
    return tuple(dict.fromkeys(w for w in words(text) if w not in STOPWORDS))


def _contains(hay: Sequence[str], needle: Sequence[str]) -> bool:
    """Whether ``needle`` occurs in ``hay`` as a contiguous run of words."""
    n = len(needle)
    if not n or n > len(hay):
        return False
    first = needle[0]
    return any(
        hay[i] == first and tuple(hay[i : i + n]) == tuple(needle) for i in range(len(hay) - n + 1)
    )


# --------------------------------------------------------------------------- matching
def match(
    profiles: Iterable[Profile],
    *,
    min_share: float = DEFAULT_MIN_SHARE,
    max_offers: int = MAX_OFFERS_PER_NEED,
) -> Result:
    """Compare every need with the offers of every other member.

    Each distinct need text is scored once against each distinct offer text that
    shares a key word with it (networks repeat phrases: many members offer
    "ห้องประชุม"); the scores are then handed out to the members behind the texts.
    """
    by_id = {p.id: p for p in profiles}
    texts = {t for p in by_id.values() for t in (*p.offers, *p.needs)}
    df: dict[str, int] = defaultdict(int)
    for t in texts:
        for w in key_words(t):
            df[w] += 1
    total = max(1, len(texts))
    weights = {w: 1.0 + math.log(total / n) for w, n in df.items()}
    common = max(2.0, total * 0.1)  # a word in more than 10% of texts is common

    offered_by: dict[str, list[str]] = defaultdict(list)  # offer text -> members offering it
    for p in sorted(by_id.values(), key=lambda p: p.id):
        for o in dict.fromkeys(p.offers):
            offered_by[o].append(p.id)
    offer_texts = list(offered_by)
    postings: dict[str, list[int]] = defaultdict(list)
    for i, o in enumerate(offer_texts):
        for w in key_words(o):
            postings[w].append(i)

    scored: dict[str, list[tuple[float, str, str, tuple[str, ...]]]] = {}
    for need in sorted({n for p in by_id.values() for n in p.needs}):
        need_keys = key_words(need)
        candidates: set[int] = set()
        budget = _CANDIDATE_BUDGET
        for w in sorted(need_keys, key=lambda w: (len(postings.get(w, ())), w)):
            posting = postings.get(w, [])
            if candidates and len(posting) > budget:
                break
            candidates.update(posting)
            budget -= len(posting)
        found = []
        for i in candidates:
            hit = _score(need, need_keys, offer_texts[i], weights, common, df, min_share)
            if hit is not None:
                found.append((hit[0], offer_texts[i], hit[1], hit[2]))
        found.sort(key=lambda f: (-f[0], f[1]))
        scored[need] = found

    result = Result(by_id)
    for p in sorted(by_id.values(), key=lambda p: p.id):
        for need in p.needs:
            meets: list[Meet] = []
            n_keys = len(key_words(need))
            for score, offer, level, shared in scored[need]:
                for owner in offered_by[offer]:
                    if owner == p.id:
                        continue
                    en, th = _explain(level, p, need, by_id[owner], offer, shared, n_keys)
                    meets.append(
                        Meet(p.id, need, owner, offer, score, level, shared, n_keys, en, th)
                    )
                    if len(meets) >= max_offers:
                        break
                if len(meets) >= max_offers:
                    break
            result.meets[(p.id, need)] = meets
    return result


def _score(
    need: str,
    need_keys: Sequence[str],
    offer: str,
    weights: dict[str, float],
    common: float,
    df: dict[str, int],
    min_share: float,
) -> tuple[float, str, tuple[str, ...]] | None:
    """(score, level, shared key words) of one offer text for one need text, or None."""
    offer_keys = key_words(offer)
    if not need_keys or not offer_keys:
        return None
    offer_set = set(offer_keys)
    shared = [w for w in need_keys if w in offer_set]
    if not shared:
        return None
    shared_weight = sum(weights[w] for w in shared)
    share = shared_weight / sum(weights[w] for w in need_keys)
    tight = shared_weight / sum(weights[w] for w in offer_keys)  # how much of the offer is the need
    need_in_offer = _contains(words(offer), words(need)) or _contains(offer_keys, need_keys)
    offer_in_need = share >= 0.5 and (
        _contains(words(need), words(offer)) or _contains(need_keys, offer_keys)
    )
    if need_in_offer or offer_in_need:
        level, score = "phrase", 0.85 + 0.15 * min(share, tight)
    elif len(shared) == len(need_keys):
        level, score = "all-words", 0.65 + 0.2 * tight
    elif share >= min_share and any(df.get(w, 0) <= common for w in shared):
        level, score = "some-words", 0.2 + 0.35 * share + 0.1 * tight
    else:
        return None
    shared.sort(key=lambda w: (-weights[w], need_keys.index(w)))
    return min(score, 1.0), level, tuple(shared)


def _explain(
    level: str,
    needer: Profile,
    need: str,
    offerer: Profile,
    offer: str,
    shared: Sequence[str],
    n: int,
) -> tuple[str, str]:
    listed = ", ".join(shared[:6])
    if level == "phrase" and len(shared) == n:
        en = "the need appears in the offer word for word"
        th = "ความต้องการนี้อยู่ในข้อเสนอครบทุกคำตามลำดับ"
    elif level == "phrase":
        en = f"the offer appears in the need word for word ({listed})"
        th = f"ข้อเสนอนี้อยู่ในความต้องการครบทุกคำตามลำดับ ({listed})"
    elif level == "all-words":
        en = f"the offer has every key word of the need ({listed})"
        th = f"ข้อเสนอมีคำสำคัญของความต้องการครบทุกคำ ({listed})"
    else:
        en = f"the offer shares {len(shared)} of the need's {n} key words: {listed}"
        th = f"ข้อเสนอมีคำสำคัญตรงกับความต้องการ {len(shared)} จาก {n} คำ: {listed}"
    return (
        f"{offerer.name_en} offers “{offer}”, which meets {needer.name_en}'s need “{need}”: {en}.",
        f"{offerer.name} เสนอ “{offer}” ซึ่งตอบความต้องการ “{need}” ของ{needer.name}: {th}",
    )
