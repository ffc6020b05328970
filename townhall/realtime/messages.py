"""The wire protocol's typed messages: what clients may send, and what the server sends.

Every inbound frame is decoded into one of :data:`Command`'s Structs (unknown fields refused)
before anything acts on it; raw dicts never reach the domain. ``docs/protocol.md`` and
``docs/asyncapi.yaml`` describe the same messages, and a test keeps them in step with this
module.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

import msgspec

from townhall.platform.models import MAX_ROW_ID

PROTOCOL_VERSION = 1

# Ids and counters name rows and columns of 32-bit integers: larger values are refused here,
# with a typed error, instead of failing in the database.
RowId = Annotated[int, msgspec.Meta(ge=1, le=MAX_ROW_ID)]
Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_ROW_ID)]
# A short BCP 47 language tag ("en", "fr", "tr", "fr-CA"): what townhall.platform.questions takes.
LanguageTag = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$", max_length=20)
]

# Close codes (the 4000-4999 range is the application's).
CLOSE_POLICY = 1008  # junk, forbidden origin, revoked access
CLOSE_TOO_SLOW = 4008  # the client fell behind; reconnect and resume with `since`
CLOSE_UNAUTHENTICATED = 4001  # no identity: get a participant cookie first
CLOSE_BANNED = 4003  # banned from the event
CLOSE_GOING_AWAY = 1001  # server shutting down; reconnect (another process takes over)


class Since(msgspec.Struct, forbid_unknown_fields=True):
    epoch: str
    seq: Count


class _Command(msgspec.Struct, tag_field="type", forbid_unknown_fields=True, kw_only=True):
    ref: str | int | None = None
    # Commands that act on a room need the caller to have joined it first.
    needs_room: ClassVar[bool] = False


class RoomJoin(_Command, tag="room.join"):
    room: RowId
    since: Since | None = None
    presence: bool = True  # staff may watch without being listed (organizer overview)


class RoomLeave(_Command, tag="room.leave"):
    room: RowId


class Ping(_Command, tag="ping"):
    pass


class RoomSetState(_Command, tag="room.set_state"):
    """A moderator's override of the lifecycle: open now, go live, end, reopen, follow schedule."""

    needs_room: ClassVar[bool] = True
    room: RowId
    action: str  # open | go_live | end | reopen | archive | follow_schedule


class RoomUpdate(_Command, tag="room.update"):
    needs_room: ClassVar[bool] = True
    room: RowId
    stage_url: str | None = None
    stream_url: str | None = None
    premoderation: bool | None = None


class QuestionSubmit(_Command, tag="question.submit"):
    needs_room: ClassVar[bool] = True
    room: RowId
    text: str
    anonymous: bool = False
    to: str | None = None  # key of a panelist of the session
    # The language it is asked in; the room page sends the interface language unless changed.
    language: LanguageTag | None = None


class _QuestionCommand(_Command, kw_only=True):
    needs_room: ClassVar[bool] = True
    room: RowId
    question: RowId


class QuestionVote(_QuestionCommand, tag="question.vote"):
    pass


class QuestionUnvote(_QuestionCommand, tag="question.unvote"):
    pass


class QuestionApprove(_QuestionCommand, tag="question.approve"):
    pass


class QuestionDismiss(_QuestionCommand, tag="question.dismiss"):
    reason: str | None = None


class QuestionRestore(_QuestionCommand, tag="question.restore"):
    """Undo a dismissal."""


class QuestionEdit(_QuestionCommand, tag="question.edit"):
    text: str


class QuestionMerge(_QuestionCommand, tag="question.merge"):
    into: RowId


class QuestionPutOnAir(_Command, tag="question.put_on_air"):
    """Put a question on air; ``question: null`` takes the current one off."""

    needs_room: ClassVar[bool] = True
    room: RowId
    question: RowId | None


class QuestionMarkAnswered(_QuestionCommand, tag="question.mark_answered"):
    by: str | None = None  # key of the panelist who answered


class QuestionArchive(_QuestionCommand, tag="question.archive"):
    pass


class QuestionPin(_QuestionCommand, tag="question.pin"):
    position: Count | None = 0  # null unpins


