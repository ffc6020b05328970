"""The audit log in words for organizers (the log page and the console's overview).

Each entry becomes a sentence in the viewer's language, what it acted on by name (a question by
its text, a room by its session's title, an invitation by whom it is for) and its details as
labelled values: times in the event's zone, named; yes and no, never a programming language's
``True`` or ``None``. The CSV and JSON exports keep the stable codes and raw values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from townhall.platform import access, audit, programme
from townhall.platform.models import AuditEntry, Event

from .formats import moment
from .i18n import N_, gettext
from .programme_json import display_name

# What each recorded action means, for organizers; the exports keep the stable codes.
ACTION_LABELS = {
    "question.approved": N_("Approved a question"),
    "question.dismissed": N_("Dismissed a question"),
    "question.restored": N_("Restored a dismissed question"),
    "question.edited": N_("Edited a question"),
    "question.merged": N_("Merged a question into another"),
    "question.on_air": N_("Put a question on air"),
    "question.off_air": N_("Took a question off air"),
    "question.answered": N_("Marked a question answered"),
    "question.archived": N_("Archived a question"),
    "question.pinned": N_("Pinned a question to next up"),
    "question.assigned": N_("Assigned a question to a panelist"),
    "participant.banned": N_("Removed a participant from the event"),
    "event.admission_changed": N_("Changed the audience admission"),
    "person.created": N_("Added a person"),
    "session.created": N_("Added a session"),
    "session.updated": N_("Changed a session"),
    "session.removed": N_("Removed a session"),
    "slot.seated": N_("Seated a person in a programme slot"),
    "invitation.created": N_("Created an invitation"),
    "invitation.resent": N_("Sent a new invitation link"),
    "invitation.revoked": N_("Revoked an invitation"),
    "invitation.redeemed": N_("Accepted an invitation"),
    "room.settings_changed": N_("Changed a room's settings"),
    "room.state_changed": N_("Changed a room's state"),
    "room.screen_key_rotated": N_("Made a new big-screen link"),
    "floor.added": N_("Put a panelist on the speakers' list"),
    "floor.removed": N_("Took a request off the speakers' list"),
    "floor.reordered": N_("Reordered the speakers' list"),
    "floor.granted": N_("Gave the floor"),
    "floor.turn_ended": N_("Ended a speaking turn"),
    "floor.limit_changed": N_("Changed the speaking time limit"),
    "summary.hidden": N_("Withheld the public summary"),
    "summary.shown": N_("Published the public summary"),
    "summary.question_hidden": N_("Left a question out of the public summary"),
    "summary.question_shown": N_("Put a question back in the public summary"),
}

# The details' names, as organizers read them.
DETAIL_LABELS = {
    "reason": N_("Reason"),
    "into": N_("Into"),
    "by": N_("Answered by"),
    "position": N_("Position"),
    "to": N_("To"),
    "from": N_("Previously"),
    "role": N_("Role"),
    "for": N_("For"),
    "scope": N_("Scope"),
    "days": N_("Valid for (days)"),
    "admission": N_("Admission"),
    "changed": N_("Changed"),
    "title": N_("Title"),
    "name": N_("Name"),
    "slot": N_("Slot"),
    "confirmed": N_("Confirmed"),
    "session": N_("Session"),
    "person": N_("Person"),
    "request": N_("Request"),
    "seconds": N_("Seconds"),
    "kind": N_("Kind"),
    "order": N_("Order"),
    "text": N_("New text"),
    "original": N_("Previous text"),
    "action": N_("Change"),
}

# Where one action's detail means something else than the table above says.
ACTION_DETAIL_LABELS = {("session.updated", "to"): N_("Now")}

# Settings and programme fields a change names.
SETTING_LABELS = {
    "premoderation": N_("pre-moderation"),
    "question_min_length": N_("shortest question"),
    "question_max_length": N_("longest question"),
    "word_filter": N_("word filter"),
    "stage_url": N_("stage link"),
    "stream_url": N_("stream link"),
    "opens_minutes_before": N_("lobby opens (minutes before)"),
    "speaking_time_minutes": N_("speaking time (minutes)"),
    "title": N_("title"),
    "kind": N_("kind"),
    "format": N_("format"),
    "day": N_("day"),
    "starts_at": N_("start"),
    "ends_at": N_("end"),
    "part": N_("part"),
    "description": N_("description"),
    "guiding_questions": N_("guiding questions"),
    "appearances": N_("people"),
}

VALUE_LABELS = {
    "role": {
        "organizer": N_("organizer"),
        "moderator": N_("moderator"),
        "panelist": N_("panelist"),
    },
    "admission": {"open": N_("open to anyone"), "code": N_("access code")},
    "action": {
        "open": N_("open the lobby"),
        "go_live": N_("go live"),
        "end": N_("end"),
        "reopen": N_("reopen"),
        "archive": N_("archive"),
        "follow_schedule": N_("follow the programme"),
    },
    "kind": {"contribution": N_("contribution"), "reply": N_("reply")},
}

PERSON_KEYS = ("to", "person")  # details that name a programme person by key
ISO_MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)")
QUOTE_AT = 140  # characters of a question's text shown before "…"


def action_label(action: str) -> str | None:
    """The action in plain words, or None for one this table does not know (shown as code)."""
    return gettext(ACTION_LABELS[action]) if action in ACTION_LABELS else None


def quoted(text: str) -> str:
    short = text if len(text) <= QUOTE_AT else text[: QUOTE_AT - 1].rstrip() + "…"
    return gettext("“{text}”").format(text=short)


@dataclass
class Subjects:
    """What a page of entries names, looked up once for the page, and the event's zone."""

    zone: ZoneInfo
    zone_label: str
    questions: dict[int, str] = field(default_factory=dict)
    rooms: dict[int, str] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)
    invitations: dict[int, str] = field(default_factory=dict)
    participants: dict[str, str] = field(default_factory=dict)
    people: dict[str, str] = field(default_factory=dict)  # programme person key -> name

    def value(self, value: Any, key: str = "") -> str:
        if value is None or value == "" or value == []:
            return "—"
        if isinstance(value, bool):
            return gettext("yes") if value else gettext("no")
        if key == "into" and isinstance(value, int) and value in self.questions:
            return quoted(self.questions[value])
        if key in PERSON_KEYS and isinstance(value, str) and value in self.people:
            return self.people[value]
        if isinstance(value, str) and value in VALUE_LABELS.get(key, {}):
            return gettext(VALUE_LABELS[key][value])
        if isinstance(value, str) and ISO_MOMENT.fullmatch(value):
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return moment(when, self.zone, self.zone_label)
        if isinstance(value, list):
            if key == "changed":
                return ", ".join(setting_label(v) for v in value)
            return ", ".join(self.value(v) for v in value)
        if isinstance(value, dict):
            return "; ".join(f"{setting_label(k)}: {self.change(v)}" for k, v in value.items())
        return str(value)

    def change(self, value: Any) -> str:
        """A setting's change: ``[before, after]`` as "before → after"."""
        if isinstance(value, list) and len(value) == 2:
            return f"{self.value(value[0])} → {self.value(value[1])}"
        return self.value(value)

    def target(self, entry: AuditEntry) -> str | None:
        target = entry.target
        if not target:
            return None
        kind, _, number = target.partition(" ")
        if number.isdigit():
            found = {
                "question": lambda n: self.questions.get(n) and quoted(self.questions[n]),
                "invitation": self.invitations.get,
                "room": self.rooms.get,
            }.get(kind, lambda n: None)(int(number))
            if found:
                return found
        if target == "floor":
            return gettext("the speakers' list")
        if target in self.participants:
            return self.participants[target]
        if entry.action.startswith("session.") and target in self.sessions:
            return self.sessions[target]
        return target


