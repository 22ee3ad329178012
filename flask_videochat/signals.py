"""Blinker signals for the host app. The sender is the Flask app.

Example::

    from flask_videochat import call_ended

    @call_ended.connect_via(app)
    def log_call(app, call, reason, duration):
        app.logger.info("call %s ended: %s after %.0f s", call.id, reason, duration)
"""

from __future__ import annotations

import logging
from typing import Any

from blinker import NamedSignal, Namespace

log = logging.getLogger("flask_videochat")

_signals = Namespace()

#: A call was placed: ``call_started.send(app, call=Call)``. Sent for busy calls too
#: (they end at once, with ``call_ended`` reason ``"busy"``). Not sent for a call
#: taken back after a dropped connection, nor re-created after a server restart.
call_started = _signals.signal("videochat.call-started")

#: The callee answered: ``call_answered.send(app, call=Call)``. Not sent again when
#: a call is taken back or re-created after a server restart.
call_answered = _signals.signal("videochat.call-answered")

#: A call ended: ``call_ended.send(app, call=Call, reason=str, duration=float)``;
#: ``reason`` is an :class:`~flask_videochat.core.calls.EndReason` value, ``duration`` the
#: seconds between answer and end (``0.0`` when never answered; for a call re-created
#: after a server restart, from the re-creation).
call_ended = _signals.signal("videochat.call-ended")

#: Someone took a seat in a room: ``room_joined.send(app, room=str, user=User)``.
#: Also sent for both parties when a call grows into a room. A seat moving to
#: another tab of the same user, or taken back on a new connection after a dropped
#: one (``room.resume``), sends neither this nor :data:`room_left`.
room_joined = _signals.signal("videochat.room-joined")

#: Someone lost their seat in a room: ``room_left.send(app, room=str, user=User,
#: reason=str)``; ``reason`` is ``"left"`` (they left, or joined another room) or
#: ``"disconnected"`` (the connection holding the seat closed and the seat was not
#: taken back within ``VIDEOCHAT_RECONNECT_GRACE``; sent when the grace is over).
room_left = _signals.signal("videochat.room-left")

#: A chat message was relayed: ``chat_message.send(app, message=ChatMessage,
#: room=str | None, call=Call | None)``: ``room`` for a room's chat, ``call`` for a
#: 1:1 call's.
chat_message = _signals.signal("videochat.chat-message")


def notify(signal: NamedSignal, sender: Any, **kwargs: Any) -> None:
    """Send ``signal`` to each receiver in turn; a receiver that raises is logged
    and does not stop the others, nor the call transition that sent the signal
    (host code must not leave a call half-made)."""
    for receiver in signal.receivers_for(sender):
        try:
            receiver(sender, **kwargs)
        except Exception:
            log.exception("videochat: a receiver of %s failed", signal.name)
