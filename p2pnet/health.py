"""The network's health report: the source text's six principles, measured.

Computed from the signed log (through the derived tables) with networkx.
Every figure carries a one-line explanation in Thai and English; figures that
change over time carry a per-month trend.

The collaboration graph has a node per current member and an edge between
two members who took part in an activity together or endorse each other.
"""

from __future__ import annotations

import datetime as dt
import itertools
import sqlite3
from collections import Counter, defaultdict
from typing import Any, cast

import networkx as nx

from .entries import now_ms

DAY_MS = 86_400_000
ACTIVE_DAYS = 90
NEW_MEMBER_DAYS = 365


def _month(ts_or_date: int | str) -> str:
    if isinstance(ts_or_date, str):
        return ts_or_date[:7]
    return dt.datetime.fromtimestamp(ts_or_date / 1000, dt.timezone.utc).strftime("%Y-%m")


def _months(first: str, last: str) -> list[str]:
    y, m = int(first[:4]), int(first[5:7])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _figure(key: str, value: Any, th: str, en: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "value": value, "explain_th": th, "explain_en": en, **extra}


def _members(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    rows = conn.execute(
        "SELECT id, name_th, name_en, first_ts, updated_ts, left_seq, profile_seq, forked "
        "FROM members WHERE profile_seq > 0 OR founder = 1"
    ).fetchall()
    return {
        m: {"id": m, "name": th or en or m[:12], "first_ts": f, "updated_ts": u,
            "left": ls > ps, "forked": bool(fk)}
        for m, th, en, f, u, ls, ps, fk in rows
    }  # fmt: skip


def graph(conn: sqlite3.Connection) -> nx.Graph:
    """Members who have not left; edges for shared activities and endorsements (weights count)."""
    members = {m: v for m, v in _members(conn).items() if not v["left"]}
    g = nx.Graph()
    for m, v in members.items():
        g.add_node(m, name=v["name"])
    by_activity: dict[str, list[str]] = defaultdict(list)
    for activity, member in conn.execute("SELECT activity, member FROM participants"):
        if member in members:
            by_activity[activity].append(member)
    for people in by_activity.values():
        for a, b in itertools.combinations(sorted(set(people)), 2):
            w = g.get_edge_data(a, b, {}).get("activities", 0)
            g.add_edge(a, b, activities=w + 1)
    for src, dst in conn.execute("SELECT src, dst FROM endorsements WHERE active = 1"):
        if src in members and dst in members and src != dst:
            g.add_edge(src, dst)
            g.edges[src, dst]["endorsements"] = g.edges[src, dst].get("endorsements", 0) + 1
    return g


def what_if(conn: sqlite3.Connection, member: str, g: nx.Graph | None = None) -> dict[str, Any]:
    """What happens to the collaboration graph if ``member`` left."""
    g = graph(conn) if g is None else g
    if member not in g:
        return {"member": member, "groups": [], "cut_off": []}
    h = g.copy()
    h.remove_node(member)
    groups = sorted((sorted(c) for c in nx.connected_components(h)), key=len, reverse=True)
    names = nx.get_node_attributes(g, "name")
    return {
        "member": member,
        "name": names.get(member, member[:12]),
        "groups": [[{"id": m, "name": names.get(m, m[:12])} for m in grp] for grp in groups],
        "cut_off": [{"id": m, "name": names.get(m, m[:12])} for grp in groups[1:] for m in grp],
    }


def shared_report(conn: sqlite3.Connection) -> dict[str, Any]:
    """:func:`report` as of the current minute, computed once per minute and directory
    version and shared by every reader of the database (the API and the website ask for
    it on every request; it scans the whole network). Callers must not change it."""
    from .directory import _memoized

    minute = now_ms() // 60_000 * 60_000
    return cast(
        dict[str, Any],
        _memoized(conn, f"health-report@{minute}", lambda: report(conn, now=minute), shared=True),
    )


def report(conn: sqlite3.Connection, *, now: int | None = None, months: int = 12) -> dict[str, Any]:
    now = now_ms() if now is None else now
    this_month = _month(now)
    members = _members(conn)
    current = {m: v for m, v in members.items() if not v["left"]}
    names = {m: v["name"] for m, v in members.items()}
    g = graph(conn)

    # -- continuity: joint activities, active members, gaps
    acts = conn.execute(
        "SELECT a.id, a.author, a.date, count(p.member) FROM activities a "
        "JOIN participants p ON p.activity = a.id GROUP BY a.id"
    ).fetchall()
    joint = [(aid, author, date) for aid, author, date, n in acts if n >= 2]
    per_month = Counter(_month(date) for _, _, date in joint)
    first_month = min([_month(v["first_ts"]) for v in members.values()] or [this_month])
    life = _months(first_month, this_month)
    window = life[-months:]
    gaps = [m for m in life if per_month.get(m, 0) == 0]
    longest = max((len(list(run)) for gap, run in itertools.groupby(life, lambda m: m in gaps) if gap),
                  default=0)  # fmt: skip
    active = [m for m, v in current.items() if v["updated_ts"] >= now - ACTIVE_DAYS * DAY_MS]

    # -- interaction and reciprocity
    organised: Counter[tuple[str, str]] = Counter()
    for _aid, author, role_member in conn.execute(
        "SELECT a.id, a.author, p.member FROM activities a JOIN participants p ON p.activity = a.id "
        "WHERE p.role = 'participant'"
    ):
        organised[(author, role_member)] += 1
    pairs = {tuple(sorted(k)) for k in organised}
    two_way = [p for p in pairs if organised[(p[0], p[1])] and organised[(p[1], p[0])]]
    one_way = [
        {"gives": a if organised[(a, b)] else b, "receives": b if organised[(a, b)] else a,
         "gives_name": names.get(a if organised[(a, b)] else b, ""),
         "receives_name": names.get(b if organised[(a, b)] else a, "")}
        for a, b in sorted(pairs) if (a, b) not in two_way
    ]  # fmt: skip
    slots = conn.execute(
        "SELECT count(*), sum(CASE WHEN c.member IS NOT NULL THEN 1 ELSE 0 END) FROM participants p "
        "LEFT JOIN confirmations c ON c.activity = p.activity AND c.member = p.member "
        "WHERE p.role = 'participant'"
    ).fetchone()
    confirmed = slots[1] or 0

    # -- interdependence
    cut = sorted(nx.articulation_points(g)) if g.number_of_nodes() > 2 else []
    bridges = sorted(tuple(sorted(e)) for e in nx.bridges(g)) if g.number_of_edges() else []
    components = nx.number_connected_components(g) if g.number_of_nodes() else 0

    # -- complementarity (offers meeting needs)
    needs = conn.execute("SELECT member, value FROM tags WHERE facet = 'needs'").fetchall()
    met, unmet = _needs_met(conn, needs, current)

    # -- incentives: acknowledgements
    thanks = conn.execute("SELECT dst, ts FROM thanks").fetchall()
    thanks_month = Counter(_month(ts) for _, ts in thanks)
    thanked = Counter(dst for dst, _ in thanks)

    # -- support: who needs help
    row = conn.execute("SELECT value FROM meta WHERE key = 'founder'").fetchone()
    founder = row[0] if row else None
    endorsed = {dst for (dst,) in conn.execute("SELECT dst FROM endorsements WHERE active = 1")}
    unmet_by = Counter(m for m, _ in unmet)
    support = []
    for m in sorted(current):
        reasons = []
        if m not in active:
            reasons.append("inactive")
        if g.degree(m) == 0 if m in g else True:
            reasons.append("isolated")
        if unmet_by.get(m):
            reasons.append("unmet-needs")
        if m not in endorsed and m != founder:
            reasons.append("no-endorsements")
        if reasons:
            support.append({"id": m, "name": names[m], "reasons": reasons})

    # -- new leaders: recent members who already organise joint activities
    organisers = Counter(author for _, author, _ in joint)
    leaders = [
        {"id": m, "name": names[m], "organised": organisers[m], "joined_ts": v["first_ts"]}
        for m, v in current.items()
        if v["first_ts"] >= now - NEW_MEMBER_DAYS * DAY_MS and organisers.get(m)
    ]

    # -- growth
    joined_month = Counter(_month(v["first_ts"]) for v in members.values())
    left_month = Counter(
        _month(ts) for (ts,) in conn.execute(  # members' leaves (a blocked member's are hidden)
            "SELECT e.ts FROM entries e WHERE e.kind = 'leave' AND fork = 0 "
            "AND e.author IN (SELECT key FROM members)")
    )
    total, growth = 0, []
    for m in life:
        total += joined_month.get(m, 0) - left_month.get(m, 0)
        growth.append({"month": m, "joined": joined_month.get(m, 0), "left": left_month.get(m, 0),
                       "members": total})  # fmt: skip
    recent = growth[-6:]
    change = recent[-1]["members"] - recent[0]["members"] if recent else 0
    trend = "growing" if change > 0 else "shrinking" if change < 0 else "stable"

    figures = [
        _figure("joint_activities_per_month", per_month.get(this_month, 0),
                "กิจกรรมร่วม (มีสมาชิกตั้งแต่ 2 องค์กร) ในเดือนนี้ — หลักข้อ 1 กิจกรรมร่วมต่อเนื่อง",
                "Joint activities (two or more members) this month — principle 1, continuous joint activities",
                trend=[{"month": m, "value": per_month.get(m, 0)} for m in window]),  # fmt: skip
        _figure("active_members_90d", len(active),
                f"สมาชิกที่มีความเคลื่อนไหวใน {ACTIVE_DAYS} วันที่ผ่านมา จากทั้งหมด {len(current)} องค์กร",
                f"Members active in the last {ACTIVE_DAYS} days, of {len(current)}", total=len(current)),  # fmt: skip
        _figure("longest_gap_months", longest,
                "ช่วงเดือนติดต่อกันที่ยาวที่สุดที่ไม่มีกิจกรรมร่วมเลย",
                "Longest run of months with no joint activity", gap_months=gaps[-12:]),  # fmt: skip
        _figure("working_pairs", len(pairs),
                "คู่สมาชิกที่เคยทำกิจกรรมร่วมกัน — ยิ่งมากยิ่งผูกพันกัน (หลักข้อ 2 ความสัมพันธ์ที่ดี)",
                "Pairs of members who have worked together — principle 2, good relationships"),  # fmt: skip
        _figure("two_way_pairs", len(two_way),
                "คู่ที่แลกเปลี่ยนกันสองทาง (ต่างฝ่ายต่างเคยเป็นผู้จัด) — ไม่ใช่ฝ่ายเดียวให้หรือรับ",
                "Pairs whose exchange runs both ways (each has organised with the other)",
                one_way=one_way),  # fmt: skip
        _figure("confirmed_participation", confirmed,
                "การเข้าร่วมที่ผู้เข้าร่วมยืนยันด้วยลายเซ็นของตนเอง",
                "Participations confirmed by the participant's own signature",
                total=slots[0] or 0),  # fmt: skip
        _figure("cut_points", [{"id": m, "name": names.get(m, m[:12])} for m in cut],
                "สมาชิกที่เป็นจุดเชื่อม: ถ้าออกไป เครือข่ายจะแยกเป็นส่วน ๆ (การพึ่งพาซึ่งกันและกัน)",
                "Members holding the network together: if one left, it would split (interdependence)",
                what_if=[what_if(conn, m, g) for m in cut]),  # fmt: skip
        _figure("bridges", [{"a": a, "b": b, "a_name": names.get(a, ""), "b_name": names.get(b, "")}
                            for a, b in bridges],
                "ความสัมพันธ์ที่เป็นสะพานเดียวระหว่างกลุ่ม ถ้าขาดไป กลุ่มจะไม่เชื่อมกัน",
                "Ties that are the only link between two groups", components=components),  # fmt: skip
        _figure("needs_met", len(met),
                "ความต้องการที่มีสมาชิกอื่นเสนอให้ได้ (ความสัมพันธ์เชิงเติมเต็ม, หลักข้อ 4 ทรัพยากร)",
                "Needs that another member's offer meets — complementarity, principle 4 resources",
                total=len(needs), unmet=[{"member": m, "name": names.get(m, ""), "need": n}
                                         for m, n in unmet]),  # fmt: skip
        _figure("thanks", len(thanks),
                "คำขอบคุณที่สมาชิกส่งถึงกัน — กลไกสร้างแรงจูงใจ (หลักข้อ 3)",
                "Acknowledgements members sent each other — incentives, principle 3",
                trend=[{"month": m, "value": thanks_month.get(m, 0)} for m in window],
                most_thanked=[{"id": m, "name": names.get(m, ""), "count": c}
                              for m, c in thanked.most_common(5)]),  # fmt: skip
        _figure("members_needing_support", len(support),
                "สมาชิกที่ควรได้รับการช่วยเหลือ: ไม่เคลื่อนไหว โดดเดี่ยว ความต้องการยังไม่มีใครตอบ หรือยังไม่มีใครรับรอง (หลักข้อ 5)",
                "Members who may need help: inactive, isolated, unmet needs or no endorsement — principle 5",
                members=support),  # fmt: skip
        _figure("new_leaders", len(leaders),
                f"สมาชิกใหม่ (ภายใน {NEW_MEMBER_DAYS} วัน) ที่เริ่มเป็นผู้จัดกิจกรรมร่วมแล้ว — หลักข้อ 6 ผู้นำรุ่นใหม่",
                f"Members who joined in the last {NEW_MEMBER_DAYS} days and already organise joint activities — principle 6",
                members=leaders),  # fmt: skip
        _figure("growth", trend,
                "จำนวนสมาชิกในหกเดือนล่าสุด: เพิ่มขึ้น คงที่ หรือลดลง (เครือข่ายแบบจัดตั้งมักหดตัว)",
                "Members over the last six months: growing, stable or shrinking (formed networks tend to shrink)",
                trend=growth[-months:]),  # fmt: skip
    ]
    return {"generated_ts": now, "month": this_month, "members": len(current), "figures": figures}


def _needs_met(
    conn: sqlite3.Connection, needs: list[tuple[str, str]], current: dict[str, Any]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Which needs some other current member's offer meets, by the matcher the API uses."""
    from . import directory, matching

    result = matching.match(directory.profiles_for_matching(conn))
    matched = {key for key, meets in result.meets.items() if meets}
    met = [(m, n) for m, n in needs if m in current and (m, n) in matched]
    unmet = [(m, n) for m, n in needs if m in current and (m, n) not in matched]
    return met, unmet
