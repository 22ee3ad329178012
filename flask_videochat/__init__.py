"""flask-videochat: browser-to-browser (WebRTC) video calls for Flask sites."""

from __future__ import annotations

from .core.calls import Call, CallBook, CallState, EndReason
from .core.chat import ChatMessage
from .core.presence import MemoryPresence, PresenceStore, Status, User
from .core.protocol import NAMESPACE, ErrorCode, ProtocolError
from .core.rooms import Member, Room, RoomBook
from .extension import VideoChat
from .signals import (
    call_answered,
    call_ended,
    call_started,
    chat_message,
    room_joined,
    room_left,
)
from .state import VideoChatState

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
