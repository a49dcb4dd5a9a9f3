"""Setting a node up: ``init``, ``network``, ``config`` and ``key``."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from .. import directory, ids
from .. import identity as idmod
from ..config import NodeConfig, config_from_dict, split_hostport
from ..doctor import record_key_backup
from ..errors import ConfigError, KeyFileError
from ..identity import Identity
from ..schema import NETWORK_KINDS
from ..store import Store
from .app import DRAFT_PROFILE, App, name_fields, pass_app
from .output import (
    EXIT_SETUP,
    EXIT_USAGE,
    CliError,
    emit_json,
    fields,
    json_option,
    member_counts,
    note,
    when,
)


def _prepare_home(app: App) -> None:
    """Folders, admin token, config and database, keeping whatever exists."""
    home = app.home
    home.create_dirs()
    if not home.token_file.exists():
        home.write_admin_token()
    if not home.config_file.exists():
        home.save_config(NodeConfig())
    Store(home.db_file).close()


def _with_addresses(
    config: NodeConfig, listen: str | None, api: str | None, public_url: str | None
) -> NodeConfig:
    changes: dict[str, Any] = {}
    if listen:
        split_hostport(listen, "--listen")
        changes["listen"] = listen
    if api:
        split_hostport(api, "--api")
        changes["api"] = api
    if public_url is not None:
        changes["public_url"] = _public_url(public_url)
    return dataclasses.replace(config, **changes)


def _public_url(url: str) -> str:
    from ..peers import normalise_url

    if not url:
        return ""
    try:
        return normalise_url(url)
    except ConfigError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None


@click.command()
@click.option("--name", required=True, help="Your organisation's name, in Thai or English.")
@click.option("--name-en", help="The English name, when --name is in Thai.")
@click.option("--listen", metavar="HOST:PORT", help="Peer endpoint address to save in config.toml.")
@click.option("--api", metavar="HOST:PORT", help="API and website address to save in config.toml.")
@click.option(
    "--public-url",
    metavar="URL",
    help="The URL other nodes use to reach this node's peer endpoint, e.g. "
    "http://203.0.113.5:7700 (put in invites and your profile).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace an existing member key. The old identity is lost unless you "
    "exported it (`p2pnet key export`).",
)
@pass_app
def init(
    app: App,
    name: str,
    name_en: str | None,
    listen: str | None,
    api: str | None,
    public_url: str | None,
    force: bool,
) -> None:
    """Create this member's key, database and config in the home folder.

    The name becomes your profile once you found or join a network.
    """
    home = app.home
    if home.key_file.exists() and not force:
        try:
            holder = idmod.load(home.key_file).member_id
        except KeyFileError:
            holder = "a member key"
        raise CliError(
            f"{home.path} already holds {holder}; refusing to replace it (use --force, after "
            f"`{app.prog} key export` if you may need the old identity)",
            EXIT_SETUP,
        )
    names = name_fields(name, name_en)
    config = _with_addresses(
        app.config() if home.config_file.exists() else NodeConfig(), listen, api, public_url
    )
    _prepare_home(app)
    who = Identity.generate()
    idmod.save(who, home.key_file, overwrite=force)
    home.save_config(config)
    s = app.store()
    s.set_meta(DRAFT_PROFILE, json.dumps(names, ensure_ascii=False))
    click.echo(f"member {who.member_id}")
    note(f"created {home.path} for {' / '.join(names.values())}")
    if s.network is not None:
        note(
            "this home is already in a network: publish your new key's profile with "
            f"`{app.prog} profile set --name NAME`"
        )
        return
    note(f'next: found a network   {app.prog} network create --name "NETWORK NAME" --kind hybrid')
    note(f"  or join one           {app.prog} join TOKEN   (ask a member for `p2pnet invite`)")
    note(f"then run the node       {app.prog} run")


@click.group()
def network() -> None:
    """Found a network, or show the one this node is in."""


@network.command("create")
@click.option("--name", required=True, help="The network's name (Thai or English).")
@click.option("--name-en", help="Its English name, when --name is in Thai.")
@click.option(
    "--purpose", default="", help="What brought the members together (common perception)."
)
@click.option("--purpose-en", default="", help="The purpose in English.")
@click.option("--vision", default="", help="Where the network is going (common vision).")
@click.option("--vision-en", default="", help="The vision in English.")
@click.option(
    "--kind",
    type=click.Choice(NETWORK_KINDS),
    default="hybrid",
    show_default=True,
    help="natural: like-minded members who found each other; formed: set up by policy; "
    "hybrid: developed, broad aims.",
)
@click.option(
    "--endorsements",
    type=click.IntRange(0, 100),
    default=1,
    show_default=True,
    help="Endorsements by admitted members a newcomer needs to be admitted.",
)
@pass_app
def network_create(
    app: App,
    name: str,
    name_en: str | None,
    purpose: str,
    purpose_en: str,
    vision: str,
    vision_en: str,
    kind: str,
    endorsements: int,
) -> None:
    """Found a network: sign its charter as this member's first entry."""
    s = app.store()
    if s.network is not None:
        raise CliError(
            f"this node is already in network {ids.network(s.network)}; "
            "use another --home for another network",
            EXIT_SETUP,
        )
    who = app.identity()
    body: dict[str, Any] = {
        "name": name.strip(),
        "kind": kind,
        "admission": {"endorsements": endorsements},
    }
    for key, value in (
        ("name_en", name_en),
        ("purpose", purpose),
        ("purpose_en", purpose_en),
        ("vision", vision),
        ("vision_en", vision_en),
    ):
        if value:
            body[key] = value.strip()
    genesis = s.create_network(who, body)
    profile = app.draft_profile()
    if profile:
        endpoints = app.my_endpoints()
        if endpoints:
            profile["endpoints"] = endpoints
        s.append(who, "profile", profile)
    click.echo(f"network {ids.network(genesis.id)}")
    note(f"founded «{name}» ({kind}); newcomers need {endorsements} endorsement(s)")
    if not profile:
        note(f"publish your profile: {app.prog} profile set --name NAME")
    note(f"next: run the node ({app.prog} run), then invite members ({app.prog} invite)")


