"""A room state reducer, in Python, with the semantics docs/protocol.md gives clients.

Tests use it to check that for every action, and for every kind of viewer, the snapshot before
plus the events that viewer may see equals the snapshot after (Zulip's ``verify_action``).
"""

from __future__ import annotations

import copy
from typing import Any


def from_snapshot(state: dict[str, Any]) -> dict[str, Any]:
    """Snapshot ``state`` with questions keyed by id, without the personal, unsequenced parts."""
    result = copy.deepcopy(state)
    result.pop("my_votes", None)
    result.pop("my_floor_request", None)
    if "questions" in result:
        result["questions"] = {q["id"]: q for q in result["questions"]}
    return result


def apply(state: dict[str, Any], name: str, data: dict[str, Any]) -> dict[str, Any]:
    state = copy.deepcopy(state)
    questions: dict[int, dict[str, Any]] = state.setdefault("questions", {})
    if name in ("room.state_changed", "room.updated"):
        state["room"] = {**state.get("room", {}), **data["changes"]}
    elif name == "room.schedule_changed":
        state["room"] = data["room"]
    elif name == "question.removed":
        questions.pop(data["question"], None)
    elif name == "question.counters_changed":
        state["counters"] = data["counters"]
    elif name == "question.on_air":
        state["on_air"] = data["question"]
    elif name == "question.pinned":
        state["pinned"] = data["pinned"]
        for question in questions.values():
            question["pinned"] = (
                data["pinned"].index(question["id"]) if question["id"] in data["pinned"] else None
            )
    elif name == "backstage.sent":
        messages = state.setdefault("backstage", [])
        if all(m["id"] != data["message"]["id"] for m in messages):
            messages.append(data["message"])
    elif name == "floor.airtime_changed":
        state["floor_airtime"] = data["airtime"]
    elif name.startswith("floor."):
        state["floor"] = data["floor"]
    elif name.startswith("question."):
        for key, votes in data.get("votes", {}).items():
            if int(key) in questions:
                questions[int(key)]["votes"] = votes
        if "question" in data:
            view = data["question"]
            questions[view["id"]] = {**questions.get(view["id"], {}), **view}
    else:
        raise AssertionError(f"the reducer does not know event {name!r}")
    return state
