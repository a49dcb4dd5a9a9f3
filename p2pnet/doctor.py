"""``p2pnet doctor``: checks of one node's setup, each with a verdict and what to do.

Every check is a plain synchronous function returning :class:`Check` objects: an
id, a status (``ok``, ``warn`` or ``fail``) and one line in English and in Thai
that says what was found and what to do about it. :func:`run` runs them in
order; a check whose prerequisite failed (no home, a key that does not load, a
store that does not open) is skipped and named in ``Report.skipped``.

The checks only read: the store is opened with ``mode=rw`` (so SQLite can tidy
its WAL files on close, as the node does) but nothing is written, and no
migration is run. The network checks use ``urllib`` with a timeout per request,
without proxies (as the node itself connects), asking a bounded number of URLs
in a few threads.
"""

from __future__ import annotations

# Each message is kept on one line, in English and in Thai, however long.
# ruff: noqa: E501
import contextlib
import dataclasses
import datetime as dt
import email.utils
import errno
import json
import os
import shutil
import socket
import sqlite3
import stat
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import identity as idmod
from . import ids
from .config import Home, NodeConfig, split_hostport
from .entries import MAX_FUTURE_MS, now_ms
from .errors import ConfigError, KeyFileError
from .identity import Identity

OK, WARN, FAIL = "ok", "warn", "fail"
STATUSES = (OK, WARN, FAIL)

# Node-local meta key: when this member's key was last exported (or imported from a
# backup), written by `key export`, `key import` and `backup --with-key`.
KEY_BACKUP_META = "cli.key_backup"

CLOCK_WARN_MS = 5_000  # a few seconds: NTP keeps clocks within milliseconds
MAX_PEERS_ASKED = 32  # the most recently reachable peers of the book
MAX_ANSWER_BYTES = 64 * 1024
DISK_FAIL_BYTES = 100 * 1024 * 1024
DISK_WARN_BYTES = 1024 * 1024 * 1024
MiB = 1024 * 1024


@dataclass
class Check:
    """One verdict: ``en`` and ``th`` say what was found and what to do."""

    id: str
    status: str
    en: str
    th: str
    details: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        if not self.details:
            del out["details"]
        return out


@dataclass
class Report:
    home: str
    checks: list[Check] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for c in self.checks if c.status == status)

    @property
    def ok(self) -> bool:
        return self.count(FAIL) == 0

    def get(self, check_id: str) -> Check | None:
        return next((c for c in self.checks if c.id == check_id), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "home": self.home,
            "ok": self.ok,
            "counts": {s: self.count(s) for s in STATUSES},
            "checks": [c.as_dict() for c in self.checks],
            "skipped": self.skipped,
        }


def record_key_backup(
    conn: sqlite3.Connection, who: Identity, how: str, *, encrypted: bool
) -> None:
    """Remember in the store that ``who``'s key now exists outside the home."""
    value = {"member": who.member_id, "ts": now_ms(), "how": how, "encrypted": encrypted}
    conn.execute(
        "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
        (KEY_BACKUP_META, json.dumps(value)),
    )


# --------------------------------------------------------------------------- files


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def check_home(home: Home) -> Check:
    p = home.path
    if not p.is_dir():
        return Check(
            "home", FAIL,
            f"no home folder at {p}: create this node with `p2pnet --home {p} init --name NAME`, "
            "or restore a backup into it (docs/operations.md)",
            f"ไม่พบโฟลเดอร์โฮมที่ {p}: สร้างโหนดด้วย `p2pnet --home {p} init --name ชื่อ` "
            "หรือกู้คืนจากข้อมูลสำรอง (docs/operations.md)",
        )  # fmt: skip
    mode = _mode(p)
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        return Check(
            "home", FAIL,
            f"{p} is writable by other users (mode {mode:04o}): they could replace the key, the "
            f"database or config.toml; run `chmod 700 {p}`",
            f"ผู้ใช้อื่นเขียนโฟลเดอร์ {p} ได้ (สิทธิ์ {mode:04o}) จึงอาจแทนที่กุญแจ ฐานข้อมูล "
            f"หรือ config.toml ได้: สั่ง `chmod 700 {p}`",
        )  # fmt: skip
    owner = p.stat().st_uid
    if owner != os.geteuid():
        return Check(
            "home", WARN,
            f"{p} belongs to user id {owner}, not to you ({os.geteuid()}): run doctor as the "
            "node's own user (e.g. `sudo -u p2pnet p2pnet doctor`) to check what the node sees",
            f"โฟลเดอร์ {p} เป็นของผู้ใช้หมายเลข {owner} ไม่ใช่ของคุณ ({os.geteuid()}): "
            "ควรรัน doctor ด้วยผู้ใช้ของโหนด (เช่น `sudo -u p2pnet p2pnet doctor`)",
        )  # fmt: skip
    return Check(
        "home", OK,
        f"{p} exists, mode {mode:04o}, only you can write it",
        f"มีโฟลเดอร์ {p} สิทธิ์ {mode:04o} มีแต่คุณที่เขียนได้",
    )  # fmt: skip


