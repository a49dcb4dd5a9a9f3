"""The CLI through click's runner, on real homes and SQLite files in tmp dirs.

Commands that need a running node are in test_cli_process.py; here every
command runs in-process, and user errors are checked to be one line on
stderr with the documented exit code.
"""

from __future__ import annotations

import json
import socket
import stat
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from p2pnet import identity as idmod
from p2pnet import invites, sample
from p2pnet.cli import cli
from p2pnet.cli.output import (
    EXIT_CHECK_FAILED,
    EXIT_NODE,
    EXIT_NOT_FOUND,
    EXIT_REFUSED,
    EXIT_SETUP,
    EXIT_USAGE,
)
from p2pnet.config import Home
from p2pnet.store import Store

DOCS = Path(__file__).resolve().parent.parent / "docs"


def p2p(home: Path, *args: str, code: int = 0, input: str | None = None) -> Result:
    result = CliRunner().invoke(
        cli, ["--home", str(home), *args], input=input, catch_exceptions=False
    )
    assert result.exit_code == code, f"exit {result.exit_code} != {code}\n{result.output}"
    assert "Traceback" not in result.output
    return result


def fails(home: Path, code: int, *args: str, match: str = "", input: str | None = None) -> str:
    """Run a command that must fail: one line on stderr, the given exit code."""
    result = p2p(home, *args, code=code, input=input)
    lines = result.stderr.strip().splitlines()
    if input is not None:  # a prompt (e.g. for a passphrase) also goes to stderr
        lines = [line for line in lines if not line.rstrip().endswith(":")]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert match.lower() in lines[0].lower(), lines[0]
    return lines[0]


def as_json(home: Path, *args: str) -> object:
    return json.loads(p2p(home, *args, "--json").stdout)


@pytest.fixture
def sample_home(tmp_path: Path) -> Path:
    """A home holding the whole sample network, run by its founder (the elderly club)."""
    home = Home(tmp_path / "elderly")
    home.create_dirs()
    idmod.save(sample.demo_identity("elderly_club"), home.key_file)
    home.write_admin_token()
    with Store(home.db_file) as s:
        sample.seed(s)
    return home.path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------- setting up


def test_init_and_found_a_network(tmp_path):
    home = tmp_path / "club"
    out = p2p(
        home, "init", "--name", "ชมรมผู้สูงอายุบ้านดอนแก้ว", "--name-en", "Ban Don Kaeo Elderly Club"
    )
    member = out.stdout.split()[1]
    assert member.startswith("pm") and "network create" in out.stderr
    assert stat.S_IMODE((home / "member.key").stat().st_mode) == 0o600
    fails(home, EXIT_SETUP, "init", "--name", "again", match="refusing to replace")

    status = as_json(home, "status")
    assert status["running"] is False and status["network"] is None and status["member"] == member
    fails(home, EXIT_SETUP, "members", match="no network yet")
    fails(home, EXIT_SETUP, "activity", "add", "ประชุม", match="network create")

    net = p2p(
        home,
        "network",
        "create",
        "--name",
        "เครือข่ายผู้สูงอายุแม่ริม",
        "--kind",
        "natural",
        "--purpose",
        "ดูแลผู้สูงอายุ",
        "--endorsements",
        "2",
    ).stdout.split()[1]
    assert net.startswith("pn")
    fails(home, EXIT_SETUP, "network", "create", "--name", "อีก", match="already in network")
    [me] = as_json(home, "members")
    assert me["name_th"] == "ชมรมผู้สูงอายุบ้านดอนแก้ว" and me["name_en"] == "Ban Don Kaeo Elderly Club"
    assert me["status"] == "admitted" and me["founder"]
    shown = as_json(home, "network", "show")
    assert shown["id"] == net and shown["charter"]["kind"] == "natural"
    assert shown["charter"]["admission"] == {"endorsements": 2}
    assert "ชมรมผู้สูงอายุบ้านดอนแก้ว" in p2p(home, "members").stdout


