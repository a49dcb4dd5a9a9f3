"""The admin's story end to end, with real `p2pnet` processes on loopback.

Found a network, run node A, invite, join from a second and a third home
whose nodes run too, write on the third, and see it on the first (and the
second, through gossip). Every wait polls against a deadline.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from p2pnet.cli import cli

ENV = {k: v for k, v in os.environ.items() if k != "P2PNET_HOME"} | {
    "PYTHONUNBUFFERED": "1",
    "NO_COLOR": "1",
}


def p2p(
    home: Path, *args: str, code: int = 0, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """The real program in a child process."""
    proc = subprocess.run(
        [sys.executable, "-m", "p2pnet", "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=ENV,
    )
    assert proc.returncode == code, (
        f"exit {proc.returncode} != {code}\n{proc.stdout}\n{proc.stderr}"
    )
    assert "Traceback" not in proc.stderr
    return proc


def one_error_line(proc: subprocess.CompletedProcess[str], match: str) -> None:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and match in lines[0], proc.stderr


def query(home: Path, *args: str) -> Any:
    """A quick read in this process (the node writes the same SQLite file)."""
    result = CliRunner().invoke(cli, ["--home", str(home), *args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def wait_until(predicate: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


class NodeProcess:
    """`p2pnet run` on OS-chosen loopback ports; its URLs read from node.json."""

    def __init__(self, home: Path, *extra: str) -> None:
        self.home = home
        self.log = home.parent / f"{home.name}.log"
        self.out = home.parent / f"{home.name}.out"
        with self.out.open("w") as out, self.log.open("w") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "p2pnet",
                    "--home",
                    str(home),
                    "run",
                    "--listen",
                    "127.0.0.1:0",
                    "--api",
                    "127.0.0.1:0",
                    "--gossip-interval",
                    "0.3",
                    *extra,
                ],
                stdout=out,
                stderr=log,
                env=ENV,
            )
        self.info: dict[str, Any] = {}

    def ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(
                f"node {self.home.name} exited {self.proc.returncode}:\n{self.log.read_text()}"
            )
        try:
            info = json.loads((self.home / "node.json").read_text())
        except (FileNotFoundError, ValueError):
            return False
        if info.get("pid") != self.proc.pid:
            return False
        self.info = info
        return True

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"node {self.home.name} did not stop on SIGTERM") from None


def start(*homes: Path) -> list[NodeProcess]:
    nodes = [NodeProcess(h) for h in homes]
    for n in nodes:
        wait_until(n.ready, f"node {n.home.name} to start", timeout=20)
    return nodes


def test_found_invite_join_write_and_see_it_on_the_first_node(tmp_path):
    a, b, c, d = (tmp_path / x for x in "abcd")
    inits = [
        subprocess.Popen(
            [sys.executable, "-m", "p2pnet", "--home", str(h), "init", "--name", name],
            env=ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for h, name in (
            (a, "ชมรมผู้สูงอายุบ้านดอนแก้ว"),
            (b, "โรงเรียนบ้านดอนแก้ว"),
            (c, "โรงพยาบาลส่งเสริมสุขภาพตำบลดอนแก้ว"),
            (d, "Mae Rim Youth Volunteers"),
        )
    ]
    assert [p.wait(timeout=30) for p in inits] == [0, 0, 0, 0]
    p2p(
        a,
        "network",
        "create",
        "--name",
        "เครือข่ายผู้สูงอายุและสุขภาพดอนแก้ว",
        "--kind",
        "hybrid",
        "--purpose",
        "ดูแลสุขภาพผู้สูงอายุร่วมกัน",
    )
    nodes = start(a, b, c)
    node_a = nodes[0]
    try:
        assert "peer endpoint: http://127.0.0.1:" in wait_until(
            lambda: node_a.out.read_text(), "node A to print its URLs"
        )
        invite = p2p(a, "invite", "--expires", "1h")
        token_b = invite.stdout.strip()
        assert token_b.startswith("p2pnet-invite-") and "\n" not in token_b
        p2p(b, "join", token_b)
        p2p(c, "join", p2p(a, "invite").stdout.strip())
        # a spent token is refused by the inviter's node: one line, exit 4
        one_error_line(p2p(d, "join", token_b, code=4), "already used")
        # a changed token never gets that far
        flipped = token_b[:30] + ("A" if token_b[30] != "A" else "B") + token_b[31:]
        one_error_line(p2p(d, "join", flipped, code=4), "invite")

        # the third member writes while its node runs ...
        p2p(
            c,
            "activity",
            "add",
            "อบรมปฐมพยาบาลเบื้องต้นสำหรับ อสม.",
            "--kind",
            "training",
            "--date",
            "2569-03-01",
            "--with",
            "ชมรมผู้สูงอายุ",
            "--place",
            "ศาลาวัดดอนแก้ว",
        )
        p2p(
            c,
            "profile",
            "set",
            "--name-en",
            "Don Kaeo Sub-district Health Promoting Hospital",
            "--province",
            "เชียงใหม่",
            "--org-type",
            "health-unit",
            "--offer",
            "ตรวจคัดกรองสุขภาพ",
        )

        # ... and the first member sees it, by search and in the member list
        hits = wait_until(
            lambda: [h for h in query(a, "search", "ปฐมพยาบาล") if h["kind"] == "activity"],
            "C's activity to reach A",
        )
        assert (
            hits[0]["title"] == "อบรมปฐมพยาบาลเบื้องต้นสำหรับ อสม." and hits[0]["date"] == "2026-03-01"
        )

        def c_on(home: Path) -> dict[str, Any] | None:
            rows = [m for m in query(home, "members") if m["name_th"].startswith("โรงพยาบาลส่งเสริม")]
            return rows[0] if rows and rows[0]["province"] == "TH-50" else None

        hospital = wait_until(lambda: c_on(a), "C's new profile to reach A")
        assert hospital["status"] == "admitted" and hospital["offers"] == ["ตรวจคัดกรองสุขภาพ"]
        # D's refused join left no trace on A: the token is checked before anything is stored
        statuses = {m["name"]: m["status"] for m in query(a, "members")}
        assert statuses == {
            "ชมรมผู้สูงอายุบ้านดอนแก้ว": "admitted",
            "โรงเรียนบ้านดอนแก้ว": "admitted",
            "โรงพยาบาลส่งเสริมสุขภาพตำบลดอนแก้ว": "admitted",
        }
        wait_until(lambda: c_on(b), "C's profile to reach B too")

        status = wait_until(
            lambda: (s := query(c, "status"))["peers_with_latest"] >= 1 and s,
            "a peer to hold C's latest entry",
        )
        assert status["running"] and status["network_name"] == "เครือข่ายผู้สูงอายุและสุขภาพดอนแก้ว"
        assert status["members"]["admitted"] == 3
        human = p2p(c, "status").stdout
        assert "running (pid" in human and "held by" in human

        # a second node from the same home: one line, exit 5
        one_error_line(p2p(a, "run", "--listen", "127.0.0.1:0", code=5), "already running")
    finally:
        codes = [n.stop() for n in nodes]
    assert codes == [0, 0, 0]
    assert not any((h / "node.json").exists() for h in (a, b, c))
    assert "stopping" in node_a.log.read_text()


def test_invite_while_stopped_needs_public_url_and_status_offline(tmp_path):
    home = tmp_path / "ngo"
    p2p(home, "init", "--name", "Lanna Healthy Ageing Foundation")
    p2p(home, "network", "create", "--name", "Healthy Ageing North", "--kind", "formed")
    one_error_line(p2p(home, "invite", code=5), "public URL")
    out = p2p(home, "status").stdout
    assert "not running" in out and "Healthy Ageing North" in out
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        one_error_line(
            p2p(home, "run", "--listen", "127.0.0.1:0", "--api", f"127.0.0.1:{port}", code=5),
            "in use",
        )
    # with a public URL configured, the running node publishes it in the member's profile
    p2p(home, "config", "set", "public_url", "http://203.0.113.7:7700")
    [node] = start(home)
    try:
        wait_until(
            lambda: query(home, "profile", "show")["endpoints"] == ["http://203.0.113.7:7700"],
            "the public URL in the profile",
        )
        token = p2p(home, "invite").stdout.strip()
        assert token.startswith("p2pnet-invite-")
    finally:
        assert node.stop() == 0


def test_a_restored_older_store_catches_up_before_publishing_its_url(tmp_path):
    """`run --public-url` signs a profile with the URL; on a store restored from an older
    backup it must first fetch the member's own newer entries, or it forks its own feed."""
    import shutil

    a, b = tmp_path / "a", tmp_path / "b"
    p2p(a, "init", "--name", "ชมรมผู้สูงอายุบ้านดอนแก้ว")
    p2p(b, "init", "--name", "โรงเรียนบ้านดอนแก้ว")
    p2p(a, "network", "create", "--name", "เครือข่ายดอนแก้ว", "--kind", "natural")
    with socket.socket() as sock:  # A keeps its port across a restart, as a real node does
        sock.bind(("127.0.0.1", 0))
        a_listen = f"127.0.0.1:{sock.getsockname()[1]}"
    node_a = NodeProcess(a, "--listen", a_listen)
    wait_until(node_a.ready, "A to start")
    nodes = [node_a]
    try:
        (node_b,) = start(b)
        nodes.append(node_b)
        p2p(b, "join", p2p(a, "invite").stdout.strip())
        assert node_b.stop() == 0
        nodes.remove(node_b)
        backup = tmp_path / "backup.sqlite3"
        p2p(b, "backup", str(tmp_path / "bk"))
        shutil.copy(tmp_path / "bk" / "node.sqlite3", backup)
        old_seq = query(b, "status")["own_seq"]
        for title in ("ประชุมครูและผู้ปกครอง", "กีฬาสีชุมชน"):
            p2p(b, "activity", "add", title, "--kind", "meeting", "--date", "2569-02-01")
        (node_b,) = start(b)
        nodes.append(node_b)
        me = query(b, "status")["member"]
        newest = query(b, "status")["own_seq"]
        wait_until(lambda: next(m for m in query(a, "members") if m["id"] == me)["entries"] == newest,
                   "B's new entries to reach A")  # fmt: skip
        assert node_b.stop() == 0 and node_a.stop() == 0
        nodes.clear()
        # the disk is lost; the older backup comes back, and the node starts with a new URL
        # while its only peer is down: it must wait for it rather than write at once
        for suffix in ("", "-wal", "-shm"):
            (b / f"node.sqlite3{suffix}").unlink(missing_ok=True)
        shutil.copy(backup, b / "node.sqlite3")
        assert query(b, "status")["own_seq"] == old_seq < newest
        node_b = NodeProcess(b, "--public-url", "http://127.0.0.1:9")
        nodes.append(node_b)
        wait_until(node_b.ready, "B to start again")
        time.sleep(2)  # B runs, A is still down
        assert query(b, "status")["own_seq"] == old_seq  # nothing written yet
        node_a = NodeProcess(a, "--listen", a_listen)
        nodes.append(node_a)
        wait_until(node_a.ready, "A to start again")

        def published() -> bool:
            m = query(b, "show", me)
            return "http://127.0.0.1:9" in m.get("endpoints", [])

        wait_until(published, "B to publish its URL")
        assert query(b, "status")["own_seq"] == newest + 1
        assert not query(b, "show", me)["forked"]
        wait_until(lambda: query(a, "show", me)["entries"] == newest + 1, "the profile to reach A")
        assert not query(a, "show", me)["forked"]
    finally:
        for n in nodes:
            n.stop()
