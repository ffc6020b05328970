"""``static/js/live.js``'s floor and backstage part against the server: for each kind of viewer,
the snapshot before plus the events that viewer may see, reduced in Node by qa.js's reducer
(which hands floor and backstage events to live.js), equals the snapshot after.

The events come from the real domain actions (townhall.platform.floor and .backstage)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from test_qa_reducer import reduce_in_node

from townhall.platform import access, backstage, floor, programme, questions, rooms, seats
from townhall.platform.models import Room
from townhall.platform.participants import create_participant
from townhall.platform.room_log import list_events_after
from townhall.platform.viewers import Viewer

NOW = datetime(2021, 12, 8, 13, 5, tzinfo=UTC)
WORKSHOP_1 = "workshop-1-building-resilience"


def at(seconds: int) -> datetime:
    return NOW + timedelta(seconds=seconds)


async def snapshot(db: AsyncSession, room_id: int, viewer: Viewer) -> dict[str, Any]:
    db.expire_all()
    return {
        **await floor.floor_snapshot(db, room_id=room_id, viewer=viewer),
        **await backstage.backstage_snapshot(db, room_id=room_id, viewer=viewer),
    }


async def panelist_viewer(db: AsyncSession, event_id: int, name: str) -> Viewer:
    """The viewer of a panelist who redeemed an invitation for the programme's ``name``."""
    person = await access.find_person(db, event_id=event_id, name=name)
    invitation = await access.create_invitation(
        db, event_id=event_id, role="panelist", person_id=person.id, now=NOW
    )
    redeemed = await access.redeem_invitation(
        db, invitation_id=invitation.id, nonce=invitation.nonce, now=NOW
    )
    grants, _ = await access.grants_of(db, event_id=event_id, invitation_ids=[redeemed.id], now=NOW)
    viewer = Viewer(redeemed.participant_id, name, event_id)
    return access.viewer_with_grants(viewer, grants, event_id=event_id)


def comparable(state: dict[str, Any]) -> dict[str, Any]:
    """The sequenced floor and backstage state (my_floor_request is personal, not sequenced)."""
    return {
        "floor": state["floor"],
        "floor_airtime": state.get("floor_airtime"),
        "backstage": sorted(state.get("backstage", []), key=lambda m: (m["sent_at"], m["id"]))
        if "backstage" in state
        else None,
    }


