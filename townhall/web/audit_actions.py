"""The audit log's actions in plain words for organizers (the overview and the log page);
the CSV and JSON exports keep the stable codes."""

from __future__ import annotations

from .i18n import N_, gettext

# What each recorded action means, for organizers; the exports keep the stable codes.
ACTION_LABELS = {
    "question.approved": N_("Approved a question"),
    "question.dismissed": N_("Dismissed a question"),
    "question.restored": N_("Restored a dismissed question"),
    "question.edited": N_("Edited a question"),
    "question.merged": N_("Merged a question into another"),
    "question.on_air": N_("Put a question on air"),
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
    "slot.seated": N_("Seated someone in a programme slot"),
    "invitation.created": N_("Created an invitation"),
    "invitation.resent": N_("Sent a new invitation link"),
    "invitation.revoked": N_("Revoked an invitation"),
    "invitation.redeemed": N_("Accepted an invitation"),
    "room.settings_changed": N_("Changed a room's settings"),
}


def action_label(action: str) -> str | None:
    """The action in plain words, or None for one this table does not know (shown as code)."""
    return gettext(ACTION_LABELS[action]) if action in ACTION_LABELS else None
