"""Write docs/reliability.md from the records of one test run.

    python docs/gen_reliability.py LOG [--junit FILE] [--command "make reliability"] [--out FILE]

LOG holds one JSON line per case, written by the ``reliability`` fixture
(tests/conftest.py) when ``P2PNET_RELIABILITY_LOG`` names it: suite, case,
held, long, test, at, and the figures the test measured (``tried``,
``entries_lost``, ``errors`` and others). ``make reliability`` runs the whole
suite with slow tests into a fresh LOG, then this script. With ``--junit``
(pytest's JUnit XML of the same run) the page also says which tests failed,
including any that failed before they could record their case.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent
OUT = DOCS / "reliability.md"

# suites in the order the page shows them: title, what "tried" counts, how the suite works
SUITES = {
    "crash": (
        "Crash and restart", "faults (kill -9) survived",
        "Real `p2pnet run` processes (tests/cluster.py) are killed with SIGKILL at seeded random "
        "moments, several at once, during a big catch-up, during gossip and during API and CLI "
        "writes, then restarted on the same home. A write is acknowledged when the API answered "
        "201 or the CLI exited 0. Afterwards every node must hold the same feed summary and every "
        "acknowledged entry, and every store must pass `PRAGMA integrity_check` with no fork, no "
        "hole in a feed and no activity applied twice (tests/test_crash_cluster.py).",
    ),
    "soak": (
        "Soak: restarts and a partition under writes", "faults (restarts, cuts) survived",
        "Node processes write all along while random nodes are restarted (kill -9 or SIGTERM) "
        "and the network is cut in two. Nodes find each other only through the endpoint URLs in "
        "members' signed profiles, and each profile names an HTTP proxy in front of the node's "
        "peer endpoint, which drops callers from the other side by the RFC 9421 keyid of their "
        "signed requests: no production change. While cut, nothing written on one side may reach "
        "the other; after the heal everything converges (tests/test_soak.py).",
    ),
    "load": (
        "Load on the local API and website", "requests",
        "Concurrent clients send a realistic mix (API reads, Thai and English search, website "
        "pages, admin-token writes, and requests wrong on purpose that must get their one right "
        "answer) to a node process for a bounded time. Any other status, content type, an "
        "unparsable body, a connection error or a timeout is an error. Latencies are figures, "
        "not pass marks (tests/test_api_load.py).",
    ),
    "hostile": ("Hostile input", "bad inputs tried", ""),
    "moderation": ("Moderation", "cases tried", ""),
    "keys": ("Keys", "cases tried", ""),
}
MAIN = ("held", "tried", "entries_lost", "errors")


def load(path: Path) -> list[dict[str, Any]]:
    records = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as exc:
            raise SystemExit(f"{path}:{n}: not a JSON line: {exc}") from None
        if not isinstance(rec, dict) or not {"suite", "case", "held", "figures"} <= set(rec):
            raise SystemExit(f"{path}:{n}: not a reliability record (suite, case, held, figures)")
        records.append(rec)
    return records


def junit_summary(path: Path) -> dict[str, Any]:
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    out: dict[str, Any] = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "failed": []}
    for s in suites:
        for key in ("tests", "failures", "errors", "skipped"):
            out[key] += int(s.get(key, 0))
        for case in s.iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                out["failed"].append(f"{case.get('classname', '')}::{case.get('name', '')}")
    return out


PLAIN = {"seed", "exit_code"}  # numbers that are names, not amounts: no thousands separator


def fmt_value(v: Any, key: str = "") -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, int):
        return str(v) if key in PLAIN else f"{v:,}"
    if isinstance(v, str):
        return v
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def figures_text(figures: dict[str, Any]) -> str:
    return "; ".join(f"{k.replace('_', ' ')} {fmt_value(v, k)}" for k, v in figures.items()
                     if k not in MAIN)  # fmt: skip


def num(v: Any) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) else 0


def render(records: list[dict[str, Any]], *, command: str, junit: dict[str, Any] | None) -> str:
    by_suite: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in records:
        by_suite[rec["suite"]].append(rec)
    order = [s for s in SUITES if s in by_suite] + sorted(s for s in by_suite if s not in SUITES)
    lost = sum(num(r["figures"].get("entries_lost")) for r in records)
    held = sum(1 for r in records if r["held"])
    stamps = sorted(r.get("at", "") for r in records if r.get("at"))
    longs = sum(1 for r in records if r.get("long"))
    out = [
        "# Reliability",
        "",
        "<!-- generated by docs/gen_reliability.py from the records of one test run; "
        "do not edit by hand -->",
        "",
        "What the crash, soak, load and hostile-input suites tried and what came of it. Every "
        "row is one case recorded by a test through the `reliability` fixture "
        "(tests/conftest.py): the figures are what the test measured, and *held* is computed "
        "by the test from the same figures it asserts on. *Long* cases are marked `slow` and "
        "run only here; *short* ones also run in `make test`.",
        "",
        "Regenerate (the whole suite including slow tests, then this page):",
        "",
        "```sh",
        "make reliability",
        "```",
        "",
        f"- this page came from: `{command}`",
        f"- run: {stamps[0] if stamps else '?'} to {stamps[-1] if stamps else '?'} (UTC); "
        f"{len(records)} cases, {longs} long and {len(records) - longs} short",
        f"- machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}",
    ]
    if junit is not None:
        line = (f"- tests: {junit['tests']} run, {junit['failures']} failed, {junit['errors']} "
                f"errors, {junit['skipped']} skipped")  # fmt: skip
        if junit["failed"]:
            line += ": " + ", ".join(f"`{t}`" for t in junit["failed"])
        out.append(line)
    out += [
        "",
        f"**Totals: {held} of {len(records)} cases held; entries lost across all cases: "
        f"{lost}** (must be 0).",
        "",
    ]
    for suite in order:
        title, tried_means, about = SUITES.get(suite, (suite.capitalize(), "cases tried", ""))
        recs = by_suite[suite]
        tried = sum(num(r["figures"].get("tried")) for r in recs)
        s_lost = sum(num(r["figures"].get("entries_lost")) for r in recs)
        s_held = sum(1 for r in recs if r["held"])
        out += [f"## {title} (`{suite}`)", ""] + ([about, ""] if about else []) + [
            f"{s_held} of {len(recs)} cases held; {tried:,} {tried_means}; entries lost: {s_lost}.",
            "",
            "| case | tried | held | entries lost | errors | long/short | figures |",
            "|---|---:|---|---:|---:|---|---|",
        ]
        for r in recs:
            f = r["figures"]
            test = r.get("test", "")
            out.append("| " + " | ".join(cell(x) for x in (
                f"{r['case']} (`{test}`)" if test else r["case"],
                fmt_value(f.get("tried", "")),
                "yes" if r["held"] else "**no**",
                fmt_value(f.get("entries_lost", "")),
                fmt_value(f.get("errors", "")),
                "long" if r.get("long") else "short",
                figures_text(f),
            )) + " |")  # fmt: skip
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("log", type=Path, nargs="?",
                    default=os.environ.get("P2PNET_RELIABILITY_LOG"))  # fmt: skip
    ap.add_argument("--junit", type=Path, help="pytest's --junitxml file of the same run")
    ap.add_argument("--command", default="make reliability", help="the command that ran the tests")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    if args.log is None:
        ap.error("give the log file (or set P2PNET_RELIABILITY_LOG)")
    if not Path(args.log).exists():
        print(f"no reliability records at {args.log}: did the tests run?", file=sys.stderr)
        return 2
    records = load(Path(args.log))
    junit = junit_summary(args.junit) if args.junit and args.junit.exists() else None
    args.out.write_text(render(records, command=args.command, junit=junit) + "\n", encoding="utf-8")
    lost = sum(num(r["figures"].get("entries_lost")) for r in records)
    print(f"wrote {args.out}: {len(records)} cases, {sum(r['held'] for r in records)} held, "
          f"entries lost {lost}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
