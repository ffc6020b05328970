"""CSV exports speak the requester's language in their header row (people read them in a
spreadsheet); their values and the JSON exports' keys stay as programs read them."""

from __future__ import annotations

import ast
import csv
import io
from pathlib import Path

import test_qa_routes
from test_qa_routes import SLUG, World, hostile_questions

from townhall.web import export_headers
from townhall.web.question_exports import COLUMNS
from townhall.web.record_exports import AIRTIME_COLUMNS, BACKSTAGE_COLUMNS, SPEAKER_COLUMNS
from townhall.web.report_routes import SUMMARY_COLUMNS

world = test_qa_routes.world
REPORT_VIEW = Path(export_headers.__file__).with_name("report_view.py")


def report_table_columns() -> set[str]:
    """Every column of the report's tables (``Table(("a", "b"), rows)`` in report_view.py)."""
    found = set()
    for node in ast.walk(ast.parse(REPORT_VIEW.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Table":
            found |= {ast.literal_eval(e) for e in node.args[0].elts}  # type: ignore[attr-defined]
    return found


def test_every_csv_column_has_a_header_in_words() -> None:
    columns = {
        *COLUMNS,
        *SPEAKER_COLUMNS,
        *AIRTIME_COLUMNS,
        *BACKSTAGE_COLUMNS,
        *SUMMARY_COLUMNS,
        *report_table_columns(),
    }
    assert sorted(columns - set(export_headers.HEADERS)) == []


async def test_questions_csv_headers_follow_the_requesters_language(world: World) -> None:
    await hostile_questions(world)
    url = f"/events/{SLUG}/rooms/{world.room}/questions"
    async with world.client_as("organizer") as client:
        tables = {
            language: (await client.get(f"{url}.csv", headers={"Accept-Language": language}))
            for language in ("en", "fr", "tr")
        }
        documents = [
            (await client.get(f"{url}.json", headers={"Accept-Language": language})).json()
            for language in ("en", "fr")
        ]

    rows = {
        language: list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        for language, response in tables.items()
    }
    assert (
        rows["fr"][0][:3],
        rows["tr"][0][:3],
        rows["fr"][0][10],
        rows["fr"][1:] == rows["en"][1:] == rows["tr"][1:],  # the values do not change
        sorted(documents[0]["questions"][0]) == sorted(documents[1]["questions"][0]),
        documents[0]["questions"] == documents[1]["questions"],
    ) == (
        ["Identifiant", "Statut", "Texte"],
        ["Kimlik", "Durum", "Metin"],
        "Posée le (UTC)",
        True,
        True,
        True,
    )
