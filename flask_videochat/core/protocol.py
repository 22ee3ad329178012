"""Message schemas, size limits and error codes of the signaling protocol.

The wire format is documented in ``docs/protocol.md``. Every client-to-server
payload is validated here with pydantic in strict mode: unknown fields, wrong types
and oversize strings are refused before any state is touched.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
)
from pydantic_core import PydanticCustomError

from .text import RefusedTextError, TextTooLongError, chat_text

#: Version of this protocol, sent to the browser in ``hello``.
PROTOCOL_VERSION = 1

#: The Socket.IO namespace the extension serves.
NAMESPACE = "/videochat"

#: Protocol event names and the handler methods serving them (``on_<name>`` of the
#: namespace); the name without ``on_`` is also what rate limits count events as.
EVENTS: dict[str, str] = {
    "call.invite": "call_invite",
    "call.accept": "call_accept",
    "call.decline": "call_decline",
    "call.cancel": "call_cancel",
    "call.hangup": "call_hangup",
    "call.media": "call_media",
    "call.resume": "call_resume",
    "call.add": "call_add",
    "signal": "signal",
    "room.join": "room_join",
    "room.leave": "room_leave",
    "room.resume": "room_resume",
    "room.signal": "room_signal",
    "room.media": "room_media",
    "room.invite": "room_invite",
    "room.decline": "room_decline",
    "chat.send": "chat_send",
    "ping": "ping",
}

#: Longest accepted SDP, in characters. Measured in Chromium 156
#: (``benchmarks/sdp_sizes.py``): the widget's SDPs are 5 to 6 K without candidates
#: and up to 18,280 with every candidate of 8 network interfaces, STUN and TURN (a
#: renegotiation offer carries them all); a client of its own with simulcast, a
#: second video track and a data channel reached 34,421. Twice the widget's largest,
#: rounded up: other browsers and builds list more codecs and header extensions.
MAX_SDP_LENGTH = 40_000
#: Longest accepted ICE candidate-attribute, in characters (RFC 8839 section 5.1
#: candidates are about 100 to 200 characters).
MAX_CANDIDATE_LENGTH = 2_048
#: Longest ``sdpMid``, in characters.
MAX_MID_LENGTH = 64
#: Longest ``usernameFragment``, in characters (ice-ufrag, RFC 8839 section 5.4).
MAX_UFRAG_LENGTH = 256
#: Highest ``sdpMLineIndex``.
MAX_MLINE_INDEX = 1_023
#: Longest user or call id, in characters.
MAX_ID_LENGTH = 128
#: Longest chat message, in characters: Unicode code points counted after NFC
#: normalisation, as it is stored and relayed (:func:`~flask_videochat.core.text.chat_text`).
MAX_CHAT_LENGTH = 1_000
#: What a room name looks like: a letter or digit, then up to 63 letters, digits,
#: ``_`` or ``-``. Safe in a URL path, an HTML attribute and a log line as it is.
ROOM_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"


class ErrorCode(str, Enum):
    """Stable error codes sent in ``{"ok": false, "error": {"code": ...}}``."""

    INVALID_PAYLOAD = "ERR_INVALID_PAYLOAD"
    TOO_LARGE = "ERR_TOO_LARGE"
    UNKNOWN_EVENT = "ERR_UNKNOWN_EVENT"
    CALL_NOT_FOUND = "ERR_CALL_NOT_FOUND"
    INVALID_STATE = "ERR_INVALID_STATE"
    ALREADY_IN_CALL = "ERR_ALREADY_IN_CALL"
    SELF_CALL = "ERR_SELF_CALL"
    USER_OFFLINE = "ERR_USER_OFFLINE"
    FORBIDDEN = "ERR_FORBIDDEN"
    ROOM_FULL = "ERR_ROOM_FULL"
    NOT_IN_ROOM = "ERR_NOT_IN_ROOM"
    UNAUTHENTICATED = "ERR_UNAUTHENTICATED"
    #: A connection refused because its page is on a site that may not connect
    #: (``VIDEOCHAT_ALLOWED_ORIGINS``).
    FORBIDDEN_ORIGIN = "ERR_FORBIDDEN_ORIGIN"
    #: An event over a rate limit (``VIDEOCHAT_RATE_LIMITS``); the error carries
    #: ``retry_after`` in seconds.
    RATE_LIMITED = "ERR_RATE_LIMITED"
    INTERNAL = "ERR_INTERNAL"


class ProtocolError(Exception):
    """A refused client event; becomes an error acknowledgement.

    :param code: the stable :class:`ErrorCode`.
    :param message: words for a person, shown by the widget.
    """

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def ack(self) -> dict[str, Any]:
        """The acknowledgement payload for this error."""
        return error_ack(self.code, self.message)


def error_ack(code: ErrorCode, message: str) -> dict[str, Any]:
    """``{"ok": False, "error": {"code": code, "message": message}}``."""
    return {"ok": False, "error": {"code": code.value, "message": message}}


Id = StrictStr  # constrained below with Field


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class InvitePayload(_Payload):
    """``call.invite``: ``{"to": user_id}``."""

    to: Id = Field(min_length=1, max_length=MAX_ID_LENGTH)


class PingPayload(_Payload):
    """``ping``: ``{}``, a liveness check of the signaling connection."""


class CallIdPayload(_Payload):
    """``call.accept``, ``call.decline``, ``call.cancel``, ``call.hangup``."""

    call_id: Id = Field(min_length=1, max_length=MAX_ID_LENGTH)


class HangupPayload(_Payload):
    """``call.hangup``: ``{"call_id", "reason"?: "connect_failed"}``; ``reason``
    says the browsers could not connect (the call then ends with that reason)."""

    call_id: Id = Field(min_length=1, max_length=MAX_ID_LENGTH)
    reason: Optional[Literal["connect_failed"]] = None


#: Highest media-state revision (the largest integer a JavaScript number holds
#: exactly).
MAX_REV = 2**53 - 1

#: A media-state revision: the sender numbers its states in increasing order, and a
#: receiver ignores a state older than the one it shows.
Rev = Annotated[StrictInt, Field(ge=0, le=MAX_REV)]


class CallMediaPayload(_Payload):
    """``call.media``: ``{"call_id", "mic": bool, "cam": bool, "screen"?: bool =
    false, "rev"?: int}``; ``rev`` grows with each state the sender announces."""

    call_id: Id = Field(min_length=1, max_length=MAX_ID_LENGTH)
    mic: StrictBool
    cam: StrictBool
    screen: StrictBool = False
    rev: Optional[Rev] = None

    def relayed(self, sender_id: str) -> dict[str, Any]:
        """The payload forwarded to the other party, naming the sender (with
        ``rev`` when the sender gave one)."""
        relayed: dict[str, Any] = {
            "call_id": self.call_id,
            "from": sender_id,
            "mic": self.mic,
            "cam": self.cam,
            "screen": self.screen,
        }
        if self.rev is not None:
            relayed["rev"] = self.rev
        return relayed


class CallResumePayload(_Payload):
    """``call.resume``: ``{"call_id", "peer": user_id}``: take back a call after the
    connection dropped (or the server restarted)."""

    call_id: Id = Field(min_length=1, max_length=MAX_ID_LENGTH)
    peer: Id = Field(min_length=1, max_length=MAX_ID_LENGTH)


class SessionDescription(_Payload):
    """An ``RTCSessionDescriptionInit`` (W3C WebRTC 1.0 section 4.8.1)."""

    type: Literal["offer", "answer", "pranswer", "rollback"]
    sdp: StrictStr = Field(default="", max_length=MAX_SDP_LENGTH)


class IceCandidate(_Payload):
    """An ``RTCIceCandidateInit`` (W3C WebRTC 1.0 section 4.8.2)."""

    candidate: StrictStr = Field(max_length=MAX_CANDIDATE_LENGTH)
    sdpMid: Optional[StrictStr] = Field(default=None, max_length=MAX_MID_LENGTH)  # noqa: N815
    sdpMLineIndex: Optional[StrictInt] = Field(  # noqa: N815
        default=None, ge=0, le=MAX_MLINE_INDEX
    )
    usernameFragment: Optional[StrictStr] = Field(  # noqa: N815
        default=None, max_length=MAX_UFRAG_LENGTH
    )


def signal_body(
    payload: SignalPayload | RoomSignalPayload,
) -> dict[str, dict[str, Any]]:
    """``{"description": ...}`` or ``{"candidate": ...}``: what a signal carries."""
    if payload.description is not None:
        return {"description": payload.description.model_dump()}
    assert payload.candidate is not None
    return {"candidate": payload.candidate.model_dump()}


class SignalPayload(_Payload):
    """``signal``: exactly one of ``description`` or ``candidate`` for one call."""

    call_id: Id = Field(min_length=1, max_length=MAX_ID_LENGTH)
    description: Optional[SessionDescription] = None
    candidate: Optional[IceCandidate] = None

    def relayed(self, sender_id: str) -> dict[str, Any]:
        """The payload forwarded to the other party, naming the sender."""
        return {"call_id": self.call_id, "from": sender_id, **signal_body(self)}


RoomName = Annotated[StrictStr, Field(pattern=ROOM_NAME_PATTERN)]
UserId = Annotated[StrictStr, Field(min_length=1, max_length=MAX_ID_LENGTH)]


class RoomJoinPayload(_Payload):
    """``room.join``: ``{"room", "mic"?: bool = true, "cam"?: bool = true}``."""

    room: RoomName
    mic: StrictBool = True
    cam: StrictBool = True


class RoomPayload(_Payload):
    """``room.leave``, ``room.decline``, ``room.resume``: ``{"room"}``."""

    room: RoomName


class RoomSignalPayload(_Payload):
    """``room.signal``: exactly one of ``description`` or ``candidate``, for one
    member of a room (same inner shapes and limits as ``signal``)."""

    room: RoomName
    to: UserId
    description: Optional[SessionDescription] = None
    candidate: Optional[IceCandidate] = None

    def relayed(self, sender_id: str) -> dict[str, Any]:
        """The payload forwarded to member ``to``, naming the sender instead."""
        return {"room": self.room, "from": sender_id, **signal_body(self)}


class RoomMediaPayload(_Payload):
    """``room.media``: ``{"room", "mic": bool, "cam": bool, "screen"?: bool = false,
    "rev"?: int}`` (``rev`` as in ``call.media``)."""

    room: RoomName
    mic: StrictBool
    cam: StrictBool
    screen: StrictBool = False
    rev: Optional[Rev] = None


class RoomInvitePayload(_Payload):
    """``room.invite``: ``{"room", "to": user_id}``."""

    room: RoomName
    to: UserId


class CallAddPayload(_Payload):
    """``call.add``: ``{"call_id", "to": user_id}``: grow a call into a room."""

    call_id: Id = Field(min_length=1, max_length=MAX_ID_LENGTH)
    to: UserId


class ChatPayload(_Payload):
    """``chat.send``: ``{"room", "text"}`` or ``{"call_id", "text"}`` (exactly one
    of ``room`` and ``call_id``, checked by :func:`parse`)."""

    room: Optional[RoomName] = None
    call_id: Optional[Id] = Field(default=None, min_length=1, max_length=MAX_ID_LENGTH)
    #: In NFC, with something visible and no control character but line feed and tab
    #: (:func:`~flask_videochat.core.text.chat_text`), at most :data:`MAX_CHAT_LENGTH`.
    text: StrictStr

    @field_validator("text", mode="before")
    @classmethod
    def _chat_text(cls, text: object) -> object:
        # Before pydantic's own string check, which refuses a lone surrogate in
        # words for programmers ("unable to parse raw data as a unicode string").
        if not isinstance(text, str):
            return text  # refused by StrictStr
        try:
            return chat_text(text, max_length=MAX_CHAT_LENGTH)
        except TextTooLongError as too_long:
            raise PydanticCustomError("string_too_long", str(too_long)) from None
        except RefusedTextError as refused:
            raise PydanticCustomError("chat_text", str(refused)) from None


Payload = Union[
    PingPayload,
    InvitePayload,
    CallIdPayload,
    HangupPayload,
    CallMediaPayload,
    CallResumePayload,
    SignalPayload,
    RoomJoinPayload,
    RoomPayload,
    RoomSignalPayload,
    RoomMediaPayload,
    RoomInvitePayload,
    CallAddPayload,
    ChatPayload,
]

_TOO_LARGE_TYPES = {"string_too_long", "too_long", "less_than_equal"}
#: Fields whose oversize value gets ``ERR_TOO_LARGE`` (other fields: ``ERR_INVALID_PAYLOAD``).
_SIZE_FIELDS = {"sdp", "candidate", "text"}


def parse(model: type[Payload], data: Any) -> Payload:
    """Validate ``data`` against ``model``.

    :raises ProtocolError: ``ERR_TOO_LARGE`` for an oversize SDP, candidate or chat
        text, ``ERR_INVALID_PAYLOAD`` for anything else that does not fit.
    """
    if not isinstance(data, dict):
        raise ProtocolError(ErrorCode.INVALID_PAYLOAD, "The payload must be a JSON object.")
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "payload"
        if (
            first["type"] in _TOO_LARGE_TYPES
            and first["loc"][-1:]
            and (first["loc"][-1] in _SIZE_FIELDS)
        ):
            raise ProtocolError(
                ErrorCode.TOO_LARGE, f"{where} is too large: {first['msg']}."
            ) from None
        raise ProtocolError(
            ErrorCode.INVALID_PAYLOAD, f"Invalid {where}: {first['msg']}."
        ) from None
    if isinstance(parsed, (SignalPayload, RoomSignalPayload)) and not _exactly_one(
        parsed.description, parsed.candidate
    ):
        raise ProtocolError(
            ErrorCode.INVALID_PAYLOAD,
            "A signal carries exactly one of 'description' or 'candidate'.",
        )
    if isinstance(parsed, ChatPayload) and not _exactly_one(parsed.room, parsed.call_id):
        raise ProtocolError(
            ErrorCode.INVALID_PAYLOAD,
            "A chat message goes to exactly one of a 'room' or a 'call_id'.",
        )
    return parsed


def _exactly_one(first: object, second: object) -> bool:
    return (first is None) != (second is None)