async def test_live_js_reducer_turns_each_floor_snapshot_into_the_next(
    db: AsyncSession, summit_spec, tmp_path: Path
):
    await programme.import_programme(db, spec=summit_spec)
    event = await programme.get_event(db, slug="mayors-summit-2021")
    session = await programme.get_session(db, event_id=event.id, slug=WORKSHOP_1)
    room_id = session.room.id
    await rooms.set_room_state(db, room_id=room_id, action="go_live", now=NOW)
    session.room.speaking_time_minutes = 3

    async def panelist(name: str) -> Viewer:
        return await panelist_viewer(db, event.id, name)

    ada = await create_participant(db, event_id=event.id, display_name="Ada", now=NOW)
    moderator = Viewer(None, "Güldem", event.id, moderates=frozenset({room_id}))
    viewers = {
        "moderator": moderator,
        "sameh": await panelist("Sameh Wahba"),
        "lina": await panelist("Lina Liakou"),
        "audience": Viewer(ada.id, "Ada", event.id),
    }
    await db.commit()
    before = {name: await snapshot(db, room_id, v) for name, v in viewers.items()}
    start = (await db.get(Room, room_id)).seq

    sameh_request, _ = await floor.request_floor(
        db, room_id=room_id, viewer=viewers["sameh"], kind="contribution", now=at(1)
    )
    await floor.request_floor(
        db, room_id=room_id, viewer=viewers["lina"], kind="point_of_order", now=at(2)
    )
    await backstage.send_backstage(
        db, room_id=room_id, sender=moderator, text="Two minutes each", now=at(3)
    )
    await backstage.send_backstage(
        db, room_id=room_id, sender=moderator, text="You are next", to="sameh-wahba", now=at(4)
    )
    await floor.grant_floor(db, room_id=room_id, moderator=moderator, request_id=None, now=at(5))
    await floor.set_turn_limit(db, room_id=room_id, moderator=moderator, seconds=60, now=at(6))
    await backstage.send_backstage(
        db, room_id=room_id, sender=viewers["lina"], text="Thank you", now=at(20)
    )
    await floor.grant_floor(
        db, room_id=room_id, moderator=moderator, request_id=sameh_request.id, now=at(40)
    )
    await floor.end_turn(db, room_id=room_id, viewer=viewers["sameh"], now=at(100))
    await db.commit()

    logged = await list_events_after(db, room_id=room_id, after=start)
    cases = {
        name: {
            "before": before[name],
            "events": [
                {"name": e.name, "data": e.data, "seq": e.seq}
                for e in logged
                if v.can_see(room_id, e.visibility, e.participant_id)
            ],
        }
        for name, v in viewers.items()
    }
    after = {name: await snapshot(db, room_id, v) for name, v in viewers.items()}
    reduced = reduce_in_node(cases, tmp_path)

    assert {name: comparable(s) for name, s in reduced.items()} == {
        name: comparable(s) for name, s in after.items()
    }
    assert [m["text"] for m in comparable(reduced["sameh"])["backstage"]] == [
        "Two minutes each",
        "You are next",
        "Thank you",
    ]
    assert comparable(reduced["lina"])["backstage"] is not None
    assert "You are next" not in [m["text"] for m in reduced["lina"]["backstage"]]
    assert "backstage" not in reduced["audience"]


async def test_live_js_reducer_drops_my_floor_request_once_it_leaves_the_queue(
    db: AsyncSession, summit_spec, tmp_path: Path
):
    """``my_floor_request`` comes in a panelist's snapshot only; events keep it right: granted
    (Sameh) or withdrawn (Lina), it is no longer theirs; still queued, it stays."""
    await programme.import_programme(db, spec=summit_spec)
    event = await programme.get_event(db, slug="mayors-summit-2021")
    session = await programme.get_session(db, event_id=event.id, slug=WORKSHOP_1)
    room_id = session.room.id
    await rooms.set_room_state(db, room_id=room_id, action="go_live", now=NOW)
    moderator = Viewer(None, "Güldem", event.id, moderates=frozenset({room_id}))
    sameh = await panelist_viewer(db, event.id, "Sameh Wahba")
    lina = await panelist_viewer(db, event.id, "Lina Liakou")
    first, _ = await floor.request_floor(
        db, room_id=room_id, viewer=sameh, kind="contribution", now=at(1)
    )
    second, _ = await floor.request_floor(
        db, room_id=room_id, viewer=lina, kind="contribution", now=at(2)
    )
    first_id, second_id = first.id, second.id
    await db.commit()
    before = {
        "sameh": await snapshot(db, room_id, sameh),
        "lina": await snapshot(db, room_id, lina),
    }
    start = (await db.get(Room, room_id)).seq

    await floor.grant_floor(db, room_id=room_id, moderator=moderator, request_id=None, now=at(5))
    await db.commit()
    granted = (await db.get(Room, room_id)).seq
    await floor.withdraw_floor(db, room_id=room_id, viewer=lina, request_id=second_id, now=at(9))
    await db.commit()
    after = {"sameh": await snapshot(db, room_id, sameh), "lina": await snapshot(db, room_id, lina)}
    logged = [
        {"name": e.name, "data": e.data, "seq": e.seq}
        for e in await list_events_after(db, room_id=room_id, after=start)
    ]
    reduced = reduce_in_node(
        {
            "sameh": {"before": before["sameh"], "events": logged},
            "lina, after the grant": {
                "before": before["lina"],
                "events": [e for e in logged if e["seq"] <= granted],
            },
            "lina": {"before": before["lina"], "events": logged},
        },
        tmp_path,
    )

    assert (
        {name: part["my_floor_request"] for name, part in before.items()},
        {name: state["my_floor_request"] for name, state in reduced.items()},
    ) == (
        {"sameh": first_id, "lina": second_id},
        {"sameh": None, "lina, after the grant": second_id, "lina": None},
    )
    assert {name: part["my_floor_request"] for name, part in after.items()} == {
        "sameh": None,
        "lina": None,
    }