class QuestionAssign(_QuestionCommand, tag="question.assign"):
    to: str | None = None


class ParticipantBan(_Command, tag="participant.ban"):
    needs_room: ClassVar[bool] = True
    room: RowId
    participant: str


# ---- the floor and backstage (see townhall/platform/floor.py and backstage.py) ----------
# Moderators may pass the floor's ``version`` they saw: if the floor moved since, the command
# is refused with ``floor.conflict``, carrying the floor as it now is.


class FloorRequestCommand(_Command, tag="floor.request"):
    """A panelist asks for the floor: ``contribution``, ``reply`` or ``point_of_order``."""

    needs_room: ClassVar[bool] = True
    room: RowId
    kind: str


class FloorWithdraw(_Command, tag="floor.withdraw"):
    needs_room: ClassVar[bool] = True
    room: RowId
    request: RowId


class FloorAdd(_Command, tag="floor.add"):
    """A moderator puts a panelist (a person or slot key of the session) on the list."""

    needs_room: ClassVar[bool] = True
    room: RowId
    person: str
    kind: str = "contribution"
    version: Count | None = None


class FloorRemove(_Command, tag="floor.remove"):
    needs_room: ClassVar[bool] = True
    room: RowId
    request: RowId
    version: Count | None = None


class FloorReorder(_Command, tag="floor.reorder"):
    needs_room: ClassVar[bool] = True
    room: RowId
    order: list[RowId]
    version: Count | None = None


class FloorGrant(_Command, tag="floor.grant"):
    """Give the floor to ``request`` (null: the head of the queue) for ``limit`` seconds
    (null: the room's speaking time)."""

    needs_room: ClassVar[bool] = True
    room: RowId
    request: RowId | None = None
    limit: int | None = None
    version: Count | None = None


class FloorEndTurn(_Command, tag="floor.end_turn"):
    needs_room: ClassVar[bool] = True
    room: RowId
    version: Count | None = None


class FloorSetLimit(_Command, tag="floor.set_limit"):
    """The turn under way's limit in seconds; null gives it the room's speaking time."""

    needs_room: ClassVar[bool] = True
    room: RowId
    seconds: int | None
    version: Count | None = None


class BackstageSend(_Command, tag="backstage.send"):
    needs_room: ClassVar[bool] = True
    room: RowId
    text: str
    to: str | None = None  # key of a panelist (moderators only)
    question: RowId | None = None  # a question of the room to pass on (moderators only)


COMMANDS: tuple[type[_Command], ...] = (
    RoomJoin,
    RoomLeave,
    Ping,
    RoomSetState,
    RoomUpdate,
    QuestionSubmit,
    QuestionVote,
    QuestionUnvote,
    QuestionApprove,
    QuestionDismiss,
    QuestionRestore,
    QuestionEdit,
    QuestionMerge,
    QuestionPutOnAir,
    QuestionMarkAnswered,
    QuestionArchive,
    QuestionPin,
    QuestionAssign,
    ParticipantBan,
    FloorRequestCommand,
    FloorWithdraw,
    FloorAdd,
    FloorRemove,
    FloorReorder,
    FloorGrant,
    FloorEndTurn,
    FloorSetLimit,
    BackstageSend,
)
Command = (
    RoomJoin
    | RoomLeave
    | Ping
    | RoomSetState
    | RoomUpdate
    | QuestionSubmit
    | QuestionVote
    | QuestionUnvote
    | QuestionApprove
    | QuestionDismiss
    | QuestionRestore
    | QuestionEdit
    | QuestionMerge
    | QuestionPutOnAir
    | QuestionMarkAnswered
    | QuestionArchive
    | QuestionPin
    | QuestionAssign
    | ParticipantBan
    | FloorRequestCommand
    | FloorWithdraw
    | FloorAdd
    | FloorRemove
    | FloorReorder
    | FloorGrant
    | FloorEndTurn
    | FloorSetLimit
    | BackstageSend
)
COMMAND_TYPES = {c.__struct_config__.tag: c for c in COMMANDS}

decoder = msgspec.json.Decoder(Command)
encoder = msgspec.json.Encoder()