def check_key(home: Home) -> tuple[Check, Identity | None]:
    path = home.key_file
    if not path.exists():
        return Check(
            "key", FAIL,
            f"no member key at {path}: restore it with `p2pnet key import BACKUP.pem` (a new key "
            "from `p2pnet init --force` is a new member, not your organisation)",
            f"ไม่พบกุญแจสมาชิกที่ {path}: กู้คืนด้วย `p2pnet key import ไฟล์สำรอง.pem` "
            "(กุญแจใหม่จาก `p2pnet init --force` คือสมาชิกใหม่ ไม่ใช่องค์กรเดิมของคุณ)",
        ), None  # fmt: skip
    mode = _mode(path)
    if mode & 0o077:
        return Check(
            "key", FAIL,
            f"{path} has mode {mode:04o}: other users of this machine can read it and sign as "
            f"your organisation, and the node refuses to start; run `chmod 600 {path}`",
            f"ไฟล์ {path} มีสิทธิ์ {mode:04o} ผู้ใช้อื่นในเครื่องอ่านได้และลงนามแทนองค์กรของคุณได้ "
            f"โหนดจึงไม่ยอมเริ่มทำงาน: สั่ง `chmod 600 {path}`",
        ), None  # fmt: skip
    try:
        who = idmod.load(path)
    except KeyFileError as exc:
        return Check(
            "key", FAIL,
            f"{exc}; restore the key from its backup (`p2pnet key import BACKUP.pem --force`)",
            f"อ่านกุญแจไม่ได้ ({exc}): กู้คืนจากไฟล์สำรอง (`p2pnet key import ไฟล์สำรอง.pem --force`)",
        ), None  # fmt: skip
    return Check(
        "key", OK,
        f"{path} holds {who.member_id}, mode {mode:04o}",
        f"{path} เก็บกุญแจของ {who.member_id} สิทธิ์ {mode:04o}",
    ), who  # fmt: skip


def check_admin_token(home: Home) -> Check:
    path = home.token_file
    if not path.exists():
        return Check(
            "admin-token", WARN,
            f"no {path.name} yet: the node writes a new one (mode 0600) when it starts",
            f"ยังไม่มี {path.name}: โหนดจะสร้างใหม่ (สิทธิ์ 0600) เมื่อเริ่มทำงาน",
        )  # fmt: skip
    mode = _mode(path)
    if mode & 0o077:
        return Check(
            "admin-token", FAIL,
            f"{path} has mode {mode:04o}: other users of this machine can read it and write "
            f"through the API as the admin; run `chmod 600 {path}` (or delete it and restart "
            "the node for a new token)",
            f"ไฟล์ {path} มีสิทธิ์ {mode:04o} ผู้ใช้อื่นอ่านได้และเขียนผ่าน API แทนผู้ดูแลได้: "
            f"สั่ง `chmod 600 {path}` (หรือลบไฟล์แล้วเริ่มโหนดใหม่เพื่อได้รหัสใหม่)",
        )  # fmt: skip
    return Check(
        "admin-token", OK,
        f"{path.name} is readable only by you (mode {mode:04o})",
        f"{path.name} อ่านได้เฉพาะคุณ (สิทธิ์ {mode:04o})",
    )  # fmt: skip


# --------------------------------------------------------------------------- store


def known_migrations() -> list[str]:
    """The migrations this version of p2pnet knows, in order."""
    import sqlite_utils

    from .store import migrations

    return [m.name for m in migrations.pending(sqlite_utils.Database(memory=True))]


def open_store(path: Path) -> sqlite3.Connection:
    """The store without running migrations or indexing; never creates the file."""
    uri = "file:" + urllib.parse.quote(str(path)) + "?mode=rw"
    return sqlite3.connect(uri, uri=True, isolation_level=None, timeout=10.0)


def check_store(home: Home) -> tuple[Check, sqlite3.Connection | None]:
    path = home.db_file
    restore_en = "restore the last backup (docs/operations.md) or rebuild it from peers"
    restore_th = "กู้คืนจากข้อมูลสำรองล่าสุด (docs/operations.md) หรือดึงข้อมูลใหม่จากคู่เชื่อมต่อ"
    if not path.exists():
        return Check(
            "store", FAIL,
            f"no database at {path}: {restore_en}",
            f"ไม่พบฐานข้อมูลที่ {path}: {restore_th}",
        ), None  # fmt: skip
    conn = None
    try:
        conn = open_store(path)
        problems = [str(r[0]) for r in conn.execute("PRAGMA quick_check(5)").fetchall()]
        if problems != ["ok"]:
            raise sqlite3.DatabaseError("; ".join(problems))
        applied = [
            str(r[0])
            for r in conn.execute(
                "SELECT name FROM _sqlite_migrations WHERE migration_set = 'p2pnet' ORDER BY rowid"
            )
        ]
    except sqlite3.DatabaseError as exc:
        if conn is not None:
            conn.close()
        return Check(
            "store", FAIL,
            f"{path} is damaged ({exc}): stop the node, keep the file for inspection, and "
            f"{restore_en}",
            f"ฐานข้อมูล {path} เสียหาย ({exc}): หยุดโหนด เก็บไฟล์ไว้ตรวจสอบ แล้ว{restore_th}",
        ), None  # fmt: skip
    known = known_migrations()
    newer = [m for m in applied if m not in known]
    pending = [m for m in known if m not in applied]
    if newer:
        return Check(
            "store", FAIL,
            f"{path} was upgraded by a newer p2pnet (migration {', '.join(newer)}): this version "
            "may misread it; install that version again, or restore the backup taken before "
            "the upgrade",
            f"ฐานข้อมูล {path} ถูกปรับโดย p2pnet รุ่นที่ใหม่กว่า ({', '.join(newer)}) รุ่นนี้อาจอ่านผิด: "
            "ติดตั้งรุ่นนั้นกลับมา หรือกู้คืนข้อมูลสำรองที่ทำไว้ก่อนอัปเกรด",
        ), conn  # fmt: skip
    if pending:
        return Check(
            "store", WARN,
            f"{path} passes its integrity check, but {len(pending)} schema migration(s) "
            f"({', '.join(pending)}) will run when the node next starts: back it up first "
            "(`p2pnet backup DEST`)",
            f"ฐานข้อมูล {path} ผ่านการตรวจความสมบูรณ์ แต่จะมีการปรับโครงสร้าง {len(pending)} ขั้น "
            f"({', '.join(pending)}) เมื่อเริ่มโหนดครั้งต่อไป: สำรองข้อมูลก่อน (`p2pnet backup ปลายทาง`)",
        ), conn  # fmt: skip
    size = _store_bytes(path)
    return Check(
        "store", OK,
        f"{path.name} ({size / MiB:.1f} MiB) passes SQLite's quick_check; its schema is current",
        f"{path.name} ({size / MiB:.1f} MiB) ผ่านการตรวจ quick_check ของ SQLite และโครงสร้างเป็นรุ่นปัจจุบัน",
    ), conn  # fmt: skip


