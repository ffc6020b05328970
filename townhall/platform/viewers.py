"""Who is looking: a viewer's identity and what each room lets them see and do."""

from __future__ import annotations

from dataclasses import dataclass, field

# What each tier of a room may see, by event visibility.
TIER_SEES = {
    "staff": {"public", "panel", "staff", "participant"},
    "panel": {"public", "panel"},
    "audience": {"public"},
}


@dataclass(frozen=True)
class Viewer:
    """A participant of one event, with the staff roles they hold there."""

    participant_id: str | None = None
    display_name: str | None = None
    event_id: int | None = None
    organizer: bool = False
    moderates: frozenset[int] = field(default_factory=frozenset)  # room ids
    panelist_in: frozenset[int] = field(default_factory=frozenset)  # room ids
    person_id: int | None = None
    banned: bool = False

    def tier(self, room_id: int) -> str:
        if self.organizer or room_id in self.moderates:
            return "staff"
        if room_id in self.panelist_in:
            return "panel"
        return "audience"

    def can_see(self, room_id: int, visibility: str, participant_id: str | None) -> bool:
        if visibility == "participant" and participant_id == self.participant_id:
            return self.participant_id is not None
        return visibility in TIER_SEES[self.tier(room_id)]

    def is_staff(self, room_id: int) -> bool:
        return self.tier(room_id) == "staff"

    def public_identity(self) -> dict[str, object]:
        return {
            "participant": self.participant_id,
            "display_name": self.display_name,
            "organizer": self.organizer,
            "moderates": sorted(self.moderates),
            "panelist_in": sorted(self.panelist_in),
        }


ANONYMOUS = Viewer()
