"""The ``p2pnet`` command: how an organisation's admin runs its node.

One click group, ``cli``, with the global ``--home``; one module per group of
commands. Commands open, call the core (or the running node's API), and print.
Errors become one line on stderr and an exit code in ``output.P2pnetGroup``.
See docs/cli.md for every command and the exit codes.
"""

from __future__ import annotations

from pathlib import Path

import click

from .. import __version__
from . import backup, block, doctor, invite, keys, maintenance, node, peers, query, setup, together, write
from .app import App
from .output import P2pnetGroup

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(cls=P2pnetGroup, context_settings=CONTEXT_SETTINGS)
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="P2PNET_HOME",
    show_envvar=True,
    help="The node's home folder: its member key, database and config.toml. "
    "Defaults to ~/.p2pnet. Use one home per organisation (and per network).",
)
@click.version_option(__version__, "--version", prog_name="p2pnet")
@click.pass_context
def cli(ctx: click.Context, home: Path | None) -> None:
    """p2pnet: a peer-to-peer directory for networks of organisations (เครือข่าย).

    Start with `p2pnet init --name NAME`, then `p2pnet network create` (found a
    network) or `p2pnet join TOKEN` (join one), then `p2pnet run`.
    Try `p2pnet demo` to see a small live network on this machine.
    """
    ctx.obj = App(ctx, home)


for _module in (setup, keys, node, invite, write, query, peers, together, block, maintenance, doctor, backup):
    for _command in _module.COMMANDS:
        cli.add_command(_command)

__all__ = ["cli"]