def _store_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


# --------------------------------------------------------------------------- configuration


def check_config(home: Home, running: dict[str, Any] | None) -> tuple[Check, NodeConfig | None]:
    """config.toml, and the addresses the node uses (a running node's own, from node.json)."""
    try:
        config = home.load_config()
    except ConfigError as exc:
        return Check(
            "config", FAIL,
            f"{exc}; fix it by hand or with `p2pnet config set KEY VALUE`",
            f"ไฟล์ตั้งค่าผิด ({exc}): แก้ด้วยมือหรือด้วย `p2pnet config set ชื่อ ค่า`",
        ), None  # fmt: skip
    where = "config.toml" if home.config_file.exists() else "the defaults (no config.toml)"
    where_th = " config.toml" if home.config_file.exists() else "ค่าเริ่มต้น (ไม่มี config.toml)"
    if running:
        overrides = {
            k: running[k]
            for k in ("listen", "api", "public_url")
            if isinstance(running.get(k), str)
        }
        if overrides:
            config = dataclasses.replace(config, **overrides)
            where, where_th = "the running node", "โหนดที่กำลังทำงาน"
    try:
        split_hostport(config.listen, "listen")
        split_hostport(config.api, "api")
    except ConfigError as exc:
        return Check("config", FAIL, str(exc), f"ที่อยู่ไม่ถูกต้อง: {exc}"), None
    return Check(
        "config", OK,
        f"addresses from {where}: peers on {config.listen}, API and website on {config.api}",
        f"ที่อยู่จาก{where_th}: คู่เชื่อมต่อที่ {config.listen} API และเว็บไซต์ที่ {config.api}",
    ), config  # fmt: skip


def is_loopback(host: str) -> bool:
    from .node.api import is_loopback as loopback

    return loopback(host)


def check_api_address(config: NodeConfig) -> Check:
    host, port = split_hostport(config.api, "api")
    if is_loopback(host):
        return Check(
            "api-address", OK,
            f"the API and website listen on {config.api}: only this machine can reach them",
            f"API และเว็บไซต์รับการเชื่อมต่อที่ {config.api}: เข้าถึงได้จากเครื่องนี้เท่านั้น",
        )  # fmt: skip
    fix_en = (
        f"keep `api` on 127.0.0.1:{port} and publish the website through a TLS reverse proxy "
        "(docs/operations.md)"
    )
    fix_th = (
        f"ตั้ง `api` เป็น 127.0.0.1:{port} แล้วเปิดเว็บไซต์ผ่าน reverse proxy ที่มี TLS (docs/operations.md)"
    )
    if config.open_api:
        return Check(
            "api-address", WARN,
            f"the API listens on {config.api} with open_api = true: anyone who reaches it reads "
            f"without a token, and the admin token of writes travels unencrypted; {fix_en}",
            f"API รับการเชื่อมต่อที่ {config.api} และตั้ง open_api = true: ใครก็อ่านได้โดยไม่ต้องมีรหัส "
            f"และรหัสผู้ดูแลสำหรับการเขียนส่งผ่านเครือข่ายโดยไม่เข้ารหัส: {fix_th}",
        )  # fmt: skip
    return Check(
        "api-address", WARN,
        f"the API listens on {config.api}, reachable from other machines: every request there "
        f"needs the admin token, which travels unencrypted over plain HTTP; {fix_en}",
        f"API รับการเชื่อมต่อที่ {config.api} เครื่องอื่นเข้าถึงได้ ทุกคำขอต้องใช้รหัสผู้ดูแล "
        f"ซึ่งส่งผ่าน HTTP โดยไม่เข้ารหัส: {fix_th}",
    )  # fmt: skip


def check_public_url(config: NodeConfig) -> Check:
    if config.public_url:
        return Check(
            "public-url", OK,
            f"other nodes are told to reach this one at {config.public_url}",
            f"โหนดอื่นจะติดต่อโหนดนี้ที่ {config.public_url}",
        )  # fmt: skip
    host, _ = split_hostport(config.listen, "listen")
    if is_loopback(host):
        return Check(
            "public-url", WARN,
            f"the peer endpoint listens on {config.listen} (this machine only) and no public_url "
            "is set: no other node can reach you; listen on 0.0.0.0 and set "
            "`p2pnet config set public_url URL`",
            f"จุดรับคู่เชื่อมต่อฟังที่ {config.listen} (เครื่องนี้เท่านั้น) และไม่ได้ตั้ง public_url: "
            "โหนดอื่นติดต่อคุณไม่ได้ ให้ฟังที่ 0.0.0.0 และสั่ง `p2pnet config set public_url URL`",
        )  # fmt: skip
    return Check(
        "public-url", WARN,
        "no public_url: your profile does not say where other nodes reach you, and invites "
        "need the node running; set it with `p2pnet config set public_url URL`",
        "ยังไม่ได้ตั้ง public_url: โปรไฟล์ของคุณไม่ได้บอกโหนดอื่นว่าติดต่อคุณได้ที่ไหน "
        "และการออกบัตรเชิญต้องเปิดโหนดไว้: ตั้งค่าด้วย `p2pnet config set public_url URL`",
    )  # fmt: skip


# --------------------------------------------------------------------------- HTTP


