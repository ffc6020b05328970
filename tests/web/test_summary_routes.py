"""The public summary of an ended room: answered questions with who answered, the top
unanswered ones, the speakers; organizers hide the summary or single questions; in the
viewer's language."""

from __future__ import annotations

from datetime import timedelta

import test_qa_routes
from test_pages import classed, document_problems, parse, text
from test_qa_routes import NOW, ORIGIN, SLUG, World

from townhall.platform import questions, rooms
from townhall.platform.participants import create_participant
from townhall.platform.viewers import Viewer

world = test_qa_routes.world


async def ask_and_answer(world: World) -> dict[str, int]:
    async with world.sessionmaker() as db:
        mod = Viewer(None, "Moderator One", world.event_id, moderates=frozenset({world.room}))
        ada = await create_participant(db, event_id=world.event_id, display_name="Ada", now=NOW)
        voter = await create_participant(db, event_id=world.event_id, display_name="Bo", now=NOW)
        ids = {}
        for text_, anonymous in (
            ("Who pays for <resilience>?", False),
            ("And small towns?", True),
            ("What about youth?", False),
            ("Still pending", False),
        ):
            question, _ = await questions.submit_question(
                db,
                room_id=world.room,
                viewer=Viewer(ada.id, "Ada", world.event_id),
                text=text_,
                anonymous=anonymous,
                now=NOW,
            )
            ids[text_] = question.id
        for key in ("Who pays for <resilience>?", "And small towns?", "What about youth?"):
            await questions.approve_question(
                db, room_id=world.room, question_id=ids[key], moderator=mod, now=NOW
            )
        await questions.vote(
            db,
            room_id=world.room,
            question_id=ids["What about youth?"],
            viewer=Viewer(voter.id, "Bo", world.event_id),
            now=NOW,
            up=True,
        )
        await questions.mark_answered(
            db,
            room_id=world.room,
            question_id=ids["Who pays for <resilience>?"],
            moderator=mod,
            now=NOW + timedelta(minutes=1),
            by="sameh-wahba",
        )
        await db.commit()
    return ids


async def end_room(world: World) -> None:
    async with world.sessionmaker() as db:
        await rooms.set_room_state(db, room_id=world.room, action="end", now=NOW)
        await db.commit()


def listed(html: str) -> dict[str, list[str]]:
    doc = parse(html)
    return {
        section.get("aria-labelledby"): [
            " / ".join(text(p) for p in li.iter("p")) or text(li) for li in section.iter("li")
        ]
        for section in classed(doc, "report-chart")
        if section.get("aria-labelledby") != "curation-heading"
    }


async def test_summary_appears_once_the_room_has_ended(world: World) -> None:
    await ask_and_answer(world)
    page = f"/events/{SLUG}/rooms/{world.room}/summary"
    async with world.client_as("anonymous") as client:
        before = await client.get(page)
        await end_room(world)
        after = await client.get(page)

    assert (before.status_code, listed(before.text)) == (200, {})
    assert "appears here once it has ended" in before.text
    assert (after.status_code, document_problems(after.text)) == (200, [])
    assert listed(after.text) == {
        "answered-heading": [
            "Who pays for <resilience>? / Asked by Ada · answered by Sameh Wahba · 0 votes"
        ],
        "unanswered-heading": [
            "What about youth? / Asked by Ada · 1 vote",
            "And small towns? / Asked by an anonymous participant · 0 votes",
        ],
        "speakers-heading": [
            "Ms. Güldem Özdoğan, DPhil (tbc) (moderator), Newcastle University",
            "Mr. Sameh Wahba, Urban, Disaster Risk Management, Resilience and Land Global "
            "Practice, World Bank",
            "Ms. Lina Liakou, Resilient Cities Network (RCN)",
            "Mayor of Rabat (tbc)",
            "Mayor of Paris (tbc)",
            "Mayor of Namur (tbc)",
            "Mayor of Glasgow (tbc)",
            "Mr. Prof. Dr. Ruşen Keleş (tbc), Ankara University",
        ],
    }
    assert "Hide the whole summary" not in after.text


async def test_organizers_hide_a_question_then_the_summary(world: World) -> None:
    ids = await ask_and_answer(world)
    await end_room(world)
    page = f"/events/{SLUG}/rooms/{world.room}/summary"
    action = f"/events/{SLUG}/console/rooms/{world.room}/summary"
    async with world.client_as("moderator") as client:
        refused = await client.post(action, data={"hidden": "on"}, headers=ORIGIN)
    async with world.client_as("organizer") as client:
        curation = await client.get(page)
        hid_one = await client.post(
            action, data={"question": str(ids["What about youth?"]), "hidden": "on"}, headers=ORIGIN
        )
    async with world.client_as("anonymous") as client:
        without_one = await client.get(page)
    async with world.client_as("organizer") as client:
        hid_all = await client.post(action, data={"hidden": "on"}, headers=ORIGIN)
        bad = await client.post(action, data={"hidden": "maybe"}, headers=ORIGIN)
    async with world.client_as("anonymous") as client:
        hidden = await client.get(page)

    assert (refused.status_code, hid_one.status_code, hid_all.status_code, bad.status_code) == (
        403,
        303,
        303,
        422,
    )
    assert document_problems(curation.text) == []
    assert "Hide the whole summary" in curation.text
    assert listed(without_one.text)["unanswered-heading"] == [
        "And small towns? / Asked by an anonymous participant · 0 votes"
    ]
    assert listed(hidden.text) == {}
    assert "The organizers have not published a summary" in hidden.text


async def test_summary_in_turkish_and_its_curation_in_french(world: World) -> None:
    await ask_and_answer(world)
    await end_room(world)
    page = f"/events/{SLUG}/rooms/{world.room}/summary"
    async with world.client_as("anonymous") as client:
        turkish = await client.get(page, headers={"accept-language": "tr"})
    async with world.client_as("organizer") as client:
        french = await client.get(page, headers={"accept-language": "fr"})

    assert [p for p in document_problems(turkish.text) if "lang=" not in p] == []
    assert text(parse(turkish.text).find(".//h1")) == (
        "Thematic workshop 1: Building resilience in cities: özet"
    )
    summary = listed(turkish.text)
    assert (summary["answered-heading"], summary["unanswered-heading"]) == (
        ["Who pays for <resilience>? / Soran: Ada · yanıtlayan: Sameh Wahba · 0 oy"],
        [
            "What about youth? / Soran: Ada · 1 oy",
            "And small towns? / Soran: anonim bir katılımcı · 0 oy",
        ],
    )
    assert summary["speakers-heading"][0] == (
        "Ms. Güldem Özdoğan, DPhil (tbc) (moderatör), Newcastle University"
    )
    curation = next(
        section
        for section in classed(parse(french.text), "report-chart")
        if section.get("aria-labelledby") == "curation-heading"
    )
    assert next(text(button) for button in curation.iter("button")) == "Masquer tout le résumé"
    assert [[text(td) for td in tr.iter("td")] for tr in curation.iter("tr")][1:] == [
        ["Who pays for <resilience>?", "Répondue", "Masquer"],
        ["And small towns?", "Approuvée", "Masquer"],
        ["What about youth?", "Approuvée", "Masquer"],
    ]
