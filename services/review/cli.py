"""Command line: ``python -m services.review {serve,create-user,set-password,sync,seed-synthetic}``.

Every command creates the review tables first, so a fresh SQLite file or empty PostgreSQL
database just works. Settings come from ``REVIEW_*`` variables (services/review/settings.py).
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
import time
from collections.abc import Sequence

from services.review.auth import MIN_PASSWORD_LENGTH, PasswordTooShort, UserExists, create_user, set_password
from services.review.database import make_engine, make_session_factory, make_tracker_engine
from services.review.indexer import TrackerUnavailable, refresh_planner_statistics, sync
from services.review.models import Base, Role
from services.review.settings import ReviewSettings
from services.review.state import utc_now

DEFAULT_PORT = 8078
EXIT_FAILED = 1
EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    result: int = args.run(args)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m services.review", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the review web app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.set_defaults(run=_serve)

    for name, run, help_text in (
        ("create-user", _create_user, "add a reviewer or an admin"),
        ("set-password", _set_password, "give a user a new password (signs them out everywhere)"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("username")
        if name == "create-user":
            command.add_argument("--role", choices=[role.value for role in Role], default=Role.REVIEWER.value)
        command.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
        command.set_defaults(run=run)

    indexer = commands.add_parser("sync", help="index what is new in the tracker store, once")
    indexer.set_defaults(run=_sync)

    seed = commands.add_parser("seed-synthetic", help="write made-up conversations into a tracker store")
    seed.add_argument("--conversations", type=int, default=1000)
    seed.add_argument("--tracker-url", help="SQLAlchemy URL (default: REVIEW_TRACKER_STORE_URL)")
    seed.add_argument("--days", type=int, default=30, help="spread over this many days before now")
    seed.add_argument("--seed", type=int, default=7)
    seed.set_defaults(run=_seed_synthetic)
    return parser


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from services.review.app import create_app

    # proxy_headers=False: uvicorn would otherwise trust X-Forwarded-For from 127.0.0.1 (its default
    # FORWARDED_ALLOW_IPS) before the app sees the peer; REVIEW_TRUSTED_PROXIES decides (proxy.py).
    uvicorn.run(
        create_app(ReviewSettings()),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        proxy_headers=False,
    )
    return 0


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise ValueError("the passwords differ")
    return first


def _create_user(args: argparse.Namespace) -> int:
    return _with_password(args, create=True)


def _set_password(args: argparse.Namespace) -> int:
    return _with_password(args, create=False)


def _with_password(args: argparse.Namespace, *, create: bool) -> int:
    try:
        password = _read_password(args.password_stdin)
    except (ValueError, EOFError) as error:
        print(f"No password: {error}", file=sys.stderr)
        return EXIT_USAGE
    if len(password) < MIN_PASSWORD_LENGTH:
        print(f"Refused: a password needs at least {MIN_PASSWORD_LENGTH} characters.", file=sys.stderr)
        return EXIT_USAGE
    engine = make_engine(ReviewSettings().database_url)
    try:
        Base.metadata.create_all(engine)
        with make_session_factory(engine)() as session, session.begin():
            if create:
                user = create_user(session, args.username, password, Role(args.role), utc_now())
                print(f"Created {user.role} {user.username!r}.")
            elif not set_password(session, args.username, password):
                print(f"No user {args.username!r}.", file=sys.stderr)
                return EXIT_FAILED
            else:
                print(f"New password set for {args.username!r}.")
    except (UserExists, PasswordTooShort, ValueError) as error:
        print(f"Refused: {error}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        engine.dispose()
    return 0


def _sync(_args: argparse.Namespace) -> int:
    settings = ReviewSettings()
    engine = make_engine(settings.database_url)
    tracker = make_tracker_engine(settings.tracker_store_url)
    started = time.monotonic()
    try:
        Base.metadata.create_all(engine)
        factory = make_session_factory(engine)
        result = sync(tracker, factory, batch_size=settings.sync_batch_size)
        if result.events:
            refresh_planner_statistics(factory)
    except TrackerUnavailable as error:
        print(f"The tracker store cannot be read: {error}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        tracker.dispose()
        engine.dispose()
    print(
        f"Indexed {result.events} events ({result.messages} user messages, "
        f"{result.conversations} conversations touched) in {time.monotonic() - started:.1f} s; "
        f"watermark {result.last_event_id}."
    )
    return 0


def _seed_synthetic(args: argparse.Namespace) -> int:
    from services.review.synthetic import tracker_engine_for_writing, write_conversations

    if args.conversations < 1:
        print("--conversations must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    url = args.tracker_url or ReviewSettings().tracker_store_url
    engine = tracker_engine_for_writing(url)
    try:
        written = write_conversations(engine, args.conversations, seed=args.seed, days=args.days)
    finally:
        engine.dispose()
    print(f"Wrote {args.conversations} conversations ({written} events) to the tracker store.")
    return 0