@dataclass
class Answer:
    """One GET: its JSON (or an error), the server's Date header, our clock around it."""

    url: str
    sent_ms: int
    received_ms: int
    data: Any = None
    date: str | None = None
    error: str | None = None


def http_get(url: str, timeout: float, headers: dict[str, str] | None = None) -> Answer:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request(url, headers={"User-Agent": "p2pnet-doctor", **(headers or {})})
    sent = now_ms()
    try:
        with opener.open(req, timeout=timeout) as resp:
            raw = resp.read(MAX_ANSWER_BYTES + 1)
            date = resp.headers.get("Date")
    except urllib.error.HTTPError as exc:
        return Answer(url, sent, now_ms(), error=f"HTTP {exc.code} {exc.reason}")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        return Answer(url, sent, now_ms(), error=f"{reason.__class__.__name__}: {reason}")
    received = now_ms()
    if len(raw) > MAX_ANSWER_BYTES:
        return Answer(url, sent, received, date=date, error="the answer is too large")
    try:
        data = json.loads(raw)
    except ValueError:
        return Answer(url, sent, received, date=date, error="the answer is not JSON")
    return Answer(url, sent, received, data=data, date=date)


def get_all(urls: Iterable[str], timeout: float) -> list[Answer]:
    """GET each URL at once (a few threads), in the order given."""
    urls = list(urls)
    if not urls:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(urls))) as pool:
        return list(pool.map(lambda u: http_get(u, timeout), urls))


def _info_member(answer: Answer) -> str | None:
    d = answer.data
    return str(d["member"]) if isinstance(d, dict) and isinstance(d.get("member"), str) else None


def _short(member: str | None) -> str:
    return "?" if member is None else member


# --------------------------------------------------------------------------- the running node


def check_node(home: Home, running: dict[str, Any] | None) -> Check:
    if running is not None:
        return Check(
            "node", OK,
            f"running (pid {running.get('pid')}), started {_when(running.get('started_ts'))}",
            f"กำลังทำงาน (pid {running.get('pid')}) เริ่มเมื่อ {_when(running.get('started_ts'))}",
        )  # fmt: skip
    if home.runtime_file.exists():
        return Check(
            "node", WARN,
            f"not running, but {home.runtime_file.name} names a process that is gone: the node "
            "stopped without cleaning up (a crash, kill -9 or power cut; see its log), start it "
            "(`p2pnet run` or `systemctl start p2pnet`)",
            f"โหนดไม่ได้ทำงาน แต่ {home.runtime_file.name} ยังอ้างถึงโปรเซสที่หายไปแล้ว: โหนดหยุดโดยไม่ได้เก็บกวาด "
            "(ขัดข้อง ถูก kill -9 หรือไฟดับ ดูบันทึกของโหนด) ให้เริ่มโหนด (`p2pnet run` หรือ `systemctl start p2pnet`)",
        )  # fmt: skip
    return Check(
        "node", WARN,
        "not running: other nodes cannot sync with you; start it (`p2pnet run`, or "
        "`systemctl start p2pnet` under systemd)",
        "โหนดไม่ได้ทำงาน: โหนดอื่นประสานข้อมูลกับคุณไม่ได้ ให้เริ่มโหนด (`p2pnet run` หรือ "
        "`systemctl start p2pnet` เมื่อใช้ systemd)",
    )  # fmt: skip


def check_running_endpoints(
    home: Home, running: dict[str, Any], who: Identity, timeout: float
) -> list[Check]:
    """The running node answers on its own peer endpoint and API, with this home's key."""
    peer_url = str(running.get("peer_url", ""))
    api_url = str(running.get("api_url", ""))
    headers = {}
    with contextlib.suppress(ConfigError, OSError):  # no token: the API answers 401, said below
        headers["Authorization"] = f"Bearer {home.admin_token()}"
    with ThreadPoolExecutor(max_workers=2) as pool:
        info_f = pool.submit(http_get, peer_url + "/p2p/v1/info", timeout)
        status_f = pool.submit(http_get, api_url + "/api/v1/status", timeout, headers)
        info, status = info_f.result(), status_f.result()
    out = []
    for check_id, answer, what, what_th in (
        ("peer-endpoint", info, "peer endpoint", "จุดรับคู่เชื่อมต่อ"),
        ("api", status, "API", "API"),
    ):
        member = _info_member(answer)
        if answer.error is not None or member is None:
            why = answer.error or "the answer names no member"
            out.append(Check(
                check_id, FAIL,
                f"the node's {what} at {answer.url} does not answer ({why}): see the node's log "
                "(`journalctl -u p2pnet`), restart it",
                f"{what_th}ของโหนดที่ {answer.url} ไม่ตอบ ({why}): ดูบันทึกของโหนด "
                "(`journalctl -u p2pnet`) แล้วเริ่มโหนดใหม่",
            ))  # fmt: skip
        elif member != who.member_id:
            out.append(Check(
                check_id, FAIL,
                f"the node answering at {answer.url} holds key {member}, but this home's key is "
                f"{who.member_id}: the key was replaced while it ran; restart it",
                f"โหนดที่ตอบที่ {answer.url} ใช้กุญแจ {member} แต่กุญแจของโฮมนี้คือ {who.member_id}: "
                "กุญแจถูกเปลี่ยนระหว่างที่โหนดทำงาน ให้เริ่มโหนดใหม่",
            ))  # fmt: skip
        else:
            out.append(Check(
                check_id, OK,
                f"the {what} answers at {answer.url} ({answer.received_ms - answer.sent_ms} ms)",
                f"{what_th}ตอบที่ {answer.url} ({answer.received_ms - answer.sent_ms} ms)",
            ))  # fmt: skip
    return out


