"""Command line: ``python -m services.review {serve,migrate,create-user,set-password,sync,waiting,
release}``.

Every command migrates the review database to head first, so a fresh SQLite file or an empty
PostgreSQL database just works. Settings come from ``REVIEW_*`` variables (services/review/settings.py).
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from collections.abc import Sequence

import httpx

from core.ports import REVIEW_PORT
from services.common.cli import add_serve, migrated, run
from services.review.auth import MIN_PASSWORD_LENGTH, PasswordTooShort, UserExists, create_user, set_password
from services.review.conversations import waiting_for_officer
from services.review.database import make_engine, make_session_factory, make_tracker_engine
from services.review.indexer import TrackerUnavailable, refresh_planner_statistics, sync
from services.review.migrate import MIGRATIONS
from services.review.models import Role
from services.review.rasa_client import RasaUnavailable, release_handoff
from services.review.settings import ReviewSettings
from services.review.state import utc_now

EXIT_FAILED = 1
EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    return run(_parser(), argv)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m services.review", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    add_serve(commands, "run the review web app (migrates first)", REVIEW_PORT).set_defaults(run=_serve)
    commands.add_parser("migrate", help="bring the database schema to head").set_defaults(run=_migrate)

    for name, handler, help_text in (
        ("create-user", _create_user, "add a user: reviewer, admin, approver or officer (--role)"),
        ("set-password", _set_password, "give a user a new password (signs them out everywhere)"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("username")
        if name == "create-user":
            command.add_argument("--role", choices=[role.value for role in Role], default=Role.REVIEWER.value)
        command.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
        command.set_defaults(run=handler)

    commands.add_parser("sync", help="index what is new in the tracker store, once").set_defaults(run=_sync)
    waiting = commands.add_parser("waiting", help="conversations waiting for an officer, longest first")
    waiting.set_defaults(run=_waiting)
    release = commands.add_parser("release", help="hand a conversation back to the bot (REVIEW_RASA_URL)")
    release.add_argument("conversation")
    release.set_defaults(run=_release)

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


def _migrate(_args: argparse.Namespace) -> int:
    with migrated(make_engine, ReviewSettings().database_url, MIGRATIONS):
        print("Review schema is at head.")
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
    try:
        with (
            migrated(make_engine, ReviewSettings().database_url, MIGRATIONS) as engine,
            make_session_factory(engine)() as session,
            session.begin(),
        ):
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
    return 0


def _sync(_args: argparse.Namespace) -> int:
    settings = ReviewSettings()
    tracker = make_tracker_engine(settings.tracker_store_url)
    started = time.monotonic()
    try:
        with migrated(make_engine, settings.database_url, MIGRATIONS) as engine:
            factory = make_session_factory(engine)
            result = sync(tracker, factory, batch_size=settings.sync_batch_size)
            if result.events:
                refresh_planner_statistics(factory)
    except TrackerUnavailable as error:
        print(f"The tracker store cannot be read: {error}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        tracker.dispose()
    print(
        f"Indexed {result.events} events ({result.messages} user messages, "
        f"{result.conversations} conversations touched) in {time.monotonic() - started:.1f} s; "
        f"watermark {result.last_event_id}."
    )
    return 0


def _waiting(args: argparse.Namespace) -> int:
    """Indexes the tracker store first, so the list is as fresh as the conversation page's."""
    if (failed := _sync(args)) != 0:
        return failed
    settings = ReviewSettings()
    with (
        migrated(make_engine, settings.database_url, MIGRATIONS) as engine,
        make_session_factory(engine)() as session,
    ):
        found = waiting_for_officer(session)
    for entry in found:
        since = entry.since.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M %Z")
        print(f"{entry.conversation_id}\twaiting since {since}\t{entry.messages_since} message(s) since")
    print(f"{len(found)} conversation(s) waiting for an officer", file=sys.stderr)
    return 0


def _release(args: argparse.Namespace) -> int:
    settings = ReviewSettings()
    try:
        with httpx.Client(base_url=settings.rasa_url, timeout=settings.rasa_timeout_seconds) as rasa:
            release_handoff(rasa, args.conversation, settings.rasa_api_token.get_secret_value())
    except RasaUnavailable as error:
        print(f"{args.conversation} was not handed back: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{args.conversation}: back with the bot", file=sys.stderr)
    return 0
