"""Presence changes, gathered into ``presence.changes`` messages.

Every join, leave and status change is one send to every watcher, so N joins among
W watchers would cost N x W sends. The feed gathers the users whose presence changed
for ``VIDEOCHAT_PRESENCE_WINDOW`` seconds (0.1 by default, at most 0.25) and then
sends one message to every watcher with each changed user's state *at send time*::

    presence.changes {"users": [{"id", "name", "status"}...], "left": [id...]}

A user in ``users`` is online with that status (new or changed); a user in ``left``
is offline. Reading the state at send time makes each message the truth for the
users it names: a user who left and came back within one window is simply online,
and messages may be applied in any order of arrival without leaving a ghost. The
joiner's own id may appear; browsers ignore themselves.

With a ``can_see(viewer, user)`` hook each watcher gets only the users it may see,
so the feed sends per watcher instead of one broadcast. With a ``can_call(caller,
callee)`` hook each user entry also says whether that watcher may call them
(``"callable": true|false``, the answer ``call.invite`` would give), so the feed
sends per watcher too; without the hook the field is absent (everyone may call).
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, Callable

from ..core.presence import User

if TYPE_CHECKING:
    from flask import Flask

    from ..state import VideoChatState

log = logging.getLogger("flask_videochat")

Emit = Callable[..., None]

#: Seconds between attempts to send presence changes while the store fails.
RETRY_SECONDS = 1.0


class PresenceFeed:
    """The ``presence.changes`` sender of one process.

    :param state: the app's state (settings, presence store, hooks).
    :param emit: ``emit(event, data, to=None)``: to everyone when ``to`` is ``None``.
    :param user_room: the Socket.IO room of a user's connections.
    """

    def __init__(
        self, state: VideoChatState, emit: Emit, user_room: Callable[[str], str]
    ) -> None:
        self._state = state
        self._emit = emit
        self._user_room = user_room
        self._lock = threading.Lock()
        #: user id -> the user as last known (leavers are gone from the store).
        self._pending: dict[str, User | None] = {}
        self._scheduled = False

    @property
    def enabled(self) -> bool:
        return self._state.settings.presence

    def changed(self, app: Flask, user_id: str, user: User | None = None) -> None:
        """Queue a presence change of ``user_id`` (``user``: who they were, for one
        who left); sent at the end of the current window, or at once when the
        window is 0."""
        if not self.enabled:
            return
        window = self._state.settings.presence_window
        with self._lock:
            if user is not None or user_id not in self._pending:
                self._pending[user_id] = user
            schedule = window > 0 and not self._scheduled
            if schedule:
                self._scheduled = True
        if window == 0:
            try:
                self.flush()
            except Exception:  # the change is made; telling watchers must not undo it
                log.exception("videochat: sending presence changes failed")
        elif schedule:
            self._state.socketio.start_background_task(self._flush_later, app, window)

    def _flush_later(self, app: Flask, window: float) -> None:
        """Send the window's changes at its end; while the store does not answer,
        try again every second (the changes are kept meanwhile)."""
        delay, failed = window, False
        while not self._state.store.closed:
            self._state.socketio.sleep(delay)
            try:
                with app.app_context():
                    self.flush()
                return
            except Exception:
                if not failed:
                    log.exception("videochat: sending presence changes failed; retrying")
                failed, delay = True, RETRY_SECONDS
                with self._lock:
                    if not self._pending:
                        return
                    self._scheduled = True

    def flush(self) -> None:
        """Send what is pending now."""
        with self._lock:
            pending, self._pending = self._pending, {}
            self._scheduled = False
        if not pending:
            return
        state = self._state
        try:
            now = state.presence.states(pending)
        except Exception:
            # The store did not answer (Redis restarting): keep the changes for the
            # next window rather than lose them (a lost leave is a ghost for good).
            with self._lock:
                for uid, user in pending.items():
                    if user is not None or uid not in self._pending:
                        self._pending[uid] = user
            raise
        users = [{**user.public(), "status": status.value} for user, status in now.values()]
        left = [uid for uid in pending if uid not in now]
        if not (state.has_can_see or state.has_can_call):
            self._emit("presence.changes", {"users": users, "left": left})
            return
        subjects = {uid: now[uid][0] if uid in now else pending[uid] for uid in pending}
        for viewer, _ in state.presence.users():
            self._send_visible(viewer, users, left, subjects)

    def _send_visible(
        self,
        viewer: User,
        users: list[dict[str, Any]],
        left: list[str],
        subjects: dict[str, User | None],
    ) -> None:
        state = self._state

        def visible(uid: str, *, failing: bool) -> bool:
            """``failing``: the answer when the hook raises (hide who is online, but
            let a leave through: it tells nothing and leaves no ghost)."""
            if uid == viewer.id:
                return False
            if not state.has_can_see:
                return True
            try:
                return state.can_see(viewer, subjects.get(uid) or User(uid, uid))
            except Exception:
                log.exception("videochat: the can_see hook failed")
                return failing

        seen = [u for u in users if visible(u["id"], failing=False)]
        if state.has_can_call:
            seen = [{**u, "callable": callable_by(state, viewer, subjects.get(u["id"]))} for u in seen]
        gone = [uid for uid in left if visible(uid, failing=True)]
        if seen or gone:
            self._emit(
                "presence.changes", {"users": seen, "left": gone}, to=self._user_room(viewer.id)
            )


def callable_by(state: VideoChatState, viewer: User, user: User | None) -> bool:
    """Whether the host's ``can_call(viewer, user)`` lets ``viewer`` call ``user``
    (the check ``call.invite`` makes); a hook that raises says no (logged): the
    Call button is disabled, and the server would refuse the call anyway."""
    if user is None:
        return False
    try:
        return state.can_call(viewer, user)
    except Exception:
        log.exception("videochat: the can_call hook failed")
        return False
