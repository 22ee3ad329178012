"""flask-videochat: browser-to-browser (WebRTC) video calls for Flask sites."""

from __future__ import annotations

from .calls import Call, CallBook, CallState, EndReason
from .chat import ChatMessage
from .extension import VideoChat, VideoChatState
from .namespace import NAMESPACE
from .presence import MemoryPresence, PresenceStore, Status, User
from .protocol import ErrorCode, ProtocolError
from .rooms import Member, Room, RoomBook
from .signals import (
    call_answered,
    call_ended,
    call_started,
    chat_message,
    room_joined,
    room_left,
)

__version__ = "0.1.0"

__all__ = [
    "NAMESPACE",
    "Call",
    "CallBook",
    "CallState",
    "ChatMessage",
    "EndReason",
    "ErrorCode",
    "Member",
    "MemoryPresence",
    "PresenceStore",
    "ProtocolError",
    "Room",
    "RoomBook",
    "Status",
    "User",
    "VideoChat",
    "VideoChatState",
    "__version__",
    "call_answered",
    "call_ended",
    "call_started",
    "chat_message",
    "room_joined",
    "room_left",
]
