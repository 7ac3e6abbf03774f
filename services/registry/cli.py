"""Command line: ``python -m services.registry {serve,migrate,seed-demo,import-csv}``.

Every command migrates the database to head first, so a fresh SQLite file or an empty PostgreSQL
database just works.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from core.ports import REGISTRY_PORT
from services.common.cli import add_serve, migrated, run
from services.registry.csv_import import import_csv
from services.registry.database import make_engine, make_session_factory
from services.registry.demo import seed_demo
from services.registry.migrate import MIGRATIONS
from services.registry.settings import DatabaseSettings, RegistrySettings, describe_settings_error

EXIT_REJECTED = 1
EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    return run(_parser(), argv)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m services.registry", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = add_serve(commands, "run the registry API (migrates first)", REGISTRY_PORT)
    serve.add_argument("--seed-demo", action="store_true", help="load the demo registry before serving")
    serve.set_defaults(run=_serve)

    migrate = commands.add_parser("migrate", help="bring the database schema to head")
    migrate.set_defaults(run=_migrate)

    seed = commands.add_parser("seed-demo", help="fill the registry with made-up demo recipients")
    seed.add_argument("--today", type=date.fromisoformat, help="date the upcoming appointments count from")
    seed.set_defaults(run=_seed_demo)

    load = commands.add_parser("import-csv", help="import a registry CSV, all rows or none")
    load.add_argument("file", type=Path)
    load.add_argument("--today", type=date.fromisoformat, help="the date no dose may be later than")
    load.set_defaults(run=_import_csv)
    return parser


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from services.registry.app import create_app

    try:
        settings = RegistrySettings()  # type: ignore[call-arg]  # the secrets come from the environment
    except ValidationError as error:
        print(f"The registry API will not start:\n{describe_settings_error(error)}", file=sys.stderr)
        return EXIT_USAGE
    if args.seed_demo:
        _seed(settings, settings.today())
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=args.log_level)
    return 0


def _migrate(_args: argparse.Namespace) -> int:
    with migrated(make_engine, DatabaseSettings().database_url, MIGRATIONS):
        pass
    print("Registry schema is at head.")
    return 0


def _seed_demo(args: argparse.Namespace) -> int:
    settings = DatabaseSettings()
    _seed(settings, args.today or settings.today())
    return 0


def _seed(settings: DatabaseSettings, today: date) -> None:
    with migrated(make_engine, settings.database_url, MIGRATIONS) as engine:
        counts = seed_demo(make_session_factory(engine), today)
    print(f"Demo registry loaded ({counts.summary()}).")
    # Not even the demo NIK is printed: logs are searched for the NIKs used in tests.
    print("The demo NIK and birth date to try are in services/registry/README.md.")


def _import_csv(args: argparse.Namespace) -> int:
    path: Path = args.file
    if not path.is_file():
        print(f"No such file: {path}", file=sys.stderr)
        return EXIT_USAGE
    settings = DatabaseSettings()
    with migrated(make_engine, settings.database_url, MIGRATIONS) as engine:
        result = import_csv(make_session_factory(engine), path, args.today or settings.today())
    if not result.ok:
        for rejected in result.rejected:
            print(rejected, file=sys.stderr)
        problems = f"{len(result.rejected)} of {result.rows} rows have problems"
        print(f"Import of {path} rejected: {problems}; nothing was written.", file=sys.stderr)
        return EXIT_REJECTED
    print(f"Imported {result.rows} rows from {path}: {result.counts.summary()}.")
    return 0
