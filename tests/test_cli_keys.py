"""`p2pnet key rotate / recover / vouch / history` on real homes, entries carried by bundles."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from p2pnet import identity as idmod
from p2pnet import sample
from p2pnet.cli.output import EXIT_NOT_FOUND, EXIT_REFUSED
from p2pnet.config import Home
from p2pnet.identity import Identity
from p2pnet.store import Store

from .test_cli import as_json, fails, p2p


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    """The sample network's store, to copy into each organisation's home."""
    path = tmp_path / "seed.sqlite3"
    with Store(path) as s:
        sample.seed(s)
    return path


def home_for(root: Path, seeded: Path, name: str, who: Identity) -> Path:
    home = Home(root / name)
    home.create_dirs()
    idmod.save(who, home.key_file)
    home.write_admin_token()
    shutil.copy(seeded, home.db_file)
    return home.path


def carry(src: Path, *dsts: Path) -> None:
    """Bring src's entries to each of dsts, as a USB stick or a chat attachment would."""
    bundle = src / "out.bundle"
    bundle.unlink(missing_ok=True)
    p2p(src, "bundle", "export", str(bundle))
    for dst in dsts:
        p2p(dst, "bundle", "import", str(bundle))


def test_rotate_keeps_the_member_and_switches_the_key(tmp_path, seeded):
    club = home_for(tmp_path, seeded, "club", sample.demo_identity("elderly_club"))
    before = as_json(club, "status")
    members = len(as_json(club, "members"))
    out = p2p(club, "key", "rotate", "--yes")
    assert "handed over to the new key" in out.stdout and "key export" in out.stderr
    after = as_json(club, "status")
    assert after["member"] == before["member"] and after["key"] != before["key"]
    new = idmod.load(club / "member.key")
    assert new.member_id == after["key"]
    retired = club / "retired-keys" / f"{before['key']}.key"
    assert idmod.load(retired).member_id == before["key"]
    assert stat.S_IMODE(retired.stat().st_mode) == 0o600
    assert not (club / "member.key.next").exists()

    p2p(club, "activity", "add", "ประชุมหลังเปลี่ยนกุญแจ", "--kind", "meeting", "--date", "2026-06-01")
    assert len(as_json(club, "members")) == members
    shown = as_json(club, "show", before["member"])
    assert "ประชุมหลังเปลี่ยนกุญแจ" in {a["title"] for a in shown["activities"]}
    assert as_json(club, "show", after["key"])["id"] == before["member"]  # found by the new key too
    hist = as_json(club, "key", "history")
    assert [(k["key"], k["current"], k["ended_by"]) for k in hist["keys"]] == [
        (before["key"], False, "rotate"),
        (after["key"], True, None),
    ]
    assert hist["keys"][1]["feed_seq"] == 1  # the activity, written with the new key


def test_an_interrupted_rotation_finishes_on_the_next_command(tmp_path, seeded):
    """Killed after the rotate entry was written but before the key files were swapped."""
    from p2pnet import keychain

    who = sample.demo_identity("elderly_club")
    club = home_for(tmp_path, seeded, "club", who)
    new = Identity.generate()
    home = Home(club)
    idmod.save(new, home.next_key_file)
    with Store(home.db_file) as s:
        s.append(who, "rotate", keychain.rotation_body(s.network, who, new))
    status = as_json(club, "status")  # any command that loads the key settles it
    assert status["key"] == new.member_id and status["member"] == who.member_id
    assert idmod.load(home.key_file).public == new.public
    assert not home.next_key_file.exists()