@network.command("show")
@json_option
@pass_app
def network_show(app: App, as_json: bool) -> None:
    """Show the network's charter and a summary of its members."""
    s = app.network_store()
    summary = directory.network_summary(s.conn)
    charter = summary.get("charter") or {}
    assert s.network is not None
    if as_json:
        emit_json({"id": ids.network(s.network), **summary})
        return
    fields(
        [
            (
                "network",
                f"{charter.get('name', '?')}"
                + (f" / {charter['name_en']}" if charter.get("name_en") else ""),
            ),
            ("id", ids.network(s.network)),
            ("kind", charter.get("kind")),
            ("purpose", charter.get("purpose")),
            ("purpose (en)", charter.get("purpose_en")),
            ("vision", charter.get("vision")),
            ("vision (en)", charter.get("vision_en")),
            (
                "admission",
                f"{(charter.get('admission') or {}).get('endorsements', 1)} endorsement(s)",
            ),
            ("founded", when(charter.get("founded_ts"))),
            ("members", member_counts(summary)),
            ("activities", summary["activities"]),
            ("entries", summary["entries"]),
        ]
    )


@click.group()
def config() -> None:
    """Show or change the node's configuration (config.toml in the home)."""


@config.command("show")
@json_option
@pass_app
def config_show(app: App, as_json: bool) -> None:
    """Show every setting, with the home's paths."""
    cfg = app.config()
    values = dataclasses.asdict(cfg)
    paths = {
        "home": str(app.home.path),
        "config_file": str(app.home.config_file),
        "key_file": str(app.home.key_file),
        "db_file": str(app.home.db_file),
    }
    if as_json:
        emit_json({**paths, "config": values, "config_file_exists": app.home.config_file.exists()})
        return
    fields(list(paths.items()))
    if not app.home.config_file.exists():
        note("(no config.toml yet: these are the defaults)")
    fields([(k, json.dumps(v, ensure_ascii=False)) for k, v in values.items()])


