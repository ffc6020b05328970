"""SQLAlchemy models: the programme, its people, live rooms and their event logs.

Every table follows the naming convention below, so Alembic migrations name constraints the
same way on SQLite and PostgreSQL. Instants are stored in UTC (see :class:`UTCDateTime`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

# Ids are 32-bit INTEGER columns (SERIAL in PostgreSQL): no row has an id above this.
MAX_ROW_ID = 2**31 - 1

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant, stored as UTC on every backend (SQLite has no time zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


def utcnow() -> datetime:
    return datetime.now(UTC)


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    short_title: Mapped[str | None] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64))
    programme_status: Mapped[str | None] = mapped_column(String(200))
    website: Mapped[str | None] = mapped_column(String(500))
    # The language the sessions are held in, a BCP 47 tag ("en"); None: not said.
    language: Mapped[str | None] = mapped_column(String(20))
    # Audience admission: None = open to anyone; otherwise the code audience members give.
    access_code: Mapped[str | None] = mapped_column(String(64))
    # Ordered [{"label": "Izmir", "zone": "Europe/Istanbul"}, …]
    reference_zones: Mapped[list[Any]] = mapped_column(default=list)
    # Ordered [{"slug", "title", "format", "location", "description", "dates": [iso dates]}]
    parts: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    sessions: Mapped[list[ProgrammeSession]] = relationship(
        back_populates="event", order_by="ProgrammeSession.position", cascade="all, delete-orphan"
    )
    people: Mapped[list[Person]] = relationship(
        back_populates="event", order_by="Person.id", cascade="all, delete-orphan"
    )


class Person(Base):
    """Someone in the programme, or a slot with no named person yet ("Rabat (tbc)")."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("event_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(120))
    name: Mapped[str | None] = mapped_column(String(200))
    label: Mapped[str | None] = mapped_column(String(300))
    honorific: Mapped[str | None] = mapped_column(String(60))
    postnominals: Mapped[str | None] = mapped_column(String(60))
    position: Mapped[str | None] = mapped_column(String(300))
    organisation: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str | None] = mapped_column(String(120))
    country: Mapped[str | None] = mapped_column(String(120))

    event: Mapped[Event] = relationship(back_populates="people")


