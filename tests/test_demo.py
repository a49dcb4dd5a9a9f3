"""`p2pnet demo`: starts, converges, serves, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from click.testing import CliRunner

from p2pnet import demo, sample
from p2pnet.cli import cli
from p2pnet.store import Store

ENV = {k: v for k, v in os.environ.items() if k != "P2PNET_HOME"} | {
    "PYTHONUNBUFFERED": "1",
    "NO_COLOR": "1",
}


class Lines:
    """A child's stdout, line by line, read without blocking the test."""

    def __init__(self, stream) -> None:
        self.q: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream) -> None:
        for line in stream:
            self.q.put(line)
        self.q.put(None)

    def until(self, pattern: str, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"no line matching {pattern!r} in {timeout} s:\n{''.join(self.seen)}"
                )
            try:
                line = self.q.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"the demo ended before {pattern!r}:\n{''.join(self.seen)}")
            self.seen.append(line)
            m = re.search(pattern, line)
            if m:
                return m


def test_demo_runs_serves_and_cleans_up():
    proc = subprocess.Popen(
        [sys.executable, "-m", "p2pnet", "demo", "--nodes", "3", "--gossip-interval", "0.3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        out = Lines(proc.stdout)
        root = Path(out.until(r"Demo homes in (\S+)", 30).group(1))
        assert root.is_dir()
        sites = []
        for _ in range(3):
            row = out.until(r"(http://127\.0\.0\.1:\d+/)\s", 30)
            sites.append(row.group(1))
        assert len(set(sites)) == 3
        out.until(
            r"converged after [\d.]+ s: all 3 nodes hold the same \d+ entries from 10 members", 60
        )
        for site in sites:
            with urllib.request.urlopen(site + "api/v1/status", timeout=10) as resp:
                assert resp.status == 200
                status = json.loads(resp.read())
            assert status["network"] and status["feeds"] == 10
        # the demo homes work with the CLI while the demo runs
        second = sorted(p for p in root.iterdir() if p.is_dir())[1]
        result = CliRunner().invoke(
            cli, ["--home", str(second), "members", "--json"], catch_exceptions=False
        )
        assert result.exit_code == 0 and len(json.loads(result.stdout)) == 10
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        out.until(r"stopped; deleted", 5)
        assert not root.exists()
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_homes_hold_their_own_members_key_and_feed(tmp_path):
    nodes = demo.prepare(tmp_path, 3, interval=1.0)
    people = {m["key"]: sample.demo_identity(m["key"]) for m in sample.load()["members"]}
    assert [d.member["key"] for d in nodes] == ["elderly_club", "school", "health_unit"]
    counts = []
    for d in nodes:
        assert d.identity.public == people[d.member["key"]].public
        with Store(d.home.db_file) as s:
            authors = {f.author for f in s.feeds()}
            counts.append(s.count())
            assert s.charter() is not None
        if d.member["key"] == "elderly_club":
            assert people["school"].public not in authors and people["ngo"].public in authors
        else:
            assert authors == {people["elderly_club"].public, d.identity.public}
    # reused as they are when started again from the same folder
    again = demo.prepare(tmp_path, 3, interval=1.0)
    assert [d.home.path for d in again] == [d.home.path for d in nodes]
    with Store(nodes[0].home.db_file) as s:
        assert s.count() == counts[0]
