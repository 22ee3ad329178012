"""Text chat: messages, their validation and a bounded history, in plain Python.

Rooms (:mod:`~flask_videochat.core.rooms`) and 1:1 calls (:mod:`~flask_videochat.core.calls`)
each keep a :class:`ChatLog` of their last messages; a call's log is carried into
the room it grows into. Text is checked and normalised (NFC) by
:func:`flask_videochat.core.text.chat_text`, then stored and relayed as it is: the widget
renders it as text, never as HTML.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable

from .presence import User
from .protocol import MAX_CHAT_LENGTH, ErrorCode, ProtocolError
from .text import RefusedTextError, TextTooLongError, chat_text


@dataclass(frozen=True)
class ChatMessage:
    """One chat message.

    :param id: chosen by the server, unique.
    :param sender: who sent it.
    :param text: as sent, normalised to NFC, 1 to
        :data:`~flask_videochat.core.protocol.MAX_CHAT_LENGTH` code points with something
        visible (:func:`~flask_videochat.core.text.chat_text`).
    :param ts: when the server received it, in milliseconds since the Unix epoch.
    :param seq: its place in its room's or call's chat, 1, 2, 3... (0 until a
        :class:`~flask_videochat.core.chat.ChatLog` keeps it): browsers show messages
        in this order, whatever order they arrive in, as wall clocks (``ts``) of two
        processes may disagree.
    """

    id: str
    sender: User
    text: str
    ts: int
    seq: int = 0

    def public(self) -> dict[str, Any]:
        """``{"id", "from": {"id", "name"}, "text", "ts", "seq"}`` as sent to browsers."""
        return {
            "id": self.id,
            "from": self.sender.public(),
            "text": self.text,
            "ts": self.ts,
            "seq": self.seq,
        }


def check_text(text: str) -> str:
    """Return ``text`` as a chat message stores it (in NFC), when it may be sent.

    :raises ProtocolError: ``ERR_TOO_LARGE`` above ``MAX_CHAT_LENGTH`` code points
        (after normalisation); ``ERR_INVALID_PAYLOAD`` for a text with nothing
        visible, a control character other than line feed and tab, or a lone
        surrogate (the rules of :func:`~flask_videochat.core.text.chat_text`).
    """
    try:
        return chat_text(text, max_length=MAX_CHAT_LENGTH)
    except TextTooLongError as too_long:
        raise ProtocolError(ErrorCode.TOO_LARGE, f"{too_long}.") from None
    except RefusedTextError as refused:
        raise ProtocolError(ErrorCode.INVALID_PAYLOAD, f"{refused}.") from None


def new_message(
    sender: User,
    text: str,
    *,
    clock: Callable[[], float] = time.time,
    new_id: Callable[[], str] = lambda: secrets.token_urlsafe(9),
) -> ChatMessage:
    """A message from ``sender``, stamped now.

    :param clock: seconds since the Unix epoch (:func:`time.time`).
    :raises ProtocolError: see :func:`check_text`.
    """
    return ChatMessage(new_id(), sender, check_text(text), int(clock() * 1000))


class ChatLog:
    """The last ``limit`` messages of a room or call, oldest first (``limit`` 0
    keeps none). Not locked: its owner (a room or call book) holds the lock.

    Example::

        log = ChatLog(2)
        for text in ("one", "two", "three"):
            log.add(new_message(User("ada", "Ada"), text))
        assert [m.text for m in log.messages()] == ["two", "three"]
    """

    def __init__(self, limit: int, messages: Iterable[ChatMessage] = ()) -> None:
        self._messages: deque[ChatMessage] = deque(messages, maxlen=limit)
        self._last_seq = max((m.seq for m in self._messages), default=0)

    def add(self, message: ChatMessage) -> ChatMessage:
        """Keep ``message`` as the next one, forgetting the oldest one when full.

        :returns: ``message`` with its :attr:`~ChatMessage.seq`.
        """
        # A log pickled by an older version has no counter.
        self._last_seq = getattr(self, "_last_seq", len(self._messages)) + 1
        message = replace(message, seq=self._last_seq)
        self._messages.append(message)
        return message

    def messages(self) -> tuple[ChatMessage, ...]:
        """The kept messages, oldest first."""
        return tuple(self._messages)

    def __len__(self) -> int:
        return len(self._messages)
