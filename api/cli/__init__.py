"""The `seatflow` command: an edge, like HTTP; it drives the engine from a terminal.

    seatflow serve [--host 127.0.0.1] [--port 8000] [--data ./seatflow-data]
                   [--clock real|manual] [--redis URL] [--access-log]
    seatflow keys create --role ROLE [--agent ID] [--data DIR]
    seatflow replay [--data DIR] [--segments DIR]
    seatflow journal archive --before YYYY-MM-DD --segments DIR [--data DIR]
    seatflow payroll YYYY-MM [--data DIR] [--format table|json|csv|xlsx] [--output FILE]
    seatflow simulate ... | seatflow staffing ...   (plugged in by bench, see below)

`serve` and `keys create` take the data directory's lock (one writer per
journal); `replay` and `payroll` only read, so they work beside a running server
(SQLite WAL). Commands of packages above this one (the simulator and the staffing
calculator live in bench) plug in through the entry points of group
`seatflow.commands`: each is a function that adds its subparser, so this package
never imports them.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from importlib.metadata import entry_points

from api.cli import journal, keys, payroll, replay, serve

PLUGINS = "seatflow.commands"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="seatflow", description="Contact-center routing engine.")
    sub = p.add_subparsers(dest="command", required=True)
    for module in (serve, keys, replay, payroll, journal):
        module.add_parser(sub)
    for plugin in sorted(entry_points(group=PLUGINS), key=lambda e: e.name):
        plugin.load()(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = _parser().parse_args(argv)
    return int(args.run(args))