def check_ports(config: NodeConfig) -> Check:
    """With the node stopped: could it bind its two addresses now?"""
    problems_en: list[str] = []
    problems_th: list[str] = []
    fine: list[str] = []
    fine_th: list[str] = []
    for name, value in (("listen", config.listen), ("api", config.api)):
        host, port = split_hostport(value, name)
        if port == 0:
            fine.append(f"{value} (a free port is chosen at start)")
            fine_th.append(f"{value} (เลือกพอร์ตว่างเมื่อเริ่ม)")
            continue
        why = _bind_problem(host, port)
        if why is None:
            fine.append(value)
            fine_th.append(value)
            continue
        en, th = why
        problems_en.append(f"{name} {value}: {en}")
        problems_th.append(f"{name} {value}: {th}")
    if problems_en:
        return Check(
            "ports", FAIL,
            "the node could not start: " + "; ".join(problems_en),
            "โหนดจะเริ่มไม่ได้: " + "; ".join(problems_th),
        )  # fmt: skip
    return Check(
        "ports", OK,
        "the node can bind " + " and ".join(fine),
        "โหนดใช้ที่อยู่ " + " และ ".join(fine_th) + " ได้",
    )  # fmt: skip


def _bind_problem(host: str, port: int) -> tuple[str, str] | None:
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        return f"cannot resolve {host!r} ({exc})", f"หาที่อยู่ {host!r} ไม่พบ ({exc})"
    family, kind, proto, _, addr = infos[0]
    with socket.socket(family, kind, proto) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the node binds
        try:
            s.bind(addr)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (
                    "in use by another program (or another node); stop it or choose another "
                    f"port with `p2pnet config set` (`ss -ltnp 'sport = :{port}'` names it)",
                    f"โปรแกรมอื่น (หรือโหนดอื่น) ใช้อยู่ ให้หยุดโปรแกรมนั้นหรือเลือกพอร์ตอื่นด้วย `p2pnet config set` "
                    f"(`ss -ltnp 'sport = :{port}'` บอกว่าโปรแกรมใด)",
                )  # fmt: skip
            if exc.errno == errno.EACCES:
                return (
                    "needs privileges: use a port above 1023 and a reverse proxy for 443",
                    "ต้องใช้สิทธิ์ผู้ดูแลระบบ: ใช้พอร์ตที่สูงกว่า 1023 และ reverse proxy สำหรับ 443",
                )
            return (
                f"{exc.strerror}: is {host} an address of this machine?",
                f"{exc.strerror}: {host} เป็นที่อยู่ของเครื่องนี้หรือไม่",
            )
    return None


# --------------------------------------------------------------------------- the network


def check_reachability(
    conn: sqlite3.Connection, who: Identity, config: NodeConfig, timeout: float
) -> Check:
    """GET the endpoints in this member's own signed profile: is it us who answers?"""
    row = conn.execute("SELECT endpoints FROM members WHERE id = ?", (who.member_id,)).fetchone()
    endpoints = [str(u).rstrip("/") for u in json.loads(row[0])] if row and row[0] else []
    public = config.public_url.rstrip("/")
    if not endpoints:
        extra_en = (
            f"; the node publishes public_url ({public}) when it starts: restart it"
            if public
            else "; set public_url (`p2pnet config set public_url URL`) and restart the node"
        )
        extra_th = (
            f" โหนดจะเผยแพร่ public_url ({public}) เมื่อเริ่มทำงาน: ให้เริ่มโหนดใหม่"
            if public
            else " ตั้ง public_url (`p2pnet config set public_url URL`) แล้วเริ่มโหนดใหม่"
        )
        return Check(
            "reachability", WARN,
            "your signed profile advertises no endpoint, so other members' nodes do not know "
            "where to sync with you" + extra_en,
            "โปรไฟล์ที่ลงนามของคุณไม่ได้ระบุที่อยู่ของโหนด โหนดของสมาชิกอื่นจึงไม่รู้ว่าจะประสานข้อมูลกับคุณที่ไหน"
            + extra_th,
        )  # fmt: skip
    answers = get_all([u + "/p2p/v1/info" for u in endpoints], timeout)
    details, bad_en, bad_th = [], [], []
    for url, a in zip(endpoints, answers, strict=True):
        member = _info_member(a)
        d: dict[str, Any] = {"url": url, "member": member, "error": a.error}
        if a.error is not None or member is None:
            why = a.error or "not a p2pnet node's answer"
            d["status"] = FAIL
            bad_en.append(
                f"{url} does not answer ({why}): a stale URL, a firewall, or the node "
                "or its proxy is down"
            )
            bad_th.append(f"{url} ไม่ตอบ ({why}): ที่อยู่เก่า ไฟร์วอลล์ปิดกั้น หรือโหนด/พร็อกซีไม่ทำงาน")
        elif member != who.member_id:
            d["status"] = FAIL
            bad_en.append(
                f"{url} is answered by the node of {member}, not by this one "
                f"({who.member_id}): fix the proxy or DNS, or remove the URL "
                "(`p2pnet profile set --clear endpoints --endpoint RIGHT-URL`)"
            )
            bad_th.append(
                f"ที่ {url} โหนดของ {member} เป็นผู้ตอบ ไม่ใช่โหนดนี้ ({who.member_id}): "
                "แก้พร็อกซีหรือ DNS หรือลบที่อยู่นี้ (`p2pnet profile set --clear endpoints --endpoint ที่อยู่ที่ถูก`)"
            )
        else:
            d["status"] = OK
        details.append(d)
    if bad_en:
        return Check("reachability", FAIL, "; ".join(bad_en), "; ".join(bad_th), details)
    if public and public not in endpoints:
        return Check(
            "reachability", WARN,
            f"public_url {public} is not in your signed profile yet ({', '.join(endpoints)} is): "
            "the node publishes it when it starts; restart it",
            f"public_url {public} ยังไม่อยู่ในโปรไฟล์ที่ลงนาม (มีแต่ {', '.join(endpoints)}): "
            "โหนดจะเผยแพร่เมื่อเริ่มทำงาน ให้เริ่มโหนดใหม่",
            details,
        )  # fmt: skip
    return Check(
        "reachability", OK,
        f"this node answers with its own key at {', '.join(endpoints)} (from this machine; "
        "a firewall may still block others)",
        f"โหนดนี้ตอบด้วยกุญแจของตนที่ {', '.join(endpoints)} (ทดสอบจากเครื่องนี้ ไฟร์วอลล์อาจยังกั้นผู้อื่น)",
        details,
    )  # fmt: skip


