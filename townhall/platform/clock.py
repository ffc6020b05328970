"""The event clock: wall time, or a rehearsal clock that runs forward from a chosen instant.

Everything that asks "what time is it?" for the programme asks a :class:`Clock`. Tests use a
:class:`ManualClock`; rehearsals and demos an :class:`OffsetClock` whose offset all server
processes share (see :func:`townhall.platform.rehearsal.anchor_offset`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class OffsetClock:
    """Wall time shifted by an offset: starts at a rehearsal instant and runs forward."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def set_offset(self, offset: timedelta) -> None:
        self.offset = offset

    @property
    def is_rehearsal(self) -> bool:
        return abs(self.offset) > timedelta(seconds=1)


class ManualClock:
    """A clock that moves only when told to (tests)."""

    def __init__(self, at: datetime) -> None:
        self._at = as_utc(at)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = as_utc(at)

    def advance(self, delta: timedelta) -> None:
        self._at += delta


def as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; give a UTC offset")
    return value.astimezone(UTC)