async def test_live_js_reducer_follows_a_seat_being_filled(
    db: AsyncSession, summit_spec, tmp_path: Path
):
    """Seating the Mayor of Paris logs ``room.people_changed``: the snapshot's ``people`` (the
    addressee list) and the questions put or assigned to the slot, reduced in Node, equal the
    next snapshot's — for the audience and the staff alike."""
    await programme.import_programme(db, spec=summit_spec)
    event = await programme.get_event(db, slug="mayors-summit-2021")
    session = await programme.get_session(db, event_id=event.id, slug=WORKSHOP_1)
    room_id, session_id = session.room.id, session.id
    await rooms.set_room_state(db, room_id=room_id, action="go_live", now=NOW)
    paris = await seats.find_slot(db, session_id=session_id, slot="Paris")
    slot_id, slot_key = paris.person.id, paris.person.key
    ada = await create_participant(db, event_id=event.id, display_name="Ada", now=NOW)
    moderator = Viewer(None, "Güldem", event.id, moderates=frozenset({room_id}))
    viewers = {"audience": Viewer(ada.id, "Ada", event.id), "moderator": moderator}
    asked, _ = await questions.submit_question(
        db,
        room_id=room_id,
        viewer=viewers["audience"],
        text="How does Paris keep cool?",
        anonymous=False,
        to=slot_key,
        now=at(1),
    )
    await questions.approve_question(
        db, room_id=room_id, moderator=moderator, question_id=asked.id, now=at(2)
    )
    await db.commit()

    async def room_snapshot(viewer: Viewer) -> dict[str, Any]:
        db.expire_all()
        return {
            **await seats.people_snapshot(db, room_id=room_id),
            **await questions.questions_snapshot(db, room_id=room_id, viewer=viewer),
        }

    before = {name: await room_snapshot(v) for name, v in viewers.items()}
    start = (await db.get(Room, room_id)).seq
    hidalgo = seats.SeatedPerson(name="Anne Hidalgo", honorific="Ms", position="Mayor of Paris")
    logged = await seats.seat_person(
        db, slot_id=slot_id, person=hidalgo, confirmed=True, now=at(10)
    )
    await db.commit()
    after = {name: await room_snapshot(v) for name, v in viewers.items()}
    events = await list_events_after(db, room_id=room_id, after=start)
    reduced = reduce_in_node(
        {
            name: {
                "before": before[name],
                "events": [{"name": e.name, "data": e.data, "seq": e.seq} for e in events],
            }
            for name in viewers
        },
        tmp_path,
    )

    def seen(state: dict[str, Any]) -> dict[str, Any]:
        return {
            "people": state["people"],
            "questions": sorted(state["questions"], key=lambda q: q["id"]),
        }

    paris_entry = {
        "key": slot_key,
        "name": "Ms Anne Hidalgo",
        "credit": "Anne Hidalgo",
        "city": "Paris",
    }
    assert (
        [(e.name, e.visibility) for e in events],
        [e.seq for e in logged] == [e.seq for e in events],
        next(p for p in before["audience"]["people"] if p["key"] == slot_key)["name"],
        next(p for p in after["audience"]["people"] if p["key"] == slot_key),
        after["audience"]["questions"][0]["to"],
    ) == (
        [("room.people_changed", "public")],
        True,
        "Mayor of Paris (tbc)",
        paris_entry,
        {"key": slot_key, "name": "Anne Hidalgo", "city": "Paris"},
    )
    assert {name: seen(s) for name, s in reduced.items()} == {
        name: seen(s) for name, s in after.items()
    }
