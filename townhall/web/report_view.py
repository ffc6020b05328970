"""The session report laid out for people: its charts (SVG, :mod:`.charts`) and the table
behind each one (the CSV files), from the figures of
:func:`townhall.platform.session_report.build_report`.

Times are shown on the event's clock ("13:05" in Izmir); the tables keep UTC instants. Titles,
labels and sentences are in the viewer's language (:mod:`.i18n`), numbers written its way
(:mod:`.formats`); the tables' column names are data and stay as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError

from . import formats
from .charts import Bar, Series, Span, Svg, bar_chart, line_chart, timeline
from .i18n import N_, gettext, ngettext, pgettext

NO_CITY = N_("No city given")
NO_LANGUAGE = N_("Language not said")
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
    """ "2 min 5 s", "45 s", "1 h 2 min" (in the viewer's language); an em dash for no value."""
    if seconds is None:
        return "—"
    if seconds < 10 and not float(seconds).is_integer():
        # a moderator's click: tenths still tell waits apart
        return gettext("{seconds} s").format(seconds=formats.number(round(seconds, 1)))
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return gettext("{hours} h {minutes} min").format(hours=hours, minutes=minutes)
    if minutes and secs:
        return gettext("{minutes} min {seconds} s").format(minutes=minutes, seconds=secs)
    if minutes:
        return gettext("{minutes} min").format(minutes=minutes)
    return gettext("{seconds} s").format(seconds=secs)


def number(value: float | None) -> str:
    """6.0 as "6", 6.5 as "6.5" ("6,5" in French); an em dash for no value."""
    if value is None:
        return "—"
    return formats.number(int(value) if float(value).is_integer() else round(value, 1))


def share(value: float | None) -> str:
    """0.5 as "50 %" ("%50" in Turkish); an em dash for no value."""
    if value is None:
        return "—"
    return gettext("{percent} %").format(percent=formats.number(round(value * 100)))


def votes(count: int) -> str:
    return ngettext("{count} vote", "{count} votes", count).format(count=formats.number(count))


def language_name(tag: str | None) -> str:
    """A BCP 47 tag named in the viewer's language ("French", "français (Canada)" as
    "Français (Canada)", "Fransızca"); the tag itself when CLDR does not know it."""
    if not tag:
        return gettext(NO_LANGUAGE)
    try:
        name = Locale.parse(tag, sep="-").get_display_name(formats.locale())
    except (UnknownLocaleError, ValueError):  # a tag CLDR does not know, or cannot parse
        return tag
    return name[:1].upper() + name[1:] if name else tag


def figures(bars: Sequence[Bar]) -> str:
    """A chart's bars in one line: "Paris: 1 min 30 s; Lyon: 45 s"."""
    return "; ".join(
        gettext("{label}: {value}").format(label=bar.label, value=bar.shown) for bar in bars
    )


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
        "questions-per-language": Table(
            ("language", "asked", "approved", "answered"), questions["per_language"]
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


def _question_counts() -> tuple[tuple[str, str], ...]:
    """The three counts of questions, labelled as a chart's series or bars."""
    return (
        ("asked", pgettext("questions", "Asked")),
        ("approved", pgettext("questions", "Approved")),
        ("answered", pgettext("questions", "Answered")),
    )


def _attendance(report: dict[str, Any], zone: ZoneInfo) -> Chart:
    attendance = report["attendance"]
    samples = attendance["samples"]
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
        for part, label in (
            ("audience", gettext("Audience")),
            ("panel", gettext("Panel")),
            ("staff", gettext("Staff")),
        )
    ]
    audience = attendance["audience"]
    summary = (
        gettext(
            "Audience peak {peak}, median {median}; panel peak {panel}; staff peak {staff}."
        ).format(
            peak=number(audience["peak"]),
            median=number(audience["median"]),
            panel=number(attendance["panel"]["peak"]),
            staff=number(attendance["staff"]["peak"]),
        )
        if samples
        else gettext("No presence samples yet.")
    )
    title = gettext("Attendance over time")
    return Chart(
        "attendance",
        title,
        line_chart(
            chart_id="chart-attendance",
            title=title,
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
        for part, label in _question_counts()
    ]
    q = report["questions"]
    summary = gettext("Asked: {asked}; approved: {approved}; answered: {answered}.").format(
        asked=number(q["asked"]), approved=number(q["approved"]), answered=number(q["answered"])
    )
    title = gettext("Questions per minute")
    return Chart(
        "questions-per-minute",
        title,
        line_chart(
            chart_id="chart-questions-per-minute",
            title=title,
            desc=summary,
            series=series if rows else [],
            x_labels=_clock_labels(instants, zone, origin),
        ),
        summary,
    )


def _waits(report: dict[str, Any]) -> Chart:
    q = report["questions"]
    labels = {
        ("to_approval", "median_seconds"): gettext("Median to approval"),
        ("to_approval", "p90_seconds"): gettext("90th percentile to approval"),
        ("to_answer", "median_seconds"): gettext("Median to answer"),
        ("to_answer", "p90_seconds"): gettext("90th percentile to answer"),
    }
    bars = [
        Bar(label, q[what][key], duration(q[what][key]))
        for (what, key), label in labels.items()
        if q[what][key] is not None
    ]
    summary = gettext(
        "From submission to approval: median {approval_median}, 90th percentile "
        "{approval_p90}; to answer: median {answer_median}, 90th percentile {answer_p90}."
    ).format(
        approval_median=duration(q["to_approval"]["median_seconds"]),
        approval_p90=duration(q["to_approval"]["p90_seconds"]),
        answer_median=duration(q["to_answer"]["median_seconds"]),
        answer_p90=duration(q["to_answer"]["p90_seconds"]),
    )
    return Chart(
        "waits",
        gettext("Time from submission to approval and to answer"),
        bar_chart(chart_id="chart-waits", title=gettext("Waiting times"), desc=summary, bars=bars),
        summary,
    )


def _answered_share(report: dict[str, Any]) -> Chart:
    q = report["questions"]
    bars = [Bar(label, q[key], number(q[key])) for key, label in _question_counts()]
    summary = ngettext(
        "{answered} of {count} approved question answered ({share}).",
        "{answered} of {count} approved questions answered ({share}).",
        q["approved"],
    ).format(answered=number(q["answered"]), count=number(q["approved"]), share=share(q["share"]))
    title = gettext("Answered share")
    return Chart(
        "answered-share",
        title,
        bar_chart(chart_id="chart-answered-share", title=title, desc=summary, bars=bars),
        summary,
    )


def _asked_answered(asked: int, answered: int) -> str:
    """ "3 asked, 1 answered" (each count with its own plural: "1 posée, 0 répondue")."""
    return ", ".join(
        (
            ngettext("{count} asked", "{count} asked", asked).format(count=number(asked)),
            ngettext("{count} answered", "{count} answered", answered).format(
                count=number(answered)
            ),
        )
    )


def _per_language(report: dict[str, Any]) -> Chart:
    rows = report["questions"]["per_language"]
    bars = [
        Bar(
            language_name(r["language"]),
            r["asked"],
            _asked_answered(r["asked"], r["answered"]),
        )
        for r in rows
    ]
    summary = figures(bars) or gettext("No questions yet.")
    title = gettext("Questions per language")
    return Chart(
        "questions-per-language",
        title,
        bar_chart(chart_id="chart-questions-per-language", title=title, desc=summary, bars=bars),
        summary,
    )


def _top(report: dict[str, Any]) -> Chart:
    top = report["questions"]["top"]
    bars = [Bar(q["text"], q["votes"], votes(q["votes"])) for q in top]
    summary = (
        gettext("Most voted: “{text}” ({votes}).").format(
            text=top[0]["text"], votes=votes(top[0]["votes"])
        )
        if top
        else gettext("No questions yet.")
    )
    return Chart(
        "top-questions",
        gettext("Top questions by votes"),
        bar_chart(
            chart_id="chart-top-questions", title=gettext("Top questions"), desc=summary, bars=bars
        ),
        summary,
    )


def _airtime(report: dict[str, Any], part: str) -> Chart:
    entries = report["floor"]["airtime"][part]
    if part == "cities":
        bars = [
            Bar(e["city"] or gettext(NO_CITY), e["seconds"], duration(e["seconds"]))
            for e in entries
        ]
        name, title = "airtime-cities", gettext("Airtime per city")
    else:
        bars = [Bar(e["name"], e["seconds"], duration(e["seconds"])) for e in entries]
        name, title = "airtime-speakers", gettext("Airtime per speaker")
    summary = figures(bars) or gettext("Nobody has spoken yet.")
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
            ", ".join(
                (turn["name"], start.astimezone(zone).strftime("%H:%M"), duration(turn["seconds"]))
            ),
        )
        for turn, start in zip(turns, starts, strict=True)
    ]
    speakers = len({turn["name"] for turn in turns})
    summary = gettext("{turns} by {speakers}.").format(
        turns=ngettext("{count} turn", "{count} turns", len(turns)).format(
            count=number(len(turns))
        ),
        speakers=ngettext("{count} speaker", "{count} speakers", speakers).format(
            count=number(speakers)
        ),
    )
    title = gettext("Who spoke when")
    return Chart(
        "speaker-timeline",
        title,
        timeline(
            chart_id="chart-speaker-timeline",
            title=title,
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
        _per_language(report),
        _top(report),
        _airtime(report, "cities"),
        _airtime(report, "people"),
        _timeline(report, zone),
    ]