def test_recovery_through_cli_and_bundles(tmp_path, seeded):
    # the school's key is lost; elderly_club and youth endorse the school in the sample
    lost = sample.demo_identity("school")
    claimant = home_for(tmp_path, seeded, "school-new", Identity.generate())
    club = home_for(tmp_path, seeded, "club", sample.demo_identity("elderly_club"))
    youth = home_for(tmp_path, seeded, "youth", sample.demo_identity("youth"))
    coop = home_for(tmp_path, seeded, "coop", sample.demo_identity("coop"))  # does not endorse it
    school = lost.member_id
    with Store(Home(claimant).db_file) as s:
        held = s.feed(lost.public).seq

    assert "--last-good" in p2p(claimant, "key", "recover", school, code=2).stderr
    fails(
        claimant,
        EXIT_REFUSED,
        "key",
        "recover",
        school,
        "--last-good",
        str(held + 5),
        match="past what this node holds",
    )
    fails(claimant, EXIT_NOT_FOUND, "key", "recover", "pmzzzzzz", "--last-good", "1")
    out = p2p(
        claimant,
        "key",
        "recover",
        school,
        "--last-good",
        str(held),
        "--reason",
        "เครื่องคอมพิวเตอร์ของโรงเรียนถูกขโมย",
    )
    claim = out.stdout.split()[-1]
    assert "key vouch" in out.stderr and "ชมรม" in out.stderr  # names who can vouch
    fails(claimant, EXIT_REFUSED, "key", "vouch", claim, "--yes", match="your own claim")

    carry(claimant, club, youth, coop)
    fails(club, EXIT_NOT_FOUND, "key", "vouch", "pe" + "a" * 10, "--yes")
    # vouching asks for a confirmation; "n" changes nothing
    p2p(club, "key", "vouch", school, input="n\n", code=1)
    assert as_json(club, "key", "history", school)["claims"][0]["vouchers"] == []
    out = p2p(club, "key", "vouch", school, "--yes", "--note", "โทรยืนยันกับครูใหญ่แล้ว")
    assert "1 of 2 vouches count" in out.stderr
    out = p2p(coop, "key", "vouch", claim, "--yes")
    assert "will not count" in out.stderr and "0 of 2" in out.stderr
    p2p(youth, "key", "vouch", claim, "--yes")

    carry(club, youth)
    carry(coop, youth)
    hist = as_json(youth, "key", "history", school)
    (c,) = hist["claims"]
    assert c["in_effect"] and len(c["counted"]) == 2 and len(c["vouchers"]) == 3
    assert [k["ended_by"] for k in hist["keys"]] == ["recover", None]
    carry(youth, claimant)
    # the claimant's home now signs for the school
    status = as_json(claimant, "status")
    assert status["member"] == school and status["name"]
    p2p(claimant, "profile", "set", "--description", "กลับมาแล้วด้วยกุญแจใหม่")
    assert as_json(claimant, "show", school)["description"] == "กลับมาแล้วด้วยกุญแจใหม่"


def test_rotation_while_the_node_runs_reaches_peers(tmp_path):
    """Real processes: A rotates its key while its node runs; the node signs with the new
    key from then on, and B credits what it writes to the same member."""
    import json
    import urllib.request

    from .test_cli_process import p2p as run
    from .test_cli_process import query, start, wait_until

    a, b = tmp_path / "a", tmp_path / "b"
    run(a, "init", "--name", "ชมรมผู้สูงอายุบ้านดอนแก้ว")
    run(b, "init", "--name", "โรงเรียนบ้านดอนแก้ว")
    run(a, "network", "create", "--name", "เครือข่ายดอนแก้ว", "--kind", "natural")
    nodes = start(a, b)
    try:
        run(b, "join", run(a, "invite").stdout.strip())
        member = query(a, "status")["member"]
        wait_until(lambda: any(m["id"] == member for m in query(b, "members")), "A on B")
        old_key = query(a, "status")["key"]
        run(a, "key", "rotate", "--yes")
        new_key = query(a, "status")["key"]
        assert new_key != old_key
        wait_until(
            lambda: json.loads((a / "node.json").read_text()).get("key") == new_key,
            "A's node to switch to the new key",
        )
        # a write through the running node's API is signed with the new key
        api = json.loads((a / "node.json").read_text())["api_url"]
        token = (a / "admin.token").read_text().strip()
        req = urllib.request.Request(
            api + "/api/v1/activities",
            method="POST",
            data=json.dumps(
                {"title": "ประชุมหลังเปลี่ยนกุญแจ", "kind": "meeting", "date": "2026-07-01"}
            ).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 201

        def on_b():
            m = query(b, "show", member)
            return "ประชุมหลังเปลี่ยนกุญแจ" in {x["title"] for x in m["activities"]} and m

        m = wait_until(on_b, "the new key's activity to reach B as A's")
        assert [k["key"] for k in m["keys"]] == [old_key, new_key]
        assert len([x for x in query(b, "members")]) == 2  # still two members, not three
    finally:
        codes = [n.stop() for n in nodes]
    assert codes == [0, 0]


def test_rotating_a_key_others_claimed_back_is_refused_and_leaves_no_new_key(tmp_path, seeded):
    from p2pnet import keychain
    from p2pnet.cli.output import EXIT_SETUP

    school = sample.demo_identity("school")
    home = home_for(tmp_path, seeded, "school", school)
    with Store(Home(home).db_file) as s:
        claim = s.append(Identity.generate(), "recover", {"member": school.public, "last_good": 1})
        for friend in ("elderly_club", "youth"):  # both endorse the school in the sample
            s.append(sample.demo_identity(friend), "vouch", {"claim": claim.id})
        assert keychain.claims(s.conn, member=school.member_id)[0]["in_effect"]
    fails(home, EXIT_SETUP, "key", "rotate", "--yes", match="no longer counts")
    assert not (home / "member.key.next").exists()
