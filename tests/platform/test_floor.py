"""The floor: requests and their order, turns and their time limits, airtime, bad input, races
between moderators, and snapshot + visible events == snapshot after for every viewer."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from event_schema import check_event
from projection import apply, from_snapshot
from sqlalchemy import select

from townhall.platform import floor, programme, questions, rooms, seats
from townhall.platform.errors import Conflict, DomainError, Forbidden, Invalid, InvalidState
from townhall.platform.floor import KINDS
from townhall.platform.models import FloorRequest, Person, Room
from townhall.platform.participants import create_participant
from townhall.platform.viewers import Viewer

NOW = datetime(2021, 12, 8, 13, 5, tzinfo=UTC)
WORKSHOP_1 = "workshop-1-building-resilience"
WORKSHOP_3 = "workshop-3-dialogue-solidarity"
PARIS = f"{WORKSHOP_1}.5"


def at(seconds: int) -> datetime:
    return NOW + timedelta(seconds=seconds)


def z(seconds: int) -> str:
    return at(seconds).isoformat().replace("+00:00", "Z")


@pytest.fixture
async def world(db, summit_spec):
    await programme.import_programme(db, spec=summit_spec)
    event = await programme.get_event(db, slug="mayors-summit-2021")
    session = await programme.get_session(db, event_id=event.id, slug=WORKSHOP_1)
    other = await programme.get_session(db, event_id=event.id, slug=WORKSHOP_3)
    room_id, other_room = session.room.id, other.room.id
    await rooms.set_room_state(db, room_id=room_id, action="go_live", now=NOW)
    session.room.speaking_time_minutes = 3
    people = {
        p.key: p for p in (await db.scalars(select(Person).where(Person.event_id == event.id)))
    }

    async def viewer(name: str, key: str | None = None, **roles: Any) -> Viewer:
        participant = await create_participant(db, event_id=event.id, display_name=name, now=NOW)
        person_id = people[key].id if key else None
        return Viewer(participant.id, name, event.id, person_id=person_id, **roles)

    panel = frozenset({room_id})
    viewers = {
        "moderator": await viewer("Güldem", moderates=panel),
        "sameh": await viewer("Sameh Wahba", "sameh-wahba", panelist_in=panel),
        "lina": await viewer("Lina Liakou", "lina-liakou", panelist_in=panel),
        "paris": await viewer("Mayor of Paris", PARIS, panelist_in=panel),
        "rusen": await viewer("Ruşen Keleş", "rusen-keles", panelist_in=panel),
        "audience": await viewer("Ada"),
        "elsewhere": await viewer("Eric Rosand", "eric-rosand", panelist_in={other_room}),
    }
    await db.commit()
    return room_id, other_room, viewers


async def snapshot(db, room_id: int, viewer: Viewer) -> dict[str, Any]:
    db.expire_all()
    room = await rooms.room_snapshot(db, room_id=room_id)
    return {
        "room": room["room"],
        **await questions.questions_snapshot(db, room_id=room_id, viewer=viewer),
        **await floor.floor_snapshot(db, room_id=room_id, viewer=viewer),
    }


async def verify(db, room_id: int, viewers: dict[str, Viewer], step) -> list:
    before = {name: await snapshot(db, room_id, v) for name, v in viewers.items()}
    events = await step(db)
    for event in events if isinstance(events, list) else events[1]:
        check_event(event)
    if isinstance(events, tuple):
        events = events[1]
    await db.commit()
    for name, viewer in viewers.items():
        state = from_snapshot(before[name])
        for event in events:
            if viewer.can_see(room_id, event.visibility, event.participant_id):
                state = apply(state, event.name, json.loads(json.dumps(event.data)))
        after = from_snapshot(await snapshot(db, room_id, viewer))
        assert state == after, f"{name}'s view diverges after {[e.name for e in events]}"
    return events


def entry(request_id, name, city, person, kind, requested, *, reply_to=None, added=False):
    return {
        "id": request_id,
        "name": name,
        "city": city,
        "person": person,
        "kind": kind,
        "reply_to": reply_to,
        "requested_at": z(requested),
        "added_by_moderator": added,
    }


async def test_every_floor_action_projects_for_every_viewer(db, world) -> None:
    room_id, _, v = world
    mod = v["moderator"]
    ids: dict[str, int] = {}

    def ask(key: str, who: str, kind: str, when: int):
        async def step(db):
            request, events = await floor.request_floor(
                db, room_id=room_id, viewer=v[who], kind=kind, now=at(when)
            )
            ids[key] = request.id
            return events

        return step

    def moderate(action, when: int, **args):
        async def step(db):
            if "request" in args:
                args["request_id"] = ids[args.pop("request")]
            if "order" in args:
                args["order"] = [ids[k] for k in args["order"]]
            return await action(db, room_id=room_id, moderator=mod, now=at(when), **args)

        return step

    async def add_sameh(db):
        request, events = await floor.add_to_floor(
            db,
            room_id=room_id,
            moderator=mod,
            person="sameh-wahba",
            kind="contribution",
            now=at(70),
        )
        ids["sameh2"] = request.id
        return events

    def end(who: str, when: int):
        async def step(db):
            return await floor.end_turn(db, room_id=room_id, viewer=v[who], now=at(when))

        return step

    async def close(db):
        return await floor.close_floor(db, room_id=room_id, now=at(250))

    async def withdraw_lina(db):
        return await floor.withdraw_floor(
            db, room_id=room_id, viewer=v["lina"], request_id=ids["lina"], now=at(60)
        )

    steps = [
        ask("sameh", "sameh", "contribution", 0),
        ask("lina", "lina", "contribution", 5),
        moderate(floor.grant_floor, 10),
        ask("paris", "paris", "reply", 20),
        ask("rusen", "rusen", "point_of_order", 30),
        moderate(floor.reorder_floor, 40, order=["lina", "rusen", "paris"]),
        moderate(floor.set_turn_limit, 50, seconds=120),
        withdraw_lina,
        add_sameh,
        moderate(floor.remove_from_floor, 80, request="paris"),
        moderate(floor.grant_floor, 100, request="rusen"),
        end("rusen", 145),
        moderate(floor.grant_floor, 150),
        end("moderator", 210),
        ask("lina2", "lina", "contribution", 215),
        moderate(floor.grant_floor, 220),
        ask("paris2", "paris", "contribution", 225),
        close,
    ]
    names: list[str] = []
    for step in steps:
        names += [e.name for e in await verify(db, room_id, v, step)]

    final = await snapshot(db, room_id, mod)
    assert (set(names), final["floor"], final["floor_airtime"]) == (
        {
            "floor.requested",
            "floor.granted",
            "floor.reordered",
            "floor.limit_changed",
            "floor.withdrawn",
            "floor.removed",
            "floor.turn_ended",
            "floor.airtime_changed",
            "floor.closed",
        },
        {"version": 18, "queue": [], "speaking": None},
        {
            "people": [
                {
                    "name": "Sameh Wahba",
                    "person": "sameh-wahba",
                    "city": None,
                    "seconds": 150,
                    "turns": 2,
                },
                {
                    "name": "Ruşen Keleş",
                    "person": "rusen-keles",
                    "city": None,
                    "seconds": 45,
                    "turns": 1,
                },
                {
                    "name": "Lina Liakou",
                    "person": "lina-liakou",
                    "city": None,
                    "seconds": 30,
                    "turns": 1,
                },
            ],
            "cities": [{"city": None, "seconds": 225, "turns": 4}],
        },
    )


async def test_request_floor_orders_points_of_order_then_replies_then_contributions(
    db, world
) -> None:
    room_id, _, v = world
    mod = v["moderator"]
    await floor.request_floor(db, room_id=room_id, viewer=v["lina"], kind="contribution", now=at(0))
    await floor.add_to_floor(
        db, room_id=room_id, moderator=mod, person="sameh-wahba", kind="contribution", now=at(1)
    )
    await floor.grant_floor(db, room_id=room_id, moderator=mod, now=at(2))
    await floor.request_floor(db, room_id=room_id, viewer=v["rusen"], kind="reply", now=at(3))
    await floor.request_floor(
        db, room_id=room_id, viewer=v["paris"], kind="point_of_order", now=at(4)
    )
    await db.commit()

    part = await floor.floor_snapshot(db, room_id=room_id, viewer=v["paris"])
    lina_id = part["floor"]["speaking"]["id"]
    ids = [r["id"] for r in part["floor"]["queue"]]

    assert part == {
        "floor": {
            "version": 5,
            "queue": [
                entry(ids[0], "Mayor of Paris", "Paris", PARIS, "point_of_order", 4),
                entry(ids[1], "Ruşen Keleş", None, "rusen-keles", "reply", 3, reply_to=lina_id),
                entry(ids[2], "Sameh Wahba", None, "sameh-wahba", "contribution", 1, added=True),
            ],
            "speaking": {
                **entry(lina_id, "Lina Liakou", None, "lina-liakou", "contribution", 0),
                "granted_at": z(2),
                "limit_seconds": 180,
                "ends_at": z(182),
            },
        },
        "my_floor_request": ids[0],
    }


async def test_seated_slot_speaks_under_the_seated_name_and_city(db, world) -> None:
    room_id, _, v = world
    await seats.seat_person(
        db,
        slot_id=v["paris"].person_id,
        person=seats.SeatedPerson(name="Anne Hidalgo", honorific="Ms"),
        confirmed=True,
        now=NOW,
    )
    request, events = await floor.request_floor(
        db, room_id=room_id, viewer=v["paris"], kind="contribution", now=at(0)
    )
    await floor.grant_floor(db, room_id=room_id, moderator=v["moderator"], now=at(10))
    await db.commit()

    record = await floor.airtime(db, room_id=room_id, now=at(70))

    assert (events[0].data["request"], events[0].visibility, record) == (
        entry(request.id, "Anne Hidalgo", "Paris", PARIS, "contribution", 0),
        "public",
        {
            "people": [
                {
                    "name": "Anne Hidalgo",
                    "person": PARIS,
                    "city": "Paris",
                    "seconds": 60,
                    "turns": 1,
                }
            ],
            "cities": [{"city": "Paris", "seconds": 60, "turns": 1}],
        },
    )


async def _error(action) -> tuple[type, str]:
    with pytest.raises((Conflict, Forbidden, Invalid, InvalidState)) as refused:
        await action
    return type(refused.value), refused.value.code


async def test_floor_refuses_bad_input_with_typed_errors(db, world) -> None:
    room_id, other_room, v = world
    mod = v["moderator"]
    request = floor.request_floor
    sameh, _ = await request(db, room_id=room_id, viewer=v["sameh"], kind="contribution", now=NOW)
    lina, _ = await request(db, room_id=room_id, viewer=v["lina"], kind="contribution", now=NOW)
    await floor.withdraw_floor(db, room_id=room_id, viewer=v["lina"], request_id=lina.id, now=NOW)
    await db.commit()

    refusals = [
        await _error(request(db, room_id=room_id, viewer=v["audience"], kind="reply", now=NOW)),
        await _error(request(db, room_id=room_id, viewer=v["elsewhere"], kind="reply", now=NOW)),
        await _error(request(db, room_id=room_id, viewer=mod, kind="contribution", now=NOW)),
        await _error(request(db, room_id=room_id, viewer=v["sameh"], kind="rant", now=NOW)),
        await _error(request(db, room_id=room_id, viewer=v["sameh"], kind="contribution", now=NOW)),
        await _error(request(db, room_id=room_id, viewer=v["paris"], kind="reply", now=NOW)),
        await _error(floor.grant_floor(db, room_id=room_id, moderator=v["sameh"], now=NOW)),
        await _error(
            floor.grant_floor(db, room_id=room_id, moderator=mod, request_id=lina.id, now=NOW)
        ),
        await _error(floor.grant_floor(db, room_id=room_id, moderator=mod, limit=5, now=NOW)),
        await _error(floor.grant_floor(db, room_id=room_id, moderator=mod, limit=99999, now=NOW)),
        await _error(
            floor.withdraw_floor(
                db, room_id=room_id, viewer=v["paris"], request_id=sameh.id, now=NOW
            )
        ),
        await _error(
            floor.withdraw_floor(
                db, room_id=other_room, viewer=v["sameh"], request_id=sameh.id, now=NOW
            )
        ),
        await _error(floor.end_turn(db, room_id=room_id, viewer=mod, now=NOW)),
        await _error(
            floor.reorder_floor(db, room_id=room_id, moderator=mod, order=[sameh.id] * 2, now=NOW)
        ),
        await _error(
            floor.add_to_floor(
                db, room_id=room_id, moderator=mod, person="eric-rosand", kind="reply", now=NOW
            )
        ),
        await _error(floor.grant_floor(db, room_id=room_id, moderator=mod, version=1, now=NOW)),
    ]
    await db.rollback()

    assert refusals == [
        (Forbidden, "floor.panel_only"),
        (Forbidden, "floor.panel_only"),
        (Forbidden, "floor.moderators_add"),
        (Invalid, "floor.invalid_kind"),
        (Conflict, "floor.duplicate"),
        (InvalidState, "floor.nobody_speaking"),
        (Forbidden, "room.forbidden"),
        (InvalidState, "floor.withdrawn"),
        (Invalid, "floor.invalid_limit"),
        (Invalid, "floor.invalid_limit"),
        (Forbidden, "floor.not_yours"),
        (Forbidden, "floor.panel_only"),
        (InvalidState, "floor.nobody_speaking"),
        (Invalid, "floor.bad_order"),
        (Invalid, "floor.unknown_panelist"),
        (Conflict, "floor.conflict"),
    ]


async def test_floor_closed_until_the_room_opens(db, world) -> None:
    room_id, _, v = world
    room = await db.get(Room, room_id)
    room.state = "ended"
    await db.commit()

    refused = await _error(
        floor.request_floor(db, room_id=room_id, viewer=v["sameh"], kind="contribution", now=NOW)
    )

    assert refused == (InvalidState, "floor.room_closed")


async def test_grant_floor_two_moderators_at_once_one_wins_other_gets_fresh_queue(
    sessionmaker, world
) -> None:
    room_id, _, v = world
    async with sessionmaker() as db:
        for who in ("sameh", "lina"):
            await floor.request_floor(
                db, room_id=room_id, viewer=v[who], kind="contribution", now=NOW
            )
        await db.commit()
        seen = (await floor.floor_snapshot(db, room_id=room_id, viewer=v["moderator"]))["floor"]

    async def grant(moderator_name: str):
        async with sessionmaker() as db:
            moderator = Viewer(display_name=moderator_name, moderates=frozenset({room_id}))
            try:
                await floor.grant_floor(
                    db, room_id=room_id, moderator=moderator, now=at(5), version=seen["version"]
                )
                await db.commit()
                return "granted"
            except Conflict as conflict:
                await db.rollback()
                return conflict.code, conflict.details["floor"]

    results = await asyncio.gather(grant("One"), grant("Two"))

    async with sessionmaker() as db:
        fresh = (await floor.floor_snapshot(db, room_id=room_id, viewer=v["moderator"]))["floor"]
    assert sorted(results, key=str) == sorted(["granted", ("floor.conflict", fresh)], key=str)
    assert (fresh["version"], fresh["speaking"]["name"], [r["name"] for r in fresh["queue"]]) == (
        seen["version"] + 1,
        "Sameh Wahba",
        ["Lina Liakou"],
    )


async def test_close_floor_with_nobody_on_it_logs_nothing(db, world) -> None:
    room_id, _, _ = world

    events = await floor.close_floor(db, room_id=room_id, now=NOW)

    assert events == []


async def test_floor_closes_when_the_programme_ends_the_room(db, world) -> None:
    room_id, _, v = world
    await floor.request_floor(
        db, room_id=room_id, viewer=v["sameh"], kind="contribution", now=at(1)
    )
    _, [asked] = await floor.request_floor(
        db, room_id=room_id, viewer=v["lina"], kind="contribution", now=at(2)
    )
    await floor.grant_floor(db, room_id=room_id, moderator=v["moderator"], now=at(3))
    await db.commit()
    ends_at = (await rooms.get_room(db, room_id=room_id)).session.ends_at
    assert ends_at is not None

    events = await rooms.advance_rooms(db, now=ends_at, room_id=room_id)
    events += await floor.close_floors_of_ended_rooms(db, events=events, now=ends_at)
    await db.commit()
    later = await rooms.set_room_state(db, room_id=room_id, action="archive", now=ends_at)
    later += await floor.close_floors_of_ended_rooms(db, events=later, now=ends_at)

    closed = events[-1].data
    assert (
        [e.name for e in events],
        (closed["requests"], closed["floor"]["queue"], closed["floor"]["speaking"]),
        [e.name for e in later],
    ) == (
        ["room.state_changed", "floor.turn_ended", "floor.airtime_changed", "floor.closed"],
        ([asked.data["request"]["id"]], [], None),
        ["room.state_changed"],
    )


@pytest.mark.parametrize("seed", [7, 2021])
async def test_floor_random_walk_keeps_order_and_projections(db, world, seed) -> None:
    """Random sequences of every floor action: refused ones change nothing; accepted ones
    keep one speaker at most, one request per person, positions 0..n-1, and every viewer's
    projection equal to their snapshot."""
    room_id, _, v = world
    rng = random.Random(seed)
    watchers = {name: v[name] for name in ("moderator", "sameh", "audience")}
    panel = ["sameh", "lina", "paris", "rusen"]
    keys = ["sameh-wahba", "lina-liakou", PARIS, "rusen-keles"]
    mod = v["moderator"]
    clock = iter(range(0, 100_000, 7))

    def pick_action():
        kind = rng.choice(KINDS)
        choice = rng.randrange(10)
        now = at(next(clock))

        async def step(db):
            queue = (await floor.floor_snapshot(db, room_id=room_id, viewer=mod))["floor"]["queue"]
            some = rng.choice(queue)["id"] if queue else 999_999
            common = {"db": db, "room_id": room_id, "now": now}
            if choice <= 2:
                return (
                    await floor.request_floor(**common, viewer=v[rng.choice(panel)], kind=kind)
                )[1]
            if choice == 3:
                who = v[rng.choice(panel)]
                return await floor.withdraw_floor(**common, viewer=who, request_id=some)
            if choice == 4:
                person = rng.choice(keys)
                return (
                    await floor.add_to_floor(**common, moderator=mod, person=person, kind=kind)
                )[1]
            if choice == 5:
                return await floor.remove_from_floor(**common, moderator=mod, request_id=some)
            if choice == 6:
                order = [r["id"] for r in queue]
                rng.shuffle(order)
                return await floor.reorder_floor(**common, moderator=mod, order=order)
            if choice == 7:
                target = some if rng.random() < 0.5 else None
                return await floor.grant_floor(**common, moderator=mod, request_id=target)
            if choice == 8:
                return await floor.end_turn(**common, viewer=rng.choice([mod, v["sameh"]]))
            return await floor.set_turn_limit(**common, moderator=mod, seconds=rng.choice([5, 60]))

        return step

    accepted = 0
    for _ in range(40):
        step = pick_action()
        try:
            await verify(db, room_id, watchers, step)
            accepted += 1
        except DomainError:
            await db.rollback()
        rows = (
            await db.scalars(
                select(FloorRequest)
                .where(FloorRequest.room_id == room_id)
                .execution_options(populate_existing=True)
            )
        ).all()
        queued = sorted(r.position for r in rows if r.status == "queued")
        people = [r.person_id or r.participant_id for r in rows if r.status == "queued"]
        speaking = [r for r in rows if r.status == "speaking"]
        assert (queued, len(set(people)), len(speaking) <= 1) == (
            list(range(len(queued))),
            len(people),
            True,
        )
    assert accepted >= 10
