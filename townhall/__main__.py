"""The ``townhall`` command: serve, migrate, import and export programmes, invite, seat.

``python -m townhall …`` and the ``townhall`` entry point are the same program. Settings come
from ``TOWNHALL_*`` variables; a bad one stops the command with one line naming it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import logging.config
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from townhall.log_format import TEXT_FORMAT, logging_config, quiet_chatty_loggers
from townhall.settings import Settings, SettingsError, load_settings

log = logging.getLogger("townhall")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"townhall: invalid setting: {exc}", file=sys.stderr)
        return 2
    if settings.log_format == "json":
        logging.config.dictConfig(log_config(settings))
    else:
        logging.basicConfig(level=settings.log_level.upper(), format=TEXT_FORMAT)
        quiet_chatty_loggers(settings.log_level)
    handler: Callable[[Settings, argparse.Namespace], int] = args.handler
    try:
        return handler(settings, args)
    except KeyboardInterrupt:
        return 130


def log_config(settings: Settings) -> dict[str, Any]:
    return logging_config(
        level=settings.log_level,
        json_format=settings.log_format == "json",
        process=settings.process_name,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="townhall", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the web server")
    serve.add_argument(
        "--setup",
        action="store_true",
        help="migrate, load the Summit programme into an empty database and print role links",
    )
    serve.set_defaults(handler=run_serve)

    database = commands.add_parser("db", help="database schema").add_subparsers(required=True)
    database.add_parser("upgrade", help="apply all migrations").set_defaults(handler=run_upgrade)

    prog = commands.add_parser("programme", help="import or export a programme")
    prog_commands = prog.add_subparsers(required=True)
    importing = prog_commands.add_parser(
        "import", help="import a programme file (TOML or pretalx schedule.json)"
    )
    importing.add_argument("file", type=Path)
    importing.set_defaults(handler=run_import)
    exporting = prog_commands.add_parser(
        "export", help="print a programme in an interchange format"
    )
    exporting.add_argument("--format", choices=("ics", "xml", "json"), required=True)
    exporting.add_argument("--event", help="event slug (default: the only event)")
    exporting.set_defaults(handler=run_export)

    invite = commands.add_parser("invite", help="print an invitation link for a role")
    invite.add_argument("role", choices=("organizer", "moderator", "panelist"))
    invite.add_argument("--event", required=True, help="event slug")
    invite.add_argument("--session", help="programme session slug (moderators, panelists)")
    invite.add_argument("--person", help="programme person: key, name or a unique part of it")
    invite.add_argument(
        "--slot",
        help='a slot of --session ("Paris", its key or its position from 1): the invitee '
        "becomes that slot",
    )
    invite.add_argument("--days", type=int, default=30, help="days the link stays valid (1-365)")
    invite.set_defaults(handler=run_invite)

    seat = commands.add_parser("seat", help='seat a person in a programme slot ("Paris (tbc)")')
    seat.add_argument("--event", required=True, help="event slug")
    seat.add_argument("--session", required=True, help="programme session slug")
    seat.add_argument("--slot", required=True, help="the slot: its city, label, key or position")
    seat.add_argument("--name", required=True, help="the person's name, without honorific")
    for option in ("honorific", "postnominals", "position", "city", "organisation"):
        seat.add_argument(f"--{option}")
    seat.add_argument(
        "--confirmed", action="store_true", help="the person confirmed: clear the slot's tbc"
    )
    seat.set_defaults(handler=run_seat)
    return parser


def run_seat(settings: Settings, args: argparse.Namespace) -> int:
    from townhall.cli_access import seat

    return run_async(seat(settings, args))


def run_invite(settings: Settings, args: argparse.Namespace) -> int:
    from townhall.cli_access import invite

    if not 1 <= args.days <= 365:
        print("townhall invite: --days must be between 1 and 365", file=sys.stderr)
        return 2
    return run_async(
        invite(
            settings, args.role, args.event, args.session, args.person, args.days, slot=args.slot
        )
    )


def run_async(work: Awaitable[int]) -> int:
    return asyncio.run(work)  # type: ignore[arg-type]


def run_upgrade(settings: Settings, _args: argparse.Namespace) -> int:
    from townhall.migrate import upgrade

    upgrade(settings.database_url)
    print("database is at the latest schema")
    return 0


def run_import(settings: Settings, args: argparse.Namespace) -> int:
    from townhall.cli_programme import import_file

    return run_async(import_file(settings, args.file))


def run_export(settings: Settings, args: argparse.Namespace) -> int:
    from townhall.cli_programme import export_programme

    return run_async(export_programme(settings, args.format, args.event))


def run_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from townhall.cli_programme import setup_demo

    if args.setup:
        from townhall.migrate import upgrade

        upgrade(settings.database_url)
        run_async(setup_demo(settings))
    extra: dict[str, Any] = {}
    if settings.log_format == "json":  # else uvicorn's own format, as before
        extra["log_config"] = log_config(settings)
    uvicorn.run(
        "townhall.app:app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        ws="websockets-sansio",
        # Above the application's own limit, so oversized messages get a typed error.
        ws_max_size=max(1024 * 1024, 2 * settings.ws_max_message_bytes),
        ws_per_message_deflate=False,
        # Behind a reverse proxy, the client is the address the proxy forwards, so rate limits
        # (new identities per address) count each person, not the proxy.
        proxy_headers=True,
        forwarded_allow_ips=list(settings.forwarded_allow_ips),
        log_level=settings.log_level,
        workers=settings.workers if settings.workers > 1 else None,
        **extra,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
