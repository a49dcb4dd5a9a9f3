"""``python -m p2pnet``: the same program as the ``p2pnet`` command."""

from .cli import cli

if __name__ == "__main__":
    cli(prog_name="p2pnet")
