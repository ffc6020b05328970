"""A session's times as seen from each reference zone (and any viewer's zone)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class ZonedSpan:
    label: str
    zone: str
    starts: datetime
    ends: datetime
    day_offset: int  # local start date minus the session's home date: -1, 0, +1

    @property
    def abbreviation(self) -> str:
        name = self.starts.tzname() or ""
        return "" if name[:1] in "+-" else name

    @property
    def utc_offset(self) -> str:
        """ "UTC+3", "UTC-5", "UTC+5:30"."""
        offset = self.starts.utcoffset()
        assert offset is not None
        minutes = int(offset.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        hours, rest = divmod(abs(minutes), 60)
        return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")

    def programme_style(self) -> str:
        """The way programmes like the Summit's write a span: "14h-15h30 CET (UTC+1)"."""
        span = f"{_hours(self.starts)}-{_hours(self.ends)}"
        suffix = f" {self.abbreviation}" if self.abbreviation else ""
        return f"{span}{suffix} ({self.utc_offset})"


def _hours(moment: datetime) -> str:
    return f"{moment.hour}h{moment.minute:02d}" if moment.minute else f"{moment.hour}h"


def spans_in_zones(
    starts_at: datetime, ends_at: datetime, zones: list[dict[str, str]], home_day: date
) -> list[ZonedSpan]:
    """The span in each ``{"label", "zone"}`` of ``zones``, in order."""
    spans = []
    for entry in zones:
        tz = ZoneInfo(entry["zone"])
        local_start, local_end = starts_at.astimezone(tz), ends_at.astimezone(tz)
        spans.append(
            ZonedSpan(
                label=entry["label"],
                zone=entry["zone"],
                starts=local_start,
                ends=local_end,
                day_offset=(local_start.date() - home_day).days,
            )
        )
    return spans
