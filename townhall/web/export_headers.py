"""The header row of every CSV export, in the requester's language.

People open these files in a spreadsheet, so the headers are words in the language they use
(``Accept-Language`` or the language they chose, as for pages). The values stay
machine-readable (times in UTC, ISO 8601, which the headers say; codes as in the JSON), and the
JSON exports keep their stable keys: programs read those.
"""

from __future__ import annotations

from collections.abc import Iterable

from .i18n import N_, gettext

HEADERS = {
    # questions.csv
    "id": N_("ID"),
    "status": N_("Status"),
    "text": N_("Text"),
    "language": N_("Language"),
    "votes": N_("Votes"),
    "anonymous": N_("Anonymous"),
    "participant": N_("Participant"),
    "author": N_("Author"),
    "to": N_("To"),
    "assigned_to": N_("Assigned to"),
    "created_at": N_("Asked at (UTC)"),
    "published_at": N_("Published at (UTC)"),
    "answered_at": N_("Answered at (UTC)"),
    "updated_at": N_("Updated at (UTC)"),
    "answered_by": N_("Answered by"),
    "merged_into": N_("Merged into"),
    "pinned": N_("Pinned"),
    "flagged": N_("Flagged"),
    "dismiss_reason": N_("Reason for dismissal"),
    "edited": N_("Edited"),
    "moderator_actions": N_("Moderator actions"),
    # the session record: speakers.csv, airtime.csv, backstage.csv
    "request": N_("Request"),
    "name": N_("Name"),
    "city": N_("City"),
    "kind": N_("Kind"),
    "granted_at": N_("Floor given at (UTC)"),
    "ended_at": N_("Turn ended at (UTC)"),
    "limit_seconds": N_("Time limit (seconds)"),
    "seconds": N_("Seconds"),
    "turns": N_("Turns"),
    "sent_at": N_("Sent at (UTC)"),
    "from": N_("From"),
    "role": N_("Role"),
    "question": N_("Question"),
    # the reports: console/report.csv and report/{chart}.csv
    "session": N_("Session"),
    "title": N_("Title"),
    "room": N_("Room"),
    "state": N_("State"),
    "peak_audience": N_("Peak audience"),
    "asked": N_("Asked"),
    "approved": N_("Approved"),
    "answered": N_("Answered"),
    "airtime_seconds": N_("Airtime (seconds)"),
    "at": N_("Time (UTC)"),
    "audience": N_("Audience"),
    "panel": N_("Panel"),
    "staff": N_("Staff"),
    "minute": N_("Minute (UTC)"),
    "measure": N_("Measure"),
    "count": N_("Count"),
    "median_seconds": N_("Median (seconds)"),
    "p90_seconds": N_("90th percentile (seconds)"),
    "share": N_("Share"),
    "person": N_("Person"),
    "start": N_("Start (UTC)"),
    "end": N_("End (UTC)"),
    "ongoing": N_("Ongoing"),
}


def header_row(columns: Iterable[str]) -> list[str]:
    """The columns' headers in the current language (a column without one keeps its key)."""
    return [gettext(HEADERS[c]) if c in HEADERS else c for c in columns]