def test_missing_home_is_one_line(tmp_path):
    for args in (
        ["members"],
        ["status"],
        ["invite"],
        ["join", "p2pnet-invite-x"],
        ["verify"],
        ["profile", "set", "--name", "x"],
        ["key", "export"],
        ["run"],
    ):
        fails(tmp_path / "nowhere", EXIT_SETUP, *args, match="init")


def test_env_home_and_version(tmp_path):
    result = CliRunner().invoke(
        cli,
        ["init", "--name", "Youth"],
        env={"P2PNET_HOME": str(tmp_path / "y")},
        catch_exceptions=False,
    )
    assert result.exit_code == 0 and (tmp_path / "y" / "member.key").exists()
    assert "--home" not in result.stderr  # hints leave out what the environment already says
    version = CliRunner().invoke(cli, ["--version"])
    assert version.exit_code == 0 and "p2pnet" in version.stdout


def test_config_show_and_set(tmp_path):
    home = tmp_path / "h"
    p2p(home, "init", "--name", "NGO", "--listen", "0.0.0.0:7800")
    cfg = as_json(home, "config", "show")
    assert cfg["config"]["listen"] == "0.0.0.0:7800" and cfg["home"] == str(home)
    p2p(home, "config", "set", "public_url", "http://203.0.113.5:7800/")
    p2p(home, "config", "set", "gossip_interval", "2")
    cfg = as_json(home, "config", "show")["config"]
    assert cfg["public_url"] == "http://203.0.113.5:7800" and cfg["gossip_interval"] == 2.0
    fails(home, EXIT_USAGE, "config", "set", "fanout", "many", match="int")
    fails(home, EXIT_USAGE, "config", "set", "api", "nohost", match="HOST:PORT")
    fails(home, EXIT_USAGE, "config", "set", "public_url", "ftp://x", match="not a peer URL")
    assert "public_url" in p2p(home, "config", "show").stdout


