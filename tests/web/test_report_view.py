"""The report's layout before anything happened (counts still drawn as zero bars), and how it
writes durations and numbers."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from townhall.platform.session_report import build_report
from townhall.web.i18n import load_catalogues, use_catalogue
from townhall.web.report_view import charts, duration, language_name, number, tables

NS = "{http://www.w3.org/2000/svg}"


def test_empty_report_draws_every_chart_as_no_data() -> None:
    report = build_report(
        events=[], samples=[], now=datetime(2021, 12, 8, 12, tzinfo=UTC), state="scheduled"
    )

    drawn = charts(report, ZoneInfo("Europe/Istanbul"))

    assert [
        (chart.name, [t.text for t in ET.fromstring(chart.svg).iter(f"{NS}text")])
        for chart in drawn
    ] == [
        ("attendance", ["No data yet"]),
        ("questions-per-minute", ["No data yet"]),
        ("waits", ["No data yet"]),
        ("answered-share", ["Asked", "0", "Approved", "0", "Answered", "0"]),
        ("questions-per-language", ["No data yet"]),
        ("top-questions", ["No data yet"]),
        ("airtime-cities", ["No data yet"]),
        ("airtime-speakers", ["No data yet"]),
        ("speaker-timeline", ["No data yet"]),
    ]
    assert {name: table.rows for name, table in tables(report).items()} == {
        "attendance": [],
        "questions-per-minute": [],
        "waits": [
            {
                "measure": "submission_to_approval",
                "count": 0,
                "median_seconds": None,
                "p90_seconds": None,
            },
            {
                "measure": "submission_to_answer",
                "count": 0,
                "median_seconds": None,
                "p90_seconds": None,
            },
        ],
        "answered-share": [{"asked": 0, "approved": 0, "answered": 0, "share": None}],
        "questions-per-language": [],
        "top-questions": [],
        "airtime-cities": [],
        "airtime-speakers": [],
        "speaker-timeline": [],
    }


def test_durations_and_numbers_read_naturally() -> None:
    assert [duration(s) for s in (None, 0, 0.42, 45, 60, 125, 3720)] == [
        "—",
        "0 s",
        "0.4 s",
        "45 s",
        "1 min",
        "2 min 5 s",
        "1 h 2 min",
    ]
    assert [number(v) for v in (None, 6.0, 6.5, 3)] == ["—", "6", "6.5", "3"]


def test_questions_per_language_names_each_language_in_the_viewers_language() -> None:
    report = build_report(
        events=[], samples=[], now=datetime(2021, 12, 8, 12, tzinfo=UTC), state="live"
    )
    report["questions"]["per_language"] = [
        {"language": "fr", "asked": 3, "approved": 2, "answered": 1},
        {"language": "fr-CA", "asked": 2, "approved": 2, "answered": 2},
        {"language": "qq", "asked": 1, "approved": 0, "answered": 0},
        {"language": None, "asked": 1, "approved": 1, "answered": 0},
    ]

    [chart] = [
        c for c in charts(report, ZoneInfo("Europe/Istanbul")) if c.name.endswith("language")
    ]
    labels = [t.text for t in ET.fromstring(chart.svg).iter(f"{NS}text")]

    assert (chart.title, labels, chart.summary) == (
        "Questions per language",
        [
            "French",
            "3 asked, 1 answered",
            "French (Canada)",
            "2 asked, 2 answered",
            "qq",
            "1 asked, 0 answered",
            "Language not said",
            "1 asked, 0 answered",
        ],
        "French: 3 asked, 1 answered; French (Canada): 2 asked, 2 answered; "
        "qq: 1 asked, 0 answered; Language not said: 1 asked, 0 answered",
    )
    catalogues = load_catalogues()
    named = {}
    for language in ("fr", "tr"):
        with use_catalogue(catalogues[language]):
            named[language] = [language_name(t) for t in ("fr", "tr", "en-GB", None)]
    assert named == {
        "fr": ["Français", "Turc", "Anglais (Royaume-Uni)", "Langue non précisée"],
        "tr": ["Fransızca", "Türkçe", "İngilizce (Birleşik Krallık)", "Dil belirtilmedi"],
    }
