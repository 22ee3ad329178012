"""Blinker signals for the host app. The sender is the Flask app.

Example::

    from flask_videochat import call_ended

    @call_ended.connect_via(app)
    def log_call(app, call, reason, duration):
        app.logger.info("call %s ended: %s after %.0f s", call.id, reason, duration)
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: A call was placed: ``call_started.send(app, call=Call)``. Sent for busy calls too
#: (they end at once, with ``call_ended`` reason ``"busy"``).
call_started = _signals.signal("videochat.call-started")

#: The callee answered: ``call_answered.send(app, call=Call)``.
call_answered = _signals.signal("videochat.call-answered")

#: A call ended: ``call_ended.send(app, call=Call, reason=str, duration=float)``;
#: ``reason`` is an :class:`~flask_videochat.calls.EndReason` value, ``duration`` the
#: seconds between answer and end (``0.0`` when never answered).
call_ended = _signals.signal("videochat.call-ended")
