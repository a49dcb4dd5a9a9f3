"""The directory queries behind the API (p2pnet.directory), straight on a real SQLite store."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from p2pnet import directory, sample, search
from p2pnet.errors import MemberNotFoundError
from p2pnet.store import Store


@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    s = Store(tmp_path_factory.mktemp("dir") / "node.sqlite3")
    sample.seed(s)
    yield s.conn
    s.close()


def reference_statuses(rows, edges, need):
    """The admission rule as first written: a fixpoint over rounds."""
    left = {m for m, _, _, ls, ps in rows if ls > ps}
    forked = {m for m, _, f, _, _ in rows if f}
    vouch: dict[str, set[str]] = {}
    for src, dst in edges:
        if src != dst:
            vouch.setdefault(dst, set()).add(src)
    admitted = {m for m, founder, *_ in rows if founder}
    if need == 0:
        admitted |= {m for m, *_ in rows}
    changed = True
    while changed:
        changed = False
        for m, *_ in rows:
            if m not in admitted and len(vouch.get(m, set()) & admitted - forked - left) >= need:
                admitted.add(m)
                changed = True
    return {
        m: "left" if m in left else "admitted" if m in admitted else "pending" for m, *_ in rows
    }


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    n=st.integers(1, 7),
    need=st.integers(0, 3),
    flags=st.lists(st.tuples(st.booleans(), st.booleans()), min_size=7, max_size=7),
    edges=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), max_size=20),
)
def test_admission_worklist_equals_the_fixpoint(tmp_path_factory, n, need, flags, edges):
    with Store(tmp_path_factory.mktemp("adm") / "s.sqlite3") as s:
        c = s.conn
        charter = json.dumps({"name": "x", "kind": "natural", "admission": {"endorsements": need}})
        c.execute("INSERT INTO meta(key, value) VALUES ('charter', ?)", (charter,))
        rows = []
        for i in range(n):
            forked, left = flags[i]
            row = (f"pm{i}", int(i == 0), int(forked), 2 if left else 0, 1)
            rows.append(row)
            c.execute(
                "INSERT INTO members(id, key, founder, forked, left_seq, profile_seq, first_ts, "
                "updated_ts) VALUES (?,?,?,?,?,?,0,0)",
                (row[0], bytes([i]), *row[1:]),
            )
        pairs = {(f"pm{a}", f"pm{b}") for a, b in edges if a < n and b < n}
        for src, dst in pairs:
            c.execute(
                "INSERT INTO endorsements(src, dst, seq, active, ts) VALUES (?,?,1,1,0)", (src, dst)
            )
        assert directory.statuses(c) == reference_statuses(rows, pairs, need)


def test_cli_signatures_still_work(conn):
    everyone = directory.list_members(conn, limit=100)
    assert len(everyone) == 10
    assert [m["id"] for m in directory.list_members(conn, limit=3, offset=2)] == [
        m["id"] for m in everyone[2:5]
    ]
    assert len(directory.list_members(conn, province="ขอนแก่น")) == 1
    assert len(directory.list_members(conn, status="admitted")) == 10
    acts = directory.list_activities(conn, since="2567-01-01", until="2024-06-30", limit=100)
    assert acts and all("2024-01-01" <= a["date"] <= "2024-06-30" for a in acts)
    assert len(directory.list_activities(conn, confirmed_only=True, limit=5, offset=1)) == 5
    hits = directory.find(conn, "ห้องประชุม", kinds=["member"], mark=("[", "]"))
    assert hits and all("[ห้องประชุม]" in h["snippet"] for h in hits)
    m = directory.get_member(conn, directory.resolve_member(conn, "Lanna"))
    assert m["name"] == "Lanna Healthy Ageing Foundation" and m["endorsed_by"]
    assert directory.network_summary(conn)["members"] == 10


def test_bad_parameters_raise_query_param_errors(conn):
    for kwargs, param in [
        ({"sort": "age"}, "sort"),
        ({"status": "vip"}, "status"),
        ({"limit": 0}, "limit"),
        ({"province": "Atlantis"}, "province"),
        ({"cursor": "%%%"}, "cursor"),
        ({"tag": "   "}, "tag"),
    ]:
        with pytest.raises(directory.QueryParamError) as exc:
            directory.member_page(conn, **kwargs)
        assert exc.value.param == param
    with pytest.raises(directory.QueryParamError, match="since"):
        directory.activity_page(conn, since="soon")
    with pytest.raises(search.QueryError):
        directory.search_page(conn, "!!!")
    with pytest.raises(search.QueryError):
        directory.find(conn, "ab\udcffcd")  # undecodable argv bytes (surrogateescape)
    with pytest.raises(MemberNotFoundError):
        directory.matches(conn, "pmnobody")


def test_a_cursor_belongs_to_its_listing(conn):
    members = directory.member_page(conn, limit=2)
    with pytest.raises(directory.QueryParamError):
        directory.activity_page(conn, cursor=members["next_cursor"])
    with pytest.raises(directory.QueryParamError):
        directory.member_page(conn, sort="-joined", cursor=members["next_cursor"])


def test_snippets_keep_the_original_letters():
    mark = ("[", "]")
    original = "Mae Rim Youth Volunteers\nsocial media"
    assert (
        directory._restore_case("mae rim youth [volunteer]s social media", original, mark)
        == "Mae Rim Youth [Volunteer]s social media"
    )
    assert directory._restore_case("…[youth] volunteers…", original, mark) == "…[Youth] Volunteers…"
    # when normalising changed more than case (marks reordered), the snippet is left alone
    assert directory._restore_case("[แม่]บ้าน", "เเม่บ้าน", mark) == "[แม่]บ้าน"
    assert directory._restore_case("plain", None, mark) == "plain"


def test_split_marks():
    parts = directory.split_marks("a <b> [c] d [e]", ("[", "]"))
    assert parts == [
        {"text": "a <b> ", "match": False},
        {"text": "c", "match": True},
        {"text": " d ", "match": False},
        {"text": "e", "match": True},
    ]
    assert directory.split_marks("no marks", ("[", "]")) == [{"text": "no marks", "match": False}]
    assert directory.split_marks("open [only", ("[", "]")) == [
        {"text": "open only", "match": False}
    ]
