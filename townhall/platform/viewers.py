"""Who is looking: a viewer's identity and what each room lets them see and do."""

from __future__ import annotations

from dataclasses import dataclass, field

# What each tier of a room may see, by event visibility. ``backstage`` is the private channel
# between a room's moderators and its panel; ``backstage_to`` is a backstage message to one
# panelist (its ``participant_id``), seen by the staff and that panelist only. The audience
# sees neither, ever.
TIER_SEES = {
    "staff": {"public", "panel", "staff", "participant", "backstage", "backstage_to"},
    "panel": {"public", "panel", "backstage"},
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
        tier = self.tier(room_id)
        if participant_id is not None and participant_id == self.participant_id:
            if visibility == "participant":
                return True
            if visibility == "backstage_to" and tier == "panel":
                return True
        return visibility in TIER_SEES[tier]

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
