"""A client's reducer of room events, written from the protocol's documented meaning of each event,
independently of the server's code.

A client that applies every event after a snapshot must hold what a fresh snapshot at the same
``seq`` says. As ``docs/protocol.md`` (Events) puts it: ``room.state_changed`` and
``room.updated`` carry ``data.changes``, the room's fields that changed, laid over
``state.room``; ``room.schedule_changed`` sets ``state.room.session.starts_at`` and ``ends_at``
and moves ``opens_at`` by the same amount (the room keeps its lead time). Instants are written
as the server writes them (UTC, ``Z``).

The floor and backstage (Events, and the snapshot's floor and backstage part): every ``floor.*``
event but ``floor.airtime_changed`` carries the whole public floor, which replaces
``state.floor``; ``floor.airtime_changed`` replaces ``state.floor_airtime``; ``backstage.sent``
merges ``data.message`` into ``state.backstage`` by ``id`` (a list in ``id`` order, as
``layOwn`` merges). ``room.people_changed`` (a seat filled) replaces ``state.people`` and
renames the people questions are addressed or assigned to (``to``/``assigned_to``: ``name``
from the entry's ``credit``, and its ``city``). ``my_floor_request`` is the viewer's own and
not sequenced: a fresh snapshot says it, events do not (:func:`sequenced` leaves it out).

Q&A (Events, and a question's public and private views): an event carrying a ``question`` view
merges it into ``state.questions`` by ``id`` (a list in ``id`` order, as snapshots list them;
a public view laid over a private one keeps the private fields); ``question.removed`` drops a
question the holder sees in its public view (staff hold the private view, which
``question.dismissed`` or ``question.archived`` updates); ``question.votes_changed`` sets the
``votes`` of the questions it names; ``question.counters_changed`` replaces ``counters``,
``question.on_air`` sets ``on_air`` and ``question.pinned`` sets ``pinned``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

Message = dict[str, Any]


class UnknownEvent(AssertionError):
    pass


def apply_event(state: dict[str, Any], event: Message) -> dict[str, Any]:
    """The room state after ``event`` (a new dict; ``state`` is left alone)."""
    state = copy.deepcopy(state)
    name, data = event["name"], event["data"]
    if name in ("room.state_changed", "room.updated"):
        state["room"].update(copy.deepcopy(data["changes"]))
    elif name == "room.people_changed":
        state["people"] = copy.deepcopy(data["people"])
        people = {person["key"]: person for person in data["people"]}
        for question in state.get("questions", []):
            for field in ("to", "assigned_to"):
                ref = question.get(field)
                if ref and ref["key"] in people:
                    ref.update(name=people[ref["key"]]["credit"], city=people[ref["key"]]["city"])
    elif name == "floor.airtime_changed":
        state["floor_airtime"] = copy.deepcopy(data["airtime"])
    elif name.startswith("floor."):
        state["floor"] = copy.deepcopy(data["floor"])
    elif name == "backstage.sent":
        messages = {m["id"]: m for m in state.get("backstage", [])}
        messages[data["message"]["id"]] = copy.deepcopy(data["message"])
        state["backstage"] = [messages[k] for k in sorted(messages)]
    elif name == "room.schedule_changed":
        room = state["room"]
        session = room["session"]
        lead = None
        if session["starts_at"] and room["opens_at"]:
            lead = instant(session["starts_at"]) - instant(room["opens_at"])
        if data["starts_at"] and lead is not None:
            room["opens_at"] = spell(instant(data["starts_at"]) - lead)
        else:
            room["opens_at"] = None
        session["starts_at"] = data["starts_at"]
        session["ends_at"] = data["ends_at"]
    elif name.startswith("question."):
        apply_question_event(state, name, data)
    else:
        raise UnknownEvent(f"the reducer does not know {name!r}")
    return state


def apply_question_event(state: dict[str, Any], name: str, data: Message) -> None:
    """Q&A events, in place on a copy (see the module's docstring)."""
    questions = {q["id"]: q for q in state.get("questions", [])}
    if name == "question.removed":
        held = questions.get(data["question"])
        if held is not None and "participant" not in held:
            del questions[data["question"]]
    elif name == "question.votes_changed":
        for key, votes in data.get("votes", {}).items():
            if int(key) in questions:
                questions[int(key)]["votes"] = votes
    elif name == "question.counters_changed":
        state["counters"] = copy.deepcopy(data["counters"])
    elif name == "question.on_air":
        state["on_air"] = data["question"]
    elif name == "question.pinned":
        state["pinned"] = list(data["pinned"])
    elif "question" not in data or not isinstance(data["question"], dict):
        raise UnknownEvent(f"the reducer does not know {name!r} without a question view")
    if isinstance(data.get("question"), dict):
        view = data["question"]
        questions[view["id"]] = {**questions.get(view["id"], {}), **copy.deepcopy(view)}
    state["questions"] = [questions[k] for k in sorted(questions)]


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def spell(moment: datetime) -> str:
    """An instant as snapshots spell it: ISO 8601 in UTC with ``Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def sequenced(state: dict[str, Any]) -> dict[str, Any]:
    """A room state without what events do not keep up to date (``my_floor_request``)."""
    return {key: value for key, value in state.items() if key != "my_floor_request"}


def without_clock(snapshot: Message) -> Message:
    """A snapshot message without ``now``: the server's clock as it was sent, not room state."""
    return {key: value for key, value in snapshot.items() if key != "now"}


def replay(snapshot: Message, events: Iterable[Message], *, gaps: bool = False) -> Message:
    """``snapshot`` with ``events`` applied, as a snapshot message (``epoch``, ``seq``,
    ``state``) to compare whole with a fresh one. ``gaps``: the client is not sent every event
    (audience and panel connections), so ``seq`` may jump."""
    state, seq = snapshot["state"], snapshot["seq"]
    for event in events:
        assert event["room"] == snapshot["room"] and event["epoch"] == snapshot["epoch"], event
        if gaps:
            assert event["seq"] > seq, f"expected a seq above {seq}, got {event['seq']}"
        else:
            assert event["seq"] == seq + 1, f"expected seq {seq + 1}, got {event['seq']}"
        state, seq = apply_event(state, event), event["seq"]
    return {
        "type": "room.snapshot",
        "room": snapshot["room"],
        "epoch": snapshot["epoch"],
        "seq": seq,
        "state": state,
    }