def clock_offset(answer: Answer) -> tuple[int, int] | None:
    """(peer clock − ours, uncertainty) in ms, from ``time`` in /info or else the Date header."""
    middle = (answer.sent_ms + answer.received_ms) // 2
    spread = (answer.received_ms - answer.sent_ms) // 2 + 1
    d = answer.data
    if isinstance(d, dict) and isinstance(d.get("time"), int) and not isinstance(d["time"], bool):
        return d["time"] - middle, spread
    if answer.date:
        try:
            when = email.utils.parsedate_to_datetime(answer.date)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        # a Date header has whole seconds: the peer's clock was somewhere in that second
        return int(when.timestamp() * 1000) + 500 - middle, spread + 500
    return None


def check_clock(
    conn: sqlite3.Connection, who: Identity, config: NodeConfig, own_urls: set[str], timeout: float
) -> Check:
    """Compare this machine's clock with each known peer's."""
    fail_ms = min(int(config.replay_window * 1000), MAX_FUTURE_MS)
    rows = conn.execute(
        "SELECT url FROM peers WHERE coalesce(member, '') != ? "
        "ORDER BY last_ok_ts IS NULL, last_ok_ts DESC, url LIMIT ?",
        (who.member_id, MAX_PEERS_ASKED + len(own_urls)),
    ).fetchall()
    urls = [r[0] for r in rows if r[0].rstrip("/") not in own_urls][:MAX_PEERS_ASKED]
    if not urls:
        return Check(
            "clock", WARN,
            "no peers known yet, so no clock to compare with (and nobody to sync with): "
            "`p2pnet peers add URL` or join a network",
            "ยังไม่รู้จักคู่เชื่อมต่อใด จึงเทียบนาฬิกาไม่ได้ (และไม่มีใครให้ประสานข้อมูล): "
            "`p2pnet peers add URL` หรือเข้าร่วมเครือข่าย",
        )  # fmt: skip
    details: list[dict[str, Any]] = []
    for a in get_all([u.rstrip("/") + "/p2p/v1/info" for u in urls], timeout):
        url = a.url.removesuffix("/p2p/v1/info")
        found = None if a.error is not None else clock_offset(a)
        if found is None:
            details.append({"url": url, "status": None, "error": a.error or "no time and no Date"})
            continue
        offset, spread = found
        beyond = abs(offset) - spread  # the least the clocks can differ by
        status = FAIL if beyond > fail_ms else WARN if beyond > CLOCK_WARN_MS else OK
        details.append({"url": url, "member": _info_member(a), "offset_ms": offset,
                        "uncertainty_ms": spread, "status": status})  # fmt: skip
    compared = [d for d in details if d["status"] is not None]
    if not compared:
        return Check(
            "clock", WARN,
            f"none of the {len(urls)} peers asked answered, so no clock to compare with; "
            "check this machine's network",
            f"คู่เชื่อมต่อ {len(urls)} รายที่ถามไม่มีใครตอบ จึงเทียบนาฬิกาไม่ได้: ตรวจการเชื่อมต่อเครือข่ายของเครื่องนี้",
            details,
        )  # fmt: skip
    worst = max(compared, key=lambda d: abs(d["offset_ms"]) - d["uncertainty_ms"])
    status = max((d["status"] for d in compared), key=STATUSES.index)
    off_s = worst["offset_ms"] / 1000
    side = "ahead of" if off_s > 0 else "behind"
    side_th = "เร็วกว่า" if off_s > 0 else "ช้ากว่า"
    n_bad = sum(1 for d in compared if d["status"] != OK)
    if len(compared) >= 3 and n_bad * 2 > len(compared):
        whose_en = "most peers disagree with this machine, so its clock is probably wrong: fix it"
        whose_th = "คู่เชื่อมต่อส่วนใหญ่ไม่ตรงกับเครื่องนี้ นาฬิกาของเครื่องนี้จึงน่าจะผิด: แก้นาฬิกาเครื่องนี้"
    elif len(compared) >= 3:
        whose_en = (
            "the other peers agree with this machine: ask that member's admin to fix their clock"
        )
        whose_th = "คู่เชื่อมต่ออื่นตรงกับเครื่องนี้: แจ้งผู้ดูแลของสมาชิกนั้นให้แก้นาฬิกา"
    else:
        whose_en = (
            "compare this machine's clock with a time server (`timedatectl`) to see whose is wrong"
        )
        whose_th = "เทียบนาฬิกาเครื่องนี้กับเซิร์ฟเวอร์เวลา (`timedatectl`) เพื่อดูว่าฝั่งใดผิด"
    summary_en = f"{worst['url']} is {abs(off_s):.1f} s {side} this machine"
    summary_th = f"นาฬิกาของ {worst['url']} {side_th}เครื่องนี้ {abs(off_s):.1f} วินาที"
    if status == FAIL:
        return Check(
            "clock", FAIL,
            f"{summary_en}: beyond {fail_ms // 1000} s signed requests between the two nodes are "
            f"refused (and entries more than {MAX_FUTURE_MS // 60000} min ahead); {whose_en}; "
            "run NTP on every node (`timedatectl set-ntp true`)",
            f"{summary_th}: เกิน {fail_ms // 1000} วินาที คำขอที่ลงนามระหว่างสองโหนดจะถูกปฏิเสธ "
            f"(และรายการที่ล้ำหน้าเกิน {MAX_FUTURE_MS // 60000} นาที) {whose_th} และเปิด NTP ทุกโหนด "
            "(`timedatectl set-ntp true`)",
            details,
        )  # fmt: skip
    if status == WARN:
        return Check(
            "clock", WARN,
            f"{summary_en} (more than {CLOCK_WARN_MS // 1000} s); {whose_en}; run NTP "
            "(`timedatectl set-ntp true`) before the gap grows",
            f"{summary_th} (เกิน {CLOCK_WARN_MS // 1000} วินาที) {whose_th} และเปิด NTP "
            "(`timedatectl set-ntp true`) ก่อนที่จะคลาดมากขึ้น",
            details,
        )  # fmt: skip
    return Check(
        "clock", OK,
        f"the clocks of {len(compared)} peer(s) agree with this machine's within "
        f"{CLOCK_WARN_MS // 1000} s (the most: {summary_en})",
        f"นาฬิกาของคู่เชื่อมต่อ {len(compared)} รายตรงกับเครื่องนี้ภายใน {CLOCK_WARN_MS // 1000} วินาที "
        f"(ต่างกันมากที่สุด: {summary_th})",
        details,
    )  # fmt: skip


