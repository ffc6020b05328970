"""Session reports through the app: the page (sound HTML, charts inline, no inline style), the
self-contained export, the JSON (matching the OpenAPI schema) and a CSV per chart, for the
room's staff only; the event's summary for organizers; both in the viewer's language."""

from __future__ import annotations

import csv
import io
from datetime import UTC, timedelta

import jsonschema
import test_qa_routes
from test_pages import classed, document_problems, parse, text
from test_qa_routes import NOW, SLUG, World

from townhall.platform import floor, questions
from townhall.platform.attendance import Headcount, record_presence_sample
from townhall.platform.participants import create_participant
from townhall.platform.viewers import Viewer

world = test_qa_routes.world
START = NOW - timedelta(minutes=5)
SVG = "{http://www.w3.org/2000/svg}svg"


def z(seconds: int) -> str:
    return (START + timedelta(seconds=seconds)).astimezone(UTC).isoformat().replace("+00:00", "Z")


async def rehearse(world: World) -> dict[str, int]:
    """Two questions (one answered by Sameh Wahba), a minute for Paris, presence samples."""
    async with world.sessionmaker() as db:
        mod = Viewer(None, "Moderator One", world.event_id, moderates=frozenset({world.room}))
        ada = await create_participant(db, event_id=world.event_id, display_name="Ada", now=START)
        asker = Viewer(ada.id, "Ada", world.event_id)
        ids = {}
        for offset, text, language in (
            (0, "How is <b>resilience</b> paid for?", "fr"),
            (30, "=1+1 formulas?", None),
        ):
            question, _ = await questions.submit_question(
                db,
                room_id=world.room,
                viewer=asker,
                text=text,
                anonymous=False,
                language=language,
                now=START + timedelta(seconds=offset),
            )
            ids[text] = question.id
        for offset, question_id in enumerate(ids.values()):
            await questions.approve_question(
                db,
                room_id=world.room,
                question_id=question_id,
                moderator=mod,
                now=START + timedelta(seconds=60 + offset * 30),
            )
        await questions.mark_answered(
            db,
            room_id=world.room,
            question_id=ids["How is <b>resilience</b> paid for?"],
            moderator=mod,
            now=START + timedelta(seconds=120),
            by="sameh-wahba",
        )
        await floor.add_to_floor(
            db,
            room_id=world.room,
            moderator=mod,
            person="workshop-1-building-resilience.5",
            kind="contribution",
            now=START,
        )
        await floor.grant_floor(db, room_id=world.room, moderator=mod, now=START)
        await floor.end_turn(db, room_id=world.room, viewer=mod, now=START + timedelta(minutes=1))
        for minute, audience in enumerate((4, 9, 6)):
            await record_presence_sample(
                db,
                room_id=world.room,
                at=START + timedelta(minutes=minute),
                interval_seconds=60,
                headcount=Headcount(audience=audience, panel=1, staff=1),
            )
        await db.commit()
    return ids


async def test_report_page_export_json_and_csv_for_staff_only(world: World) -> None:
    ids = await rehearse(world)
    room = f"/events/{SLUG}/rooms/{world.room}"
    async with world.client_as("moderator") as client:
        page = await client.get(f"{room}/report")
        export = await client.get(f"{room}/report.html")
        document = (await client.get(f"{room}/report.json")).json()
        api = (await client.get(f"/api/rooms/{world.room}/report")).json()
        schema = (await client.get("/openapi.json")).json()
        attendance = await client.get(f"{room}/report/attendance.csv")
        top = await client.get(f"{room}/report/top-questions.csv")
        languages = await client.get(f"{room}/report/questions-per-language.csv")
        unknown = await client.get(f"{room}/report/nothing.csv")
    refused = {}
    for role in ("panelist", "other_moderator", "anonymous"):
        async with world.client_as(role) as client:
            refused[role] = [
                (await client.get(f"{room}/{path}")).status_code
                for path in ("report", "report.html", "report.json", "report/waits.csv")
            ]

    jsonschema.validate(
        document,
        {"$ref": "#/components/schemas/SessionReport", "components": schema["components"]},
    )
    answered = ids["How is <b>resilience</b> paid for?"]
    assert (document == {**api, "generated_at": document["generated_at"]}, unknown.status_code) == (
        True,
        404,
    )
    assert refused == {role: [403] * 4 for role in ("panelist", "other_moderator", "anonymous")}
    assert document["attendance"]["audience"] == {"peak": 9, "peak_at": z(60), "median": 6.0}
    assert {k: document["questions"][k] for k in ("asked", "approved", "answered", "share")} == {
        "asked": 2,
        "approved": 2,
        "answered": 1,
        "share": 0.5,
    }
    assert document["questions"]["to_approval"] == {
        "count": 2,
        "median_seconds": 60.0,
        "p90_seconds": 60.0,
    }
    assert list(csv.reader(io.StringIO(languages.content.decode("utf-8-sig")))) == [
        ["Language", "Asked", "Approved", "Answered"],
        ["fr", "1", "1", "1"],
        ["", "1", "1", "0"],
    ]
    assert document["floor"]["airtime"]["cities"] == [{"city": "Paris", "seconds": 60, "turns": 1}]
    assert list(csv.reader(io.StringIO(attendance.content.decode("utf-8-sig")))) == [
        ["Time (UTC)", "Audience", "Panel", "Staff"],
        [z(0), "4", "1", "1"],
        [z(60), "9", "1", "1"],
        [z(120), "6", "1", "1"],
    ]
    assert list(csv.reader(io.StringIO(top.content.decode("utf-8-sig")))) == [
        ["ID", "Text", "Author", "Votes", "Status", "Answered by"],
        [
            str(answered),
            "How is <b>resilience</b> paid for?",
            "Ada",
            "0",
            "answered",
            "Sameh Wahba",
        ],
        [str(ids["=1+1 formulas?"]), "'=1+1 formulas?", "Ada", "0", "approved", ""],
    ]

    # The page: sound HTML, nine charts drawn inline, the hostile text escaped.
    assert (page.status_code, document_problems(page.text)) == (200, [])
    doc = parse(page.text)
    charts = [svg for svg in doc.iter(SVG)]
    assert [svg.get("id") for svg in charts] == [
        f"chart-{name}"
        for name in (
            "attendance",
            "questions-per-minute",
            "waits",
            "answered-share",
            "questions-per-language",
            "top-questions",
            "airtime-cities",
            "airtime-speakers",
            "speaker-timeline",
        )
    ]
    assert all(svg.get("role") == "img" for svg in charts)
    assert "<b>resilience</b>" not in page.text and "&lt;b&gt;resilience&lt;/b&gt;" in page.text

    # The export: one file, no script, nothing fetched from anywhere, its style allowed by hash.
    export_doc = parse(export.text)
    fetched = [
        (el.tag, el.get("src") or el.get("href"))
        for el in export_doc.iter()
        if el.get("src") or (el.tag == "link" and el.get("href"))
    ]
    assert (
        export.headers["content-disposition"],
        fetched,
        [el.tag for el in export_doc.iter("script")],
        len(list(export_doc.iter(SVG))),
        document_problems(export.text),
    ) == (
        f'attachment; filename="{SLUG}-workshop-1-building-resilience-report.html"',
        [],
        [],
        9,
        ["inline style on <style>"],
    )
    assert export.headers["content-security-policy"].startswith(
        "default-src 'none'; style-src 'sha256-"
    )