class ProtocolError(Exception):
    """A frame that cannot become a command; carries the typed error to send back."""

    def __init__(self, code: str, message: str, ref: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.ref = ref


def decode_command(frame: str | bytes) -> Command:
    """Decode one frame, or raise :class:`ProtocolError` with a stable code."""
    try:
        return decoder.decode(frame)
    except msgspec.DecodeError as exc:
        raise _explain(frame, exc) from None
    except RecursionError:
        raise _too_deep() from None


def _too_deep() -> ProtocolError:
    return ProtocolError("message.malformed", "The message nests too deeply.")


def _explain(frame: str | bytes, exc: msgspec.DecodeError) -> ProtocolError:
    try:
        raw = msgspec.json.decode(frame)
    except msgspec.DecodeError:
        return ProtocolError("message.malformed", "The message is not valid JSON.")
    except RecursionError:
        return _too_deep()
    if not isinstance(raw, dict):
        return ProtocolError("message.malformed", "A message must be a JSON object.")
    ref = raw.get("ref") if isinstance(raw.get("ref"), str | int) else None
    kind = raw.get("type")
    if not isinstance(kind, str):
        return ProtocolError("message.invalid", "A message needs a string field 'type'.", ref)
    if kind not in COMMAND_TYPES:
        return ProtocolError("message.unknown_type", f"Unknown message type {kind!r}.", ref)
    return ProtocolError("message.invalid", f"Invalid {kind!r} message: {exc}", ref)


# ---- server to client ---------------------------------------------------------------
# Each is encoded once per message (and, for room events and snapshots, once per visibility
# tier, whatever the number of sockets). ``docs/protocol.md`` lists the same fields.


class _Message(msgspec.Struct, tag_field="type", kw_only=True):
    pass


class Hello(_Message, tag="hello"):
    """``now``: the server's event clock (ISO 8601, UTC) as it greets; clients count turns
    down against it, so every reconnect sets their clock offset afresh."""

    protocol: int
    connection: str
    identity: dict[str, Any] | None
    now: str


class Reply(_Message, tag="reply"):
    ref: Any
    data: Any = None


class Pong(_Message, tag="pong"):
    ref: Any


class Event(_Message, tag="event"):
    """One room event, as every socket entitled to it receives it."""

    room: int
    epoch: str
    seq: int
    name: str
    data: Any


class RoomSnapshot(_Message, tag="room.snapshot", omit_defaults=True):
    """``state`` is shared by every viewer of a tier (pre-encoded, hence Raw); ``mine`` is the
    viewer's own part (their questions in full, their votes), laid over it by the client.
    ``now`` is the server's event clock as the snapshot is sent (not when it was built)."""

    room: int
    epoch: str
    seq: int
    state: msgspec.Raw
    now: str
    mine: dict[str, Any] = msgspec.field(default_factory=dict)
    reason: str | None = None


class RoomResumed(_Message, tag="room.resumed"):
    room: int
    epoch: str
    seq: int
    missed: int
    from_: int = msgspec.field(name="from")


class Presence(_Message, tag="presence"):
    room: int
    audience: int
    people: list[dict[str, Any]]


class AccessChanged(_Message, tag="access.changed"):
    room: int
    tier: str
    identity: dict[str, Any]


SERVER_MESSAGES: tuple[type[_Message], ...] = (
    Hello,
    Reply,
    Pong,
    Event,
    RoomSnapshot,
    RoomResumed,
    Presence,
    AccessChanged,
)


def wire_time(moment: datetime) -> str:
    """An instant as the wire carries the server's clock: ISO 8601, UTC, milliseconds."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def hello(connection_id: str, identity: dict[str, Any] | None, now: datetime) -> Hello:
    return Hello(
        protocol=PROTOCOL_VERSION, connection=connection_id, identity=identity, now=wire_time(now)
    )


def reply(ref: Any, data: Any = None) -> Reply:
    return Reply(ref=ref, data=data)


def error(ref: Any, code: str, message: str, **details: Any) -> dict[str, Any]:
    """Errors carry code-specific fields (``retry_after``, ``question`` …) beside these four."""
    return {"type": "error", "ref": ref, "code": code, "message": message, **details}