def test_key_export_and_import_with_passphrase(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    member = p2p(a, "init", "--name", "Lanna Foundation").stdout.split()[1]
    plain = p2p(a, "key", "export").stdout
    assert plain.startswith("-----BEGIN PRIVATE KEY-----")
    backup = tmp_path / "backup.pem"
    p2p(a, "key", "export", "--passphrase", "-o", str(backup), input="ลับมาก\nลับมาก\n")
    assert b"ENCRYPTED" in backup.read_bytes() and stat.S_IMODE(backup.stat().st_mode) == 0o600
    fails(a, EXIT_SETUP, "key", "export", "-o", str(backup), match="already exists")
    fails(b, EXIT_SETUP, "key", "import", str(backup), input="wrong\n", match="passphrase")
    out = p2p(b, "key", "import", str(backup), input="ลับมาก\n")
    assert out.stdout.split()[1] == member
    assert idmod.load(b / "member.key").member_id == member
    p2p(tmp_path / "c", "init", "--name", "Other")
    fails(
        tmp_path / "c", EXIT_SETUP, "key", "import", str(backup), input="ลับมาก\n", match="--force"
    )


# --------------------------------------------------------------------------- writing


def test_profile_set_keeps_what_is_not_given(sample_home):
    before = as_json(sample_home, "profile", "show")
    assert before["province"] == "TH-50" and before["offers"]
    p2p(
        sample_home,
        "profile",
        "set",
        "--province",
        "เชียงราย",
        "--offer",
        "รถรับส่งผู้สูงอายุ",
        "--geo",
        "19.91, 99.83",
        "--contact-line",
        "@donkaeo-new",
        "--org-type",
        "elderly-club",
    )
    after = as_json(sample_home, "profile", "show")
    assert after["province"] == "TH-57" and after["province_en"] == "Chiang Rai"
    assert after["offers"] == [*before["offers"], "รถรับส่งผู้สูงอายุ"]
    assert after["needs"] == before["needs"] and after["description"] == before["description"]
    assert after["geo"] == ["19.91", "99.83"]
    assert (
        after["contact"]["line"] == "@donkaeo-new"
        and after["contact"]["email"] == before["contact"]["email"]
    )
    p2p(sample_home, "profile", "set", "--province", "Lamphun")
    assert as_json(sample_home, "profile", "show")["province"] == "TH-51"
    p2p(
        sample_home,
        "profile",
        "set",
        "--province",
        "TH-50",
        "--clear",
        "offers",
        "--offer",
        "ศาลาวัด",
    )
    assert as_json(sample_home, "profile", "show")["offers"] == ["ศาลาวัด"]
    assert (
        p2p(sample_home, "profile", "set", "--province", "จ.เชียงใหม่").stdout.strip()
        == "nothing to change"
    )
    fails(sample_home, EXIT_USAGE, "profile", "set", "--province", "Atlantis", match="province")
    fails(sample_home, EXIT_USAGE, "profile", "set", "--geo", "north", match="LAT,LON")
    fails(sample_home, EXIT_USAGE, "profile", "set", "--geo", "95,100", match="90")
    fails(sample_home, EXIT_USAGE, "profile", "set", "--website", "donkaeo", match="URL")
    fails(sample_home, EXIT_REFUSED, "profile", "set", "--locality", "x" * 201, match="locality")
    fails(
        sample_home,
        EXIT_USAGE,
        "profile",
        "set",
        "--clear",
        "name_th",
        "--clear",
        "name_en",
        match="needs a name",
    )


def test_activity_add_with_buddhist_era_date_and_participants(sample_home):
    out = p2p(
        sample_home,
        "activity",
        "add",
        "อบรมปฐมพยาบาลเบื้องต้น",
        "--kind",
        "training",
        "--date",
        "2569-03-01",
        "--with",
        "รพ.สต.ดอนแก้ว",
        "--with",
        "Mae Rim Youth",
        "--place",
        "ศาลาวัดดอนแก้ว",
        "--summary",
        "ฝึกทำ CPR",
        "--outcome",
        "อสม. 20 คน",
    )
    aid = out.stdout.split()[1]
    act = as_json(sample_home, "activity", "show", aid[:12])
    assert (
        act["date"] == "2026-03-01" and act["kind"] == "training" and act["place"] == "ศาลาวัดดอนแก้ว"
    )
    names = {p["name"] for p in act["participants"] if p["role"] == "participant"}
    assert names == {"โรงพยาบาลส่งเสริมสุขภาพตำบลดอนแก้ว (รพ.สต.ดอนแก้ว)", "กลุ่มเยาวชนจิตอาสาแม่ริม"}
    p2p(sample_home, "activity", "add", "เยี่ยมบ้าน", "--date", "1/4/2569")
    listed = as_json(
        sample_home, "activity", "list", "--since", "2569-03-01", "--until", "2026-04-01"
    )
    mine = [(a["date"], a["title"]) for a in listed if a["author_name"] == "ชมรมผู้สูงอายุบ้านดอนแก้ว"]
    assert mine == [("2026-04-01", "เยี่ยมบ้าน"), ("2026-03-01", "อบรมปฐมพยาบาลเบื้องต้น")]
    assert (
        "อบรมปฐมพยาบาลเบื้องต้น" in p2p(sample_home, "activity", "list", "--kind", "training").stdout
    )
    fails(
        sample_home, EXIT_USAGE, "activity", "add", "x", "--date", "2026-02-30", match="not a date"
    )
    fails(
        sample_home, EXIT_USAGE, "activity", "add", "x", "--date", "next week", match="YYYY-MM-DD"
    )
    fails(
        sample_home,
        EXIT_NOT_FOUND,
        "activity",
        "add",
        "x",
        "--with",
        "ไม่มีองค์กรนี้",
        match="no member",
    )
    fails(
        sample_home, EXIT_NOT_FOUND, "activity", "add", "x", "--with", "บ้านดอนแก้ว", match="several"
    )
    fails(sample_home, EXIT_NOT_FOUND, "activity", "show", "pe", match="several")
    fails(sample_home, EXIT_NOT_FOUND, "activity", "confirm", "pezzzz", match="no activity")


def test_activity_confirm(sample_home):
    acts = as_json(
        sample_home, "activity", "list", "--member", "ชมรมผู้สูงอายุบ้านดอนแก้ว", "--limit", "100"
    )
    me = sample.demo_identity("elderly_club").member_id
    todo = [
        a for a in acts if any(p["member"] == me and not p["confirmed"] for p in a["participants"])
    ]
    mine = [a for a in acts if a["author"] == me]
    assert todo and mine
    out = p2p(sample_home, "activity", "confirm", todo[0]["id"][:20], "--note", "ไปร่วมจริง")
    assert "confirmed" in out.stdout
    again = as_json(sample_home, "activity", "show", todo[0]["id"])
    assert [p["confirmed"] for p in again["participants"] if p["member"] == me] == [True]
    assert p2p(sample_home, "activity", "confirm", todo[0]["id"]).stdout.startswith(
        "already confirmed"
    )
    fails(sample_home, EXIT_REFUSED, "activity", "confirm", mine[0]["id"], match="you organised")


def test_endorse_unendorse_leave(sample_home):
    fails(sample_home, EXIT_REFUSED, "endorse", "ชมรมผู้สูงอายุบ้านดอนแก้ว", match="yourself")
    p2p(sample_home, "endorse", "Ban Pet", "--note", "ทำงานร่วมกันมานาน")
    khonkaen = as_json(sample_home, "show", "Ban Pet")
    assert "ชมรมผู้สูงอายุบ้านดอนแก้ว" in [e["name"] for e in khonkaen["endorsed_by"]]
    p2p(sample_home, "unendorse", khonkaen["id"][:10])
    fails(sample_home, EXIT_NOT_FOUND, "unendorse", khonkaen["id"], match="do not endorse")
    p2p(sample_home, "leave", input="n\n", code=1)  # declined at the prompt: nothing written
    assert as_json(sample_home, "profile", "show")["status"] == "admitted"
    p2p(sample_home, "leave", "--yes", "--reason", "ปิดชมรม")
    left = as_json(sample_home, "members", "--status", "left")
    assert [m["name_th"] for m in left] == ["ชมรมผู้สูงอายุบ้านดอนแก้ว"]


# --------------------------------------------------------------------------- querying


def test_members_show_and_search_in_thai(sample_home):
    rows = as_json(sample_home, "members")
    assert len(rows) == 10 and all(m["status"] == "admitted" for m in rows)
    table = p2p(sample_home, "members").stdout
    assert "ชมรมผู้สูงอายุบ้านดอนแก้ว" in table and "Lanna Healthy Ageing Foundation" in table
    assert "10 members" in table
    assert [m["province"] for m in as_json(sample_home, "members", "--province", "ขอนแก่น")] == [
        "TH-40"
    ]
    assert as_json(sample_home, "members", "--status", "pending") == []
    fails(sample_home, EXIT_USAGE, "members", "--province", "Atlantis", match="province")

    hospital = as_json(sample_home, "show", "รพ.สต.")
    assert hospital["org_type"] == "health-unit" and hospital["activities"]
    assert as_json(sample_home, "show", hospital["id"][:8])["id"] == hospital["id"]
    assert as_json(sample_home, "show", hospital["id"].upper())["id"] == hospital["id"]
    shown = p2p(sample_home, "show", "Lanna Healthy").stdout
    assert "Lanna Healthy Ageing Foundation" in shown and "activities" in shown
    fails(sample_home, EXIT_NOT_FOUND, "show", "ไม่มีองค์กรนี้", match="no member matches")
    fails(sample_home, EXIT_NOT_FOUND, "show", "pm", match="")

    hits = as_json(sample_home, "search", "ผู้สูงอายุ")
    assert hits and {h["kind"] for h in hits} == {"member", "activity"}
    assert any("<mark>" in h["snippet"] for h in hits)
    members_only = as_json(sample_home, "search", "ผู้สูงอายุ", "--kind", "member")
    assert {h["kind"] for h in members_only} == {"member"}
    assert "ตุง" in p2p(sample_home, "search", "ตุงล้านนา").stdout
    assert as_json(sample_home, "search", "volunteers")
    assert "nothing matches" in p2p(sample_home, "search", "ควอนตัม").stdout
    fails(sample_home, EXIT_USAGE, "search", "!!!", match="cannot search")


def test_peers_add_list_remove(sample_home):
    assert "no peers yet" in p2p(sample_home, "peers", "list").stdout
    p2p(sample_home, "peers", "add", "http://203.0.113.5:7700/")
    [peer] = as_json(sample_home, "peers", "list")
    assert peer["url"] == "http://203.0.113.5:7700" and peer["source"] == "manual"
    assert "203.0.113.5" in p2p(sample_home, "peers", "list").stdout
    fails(sample_home, EXIT_USAGE, "peers", "add", "not a url", match="peer URL")
    p2p(sample_home, "peers", "remove", "http://203.0.113.5:7700")
    fails(
        sample_home, EXIT_NOT_FOUND, "peers", "remove", "http://203.0.113.5:7700", match="no peer"
    )


# --------------------------------------------------------------------------- invites and join


def test_invite_needs_a_public_url(sample_home):
    fails(sample_home, EXIT_NODE, "invite", match="public URL")
    p2p(sample_home, "config", "set", "public_url", "http://203.0.113.5:7700")
    out = p2p(sample_home, "invite", "--expires", "12h", "--uses", "3")
    token = out.stdout.strip()
    inv = invites.parse(token)
    assert inv.endpoint == "http://203.0.113.5:7700" and inv.uses == 3
    assert "p2pnet" in out.stderr and "run" in out.stderr  # the node is not running: say so
    with Store(sample_home / "node.sqlite3") as s:
        row = s.conn.execute(
            "SELECT uses_left, expires_ts FROM invites WHERE secret_hash = ?", (inv.secret_hash,)
        ).fetchone()
    assert row == (3, inv.expires)
    fails(sample_home, EXIT_USAGE, "invite", "--expires", "soon", match="duration")
    fails(sample_home, EXIT_USAGE, "invite", "--expires", "0s", match="more than 0")


def test_join_token_problems(sample_home, tmp_path):
    founder = sample.demo_identity("elderly_club")
    with Store(sample_home / "node.sqlite3") as s:
        network = s.network
    newcomer = tmp_path / "newcomer"
    fails(newcomer, EXIT_SETUP, "join", "p2pnet-invite-abc", match="init")
    p2p(newcomer, "init", "--name", "กลุ่มแม่บ้าน")

    _, token = invites.create(founder, network, "http://127.0.0.1:9", ttl_ms=60_000, uses=1)
    body = token[len(invites.PREFIX) :]
    for pos in (3, len(body) // 2, len(body) - 2):
        flipped = invites.PREFIX + body[:pos] + ("A" if body[pos] != "A" else "B") + body[pos + 1 :]
        fails(newcomer, EXIT_REFUSED, "join", flipped, match="invite")
    fails(newcomer, EXIT_REFUSED, "join", "hello", match="not a p2pnet invite")
    _, old = invites.create(founder, network, "http://127.0.0.1:9", ttl_ms=-1000, uses=1)
    fails(newcomer, EXIT_REFUSED, "join", old, match="expired")

    # the inviter's node is down: a clear error, and the home is left free to try again
    _, token = invites.create(
        founder, network, f"http://127.0.0.1:{free_port()}", ttl_ms=60_000, uses=1
    )
    fails(newcomer, EXIT_NODE, "join", token, match="cannot reach the inviter")
    assert as_json(newcomer, "status")["network"] is None
    assert as_json(newcomer, "peers", "list") == []

    # a home already in another network
    fails(sample_home, EXIT_REFUSED, "join", _other_network_token(), match="already in")


def _other_network_token() -> str:
    other = idmod.Identity.generate()
    _, token = invites.create(other, bytes(range(32)), "http://127.0.0.1:9", ttl_ms=60_000, uses=1)
    return token


# --------------------------------------------------------------------------- maintenance


def test_verify_reindex_and_a_damaged_log(sample_home):
    out = p2p(sample_home, "verify")
    assert "every signature and chain verifies" in out.stdout
    report = as_json(sample_home, "verify")
    assert report["ok"] and report["entries"] > 100 and report["feeds"] == 10
    assert p2p(sample_home, "reindex").stdout.startswith("replayed ")
    assert len(as_json(sample_home, "members")) == 10
    with Store(sample_home / "node.sqlite3") as s:
        n, raw = s.conn.execute(
            "SELECT n, raw FROM entries WHERE kind = 'activity' LIMIT 1"
        ).fetchone()
        bad = raw[:-1] + bytes([raw[-1] ^ 1])  # one bit of the signature
        s.conn.execute("UPDATE entries SET raw = ? WHERE n = ?", (bad, n))
    result = p2p(sample_home, "verify", code=EXIT_CHECK_FAILED)
    assert "FAIL" in result.stdout and "bad-signature" in result.stdout
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]


def test_bundle_export_and_import_between_homes(sample_home, tmp_path):
    file = tmp_path / "usb" / "donkaeo.p2pb"
    file.parent.mkdir()
    out = p2p(sample_home, "bundle", "export", str(file))
    count = int(out.stdout.split()[1])
    last = out.stderr.split("--since ")[1].split("`")[0]
    # a newcomer with no network yet: the bundle brings the charter and everything else
    newcomer = tmp_path / "health"
    p2p(newcomer, "key", "import", "-", input=sample.demo_identity("health_unit").to_pem().decode())
    imported = p2p(newcomer, "bundle", "import", str(file))
    assert f"{count} new" in imported.stdout
    assert len(as_json(newcomer, "members")) == 10
    with Store(sample_home / "node.sqlite3") as a, Store(newcomer / "node.sqlite3") as b:
        assert sorted(a.iter_raw()) == sorted(b.iter_raw())
    # writes on the elderly club since the export travel in a small second bundle
    p2p(
        sample_home, "activity", "add", "ประชุมประจำเดือน", "--date", "2026-02-04", "--with", "รพ.สต."
    )
    small = tmp_path / "since.p2pb"
    assert (
        p2p(sample_home, "bundle", "export", "--since", last, str(small)).stdout.split()[1] == "1"
    )
    again = as_json(newcomer, "bundle", "import", str(small))
    assert again["accepted"] == 1 and again["refused"] == []
    act = [a for a in as_json(newcomer, "activity", "list") if a["title"] == "ประชุมประจำเดือน"]
    assert act
    # and the health unit, a participant, can confirm it from its own home
    p2p(newcomer, "activity", "confirm", act[0]["id"])
    assert as_json(newcomer, "bundle", "import", str(file))["duplicates"] == count
    fails(
        newcomer, EXIT_REFUSED, "bundle", "import", str(Path(__file__)), match="not a p2pnet bundle"
    )


# --------------------------------------------------------------------------- docs


def test_every_command_has_help_and_docs():
    sys.path.insert(0, str(DOCS))
    try:
        import gen_cli
    finally:
        sys.path.remove(str(DOCS))
    documented = (DOCS / "cli.md").read_text(encoding="utf-8")
    for path, cmd in gen_cli.commands(cli):
        assert (cmd.help or "").strip(), f"`p2pnet {' '.join(path)}` has no help text"
        assert f"### p2pnet {' '.join(path)}\n" in documented, (
            f"`p2pnet {' '.join(path)}` is not in docs/cli.md"
        )
    assert gen_cli.render() == documented, (
        "docs/cli.md is out of date: run .venv/bin/python docs/gen_cli.py"
    )
    for code in (0, 1, 2, 3, 4, 5, 6):
        assert f"| {code} |" in documented


def test_no_color_and_json_are_plain(sample_home):
    result = CliRunner().invoke(
        cli,
        ["--home", str(sample_home), "members"],
        env={"NO_COLOR": "1"},
        catch_exceptions=False,
        color=True,
    )
    assert "\x1b[" not in result.stdout
    raw = p2p(sample_home, "members", "--json").stdout
    assert "ชมรมผู้สูงอายุบ้านดอนแก้ว" in raw  # Thai as is, not \\u escapes