async def test_event_report_lists_every_session_for_organizers(world: World) -> None:
    await rehearse(world)
    async with world.client_as("organizer") as client:
        page = await client.get(f"/events/{SLUG}/console/report")
        table = await client.get(f"/events/{SLUG}/console/report.csv")
    async with world.client_as("moderator") as client:
        refused = await client.get(f"/events/{SLUG}/console/report")

    rows = list(csv.DictReader(io.StringIO(table.content.decode("utf-8-sig"))))
    mine = next(r for r in rows if r["Room"] == str(world.room))
    assert (page.status_code, refused.status_code, document_problems(page.text)) == (200, 403, [])
    assert mine == {  # headers in the requester's language (English here)
        "Session": "workshop-1-building-resilience",
        "Title": mine["Title"],
        "Room": str(world.room),
        "State": "live",
        "Peak audience": "9",
        "Asked": "2",
        "Approved": "2",
        "Answered": "1",
        "Turns": "1",
        "Airtime (seconds)": "60",
    }
    assert f'href="/events/{SLUG}/rooms/{world.room}/report"' in page.text


def problems_but_lang(html: str) -> list[str]:
    """A French or Turkish page is checked like an English one, its lang aside."""
    return [p for p in document_problems(html) if "lang=" not in p]


def figures_of(html: str) -> list[str]:
    doc = parse(html)
    return [text(li) for ul in classed(doc, "report-figures") for li in ul.iter("li")]


def caption(html: str, chart: str) -> str:
    figure = next(el for el in parse(html).iter("figure") if el.get("id") == chart)
    return text(figure.find("figcaption"))


async def test_report_and_its_export_in_french_and_turkish(world: World) -> None:
    await rehearse(world)
    room = f"/events/{SLUG}/rooms/{world.room}"
    async with world.client_as("moderator") as client:
        french = await client.get(f"{room}/report", headers={"accept-language": "fr"})
        turkish = await client.get(f"{room}/report.html", headers={"accept-language": "tr"})

    assert (problems_but_lang(french.text), parse(french.text).get("lang")) == ([], "fr")
    assert figures_of(french.text) == [
        "9 affluence maximale",
        "2 questions posées",
        "1 répondue (50 %)",
        "1 tour de parole",
    ]
    assert caption(french.text, "airtime-cities") == "Paris : 1 min Données (CSV)"
    assert caption(french.text, "speaker-timeline").startswith(
        "1 tour de parole par 1 intervenant."
    )
    assert "Présence au fil du temps" in french.text and "Final" not in french.text

    # The export speaks the viewer's language too, and still loads nothing.
    export = parse(turkish.text)
    assert (export.get("lang"), text(export.find(".//title"))) == (
        "tr",
        "Rapor: Thematic workshop 1: Building resilience in cities — 3rd Mayors Summit on Living "
        "Together",
    )
    assert figures_of(turkish.text) == [
        "9 en yüksek dinleyici sayısı",
        "2 sorulan soru",
        "1 yanıtlanan (%50)",
        "1 söz alma",
    ]
    assert caption(turkish.text, "waits") == (
        "Gönderimden onaya: ortanca 1 dk, 90. yüzdelik 1 dk; yanıta kadar: ortanca 2 dk, "
        "90. yüzdelik 2 dk."
    )
    assert [el for el in export.iter() if el.get("src") or el.tag in ("link", "script")] == []


async def test_event_report_in_french(world: World) -> None:
    await rehearse(world)
    async with world.client_as("organizer") as client:
        page = await client.get(f"/events/{SLUG}/console/report", headers={"accept-language": "fr"})

    doc = parse(page.text)
    assert (problems_but_lang(page.text), text(doc.find(".//h1"))) == ([], "Rapport des sessions")
    assert figures_of(page.text)[1:] == [
        "2 questions posées",
        "1 question répondue",
        "1 min de temps de parole",
    ]
    assert [text(th) for th in doc.iter("th")] == [
        "Session",
        "Salle",
        "Affluence maximale",
        "Posées",
        "Répondues",
        "Tours de parole",
        "Temps de parole",
    ]
