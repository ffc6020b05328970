"""Seats: filling a programme slot with a person, its labels, the file round trip, and the
invitation that makes its holder that slot."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from event_schema import check_event

from townhall.platform import access, programme, questions, seats
from townhall.platform.errors import Invalid, NotFound
from townhall.platform.participants import create_participant
from townhall.platform.programme_edit import export_programme_file, spec_from_db
from townhall.platform.programme_file import parse_programme
from townhall.platform.viewers import Viewer

NOW = datetime(2021, 12, 8, 12, 50, tzinfo=UTC)
WORKSHOP_1 = "workshop-1-building-resilience"
HIDALGO = seats.SeatedPerson(name="Anne Hidalgo", honorific="Ms", position="Mayor of Paris")


@pytest.fixture
async def summit(db, summit_spec):
    await programme.import_programme(db, spec=summit_spec)
    await db.commit()
    event = await programme.get_event(db, slug="mayors-summit-2021")
    session = await programme.get_session(db, event_id=event.id, slug=WORKSHOP_1)
    return event, session


async def _appearance(db, event, key: str):
    event_id = event.id
    db.expire_all()
    session = await programme.get_session(db, event_id=event_id, slug=WORKSHOP_1)
    found = next(a for a in session.appearances if a.person.key == key)
    return (
        found.role,
        found.segment,
        found.status,
        found.position,
        seats.seat_label(found.person, found.status),
        seats.credit_name(found.person),
        found.person.city,
        found.person.country,
    )


async def test_seat_person_fills_the_slot_keeping_role_segment_and_status(db, summit) -> None:
    event, session = summit
    paris = await seats.find_slot(db, session_id=session.id, slot="Paris")
    before = await _appearance(db, event, paris.person.key)

    await seats.seat_person(db, slot_id=paris.person.id, person=HIDALGO, confirmed=False, now=NOW)
    await db.commit()
    seated = await _appearance(db, event, paris.person.key)
    await seats.seat_person(db, slot_id=paris.person.id, person=HIDALGO, confirmed=True, now=NOW)
    await db.commit()
    confirmed = await _appearance(db, event, paris.person.key)

    segment = "Panel - Cities Good practices"
    assert (paris.person.key, before, seated, confirmed) == (
        f"{WORKSHOP_1}.5",
        (
            "panelist",
            segment,
            "tbc",
            4,
            "Mayor of Paris (tbc)",
            "Mayor of Paris",
            "Paris",
            "France",
        ),
        ("panelist", segment, "tbc", 4, "Ms Anne Hidalgo (tbc)", "Anne Hidalgo", "Paris", "France"),
        ("panelist", segment, "confirmed", 4, "Ms Anne Hidalgo", "Anne Hidalgo", "Paris", "France"),
    )


async def test_seat_person_fills_a_labelled_slot(db, summit) -> None:
    event, _ = summit
    other = await programme.get_session(db, event_id=event.id, slug="interactive-city-dialogue")
    slot_id = (
        await seats.find_slot(db, session_id=other.id, slot="Other mayors/speakers")
    ).person.id

    await seats.seat_person(
        db,
        slot_id=slot_id,
        person=seats.SeatedPerson(name="Valérie Plante", city="Montréal"),
        confirmed=True,
        now=NOW,
    )
    await db.commit()
    db.expire_all()
    filled = await seats.get_slot(db, slot_id=slot_id)

    assert (
        seats.seat_label(filled.person, filled.appearance.status),
        filled.person.label,
        filled.person.city,
        filled.appearance.role,
    ) == ("Valérie Plante", "Other mayors/speakers", "Montréal", "panelist")


@pytest.mark.parametrize(
    ("slot", "person", "error", "code"),
    [
        ("sameh-wahba", HIDALGO, Invalid, "slot.not_a_slot"),
        ("Paris", seats.SeatedPerson(name="   "), Invalid, "slot.name_required"),
        ("Paris", seats.SeatedPerson(name="x" * 201), Invalid, "slot.too_long"),
        ("Paris", seats.SeatedPerson(name="Anne\x07"), Invalid, "slot.invalid_characters"),
    ],
)
async def test_seat_person_refuses_bad_input(db, summit, slot, person, error, code) -> None:
    event, session = summit
    if slot == "sameh-wahba":
        slot_id = (await access.find_person(db, event_id=event.id, name=slot)).id
    else:
        slot_id = (await seats.find_slot(db, session_id=session.id, slot=slot)).person.id

    with pytest.raises(error) as refused:
        await seats.seat_person(db, slot_id=slot_id, person=person, confirmed=True, now=NOW)

    assert refused.value.code == code


async def test_find_slot_by_key_position_city_or_title(db, summit) -> None:
    _, session = summit
    found = [
        (await seats.find_slot(db, session_id=session.id, slot=wanted)).person.key
        for wanted in (f"{WORKSHOP_1}.5", "5", "paris", "Mayor of Paris")
    ]
    with pytest.raises(NotFound) as missing:
        await seats.find_slot(db, session_id=session.id, slot="Lyon")

    assert (found, missing.value.code) == ([f"{WORKSHOP_1}.5"] * 4, "slot.not_found")


async def test_seated_slot_round_trips_through_the_programme_file(db, summit) -> None:
    event, session = summit
    paris = await seats.find_slot(db, session_id=session.id, slot="Paris")
    await seats.seat_person(db, slot_id=paris.person.id, person=HIDALGO, confirmed=True, now=NOW)
    await db.commit()
    spec = await spec_from_db(db, event.id)

    text = export_programme_file(spec)
    again = parse_programme(text, source="exported.toml")
    await programme.import_programme(db, spec=again)
    await db.commit()

    start = text.rindex("[[sessions.people]]", 0, text.index('name = "Anne Hidalgo"'))
    block = text[start : text.index("\n\n", start)]
    assert (again, await spec_from_db(db, event.id), block) == (
        spec,
        spec,
        "[[sessions.people]]\n"
        'role = "panelist"\n'
        'segment = "Panel - Cities Good practices"\n'
        'name = "Anne Hidalgo"\n'
        'honorific = "Ms"\n'
        'position = "Mayor of Paris"\n'
        'city = "Paris"\n'
        'country = "France"',
    )


async def test_slot_invitation_makes_its_holder_the_slot(db, summit) -> None:
    event, session = summit
    paris = await seats.find_slot(db, session_id=session.id, slot="Paris")
    invitation = await access.create_invitation(
        db,
        event_id=event.id,
        role="panelist",
        session_id=session.id,
        person_id=paris.person.id,
        now=NOW,
    )
    invitation = await access.get_invitation(db, invitation_id=invitation.id)
    unseated_name = access.invitation_name(invitation)
    room_id = session.room.id
    await seats.seat_person(db, slot_id=paris.person.id, person=HIDALGO, confirmed=True, now=NOW)
    grants, _ = await access.grants_of(
        db, event_id=event.id, invitation_ids=[invitation.id], now=NOW
    )
    viewer = access.viewer_with_grants(None, grants, event_id=event.id)
    ada = await create_participant(db, event_id=event.id, display_name="Ada", now=NOW)
    session.room.state = "live"
    asked, _ = await questions.submit_question(
        db,
        room_id=room_id,
        viewer=Viewer(ada.id, "Ada", event.id),
        text="What did Paris learn?",
        anonymous=False,
        now=NOW,
        to=paris.person.key,
    )
    moderator = Viewer(display_name="Mod", event_id=event.id, moderates=frozenset({room_id}))
    await questions.put_on_air(
        db, room_id=room_id, question_id=asked.id, moderator=moderator, now=NOW
    )
    await questions.mark_answered(
        db, room_id=room_id, question_id=asked.id, moderator=moderator, now=NOW
    )
    await db.commit()
    record = (await questions.list_room_questions(db, room_id=room_id))[0]

    assert (
        unseated_name,
        viewer.person_id == paris.person.id,
        viewer.panelist_in,
        viewer.display_name,
        record["to"],
        record["answered_by"],
    ) == (
        "Mayor of Paris",
        True,
        frozenset({room_id}),
        "Anne Hidalgo",
        {"key": paris.person.key, "name": "Anne Hidalgo", "city": "Paris"},
        "Anne Hidalgo",
    )


async def test_invitation_for_someone_not_in_the_session_is_refused(db, summit) -> None:
    event, session = summit
    eric = await access.find_person(db, event_id=event.id, name="Eric Rosand")

    with pytest.raises(Invalid) as refused:
        await access.create_invitation(
            db,
            event_id=event.id,
            role="panelist",
            session_id=session.id,
            person_id=eric.id,
            now=NOW,
        )

    assert refused.value.code == "invitation.not_in_session"


async def test_seat_person_logs_people_changed_in_the_sessions_room(db, summit) -> None:
    """Open screens follow a seat: one public ``room.people_changed`` in the session's room,
    with its people as the snapshot lists them, true to docs/asyncapi.yaml."""
    _, session = summit
    room_id = session.room.id
    paris = await seats.find_slot(db, session_id=session.id, slot="Paris")
    key = paris.person.key

    events = await seats.seat_person(
        db, slot_id=paris.person.id, person=HIDALGO, confirmed=False, now=NOW
    )
    await db.commit()
    for logged in events:
        check_event(logged)
    snapshot = await seats.people_snapshot(db, room_id=room_id)

    assert [(e.room_id, e.name, e.visibility, e.at) for e in events] == [
        (room_id, "room.people_changed", "public", NOW)
    ]
    assert events[0].data == snapshot
    assert next(p for p in snapshot["people"] if p["key"] == key) == {
        "key": key,
        "name": "Ms Anne Hidalgo (tbc)",
        "credit": "Anne Hidalgo",
        "city": "Paris",
    }
    assert all(p["key"] != "guldem-ozdogan" for p in snapshot["people"]), "moderators are not"