@config.command("set")
@click.argument("key", type=click.Choice([f.name for f in dataclasses.fields(NodeConfig)]))
@click.argument("value")
@pass_app
def config_set(app: App, key: str, value: str) -> None:
    """Change one setting, e.g. `p2pnet config set public_url http://203.0.113.5:7700`.

    Settings a running node uses are read when it starts: restart it.
    """
    app.home.require()
    current = dataclasses.asdict(app.config())
    default = current[key]
    parsed: Any = value
    try:
        if isinstance(default, bool):
            if value.lower() not in ("true", "false", "yes", "no", "1", "0"):
                raise ValueError
            parsed = value.lower() in ("true", "yes", "1")
        elif isinstance(default, int):
            parsed = int(value)
        elif isinstance(default, float):
            parsed = float(value)
    except ValueError:
        raise CliError(
            f"{key} must be a {type(default).__name__}, not {value!r}", EXIT_USAGE
        ) from None
    if key == "public_url":
        parsed = _public_url(value)
    try:
        cfg = config_from_dict({**current, key: parsed}, source=key)
    except ConfigError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    app.home.save_config(cfg)
    click.echo(f"{key} = {json.dumps(getattr(cfg, key), ensure_ascii=False)}")
    if app.runtime() is not None:
        note("the node is running: restart it to use the new setting")


def ask_passphrase() -> bytes:
    """A new passphrase for an exported key, typed twice (on stderr; stdin may be a pipe)."""
    return str(
        click.prompt("passphrase", hide_input=True, confirmation_prompt=True, err=True)
    ).encode()


@click.group()
def key() -> None:
    """Back up or restore this member's private key."""


@key.command("export")
@click.option(
    "--passphrase", is_flag=True, help="Encrypt the exported key with a passphrase (asked for)."
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (mode 0600) instead of stdout.",
)
@pass_app
def key_export(app: App, passphrase: bool, output: Path | None) -> None:
    """Print the member's private key as PEM, for a backup.

    Anyone holding it can sign as your organisation: keep it safe.
    """
    who = app.identity()
    secret = ask_passphrase() if passphrase else None
    pem = who.to_pem(secret)
    if output is None:
        click.echo(pem.decode("ascii"), nl=False)
    else:
        try:
            fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise CliError(
                f"{output} already exists; refusing to overwrite it", EXIT_SETUP
            ) from None
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        note(f"wrote the key of {who.member_id} to {output}")
    record_key_backup(app.store().conn, who, "export", encrypted=secret is not None)
    if not passphrase:
        note("the key is not encrypted: anyone who reads it can sign as you (see --passphrase)")


@key.command("import")
@click.argument(
    "file", type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path)
)
@click.option("--force", is_flag=True, help="Replace this home's existing member key.")
@pass_app
def key_import(app: App, file: Path, force: bool) -> None:
    """Restore a member key exported with `key export` into this home.

    FILE is the PEM file, or - for stdin. Creates the home if needed. An
    encrypted key asks for its passphrase.
    """
    data = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    secret = None
    if b"ENCRYPTED" in data:
        secret = click.prompt("passphrase", hide_input=True, err=True).encode()
    who = Identity.from_pem(data, secret)
    home = app.home
    if home.key_file.exists():
        current = idmod.load(home.key_file)
        if current.public == who.public:
            record_key_backup(app.store().conn, who, "import", encrypted=secret is not None)
            click.echo(f"member {who.member_id}")
            note("this home already holds that key")
            return
        if not force:
            raise CliError(
                f"{home.path} already holds {current.member_id}; use --force to replace it",
                EXIT_SETUP,
            )
    _prepare_home(app)
    idmod.save(who, home.key_file, overwrite=force)
    # the file it came from is a backup of it
    record_key_backup(app.store().conn, who, "import", encrypted=secret is not None)
    click.echo(f"member {who.member_id}")
    note(f"imported into {home.path}")


COMMANDS = [init, network, config, key]
