"""What every command shares: the home, and the store and key opened once per run."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click

from .. import identity as idmod
from .. import directory, ids, keychain
from ..config import Home, NodeConfig
from ..entries import Entry
from ..identity import Identity
from ..store import Store
from .output import EXIT_NODE, EXIT_SETUP, CliError, note

# Node-local meta key holding the name given to ``init``, used for the first profile
# (at ``network create`` or ``join``): a profile can only be written inside a network.
DRAFT_PROFILE = "cli.draft_profile"

_THAI = re.compile("[\u0e00-\u0e7f]")


def name_fields(name: str | None, name_en: str | None = None) -> dict[str, str]:
    """``--name`` goes to ``name_th`` if it has Thai letters, else to ``name_en``."""
    out: dict[str, str] = {}
    if name:
        out["name_th" if _THAI.search(name) else "name_en"] = name.strip()
    if name_en:
        out["name_en"] = name_en.strip()
    return out


class App:
    """The state of one CLI invocation, kept in ``ctx.obj``."""

    def __init__(self, ctx: click.Context, home: Path | None) -> None:
        self.ctx = ctx
        self.home = Home(home)
        # hints name --home only when it was typed (P2PNET_HOME stays set in the shell)
        source = ctx.get_parameter_source("home")
        self.home_given = home is not None and source == click.core.ParameterSource.COMMANDLINE
        self._store: Store | None = None
        self._identity: Identity | None = None

    @property
    def prog(self) -> str:
        """``p2pnet`` plus ``--home`` when it was given, for hints the user can paste."""
        if self.home_given:
            return f"p2pnet --home {_quote(str(self.home.path))}"
        return "p2pnet"

    def store(self) -> Store:
        """The node's store; the home must exist (``init``)."""
        if self._store is None:
            self.home.require()
            self._store = Store(self.home.db_file)
            self.ctx.call_on_close(self.close)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def network_store(self) -> Store:
        """The store, which must belong to a network already."""
        s = self.store()
        if s.network is None:
            raise CliError(
                "this node is in no network yet: found one with "
                f"`{self.prog} network create --name NAME` "
                f"or join one with `{self.prog} join TOKEN`",
                EXIT_SETUP,
            )
        return s

    def identity(self) -> Identity:
        """This member's current key (finishing a hand-over a killed `key rotate` left)."""
        if self._identity is None:
            self.home.require()
            if self.home.next_key_file.exists():
                self._identity = keychain.settle_home_key(self.home, self.store())
            else:
                self._identity = idmod.load(self.home.key_file)
        return self._identity

    def member_id(self) -> str:
        """The member this home signs for: its first key's id, whichever key it holds now."""
        return directory.member_of_key(self.store().conn, self.identity().public)

    def config(self) -> NodeConfig:
        return self.home.load_config()

    def runtime(self) -> dict[str, Any] | None:
        """``node.json`` of the node running from this home, if it is alive."""
        return self.home.runtime()

    def require_running(self, why: str) -> dict[str, Any]:
        info = self.runtime()
        if info is None:
            raise CliError(
                f"the node is not running ({why}): start it with `{self.prog} run`", EXIT_NODE
            )
        return info

    def draft_profile(self) -> dict[str, Any]:
        raw = self.store().get_meta(DRAFT_PROFILE)
        return dict(json.loads(raw)) if raw else {}

    def my_endpoints(self) -> list[str]:
        """The peer URL others should use to reach this node: the configured public URL,
        else the running node's bound peer URL."""
        public = self.config().public_url
        if public:
            return [public.rstrip("/")]
        info = self.runtime()
        if info and info.get("peer_url"):
            return [str(info["peer_url"])]
        return []

    def wrote(self, entry: Entry, what: str) -> None:
        """Report a new entry and whether it will reach peers now."""
        click.echo(f"{what}: {ids.entry(entry.id)}")
        if self.runtime() is not None:
            note("the running node sends it to its peers within a second")
        else:
            note(f"the node is not running: it will be sent when you start it (`{self.prog} run`)")


def _quote(text: str) -> str:
    return (
        text if re.fullmatch(r"[\w@%+=:,./~-]+", text) else "'" + text.replace("'", "'\\''") + "'"
    )


pass_app = click.make_pass_decorator(App)
