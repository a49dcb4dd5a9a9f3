"""Node configuration: a small TOML file in the node's home, and its defaults.

Home layout (``--home``, env ``P2PNET_HOME``, default ``~/.p2pnet``)::

    member.key      the member's Ed25519 key, mode 0600
    admin.token     the local API's admin token, mode 0600
    node.sqlite3    the log and the directory
    config.toml     listen/API addresses, public URL, gossip settings
    node.json       written by a running node: pid and bound addresses
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError

DEFAULT_HOME = Path("~/.p2pnet")
DEFAULT_LISTEN = "0.0.0.0:7700"
DEFAULT_API = "127.0.0.1:7701"
DEFAULT_GOSSIP_INTERVAL = 5.0
DEFAULT_FANOUT = 2
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
DEFAULT_MAX_BATCH = 2000
DEFAULT_RATE_PER_MINUTE = 600
DEFAULT_REPLAY_WINDOW = 300.0
# Slow clients (docs/protocol.md, section 8): longer than aiohttp clients' 15 s keep-alive,
# so a peer never reuses a connection the node is closing; 8 MiB in 60 s needs ~1.1 Mbit/s.
DEFAULT_IDLE_TIMEOUT = 20.0
DEFAULT_BODY_TIMEOUT = 60.0
DEFAULT_MAX_CONNECTIONS_PER_IP = 128


@dataclass(frozen=True, kw_only=True)
class NodeConfig:
    """Everything a node needs to run, built once by the CLI."""

    listen: str = DEFAULT_LISTEN
    api: str = DEFAULT_API
    public_url: str = ""
    gossip_interval: float = DEFAULT_GOSSIP_INTERVAL
    fanout: int = DEFAULT_FANOUT
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_batch: int = DEFAULT_MAX_BATCH
    rate_per_minute: int = DEFAULT_RATE_PER_MINUTE
    replay_window: float = DEFAULT_REPLAY_WINDOW
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT  # s to send a request head, and idle between requests
    body_timeout: float = DEFAULT_BODY_TIMEOUT  # s for a request body to arrive in full
    max_connections_per_ip: int = DEFAULT_MAX_CONNECTIONS_PER_IP  # open at once, per listener
    open_api: bool = False  # serve reads without the token on a non-loopback API address
    cors_origins: str = ""  # comma-separated origins allowed to call the API from a browser; none by default
    verify_workers: int = 0  # processes that verify signatures in big catch-ups; 0: one per core


def split_hostport(value: str, what: str = "address") -> tuple[str, int]:
    """``"127.0.0.1:7700"`` -> ``("127.0.0.1", 7700)``; ConfigError names what is wrong."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"{what} {value!r} must be HOST:PORT, e.g. 127.0.0.1:7700")
    return host.strip("[]"), int(port)


class Home:
    """A node's home folder."""

    def __init__(self, path: str | Path | None = None) -> None:
        raw = path or os.environ.get("P2PNET_HOME") or DEFAULT_HOME
        self.path = Path(raw).expanduser()

    @property
    def key_file(self) -> Path:
        return self.path / "member.key"

    @property
    def next_key_file(self) -> Path:
        """The new key during a hand-over (``p2pnet key rotate``), until it replaces the old."""
        return self.path / "member.key.next"

    @property
    def retired_keys_dir(self) -> Path:
        """Keys this member handed over, kept (0600) to read old backups and prove history."""
        return self.path / "retired-keys"

    @property
    def token_file(self) -> Path:
        return self.path / "admin.token"

    @property
    def db_file(self) -> Path:
        return self.path / "node.sqlite3"

    @property
    def config_file(self) -> Path:
        return self.path / "config.toml"

    @property
    def runtime_file(self) -> Path:
        return self.path / "node.json"

    def exists(self) -> bool:
        return self.key_file.exists()

    def require(self) -> None:
        if not self.path.is_dir() or not self.key_file.exists():
            raise ConfigError(
                f"no p2pnet node at {self.path}: run `p2pnet --home {self.path} init --name NAME` first"
            )

    def create_dirs(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)

    def admin_token(self) -> str:
        try:
            return self.token_file.read_text().strip()
        except FileNotFoundError:
            raise ConfigError(f"no admin token at {self.token_file}") from None

    def write_admin_token(self) -> str:
        token = secrets.token_urlsafe(32)
        fd = os.open(self.token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(token + "\n")
        return token

    def load_config(self) -> NodeConfig:
        if not self.config_file.exists():
            return NodeConfig()
        try:
            data = tomllib.loads(self.config_file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{self.config_file} is not valid TOML: {exc}") from exc
        return config_from_dict(data, source=str(self.config_file))

    def save_config(self, config: NodeConfig) -> None:
        lines = ["# p2pnet node configuration (see docs/operations.md)"]
        for f in dataclasses.fields(config):
            lines.append(f"{f.name} = {_toml_value(getattr(config, f.name))}")
        tmp = self.config_file.with_suffix(".tmp")
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        tmp.replace(self.config_file)

    def runtime(self) -> dict[str, Any] | None:
        """What a running node wrote about itself, if its process is alive."""
        try:
            info = json.loads(self.runtime_file.read_text())
        except (FileNotFoundError, ValueError):
            return None
        pid = info.get("pid")
        if not isinstance(pid, int):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return dict(info)


def config_from_dict(data: dict[str, Any], *, source: str = "config") -> NodeConfig:
    known = {f.name: f for f in dataclasses.fields(NodeConfig)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise ConfigError(f"{source}: unknown setting {key!r} (known: {', '.join(known)})")
        default = known[key].default
        if isinstance(default, bool) and not isinstance(value, bool):
            raise ConfigError(f"{source}: {key} must be true or false")
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not type(default):
            raise ConfigError(f"{source}: {key} must be a {type(default).__name__}")
        values[key] = value
    config = NodeConfig(**values)
    split_hostport(config.listen, "listen")
    split_hostport(config.api, "api")
    for name in ("gossip_interval", "idle_timeout", "body_timeout", "max_connections_per_ip"):
        if getattr(config, name) <= 0:
            raise ConfigError(f"{source}: {name} must be positive")
    return config


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)