def setting_label(name: str) -> str:
    return gettext(SETTING_LABELS[name]) if name in SETTING_LABELS else name


def detail_label(name: str, action: str = "") -> str:
    label = ACTION_DETAIL_LABELS.get((action, name)) or DETAIL_LABELS.get(name)
    return gettext(label) if label else name


@dataclass(frozen=True)
class AuditLine:
    """One entry as organizers read it."""

    entry: AuditEntry
    action: str | None  # None: an action the table does not know (shown as its code)
    subject: str | None
    room: str | None
    details: str


def describe(entry: AuditEntry, subjects: Subjects) -> AuditLine:
    subject = subjects.target(entry)
    details = [
        (detail_label(key, entry.action), subjects.value(value, key))
        for key, value in (entry.data or {}).items()
        if value is not None
    ]
    return AuditLine(
        entry=entry,
        action=action_label(entry.action),
        subject=subject,
        room=subjects.rooms.get(entry.room_id) if entry.room_id is not None else None,
        # What the subject already says ("for" an invitation's person) is not said twice.
        details="; ".join(f"{label}: {text}" for label, text in details if text != subject),
    )


def _ids(entries: Iterable[AuditEntry], kind: str) -> set[int]:
    found = set()
    for entry in entries:
        kind_of, _, number = (entry.target or "").partition(" ")
        if kind_of == kind and number.isdigit():
            found.add(int(number))
        if kind == "question" and isinstance((entry.data or {}).get("into"), int):
            found.add(entry.data["into"])
    return found


async def look_up(
    db: AsyncSession, event: Event, entries: list[AuditEntry], zone: ZoneInfo, zone_label: str
) -> Subjects:
    """Everything ``entries`` name, in a few queries."""
    sessions = await programme.list_sessions(db, event_id=event.id)
    invitations = await access.list_invitations(db, event_id=event.id)
    return Subjects(
        zone=zone,
        zone_label=zone_label,
        questions=await audit.question_texts(db, event_id=event.id, ids=_ids(entries, "question")),
        rooms={s.room.id: s.title for s in sessions if s.room is not None},
        sessions={s.slug: s.title for s in sessions},
        people={a.person.key: display_name(a.person) for s in sessions for a in s.appearances},
        invitations={i.id: access.invitation_name(i) for i in invitations},
        participants=await audit.participant_names(
            db,
            event_id=event.id,
            ids={e.target for e in entries if e.target and e.target.startswith("p_")},
        ),
    )
