"""What both services' command lines share: subcommands, ``serve``'s options, a migrated database.

Every command that touches the database migrates it to head first, so a fresh SQLite file or an
empty PostgreSQL database just works.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import Engine

from services.common.migrate import Migrations


def run(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> int:
    """Parse, set up logging, run the chosen command (each sets ``run`` to a function of the args)."""
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    result: int = args.run(args)
    return result


def add_serve(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], help_text: str, port: int
) -> argparse.ArgumentParser:
    serve: argparse.ArgumentParser = commands.add_parser("serve", help=help_text)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=port)
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    return serve


@contextmanager
def migrated(make_engine: Callable[[str], Engine], url: str, migrations: Migrations) -> Iterator[Engine]:
    """An engine on ``url``, its schema at head; disposed afterwards."""
    engine = make_engine(url)
    try:
        migrations.upgrade_to_head(engine)
        yield engine
    finally:
        engine.dispose()
