"""The session report laid out for people: its charts (SVG, :mod:`.charts`) and the table
behind each one (the CSV files), from the figures of
:func:`townhall.platform.session_report.build_report`.

Times are shown on the event's clock ("13:05" in Izmir); the tables keep UTC instants.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from .charts import Bar, Series, Span, Svg, bar_chart, line_chart, timeline

NO_CITY = "No city given"
EPOCH = datetime.fromtimestamp(0, UTC)  # the origin of an empty chart


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: list[dict[str, Any]]


@dataclass(frozen=True)
class Chart:
    name: str  # also the CSV file's name: {name}.csv
    title: str
    svg: Svg
    summary: str  # the figures in one sentence, for the page and screen readers


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def duration(seconds: float | None) -> str:
    """ "2 min 5 s", "45 s", "1 h 2 min"; an em dash for no value."""
    if seconds is None:
        return "—"
    if seconds < 10 and not float(seconds).is_integer():
        return f"{seconds:.1f} s"  # a moderator's click: tenths still tell waits apart
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def number(value: float | None) -> str:
    """6.0 as "6", 6.5 as "6.5"; an em dash for no value."""
    if value is None:
        return "—"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def share(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)} %"


def _clock_labels(
    instants: Sequence[datetime], zone: ZoneInfo, origin: datetime
) -> list[tuple[float, str]]:
    """Labels at the first, middle and last instants (seconds after ``origin``)."""
    if not instants:
        return []
    picks = sorted({0, len(instants) // 2, len(instants) - 1})
    return [
        ((instants[i] - origin).total_seconds(), instants[i].astimezone(zone).strftime("%H:%M"))
        for i in picks
    ]


def tables(report: dict[str, Any]) -> dict[str, Table]:
    """The data behind each chart, by chart name."""
    questions, floor = report["questions"], report["floor"]
    return {
        "attendance": Table(("at", "audience", "panel", "staff"), report["attendance"]["samples"]),
        "questions-per-minute": Table(
            ("minute", "asked", "approved", "answered"), questions["per_minute"]
        ),
        "waits": Table(
            ("measure", "count", "median_seconds", "p90_seconds"),
            [
                {"measure": "submission_to_approval", **questions["to_approval"]},
                {"measure": "submission_to_answer", **questions["to_answer"]},
            ],
        ),
        "answered-share": Table(
            ("asked", "approved", "answered", "share"),
            [{k: questions[k] for k in ("asked", "approved", "answered", "share")}],
        ),
        "top-questions": Table(
            ("id", "text", "author", "votes", "status", "answered_by"), questions["top"]
        ),
        "airtime-cities": Table(("city", "seconds", "turns"), floor["airtime"]["cities"]),
        "airtime-speakers": Table(
            ("name", "person", "city", "seconds", "turns"), floor["airtime"]["people"]
        ),
        "speaker-timeline": Table(
            ("request", "name", "person", "city", "kind", "start", "end", "seconds", "ongoing"),
            floor["timeline"],
        ),
    }


def _attendance(report: dict[str, Any], zone: ZoneInfo) -> Chart:
    figures = report["attendance"]
    samples = figures["samples"]
    instants = [_at(s["at"]) for s in samples]
    origin = instants[0] if instants else EPOCH
    series = [
        Series(
            label,
            [
                ((at - origin).total_seconds(), s[part])
                for at, s in zip(instants, samples, strict=True)
            ],
        )
        for part, label in (("audience", "Audience"), ("panel", "Panel"), ("staff", "Staff"))
    ]
    audience = figures["audience"]
    summary = (
        f"Audience peak {audience['peak']}, median {number(audience['median'])}; "
        f"panel peak {figures['panel']['peak']}; staff peak {figures['staff']['peak']}."
        if samples
        else "No presence samples yet."
    )
    return Chart(
        "attendance",
        "Attendance over time",
        line_chart(
            chart_id="chart-attendance",
            title="Attendance over time",
            desc=summary,
            series=series if samples else [],
            x_labels=_clock_labels(instants, zone, origin),
            area=True,
        ),
        summary,
    )


def _per_minute(report: dict[str, Any], zone: ZoneInfo) -> Chart:
    rows = report["questions"]["per_minute"]
    instants = [_at(r["minute"]) for r in rows]
    origin = instants[0] if instants else EPOCH
    series = [
        Series(
            label,
            [
                ((at - origin).total_seconds(), r[part])
                for at, r in zip(instants, rows, strict=True)
            ],
        )
        for part, label in (("asked", "Asked"), ("approved", "Approved"), ("answered", "Answered"))
    ]
    q = report["questions"]
    summary = f"{q['asked']} asked, {q['approved']} approved, {q['answered']} answered."
    return Chart(
        "questions-per-minute",
        "Questions per minute",
        line_chart(
            chart_id="chart-questions-per-minute",
            title="Questions per minute",
            desc=summary,
            series=series if rows else [],
            x_labels=_clock_labels(instants, zone, origin),
        ),
        summary,
    )


def _waits(report: dict[str, Any]) -> Chart:
    q = report["questions"]
    bars = []
    for what, figures in (("to approval", q["to_approval"]), ("to answer", q["to_answer"])):
        for key, which in (("median_seconds", "Median"), ("p90_seconds", "90th percentile")):
            if figures[key] is not None:
                bars.append(Bar(f"{which} {what}", figures[key], duration(figures[key])))
    summary = (
        f"From submission to approval: median {duration(q['to_approval']['median_seconds'])}, "
        f"90th percentile {duration(q['to_approval']['p90_seconds'])}; to answer: median "
        f"{duration(q['to_answer']['median_seconds'])}, 90th percentile "
        f"{duration(q['to_answer']['p90_seconds'])}."
    )
    return Chart(
        "waits",
        "Time from submission to approval and to answer",
        bar_chart(chart_id="chart-waits", title="Waiting times", desc=summary, bars=bars),
        summary,
    )


def _answered_share(report: dict[str, Any]) -> Chart:
    q = report["questions"]
    bars = [
        Bar(label, q[key], str(q[key]))
        for key, label in (("asked", "Asked"), ("approved", "Approved"), ("answered", "Answered"))
    ]
    summary = (
        f"{q['answered']} of {q['approved']} approved questions answered ({share(q['share'])})."
    )
    return Chart(
        "answered-share",
        "Answered share",
        bar_chart(chart_id="chart-answered-share", title="Answered share", desc=summary, bars=bars),
        summary,
    )


def _top(report: dict[str, Any]) -> Chart:
    top = report["questions"]["top"]
    bars = [Bar(q["text"], q["votes"], f"{q['votes']} votes") for q in top]
    summary = (
        f"Most voted: “{top[0]['text']}” ({top[0]['votes']} votes)." if top else "No questions."
    )
    return Chart(
        "top-questions",
        "Top questions by votes",
        bar_chart(chart_id="chart-top-questions", title="Top questions", desc=summary, bars=bars),
        summary,
    )


def _airtime(report: dict[str, Any], part: str) -> Chart:
    entries = report["floor"]["airtime"][part]
    if part == "cities":
        bars = [Bar(e["city"] or NO_CITY, e["seconds"], duration(e["seconds"])) for e in entries]
        name, title = "airtime-cities", "Airtime per city"
    else:
        bars = [Bar(e["name"], e["seconds"], duration(e["seconds"])) for e in entries]
        name, title = "airtime-speakers", "Airtime per speaker"
    summary = "; ".join(f"{b.label}: {b.shown}" for b in bars) or "Nobody has spoken yet."
    return Chart(
        name,
        title,
        bar_chart(chart_id=f"chart-{name}", title=title, desc=summary, bars=bars),
        summary,
    )


def _timeline(report: dict[str, Any], zone: ZoneInfo) -> Chart:
    turns = report["floor"]["timeline"]
    starts = [_at(turn["start"]) for turn in turns]
    origin = min(starts) if starts else EPOCH
    spans = [
        Span(
            turn["name"],
            (start - origin).total_seconds(),
            (_at(turn["end"]) - origin).total_seconds(),
            f"{turn['name']}, {start.astimezone(zone):%H:%M}, {duration(turn['seconds'])}",
        )
        for turn, start in zip(turns, starts, strict=True)
    ]
    summary = f"{len(turns)} turns by {len({turn['name'] for turn in turns})} speakers."
    return Chart(
        "speaker-timeline",
        "Who spoke when",
        timeline(
            chart_id="chart-speaker-timeline",
            title="Who spoke when",
            desc=summary,
            spans=spans,
            x_labels=_clock_labels(sorted(starts), zone, origin),
        ),
        summary,
    )


def charts(report: dict[str, Any], zone: ZoneInfo) -> list[Chart]:
    """Every chart of the report, in reading order."""
    return [
        _attendance(report, zone),
        _per_minute(report, zone),
        _waits(report),
        _answered_share(report),
        _top(report),
        _airtime(report, "cities"),
        _airtime(report, "people"),
        _timeline(report, zone),
    ]
