"""The townhall command, run as a program: migrate, import, re-import, export, invite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, update

from townhall.cli_access import demo_links
from townhall.platform import programme
from townhall.platform.clock import SystemClock
from townhall.platform.db import make_engine, make_sessionmaker
from townhall.platform.models import (
    AuditEntry,
    ClockAnchor,
    Invitation,
    ProgrammeSession,
    Room,
    RoomEvent,
)
from townhall.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SUMMIT = ROOT / "programmes" / "mayors-summit-2021.toml"
PEOPLE_CHANGED = "room.people_changed"
DEMOCON = ROOT / "tests" / "data" / "examples" / "pretalx-democon.schedule.json"


@pytest.fixture
def townhall(tmp_path: Path):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TOWNHALL_")}
    environment |= {
        "TOWNHALL_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "TOWNHALL_SECRET_KEY": "cli-test-secret-0123456789",
        "TOWNHALL_PUBLIC_URL": "https://events.example.org",
    }

    def run(
        *args: str, ok: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "townhall", *args],
            cwd=tmp_path,
            env=environment | (env or {}),
            capture_output=True,
            text=True,
            timeout=60,
        )
        if ok:
            assert result.returncode == 0, result.stderr
        return result

    run("db", "upgrade")
    return run


def test_cli_imports_then_updates_in_place(townhall) -> None:
    first = townhall("programme", "import", str(SUMMIT))
    again = townhall("programme", "import", str(SUMMIT))
    assert (first.stdout, again.stdout) == (
        "mayors-summit-2021: 7 session(s) created, 0 updated, 0 removed\n",
        "mayors-summit-2021: 0 session(s) created, 7 updated, 0 removed\n",
    )


def test_cli_reimport_logs_changed_people_in_their_rooms_only(townhall, tmp_path: Path) -> None:
    """Open screens follow a re-imported file as they follow a seat filled in the console: the
    rooms whose people changed get ``room.people_changed`` (the server's sweep delivers it)."""
    renamed = tmp_path / "renamed.toml"
    renamed.write_text(
        SUMMIT.read_text().replace('name = "Sameh Wahba"', 'name = "Sameh N. Wahba"')
    )
    townhall("programme", "import", str(SUMMIT))
    townhall("programme", "import", str(SUMMIT))  # unchanged: nothing to tell
    unchanged = _rows(tmp_path, select(RoomEvent.room_id).where(RoomEvent.name == PEOPLE_CHANGED))
    townhall("programme", "import", str(renamed))
    logged = _rows(
        tmp_path,
        select(ProgrammeSession.slug, RoomEvent.data)
        .join(Room, Room.id == RoomEvent.room_id)
        .join(ProgrammeSession, ProgrammeSession.id == Room.session_id)
        .where(RoomEvent.name == PEOPLE_CHANGED),
    )
    assert unchanged == []
    assert [slug for slug, _ in logged] == ["workshop-1-building-resilience"]
    [(_, data)] = logged
    assert {"key": "sameh-wahba", "credit": "Sameh N. Wahba"}.items() <= next(
        p for p in data["people"] if p["key"] == "sameh-wahba"
    ).items()


def test_cli_refuses_a_broken_file_naming_the_place(townhall, tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text(
        SUMMIT.read_text().replace('timezone = "Europe/Istanbul"', 'timezone = "Mars/Olympus"', 1)
    )
    result = townhall("programme", "import", str(broken), ok=False)
    assert (result.returncode, result.stderr.splitlines()) == (
        1,
        [
            f"{broken}: event: field 'timezone': unknown time zone 'Mars/Olympus'",
            f"{broken}: not imported (1 problem(s))",
        ],
    )


def test_cli_exports_each_interchange_format(townhall) -> None:
    townhall("programme", "import", str(SUMMIT))
    schedule = json.loads(townhall("programme", "export", "--format", "json").stdout)
    xml = townhall("programme", "export", "--format", "xml").stdout
    ics = townhall("programme", "export", "--format", "ics").stdout
    assert schedule["schedule"]["conference"]["title"] == "3rd Mayors Summit on Living Together"
    assert xml.startswith("<?xml") and "<schedule" in xml
    assert ics.startswith("BEGIN:VCALENDAR") and ics.count("BEGIN:VEVENT") == 7


def test_cli_imports_a_pretalx_schedule(townhall) -> None:
    result = townhall("programme", "import", str(DEMOCON))
    assert result.stdout.endswith("36 session(s) created, 0 updated, 0 removed\n")


def test_cli_invite_prints_the_link_on_its_last_line(townhall) -> None:
    townhall("programme", "import", str(SUMMIT))
    result = townhall(
        "invite", "moderator", "--event", "mayors-summit-2021", "--person", "Özden Fırat"
    )
    refused = townhall("invite", "moderator", "--event", "mayors-summit-2021", ok=False)
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("https://events.example.org/invitations/")
    assert "Begüm Özden Fırat" in result.stdout
    assert (refused.returncode, refused.stderr.strip()) == (
        1,
        "townhall invite: a moderator invitation needs a session or a person of the programme",
    )


def test_cli_invite_for_a_slot_names_the_slot(townhall) -> None:
    townhall("programme", "import", str(SUMMIT))
    result = townhall(
        "invite",
        "panelist",
        "--event",
        "mayors-summit-2021",
        "--session",
        "workshop-1-building-resilience",
        "--slot",
        "Paris",
    )
    unknown = townhall(
        "invite",
        "panelist",
        "--event",
        "mayors-summit-2021",
        "--slot",
        "Paris",
        ok=False,
    )
    lines = result.stdout.strip().splitlines()
    assert (lines[0], lines[-1].startswith("https://events.example.org/invitations/")) == (
        "panelist invitation for Mayor of Paris, valid 30 days:",
        True,
    )
    assert (unknown.returncode, unknown.stderr.strip()) == (
        1,
        "townhall invite: --slot needs --session",
    )


async def test_make_run_links_include_the_paris_seat(sqlite_database_url, summit_spec) -> None:
    settings = Settings(
        database_url=sqlite_database_url,
        public_url="https://events.example.org",
        secret_key="cli-test-secret-0123456789",
    )
    engine = make_engine(sqlite_database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            await programme.import_programme(db, spec=summit_spec)
            await db.commit()
            clock = SystemClock()
            first = await demo_links(db, settings, "mayors-summit-2021", clock)
            again = await demo_links(db, settings, "mayors-summit-2021", clock)
    finally:
        await engine.dispose()

    labels = [line.splitlines()[0].strip() for line in first]
    assert (labels[4], first == again) == (
        "Panelist — Mayor of Paris (the Paris seat on Thematic workshop 1's panel):",
        True,
    )


def test_cli_seat_fills_a_slot_and_keeps_its_invitation(townhall) -> None:
    townhall("programme", "import", str(SUMMIT))
    slot = ("--event", "mayors-summit-2021", "--session", "workshop-1-building-resilience")
    invited = townhall("invite", "panelist", *slot, "--slot", "Paris")
    seated = townhall(
        "seat",
        *slot,
        "--slot",
        "Paris",
        "--name",
        "Anne Hidalgo",
        "--honorific",
        "Ms",
        "--confirmed",
    )
    again = townhall("invite", "panelist", *slot, "--slot", "Anne Hidalgo")
    missing = townhall("seat", *slot, "--slot", "Lyon", "--name", "X", ok=False)
    assert (
        invited.stdout.splitlines()[0],
        seated.stdout,
        again.stdout.splitlines()[0],
        missing.returncode,
        missing.stderr.startswith("townhall seat: the session has no slot 'Lyon'"),
    ) == (
        "panelist invitation for Mayor of Paris, valid 30 days:",
        "workshop-1-building-resilience.5: Mayor of Paris (tbc) is now Ms Anne Hidalgo\n",
        "panelist invitation for Anne Hidalgo, valid 30 days:",
        1,
        True,
    )


# ---- one clock: the commands stamp what they record on the server's event clock ----------
REHEARSAL = "2021-12-08T15:50:00+03:00"
REHEARSAL_UTC = datetime(2021, 12, 8, 12, 50, tzinfo=UTC)


def _rows(tmp_path: Path, query):
    engine = create_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    try:
        with engine.connect() as connection:
            return connection.execute(query).all()
    finally:
        engine.dispose()


def _as_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_cli_invite_and_seat_use_the_rehearsal_clock(townhall, tmp_path: Path) -> None:
    townhall("programme", "import", str(SUMMIT))
    rehearsal = {"TOWNHALL_NOW": REHEARSAL}
    slot = ("--event", "mayors-summit-2021", "--session", "workshop-1-building-resilience")
    townhall("invite", "panelist", *slot, "--slot", "Paris", "--days", "2", env=rehearsal)
    townhall("seat", *slot, "--slot", "Paris", "--name", "Anne Hidalgo", env=rehearsal)

    [(created, expires)] = _rows(tmp_path, select(Invitation.created_at, Invitation.expires_at))
    logged = _rows(tmp_path, select(AuditEntry.action, AuditEntry.at).order_by(AuditEntry.id))
    # A few seconds of rehearsal pass between the commands; never the years to the wall clock.
    late = lambda at: _as_utc(at) - REHEARSAL_UTC  # noqa: E731
    assert (
        [a for a, _ in logged],
        all(timedelta(0) <= late(at) < timedelta(minutes=5) for _, at in logged),
        timedelta(0) <= late(created) < timedelta(minutes=5),
        _as_utc(expires) - _as_utc(created),
    ) == (["invitation.created", "slot.seated"], True, True, timedelta(days=2))


# ---- make run: `townhall serve --setup`, as the Makefile runs it ---------------------------
def _serve_setup(tmp_path: Path, environment: dict[str, str]) -> list[str]:
    """Run ``townhall serve --setup`` until the server is up; everything it printed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "townhall", "serve", "--setup"],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    up = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if "Application startup complete" in line:
                up.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert up.wait(timeout=90), "\n".join(lines)
    finally:
        process.terminate()
        process.wait(timeout=30)
        reader.join(timeout=10)
        assert process.stdout is not None
        process.stdout.close()
    return lines


@pytest.fixture
def make_run(tmp_path: Path):
    from support.servers import free_port

    environment = {k: v for k, v in os.environ.items() if not k.startswith("TOWNHALL_")}
    environment |= {
        "TOWNHALL_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "TOWNHALL_SECRET_KEY": "cli-test-secret-0123456789",
        "TOWNHALL_PORT": str(free_port()),
        "TOWNHALL_NOW": REHEARSAL,
    }
    return lambda: _serve_setup(tmp_path, environment)


def test_make_run_prints_event_time_the_workshop_room_and_its_big_screen(
    make_run, tmp_path: Path
) -> None:
    lines = make_run()

    port = lines[0].rsplit(":", 1)[1]
    room = f"http://127.0.0.1:{port}/events/mayors-summit-2021/rooms/"
    title = "Thematic workshop 1: Building resilience in cities"
    at = lines.index(f"  {title} — its room (audience Q&A):")
    assert (
        lines[1],
        lines[at + 1].startswith(f"    {room}"),
        lines[at + 2],
        lines[at + 3].startswith(lines[at + 1] + "/screen/"),
        [line for line in lines if "alembic" in line or "Warning" in line],
    ) == (
        "Event clock (rehearsal): starts at 8 Dec 2021, 15:50:00 (Izmir) and runs on from there",
        True,
        f"  {title} — the big screen (for the hall's projector):",
        True,
        [],
    )


def test_make_run_after_a_restart_says_the_clock_resumed(make_run, tmp_path: Path) -> None:
    make_run()
    # Ten minutes of rehearsal pass before the restart (the anchor is ten minutes older).
    engine = create_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with engine.begin() as connection:
        [(anchor, anchored_at)] = connection.execute(
            select(ClockAnchor.id, ClockAnchor.anchored_at)
        )
        connection.execute(
            update(ClockAnchor)
            .where(ClockAnchor.id == anchor)
            .values(anchored_at=anchored_at - timedelta(minutes=10))
        )
    engine.dispose()

    again = make_run()

    assert (
        again[1].startswith("Event clock (rehearsal, resumed): it is 8 Dec 2021, 16:00:"),
        again[1].endswith(" (Izmir); the rehearsal began at 8 Dec 2021, 15:50 (Izmir)"),
        any("starts at" in line for line in again),
    ) == (True, True, False), again[:3]