# --------------------------------------------------------------------------- the rest


def check_disk(home: Home) -> Check:
    usage = shutil.disk_usage(home.path)
    store = _store_bytes(home.db_file) if home.db_file.exists() else 0
    free_en = (
        f"{usage.free / MiB / 1024:.1f} GiB free in {home.path} (the store: {store / MiB:.1f} MiB)"
    )
    free_th = f"พื้นที่ว่างใน {home.path} เหลือ {usage.free / MiB / 1024:.1f} GiB (ฐานข้อมูล {store / MiB:.1f} MiB)"
    if usage.free < DISK_FAIL_BYTES:
        return Check(
            "disk", FAIL,
            f"only {free_en}: writes will soon fail; free some space",
            f"{free_th} เท่านั้น: การเขียนจะล้มเหลวในไม่ช้า ให้ลบไฟล์ที่ไม่ใช้",
        )  # fmt: skip
    if usage.free < max(DISK_WARN_BYTES, 2 * store):
        return Check(
            "disk", WARN,
            f"{free_en}: less than 1 GiB or twice the store, which a backup or a catch-up needs",
            f"{free_th}: น้อยกว่า 1 GiB หรือสองเท่าของฐานข้อมูล ซึ่งจำเป็นสำหรับการสำรองหรือการดึงข้อมูลตามทัน",
        )  # fmt: skip
    return Check("disk", OK, free_en, free_th)


def check_key_backup(conn: sqlite3.Connection, who: Identity) -> Check:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (KEY_BACKUP_META,)).fetchone()
    try:
        rec = json.loads(row[0]) if row else None
    except (TypeError, ValueError):
        rec = None
    if not isinstance(rec, dict) or rec.get("member") != who.member_id:
        return Check(
            "key-backup", WARN,
            "no record that this key was ever backed up: if this disk dies your organisation "
            "cannot sign again under its id; run `p2pnet key export --passphrase -o FILE` and "
            "keep the file offline, apart from the passphrase",
            "ไม่มีบันทึกว่าเคยสำรองกุญแจนี้: ถ้าดิสก์เสีย องค์กรของคุณจะลงนามในชื่อเดิมไม่ได้อีก "
            "สั่ง `p2pnet key export --passphrase -o ไฟล์` แล้วเก็บไฟล์ไว้นอกเครื่อง แยกจากรหัสผ่าน",
        )  # fmt: skip
    how = {"export": "exported", "import": "imported from a backup", "backup": "backed up"}.get(
        str(rec.get("how")), "backed up"
    )
    how_th = {"export": "ส่งออก", "import": "นำเข้าจากข้อมูลสำรอง", "backup": "สำรอง"}.get(
        str(rec.get("how")), "สำรอง"
    )
    enc = rec.get("encrypted") is True
    return Check(
        "key-backup", OK,
        f"the key was {how} on {_when(rec.get('ts'))}"
        + (" (encrypted)" if enc else " (unencrypted: keep that copy offline)"),
        f"กุญแจถูก{how_th}เมื่อ {_when(rec.get('ts'))}"
        + (" (เข้ารหัสแล้ว)" if enc else " (ไม่ได้เข้ารหัส: เก็บสำเนานั้นไว้นอกเครื่อง)"),
    )  # fmt: skip


