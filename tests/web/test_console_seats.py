"""The console's seating form (``POST …/programme/{session}/seats/{slot}``) through the ASGI
app: an organizer seats a person in a slot; the slot keeps its key (so its invitation and
questions follow), the change is audited and logged as a room event; bad input is named next to
its field and saves nothing; a form from another origin is refused. And the invitation form
lists unfilled slots by their label."""

from __future__ import annotations

from test_console import (
    CONSOLE,
    ORIGIN,
    WORKSHOP_1,
    World,
    element_by_id,
    form_fields,
    parse,
    text_of,
    world,
)

from townhall.platform import access, seats

__all__ = ["world"]  # the fixture, shared with test_console.py

PARIS = f"{WORKSHOP_1}.5"  # "Paris (tbc)" on workshop 1's panel
SEAT = f"{CONSOLE}/programme/{WORKSHOP_1}/seats/{PARIS}"


async def paris_label(world: World) -> str:
    async with world.sessionmaker() as db:
        slot = await seats.find_slot(db, session_id=await world.session_id(WORKSHOP_1), slot="5")
        return seats.seat_label(slot.person, slot.appearance.status)


async def test_console_seats_a_person_in_a_slot(world: World) -> None:
    room = world.rooms[WORKSHOP_1]
    async with world.client_as("organizer") as client:
        page = parse((await client.get(f"{CONSOLE}/programme/{WORKSHOP_1}")).text)
        form = form_fields(page, SEAT)
        summary = text_of(element_by_id(page, "seat-5"))
        form.update(name="Anne Hidalgo", honorific="Ms", position="Mayor of Paris", confirmed="1")
        response = await client.post(SEAT, data=form, headers=ORIGIN)
        after = await client.get(response.headers["location"])

    assert (response.status_code, response.headers["location"]) == (
        303,
        f"{CONSOLE}/programme/{WORKSHOP_1}",
    )
    assert summary.startswith("Seat someone in “Mayor of Paris (tbc)”")
    assert form == {
        "name": "Anne Hidalgo",
        "honorific": "Ms",
        "position": "Mayor of Paris",
        "city": "Paris",
        "organisation": "",
        "confirmed": "1",
    }
    assert "“Mayor of Paris (tbc)” is now Ms Anne Hidalgo." in after.text
    assert "Change who sits in “Ms Anne Hidalgo”" in after.text
    assert await paris_label(world) == "Ms Anne Hidalgo"
    assert (await world.audit())[0][1:] == ("slot.seated", PARIS)
    assert (await world.logged(room))[-1] == "room.people_changed"


async def test_console_seat_problems_are_named_and_nothing_is_saved(world: World) -> None:
    room = world.rooms[WORKSHOP_1]
    before = (await world.spec(), await world.logged(room))
    async with world.client_as("organizer") as client:
        blank = await client.post(SEAT, data={"name": "  ", "city": "Paris"}, headers=ORIGIN)
        long = await client.post(SEAT, data={"name": "Anne", "position": "x" * 201}, headers=ORIGIN)

    blank_page, long_page = parse(blank.text), parse(long.text)
    assert (blank.status_code, long.status_code) == (422, 422)
    assert text_of(element_by_id(blank_page, "seat-5-name-error")) == (
        "Error: a seated person needs a name"
    )
    assert text_of(element_by_id(long_page, "seat-5-position-error")) == (
        "Error: position has at most 200 characters"
    )
    assert element_by_id(blank_page, "seat-5").get("open") is not None
    assert form_fields(long_page, SEAT)["name"] == "Anne", "what was typed is kept"
    assert (await world.spec(), await world.logged(room)) == before
    assert [a for _, a, _ in await world.audit() if a == "slot.seated"] == []


async def test_console_seat_from_another_origin_is_refused(world: World) -> None:
    async with world.client_as("organizer") as client:
        response = await client.post(
            SEAT,
            data={"name": "Mallory"},
            headers={"Origin": "https://evil.example", "Accept": "application/json"},
        )

    assert (response.status_code, response.json()["error"]["code"]) == (403, "csrf.origin")
    assert await paris_label(world) == "Mayor of Paris (tbc)"


async def test_console_seat_of_a_named_person_is_not_found(world: World) -> None:
    async with world.client_as("organizer") as client:
        response = await client.post(
            f"{CONSOLE}/programme/{WORKSHOP_1}/seats/sameh-wahba",
            data={"name": "Someone else"},
            headers=ORIGIN,
        )

    assert response.status_code == 404


async def test_console_invitation_form_lists_open_slots_and_invites_for_one(world: World) -> None:
    """Unfilled slots are listed by their label; an invitation for one is for that slot."""
    async with world.sessionmaker() as db:
        slot = await seats.find_slot(db, session_id=await world.session_id(WORKSHOP_1), slot="5")
        paris_id = slot.person.id
    async with world.client_as("organizer") as client:
        page = parse((await client.get(f"{CONSOLE}/invitations")).text)
        select = element_by_id(page, "inv-person")
        options = {o.get("value"): text_of(o) for o in select.iter("option")}
        response = await client.post(
            f"{CONSOLE}/invitations",
            data={"role": "panelist", "person": str(paris_id), "days": "30"},
            headers=ORIGIN,
        )
        after = await client.get(response.headers["location"])

    assert (
        options[str(paris_id)]
        == "Mayor of Paris (tbc) — Thematic workshop 1: Building resilience in cities"
    )
    assert (
        "Mayor of Namur (tbc) — Thematic workshop 1: Building resilience in cities"
        in options.values()
    )
    assert response.status_code == 303
    assert "Invitation for Mayor of Paris (panelist) created." in after.text
    async with world.sessionmaker() as db:
        [invitation] = [
            i
            for i in await access.list_invitations(db, event_id=world.event_id)
            if i.person_id == paris_id
        ]
    assert (invitation.role, invitation.person_id) == ("panelist", paris_id)
