"""Backstage: moderators and panel talk privately; one panelist gets their own messages; the
audience sees nothing, in events or snapshots; a queued question can be passed on."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from event_schema import check_event
from projection import apply, from_snapshot

from townhall.platform import access, backstage, programme, questions, rooms
from townhall.platform.errors import Forbidden, Invalid, InvalidState
from townhall.platform.participants import create_participant
from townhall.platform.viewers import Viewer

NOW = datetime(2021, 12, 8, 13, 5, tzinfo=UTC)
WORKSHOP_1 = "workshop-1-building-resilience"
WORKSHOP_3 = "workshop-3-dialogue-solidarity"


def z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
async def world(db, summit_spec):
    await programme.import_programme(db, spec=summit_spec)
    event = await programme.get_event(db, slug="mayors-summit-2021")
    session = await programme.get_session(db, event_id=event.id, slug=WORKSHOP_1)
    other = await programme.get_session(db, event_id=event.id, slug=WORKSHOP_3)
    room_id = session.room.id
    await rooms.set_room_state(db, room_id=room_id, action="go_live", now=NOW)

    async def panelist(name: str, session_id: int) -> Viewer:
        person = await access.find_person(db, event_id=event.id, name=name)
        invitation = await access.create_invitation(
            db, event_id=event.id, role="panelist", person_id=person.id, now=NOW
        )
        redeemed = await access.redeem_invitation(
            db, invitation_id=invitation.id, nonce=invitation.nonce, now=NOW
        )
        grants, _ = await access.grants_of(
            db, event_id=event.id, invitation_ids=[redeemed.id], now=NOW
        )
        viewer = Viewer(redeemed.participant_id, name, event.id)
        return access.viewer_with_grants(viewer, grants, event_id=event.id)

    ada = await create_participant(db, event_id=event.id, display_name="Ada", now=NOW)
    viewers = {
        "moderator": Viewer(None, "Güldem", event.id, moderates=frozenset({room_id})),
        "sameh_phone": await panelist("Sameh Wahba", session.id),
        "sameh_laptop": await panelist("Sameh Wahba", session.id),
        "lina": await panelist("Lina Liakou", session.id),
        "audience": Viewer(ada.id, "Ada", event.id),
        "elsewhere": await panelist("Eric Rosand", other.id),
    }
    await db.commit()
    return room_id, viewers


async def snapshot(db, room_id: int, viewer: Viewer) -> dict[str, Any]:
    db.expire_all()
    room = await rooms.room_snapshot(db, room_id=room_id)
    return {
        "room": room["room"],
        **await questions.questions_snapshot(db, room_id=room_id, viewer=viewer),
        **await backstage.backstage_snapshot(db, room_id=room_id, viewer=viewer),
    }


async def verify(db, room_id: int, viewers: dict[str, Viewer], step) -> list:
    before = {name: await snapshot(db, room_id, v) for name, v in viewers.items()}
    events = await step(db)
    for event in events if isinstance(events, list) else events[1]:
        check_event(event)
    await db.commit()
    for name, viewer in viewers.items():
        state = from_snapshot(before[name])
        for event in events:
            if viewer.can_see(room_id, event.visibility, event.participant_id):
                state = apply(state, event.name, json.loads(json.dumps(event.data)))
        after = from_snapshot(await snapshot(db, room_id, viewer))
        assert state == after, f"{name}'s view diverges after {[e.name for e in events]}"
    return events


async def test_backstage_reaches_the_panel_one_panelist_and_never_the_audience(db, world):
    room_id, v = world
    mod = v["moderator"]
    asked, _ = await questions.submit_question(
        db,
        room_id=room_id,
        viewer=v["audience"],
        text="How is Glasgow funding resilience?",
        anonymous=True,
        now=NOW,
    )
    await db.commit()

    def send(sender: str, text: str, minute: int, **options: Any):
        async def step(db):
            return await backstage.send_backstage(
                db,
                room_id=room_id,
                sender=v[sender] if sender != "moderator" else mod,
                text=text,
                now=NOW + timedelta(minutes=minute),
                **options,
            )

        return step

    shapes = []
    for step in (
        send("moderator", "2 minutes left", 1),
        send(
            "moderator", "The next question is for you", 2, to="sameh-wahba", question_id=asked.id
        ),
        send("lina", "Can I come in after Sameh?", 3),
    ):
        events = await verify(db, room_id, v, step)
        shapes.append([(e.visibility, e.participant_id) for e in events])
    seen = {name: await snapshot(db, room_id, viewer) for name, viewer in v.items()}
    texts = {name: [m["text"] for m in s.get("backstage", [])] for name, s in seen.items()}
    briefing = seen["sameh_phone"]["backstage"][1]

    sameh = [v["sameh_phone"].participant_id, v["sameh_laptop"].participant_id]
    assert shapes == [
        [("backstage", None)],
        [("backstage_to", sameh[0]), ("backstage_to", sameh[1])],
        [("backstage", None)],
    ]
    everything = ["2 minutes left", "The next question is for you", "Can I come in after Sameh?"]
    assert texts == {
        "moderator": everything,
        "sameh_phone": everything,
        "sameh_laptop": everything,
        "lina": ["2 minutes left", "Can I come in after Sameh?"],
        "audience": [],
        "elsewhere": [],
    }
    assert ("backstage" in seen["audience"], "backstage" in seen["elsewhere"]) == (False, False)
    assert {k: v for k, v in briefing.items() if k != "id"} == {
        "from": {"name": "Güldem", "role": "moderator"},
        "to": {"key": "sameh-wahba", "name": "Sameh Wahba", "city": None},
        "text": "The next question is for you",
        "question": {
            "id": asked.id,
            "text": "How is Glasgow funding resilience?",
            "author": None,
            "anonymous": True,
            "to": None,
            "assigned_to": None,
            "status": "pending",
            "votes": 0,
            "pinned": None,
            "edited": False,
            "created_at": z(NOW),
            "answered_at": None,
            "answered_by": None,
            "merged_into": None,
            "language": None,
        },
        "sent_at": z(NOW + timedelta(minutes=2)),
    }
    assert await backstage.list_backstage_log(db, room_id=room_id) == [
        {
            "sent_at": z(NOW + timedelta(minutes=1)),
            "from": "Güldem",
            "role": "moderator",
            "to": None,
            "text": "2 minutes left",
            "question": None,
        },
        {
            "sent_at": z(NOW + timedelta(minutes=2)),
            "from": "Güldem",
            "role": "moderator",
            "to": "Sameh Wahba",
            "text": "The next question is for you",
            "question": asked.id,
        },
        {
            "sent_at": z(NOW + timedelta(minutes=3)),
            "from": "Lina Liakou",
            "role": "panelist",
            "to": None,
            "text": "Can I come in after Sameh?",
            "question": None,
        },
    ]


@pytest.mark.parametrize(
    ("sender", "text", "options", "error", "code"),
    [
        ("audience", "hello", {}, Forbidden, "backstage.forbidden"),
        ("elsewhere", "hello", {}, Forbidden, "backstage.forbidden"),
        ("lina", "psst", {"to": "sameh-wahba"}, Forbidden, "backstage.moderators_only"),
        ("moderator", "x" * 281, {}, Invalid, "backstage.too_long"),
        ("moderator", "  \n ", {}, Invalid, "backstage.empty"),
        ("moderator", "bell\x07", {}, Invalid, "backstage.invalid_characters"),
        ("moderator", "hi", {"to": "eric-rosand"}, Invalid, "backstage.unknown_panelist"),
        ("moderator", "hi", {"to": "rusen-keles"}, InvalidState, "backstage.not_joined"),
    ],
)
async def test_send_backstage_refuses_bad_input(db, world, sender, text, options, error, code):
    room_id, v = world

    with pytest.raises(error) as refused:
        await backstage.send_backstage(
            db, room_id=room_id, sender=v[sender], text=text, now=NOW, **options
        )

    assert refused.value.code == code


def test_viewer_can_see_backstage_only_on_staff_and_panel_tiers() -> None:
    staff = Viewer("m", moderates=frozenset({1}))
    panel = Viewer("p", panelist_in=frozenset({1}))
    other_panel = Viewer("q", panelist_in=frozenset({2}))
    audience = Viewer("a")
    cases = [
        ("backstage", None),
        ("backstage_to", "p"),
        ("backstage_to", "q"),
        ("backstage_to", "a"),
    ]

    seen = [
        [viewer.can_see(1, visibility, target) for visibility, target in cases]
        for viewer in (staff, panel, other_panel, audience)
    ]

    assert seen == [
        [True, True, True, True],
        [True, True, False, False],
        [False, False, False, False],
        [False, False, False, False],
    ]