def check_feed(conn: sqlite3.Connection, who: Identity) -> Check:
    row = conn.execute("SELECT value FROM meta WHERE key = 'network'").fetchone()
    if row is None:
        return Check(
            "feed", WARN,
            "this node is in no network yet: `p2pnet network create` or `p2pnet join TOKEN`",
            "โหนดนี้ยังไม่อยู่ในเครือข่าย: `p2pnet network create` หรือ `p2pnet join บัตรเชิญ`",
        )  # fmt: skip
    try:
        retired = conn.execute(
            "SELECT until_seq, how, next FROM member_keys WHERE key = ? AND until_seq IS NOT NULL",
            (who.public,),
        ).fetchone()
    except sqlite3.OperationalError:  # a store from before key hand-overs (migrated on start)
        retired = None
    if retired is not None:
        until, how, nxt = retired
        new = ids.member(nxt)
        if how == "rotate":
            return Check(
                "feed", FAIL,
                f"this key was handed over to {new} after its entry {until}, but the home still "
                "holds the old key: run any `p2pnet` command to finish the hand-over, or import "
                "the new key from its backup",
                f"กุญแจนี้ส่งต่อให้ {new} แล้วหลังรายการที่ {until} แต่โฟลเดอร์ยังเก็บกุญแจเก่า: "
                "เรียกคำสั่ง `p2pnet` ใดก็ได้เพื่อเปลี่ยนให้เสร็จ หรือนำเข้ากุญแจใหม่จากข้อมูลสำรอง",
            )  # fmt: skip
        return Check(
            "feed", FAIL,
            f"members vouched for a claim that key {new} is this member now: what this key signs "
            f"after its entry {until} counts nowhere. If the claim is yours, use that key's home; "
            "if not, call the members who endorse you (`p2pnet key history`)",
            f"สมาชิกยืนยันคำขอให้กุญแจ {new} เป็นสมาชิกนี้แล้ว: สิ่งที่กุญแจนี้ลงนามหลังรายการที่ {until} "
            "จะไม่ถูกนับ ถ้าคำขอเป็นของคุณ ให้ใช้โฟลเดอร์ของกุญแจนั้น ถ้าไม่ใช่ ให้ติดต่อสมาชิกที่รับรองคุณ",
        )  # fmt: skip
    feed = conn.execute("SELECT seq, forked FROM feeds WHERE author = ?", (who.public,)).fetchone()
    if feed is None:
        return Check(
            "feed", OK,
            f"in network {ids.network(row[0])}; your feed has no entry yet",
            f"อยู่ในเครือข่าย {ids.network(row[0])} ยังไม่มีรายการในสายข้อมูลของคุณ",
        )  # fmt: skip
    seq, forked = feed
    if forked:
        at = [r[0] for r in conn.execute(
            "SELECT DISTINCT seq FROM entries WHERE author = ? AND fork = 1 ORDER BY seq LIMIT 5",
            (who.public,),
        )]  # fmt: skip
        where = ", ".join(map(str, at)) or "?"
        return Check(
            "feed", FAIL,
            f"your feed is forked: your key signed two different entries with seq {where}, and "
            "every node shows you as forked; another node runs with this key (or a store "
            "restored from an old backup wrote before catching up): stop every other copy, "
            "then see docs/operations.md",
            f"สายข้อมูลของคุณแตกเป็นสองทาง: กุญแจของคุณลงนามสองรายการต่างกันที่ลำดับ {where} "
            "ทุกโหนดจะแสดงว่าคุณมีประวัติขัดกัน มีโหนดอื่นใช้กุญแจนี้อยู่ (หรือฐานข้อมูลที่กู้จากข้อมูลสำรองเก่า"
            "เขียนก่อนตามทัน): หยุดสำเนาอื่นทั้งหมด แล้วดู docs/operations.md",
        )  # fmt: skip
    return Check(
        "feed", OK,
        f"your feed has {seq} entries and is not forked",
        f"สายข้อมูลของคุณมี {seq} รายการ และไม่แตกเป็นสองทาง",
    )  # fmt: skip


def _when(ts: object) -> str:
    if not isinstance(ts, int) or isinstance(ts, bool):
        return "?"
    return dt.datetime.fromtimestamp(ts / 1000).strftime("%Y-%m-%d %H:%M")


# --------------------------------------------------------------------------- all of them


ALL_CHECKS = (
    "home", "key", "admin-token", "store", "config", "api-address", "public-url", "node",
    "ports", "peer-endpoint", "api", "reachability", "clock", "disk", "key-backup", "feed",
)  # fmt: skip


def run(home: Home, *, timeout: float = 5.0) -> Report:
    """Every check, in order; a check that cannot run without a failed one is skipped."""
    report = Report(str(home.path))

    def add(check_id: str, fn: Callable[[], Any]) -> Any:
        """Run a check and keep its verdicts; returns what it found beside them (a key, a
        connection, a configuration), None if it could not tell. An unexpected OS or
        SQLite error is that check's failure."""
        try:
            result = fn()
        except (OSError, sqlite3.Error) as exc:
            report.checks.append(Check(
                check_id, FAIL, f"could not check: {exc}", f"ตรวจไม่ได้: {exc}",
            ))  # fmt: skip
            return None
        verdicts, found = result if isinstance(result, tuple) else (result, None)
        report.checks.extend(verdicts if isinstance(verdicts, list) else [verdicts])
        return found

    def skip(*check_ids: str) -> None:
        report.skipped.extend(check_ids)

    add("home", lambda: check_home(home))
    if not home.path.is_dir():
        skip(*ALL_CHECKS[1:])
        return report
    who: Identity | None = add("key", lambda: check_key(home))
    add("admin-token", lambda: check_admin_token(home))
    conn: sqlite3.Connection | None = add("store", lambda: check_store(home))
    try:
        running = home.runtime()
        config: NodeConfig | None = add("config", lambda: check_config(home, running))
        if config is None:
            skip("api-address", "public-url")
        else:
            add("api-address", lambda: check_api_address(config))
            add("public-url", lambda: check_public_url(config))
        add("node", lambda: check_node(home, running))
        if running is not None:
            skip("ports")  # the running node holds them
            if who is None:
                skip("peer-endpoint", "api")
            else:
                add("api", lambda: check_running_endpoints(home, running, who, timeout))
        elif config is None:
            skip("ports")
        else:
            add("ports", lambda: check_ports(config))
        if conn is None or who is None or config is None:
            skip("reachability", "clock")
        else:
            own = {config.public_url.rstrip("/")}
            if running is not None:
                own.add(str(running.get("peer_url", "")))
            add("reachability", lambda: check_reachability(conn, who, config, timeout))
            add("clock", lambda: check_clock(conn, who, config, own, timeout))
        add("disk", lambda: check_disk(home))
        if conn is None or who is None:
            skip("key-backup", "feed")
        else:
            add("key-backup", lambda: check_key_backup(conn, who))
            add("feed", lambda: check_feed(conn, who))
    finally:
        if conn is not None:
            conn.close()
    return report
