"""`p2pnet doctor` and `p2pnet backup` against real homes and real node processes.

Nodes run as child processes on loopback (OS-chosen ports); doctor and the
other commands run in this process through click's runner, reading the same
SQLite files. A peer with a wrong clock is a real node process whose Python
clock (``time.time``) is shifted before anything is imported, as `faketime`
would shift it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from p2pnet.cli import cli
from p2pnet.config import Home
from p2pnet.store import Store

from .conftest import CHARTER
from .nodes import FAST, make_home
from .test_cli_process import ENV, NodeProcess, one_error_line, p2p, query, start, wait_until
from .test_node_process import spawn

PASSPHRASE = "ดอนแก้ว 2569"


def cli_run(home: Path, *args: str, code: int = 0, input: str | None = None) -> str:
    """A command in this process; returns its stdout."""
    result = CliRunner().invoke(cli, ["--home", str(home), *args], input=input, env=ENV)
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    return result.stdout


def doctor(home: Path, code: int = 0) -> dict[str, Any]:
    report = json.loads(cli_run(home, "doctor", "--json", "--timeout", "10", code=code))
    assert report["ok"] is (code == 0)
    for c in report["checks"]:  # every verdict says it in both languages
        assert c["en"] and any("\u0e00" <= ch <= "\u0e7f" for ch in c["th"]), c
    return report


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["status"] for c in report["checks"]}


def check(report: dict[str, Any], check_id: str) -> dict[str, Any]:
    return next(c for c in report["checks"] if c["id"] == check_id)


def stopped_home(tmp_path: Path, name: str, **kw: Any) -> tuple[Home, Any]:
    """A home with a key, a store in a network and loopback addresses on port 0."""
    home, who = make_home(tmp_path, name, **kw)
    home.save_config(FAST)
    return home, who


def network_of(home: Home) -> bytes:
    with Store(home.db_file) as s:
        assert s.network is not None
        return s.network


def test_healthy_node_is_all_ok_and_a_profile_pointing_at_another_node_fails(tmp_path):
    a, who_a = stopped_home(tmp_path, "a", charter=dict(CHARTER))
    b, who_b = stopped_home(tmp_path, "b", network=network_of(a))
    # A as an admin sets it up: a fixed port, and the public URL the node publishes
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url_a = f"http://127.0.0.1:{port}"
    cli_run(a.path, "config", "set", "listen", f"127.0.0.1:{port}")
    cli_run(a.path, "config", "set", "public_url", url_a)
    node_a = NodeProcess(a.path, "--listen", f"127.0.0.1:{port}")  # the last --listen wins
    [node_b] = start(b.path)
    try:
        wait_until(node_a.ready, "node A to start")
        url_b = node_b.info["peer_url"]
        assert node_a.info["peer_url"] == url_a
        wait_until(lambda: query(a.path, "profile", "show")["endpoints"] == [url_a],
                   "A's node to publish its public URL")  # fmt: skip
        cli_run(a.path, "peers", "add", url_b)
        cli_run(a.path, "key", "export", "--passphrase", "-o", str(tmp_path / "a.pem"),
                input=f"{PASSPHRASE}\n{PASSPHRASE}\n")  # fmt: skip

        report = doctor(a.path)
        print({c["id"]: c["en"] for c in report["checks"]})
        assert set(statuses(report).values()) == {"ok"}, report
        assert set(statuses(report)) == {
            "home", "key", "admin-token", "store", "config", "api-address", "public-url", "node",
            "peer-endpoint", "api", "reachability", "clock", "disk", "key-backup", "feed",
        }  # fmt: skip
        assert report["skipped"] == ["ports"]  # the running node holds them
        [peer] = check(report, "clock")["details"]
        assert peer["url"] == url_b and peer["member"] == who_b.member_id
        assert check(report, "key-backup")["en"].endswith("(encrypted)")
        human = cli_run(a.path, "doctor", "--lang", "th")
        assert "ผ่าน 15 ข้อ เตือน 0 ข้อ ไม่ผ่าน 0 ข้อ" in human

        # the profile now sends other nodes to B's node: doctor names both keys
        cli_run(a.path, "profile", "set", "--clear", "endpoints", "--endpoint", url_b)
        report = doctor(a.path, code=1)
        reach = check(report, "reachability")
        assert reach["status"] == "fail"
        assert who_a.member_id in reach["en"] and who_b.member_id in reach["en"], reach
        assert reach["details"] == [
            {"url": url_b, "member": who_b.member_id, "error": None, "status": "fail"}
        ]
        assert [c["id"] for c in report["checks"] if c["status"] != "ok"] == ["reachability"]
    finally:
        assert [n.stop() for n in (node_a, node_b)] == [0, 0]


def test_key_readable_by_others_fails_in_one_line(tmp_path):
    home, _ = stopped_home(tmp_path, "a", charter=dict(CHARTER))
    home.key_file.chmod(0o644)
    report = doctor(home.path, code=1)
    key = check(report, "key")
    assert key["status"] == "fail" and "0644" in key["en"] and "chmod 600" in key["en"]
    assert {"key-backup", "feed", "reachability", "clock"} <= set(report["skipped"])
    # the real program: one error line, exit 1, and the file left as it was
    proc = p2p(home.path, "doctor", code=1)
    one_error_line(proc, "doctor found 1 problem(s): key")
    assert "FAIL" in proc.stdout and "chmod 600" in proc.stdout
    assert home.key_file.stat().st_mode & 0o777 == 0o644


def test_damaged_store_fails_and_doctor_changes_nothing(tmp_path):
    home, _ = stopped_home(tmp_path, "a", charter=dict(CHARTER))
    before = hashlib.sha256(home.db_file.read_bytes()).hexdigest()
    assert statuses(doctor(home.path))["store"] == "ok"
    assert hashlib.sha256(home.db_file.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in home.path.iterdir()) == [
        "admin.token", "config.toml", "member.key", "node.sqlite3"
    ]  # fmt: skip

    copy = tmp_path / "copy"
    shutil.copytree(home.path, copy)
    data = bytearray((copy / "node.sqlite3").read_bytes())
    page = 4096
    assert len(data) > 4 * page
    data[2 * page : len(data) - page] = os.urandom(len(data) - 3 * page)  # keep the header
    (copy / "node.sqlite3").write_bytes(bytes(data))
    report = doctor(copy, code=1)
    store = check(report, "store")
    assert store["status"] == "fail" and "damaged" in store["en"], store
    assert {"key-backup", "feed"} <= set(report["skipped"])


def test_api_on_all_interfaces_is_a_warning(tmp_path):
    home, _ = stopped_home(tmp_path, "a", charter=dict(CHARTER))
    cli_run(home.path, "config", "set", "api", "0.0.0.0:0")
    report = doctor(home.path)  # a warning is not a failure: exit 0
    api = check(report, "api-address")
    assert api["status"] == "warn" and "0.0.0.0:0" in api["en"] and "admin token" in api["en"]
    cli_run(home.path, "config", "set", "open_api", "true")
    api = check(doctor(home.path), "api-address")
    assert api["status"] == "warn" and "without a token" in api["en"]
    cli_run(home.path, "config", "set", "api", "127.0.0.1:0")
    assert check(doctor(home.path), "api-address")["status"] == "ok"


def skewed(seconds: float) -> str:
    """Python run before the node imports anything: its wall clock is off by ``seconds``."""
    return (
        "import time as _t\n"
        f"_t.time = (lambda real: lambda: real() + {seconds!r})(_t.time)\n"
        f"_t.time_ns = (lambda real: lambda: real() + {int(seconds * 1e9)})(_t.time_ns)\n"
    )


def test_peers_with_skewed_clocks_are_warned_then_failed(tmp_path):
    home, _ = stopped_home(tmp_path, "a", charter=dict(CHARTER))
    network = network_of(home)
    procs = []
    try:
        urls = {}
        for name, offset in (("ahead", 30.0), ("behind", -900.0)):
            h, _ = make_home(tmp_path, name, network=network)
            proc, info = spawn(h, prelude=skewed(offset))
            procs.append(proc)
            urls[name] = info["peer_url"]
        cli_run(home.path, "peers", "add", urls["ahead"])
        report = doctor(home.path)
        clock = check(report, "clock")
        print(clock)
        [ahead] = clock["details"]
        assert clock["status"] == "warn" and ahead["status"] == "warn" and ahead["offset_ms"] > 0
        assert urls["ahead"] in clock["en"] and "ahead of" in clock["en"]

        cli_run(home.path, "peers", "add", urls["behind"])
        report = doctor(home.path, code=1)
        clock = check(report, "clock")
        print(clock)
        by_url = {d["url"]: d for d in clock["details"]}
        assert by_url[urls["ahead"]]["status"] == "warn"
        assert (
            by_url[urls["behind"]]["status"] == "fail" and by_url[urls["behind"]]["offset_ms"] < 0
        )
        assert clock["status"] == "fail" and urls["behind"] in clock["en"], clock
        assert "behind" in clock["en"] and "NTP" in clock["en"]
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        assert [p.wait(timeout=30) for p in procs] == [0] * len(procs)


def test_backup_while_running_and_restore_into_a_fresh_home(tmp_path):
    a, who = stopped_home(tmp_path, "a", charter=dict(CHARTER))
    [node] = start(a.path)
    dest = tmp_path / "backups" / "2569-03-01"
    try:
        for i in range(20):
            cli_run(a.path, "activity", "add", f"ประชุมประจำเดือน {i}", "--date", "2569-03-01")
        # refusals change nothing
        cli_run(a.path, "backup", str(dest), "--with-key", code=2)
        assert not dest.parent.exists()
        out = cli_run(a.path, "backup", str(dest), "--with-key", "--passphrase",
                      input=f"{PASSPHRASE}\n{PASSPHRASE}\n")  # fmt: skip
        assert "backed up 22 entries" in out, out
        (tmp_path / "full").mkdir()
        (tmp_path / "full" / "x").write_text("keep me")
        one_error_line(p2p(a.path, "backup", str(tmp_path / "full"), code=6), "not empty")
        assert os.listdir(tmp_path / "full") == ["x"]
        report = doctor(a.path)
        assert check(report, "key-backup")["status"] == "ok"
    finally:
        assert node.stop() == 0
    assert sorted(os.listdir(dest)) == ["config.toml", "member-key.pem", "node.sqlite3"]
    assert os.listdir(dest.parent) == [dest.name]  # no partial folder left behind
    for f in dest.iterdir():
        assert f.stat().st_mode & 0o777 == 0o600
    assert b"ENCRYPTED" in (dest / "member-key.pem").read_bytes()
    with Store(a.db_file) as s:
        feeds_a = [(f.author, f.seq, f.head) for f in s.feeds()]

    # restore as docs/operations.md says: the files into an empty home, then the key
    fresh = tmp_path / "restored"
    fresh.mkdir(mode=0o700)
    shutil.copy(dest / "node.sqlite3", fresh)
    shutil.copy(dest / "config.toml", fresh)
    out = cli_run(fresh, "key", "import", str(dest / "member-key.pem"), input=f"{PASSPHRASE}\n")
    assert who.member_id in out
    report = doctor(fresh)
    assert statuses(report)["store"] == statuses(report)["key-backup"] == "ok", report
    [restored] = start(fresh)
    try:
        status = json.loads(cli_run(fresh, "status", "--json"))
        assert status["running"] and status["member"] == who.member_id
        assert status["entries"] == 22 and status["own_seq"] == 22
        with Store(Home(fresh).db_file) as s:
            assert [(f.author, f.seq, f.head) for f in s.feeds()] == feeds_a
            assert s.integrity_check() == "ok"
    finally:
        assert restored.stop() == 0


def test_every_log_message_is_explained_in_operations_md():
    """docs/operations.md's table of log lines names each message the node logs, at its level."""
    import re

    root = Path(__file__).parent.parent
    doc = (root / "docs" / "operations.md").read_text(encoding="utf-8")
    call = re.compile(
        r"(?:\blog|getLogger\([^)]*\))\.(debug|info|warning|error|exception)\(\s*\"([^\"]*)\""
    )
    level = {"debug": "DEBUG", "info": "INFO", "warning": "WARNING", "error": "ERROR",
             "exception": "ERROR"}  # fmt: skip
    found = []
    for path in sorted((root / "p2pnet").rglob("*.py")):
        for how, message in call.findall(path.read_text(encoding="utf-8")):
            start = re.split(r"%|`", message)[0]  # the words before the first value
            found.append(start)
            row = f"| {level[how]} | `{start}"
            assert row in doc, f"{path.name}: {how}({message!r}) is not explained as {row!r}"
    assert len(found) >= 20  # the pattern still finds the node's log calls


def test_a_key_claimed_back_by_others_fails_the_feed_check(tmp_path):
    """Endorsers vouched that another key is this member now (this key was declared lost)."""
    from p2pnet.identity import Identity

    home, who = stopped_home(tmp_path, "a", charter={**CHARTER, "recovery": {"vouches": 1}})
    friend, claimant = Identity.generate(), Identity.generate()
    with Store(home.db_file) as s:
        s.append(who, "profile", {"name_th": "ชมรมผู้สูงอายุบ้านดอนแก้ว"})
        s.append(friend, "profile", {"name_th": "โรงเรียนบ้านดอนแก้ว"})
        s.append(who, "endorse", {"member": friend.public})
        s.append(friend, "endorse", {"member": who.public})
        claim = s.append(claimant, "recover", {"member": who.public, "last_good": 2})
        s.append(friend, "vouch", {"claim": claim.id})
    feed = check(doctor(home.path, code=1), "feed")
    assert feed["status"] == "fail" and claimant.member_id in feed["en"] and "counts nowhere" in feed["en"]