class ProgrammeSession(Base):
    __tablename__ = "programme_sessions"
    __table_args__ = (UniqueConstraint("event_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(40))
    format: Mapped[str] = mapped_column(String(20))
    part: Mapped[str | None] = mapped_column(String(80))
    day: Mapped[date] = mapped_column(Date)
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    description: Mapped[str] = mapped_column(Text, default="")
    guiding_questions: Mapped[list[Any]] = mapped_column(default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    event: Mapped[Event] = relationship(back_populates="sessions")
    appearances: Mapped[list[Appearance]] = relationship(
        back_populates="session", order_by="Appearance.position", cascade="all, delete-orphan"
    )
    room: Mapped[Room | None] = relationship(
        back_populates="session", uselist=False, cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def time_to_be_announced(self) -> bool:
        return self.starts_at is None


class Appearance(Base):
    """A person's part in a programme session: their role and its confirmation status."""

    __tablename__ = "appearances"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("programme_sessions.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="confirmed")
    segment: Mapped[str | None] = mapped_column(String(200))
    topic: Mapped[str | None] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer, default=0)

    session: Mapped[ProgrammeSession] = relationship(back_populates="appearances")
    person: Mapped[Person] = relationship()


class Room(Base):
    """The live room of an online or hybrid programme session."""

    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("programme_sessions.id", ondelete="CASCADE"), unique=True
    )
    state: Mapped[str] = mapped_column(String(20), default="scheduled")
    state_since: Mapped[datetime] = mapped_column(default=utcnow)
    # A moderator's override holds until this instant; the programme clock drives it after.
    manual_until: Mapped[datetime | None]
    # Changes whenever the room's event log is reset, so stale resumes get a snapshot.
    epoch: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(Integer, default=0)
    opens_minutes_before: Mapped[int | None] = mapped_column(Integer)
    speaking_time_minutes: Mapped[int | None] = mapped_column(Integer)
    premoderation: Mapped[bool] = mapped_column(Boolean, default=True)
    stage_url: Mapped[str | None] = mapped_column(String(1000))
    stream_url: Mapped[str | None] = mapped_column(String(1000))
    question_min_length: Mapped[int] = mapped_column(Integer, default=3)
    question_max_length: Mapped[int] = mapped_column(Integer, default=500)
    # Words that flag a question for the moderators (never drop it).
    word_filter: Mapped[list[Any]] = mapped_column(default=list)
    on_air_question_id: Mapped[int | None] = mapped_column(Integer)
    # Secret part of the big-screen link (shown on stream overlays without a staff login).
    screen_key: Mapped[str | None] = mapped_column(String(40))
    # Bumped by every change of the floor (speaker list): moderators act on the version they saw.
    floor_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The organizers withheld the public summary shown once the room has ended.
    summary_hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    session: Mapped[ProgrammeSession] = relationship(back_populates="room")


class RoomEvent(Base):
    """One committed change of a room, numbered by the room's sequence."""

    __tablename__ = "room_events"
    __table_args__ = (UniqueConstraint("room_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(80))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # public | panel | staff | participant | backstage | backstage_to (participant and
    # backstage_to: participant_id names who, besides the staff)
    visibility: Mapped[str] = mapped_column(String(20), default="public")
    participant_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Participant(Base):
    """A pseudonymous member of an event's audience, known by a cookie."""

    __tablename__ = "participants"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    display_name: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    banned_at: Mapped[datetime | None]
    banned_by: Mapped[str | None] = mapped_column(String(200))


class ClockAnchor(Base):
    """Where a rehearsal clock started, shared by every server process."""

    __tablename__ = "clock_anchors"
    __table_args__ = (UniqueConstraint("requested_now"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    requested_now: Mapped[datetime]
    anchored_at: Mapped[datetime]


class Invitation(Base):
    """A signed link that makes its holder an organizer, moderator or panelist of an event."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("programme_sessions.id", ondelete="CASCADE")
    )
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    label: Mapped[str | None] = mapped_column(String(80))
    # Part of the signed link: a new nonce ("resend") makes older links of it useless.
    nonce: Mapped[str] = mapped_column(String(32))
    participant_id: Mapped[str | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(200))
    expires_at: Mapped[datetime]
    redeemed_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    person: Mapped[Person | None] = relationship()
    session: Mapped[ProgrammeSession | None] = relationship()


class AuditEntry(Base):
    """One organizer or moderator action, kept for the record."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(80))
    room_id: Mapped[int | None] = mapped_column(Integer)
    target: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Question(Base):
    """A question asked in a room, and everything moderation has done with it."""

    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("room_id", "participant_id", "client_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[str] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    author_name: Mapped[str] = mapped_column(String(80))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text)
    to_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    assigned_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
    # pending | approved | answered | dismissed | archived | merged
    status: Mapped[str] = mapped_column(String(20), default="pending")
    dismiss_reason: Mapped[str | None] = mapped_column(String(300))
    merged_into: Mapped[int | None] = mapped_column(Integer)
    pinned_position: Mapped[int | None] = mapped_column(Integer)
    votes: Mapped[int] = mapped_column(Integer, default=0)
    flagged: Mapped[str | None] = mapped_column(String(200))
    edited: Mapped[bool] = mapped_column(Boolean, default=False)
    answered_by: Mapped[str | None] = mapped_column(String(200))
    client_ref: Mapped[str | None] = mapped_column(String(80))
    # The language it was asked in, a BCP 47 tag ("fr", "pt-BR"); null when the client said none.
    language: Mapped[str | None] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Left out of the room's public summary by an organizer (the record keeps it).
    hidden_from_summary: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class QuestionVote(Base):
    """One participant's vote on one question: the primary key makes it one at most."""

    __tablename__ = "question_votes"

    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True
    )
    participant_id: Mapped[str] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FloorRequest(Base):
    """A request for the floor in a room, and the turn it became once granted."""

    __tablename__ = "floor_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    participant_id: Mapped[str | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL")
    )
    # Who and where from, as named when they asked (kept for the record if the programme changes).
    name: Mapped[str] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(120))
    # contribution | reply | point_of_order
    kind: Mapped[str] = mapped_column(String(20))
    reply_to: Mapped[int | None] = mapped_column(Integer)
    # queued | speaking | spoke | withdrawn | removed | closed
    status: Mapped[str] = mapped_column(String(20), default="queued")
    position: Mapped[int | None] = mapped_column(Integer)
    added_by: Mapped[str | None] = mapped_column(String(200))
    requested_at: Mapped[datetime]
    granted_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    limit_seconds: Mapped[int | None] = mapped_column(Integer)


class PresenceSample(Base):
    """How many people were in a room at one instant: one row per room and sampling interval
    (``state_seq`` 0), and one at each change of the room's state (``state_seq``: the seq of
    its ``room.state_changed`` event). The unique key lets every process try the same row:
    the first insert wins and the others are ignored, so nothing is counted twice."""

    __tablename__ = "presence_samples"
    __table_args__ = (UniqueConstraint("room_id", "bucket", "state_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    # The sampling interval the instant falls in: Unix seconds // interval seconds (0 for a
    # state change's row, which its state_seq names).
    bucket: Mapped[int] = mapped_column(Integer)
    state_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    at: Mapped[datetime]
    audience: Mapped[int] = mapped_column(Integer)
    panel: Mapped[int] = mapped_column(Integer)
    staff: Mapped[int] = mapped_column(Integer)
