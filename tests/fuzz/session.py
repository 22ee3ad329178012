"""The stateful fuzzer: random sessions of three people who open and close tabs
and send events, sensible or not (:class:`Session`, a hypothesis state machine)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from flask_videochat.core.calls import CallState
from flask_videochat.core.presence import Status
from flask_videochat.core.protocol import EVENTS, CallIdPayload, HangupPayload, RoomPayload
from tests.fuzz.oracle import (
    ACTORS,
    BYSTANDER,
    FUZZ,
    NO_CALL,
    ROOMS,
    SCHEMAS,
    check_ack,
    fuzz_config,
    send,
)
from tests.fuzz.strategies import CALL, ROOM, arguments, not_events, resolve, signal_bodies
from tests.fuzz.world import (
    SERVER_EVENTS,
    ErrorLog,
    check_world,
    expected_status,
    heard,
    presence_view,
    snapshot,
)
from tests.support import CANDIDATE, OFFER

if TYPE_CHECKING:
    from tests.harness import ConnectorFor, Host, MakeHost, Tab


#: Most ids of each kind the machine remembers (the latest ones).
REMEMBERED = 6


class Session(RuleBasedStateMachine):
    """Ada, Bob and Eve open and close tabs and send events, mostly sensible ones in
    any order, some malformed, some replayed; Dan is online and never addressed.
    After each step the acks, the state and what Dan heard are checked.

    :attr:`make_host`, :attr:`connector_for` and :attr:`errors` are set on a
    subclass by the test (hypothesis builds the machine itself)."""

    make_host: Callable[[], Host]
    connector_for: ConnectorFor
    errors: ErrorLog
    #: Whether the host keeps calls and seats of closed connections (for longer
    #: than a session lasts), so that they can be taken back on another tab.
    grace = False

    def __init__(self) -> None:
        super().__init__()
        self.host = self.make_host()
        self.connect = self.connector_for(self.host)
        self.bystander = self.connect(BYSTANDER)
        self.tabs: dict[str, list[Tab]] = {user_id: [self.connect(user_id)] for user_id in ACTORS}
        self.call_ids = [NO_CALL]
        self.room_names = list(ROOMS)
        self.sent: list[tuple[Any, list[Any]]] = []
        for tab in self.open():
            tab.clear()
        # The bystander's log is kept whole: hello, then its presence snapshot and
        # every presence change since.
        assert self.bystander.names()[0] == "hello"

    def teardown(self) -> None:
        self.connect.close_all()

    # -- helpers --------------------------------------------------------------------

    def open(self) -> list[Tab]:
        return [tab for tabs in self.tabs.values() for tab in tabs]

    def pick(self, data: st.DataObject) -> Tab:
        """One of the open tabs, drawn by name (``"bob/2"``: Bob's second tab)."""
        named = {
            f"{user_id}/{n}": tab
            for user_id, tabs in self.tabs.items()
            for n, tab in enumerate(tabs, 1)
        }
        return named[data.draw(st.sampled_from(sorted(named)), label="tab")]

    def remember(self, ids: list[str], value: Any) -> None:
        if isinstance(value, str) and value not in ids:
            ids.append(value)
            del ids[:-REMEMBERED]

    def harvest(self, ack: Any) -> None:
        """Remember the call ids and room names the server handed out."""
        if isinstance(ack, dict) and ack.get("ok"):
            self.remember(self.call_ids, ack.get("call_id"))
            self.remember(self.room_names, ack.get("room"))
        for tab in self.open():
            for name, data in tab.log:
                if not isinstance(data, dict):
                    continue
                if name in ("call.incoming", "call.upgraded", "call.resumed"):
                    self.remember(self.call_ids, data.get("call_id"))
                if name in ("call.upgraded", "room.invite"):
                    self.remember(self.room_names, data.get("room"))

    def emit(self, tab: Tab, event: Any, args: list[Any]) -> None:
        """Send, and check the ack; a refused event changes nothing and nobody else
        hears of it."""
        everyone = (*ACTORS, BYSTANDER)
        for other in self.open():
            other.clear()
        before = snapshot(self.host, everyone)

        ack = send(tab, event, *args)

        check_ack(event, args, ack)
        if not ack["ok"]:
            assert snapshot(self.host, everyone) == before, f"refused {event!r} changed the state"
            for other in self.open():
                if other is not tab:
                    assert heard(other) == [], f"{other.user_id} heard of a refused {event!r}"
        for other in self.open():
            unknown = set(heard(other)) - SERVER_EVENTS
            assert not unknown, f"{other.user_id} received undocumented {unknown}"
        self.harvest(ack)
        if len(repr(args)) < 2_000:
            self.sent.append((event, args))
            del self.sent[:-20]

    def well_formed(self, event: str) -> st.SearchStrategy[dict[str, Any]]:
        """A sensible payload for ``event``, naming calls, rooms and people the
        session knows (or a stranger)."""
        call_id = st.sampled_from(self.call_ids)
        room = st.sampled_from(self.room_names)
        user = st.sampled_from([*ACTORS, *ACTORS, "stranger"])
        media = {"mic": st.booleans(), "cam": st.booleans()}
        screen = {"screen": st.booleans()}
        fields: dict[str, st.SearchStrategy[Any]] = {
            "ping": st.just({}),
            "call.invite": st.fixed_dictionaries({"to": user}),
            "call.media": st.fixed_dictionaries({"call_id": call_id, **media}, optional=screen),
            "call.resume": st.fixed_dictionaries({"call_id": call_id, "peer": user}),
            "call.add": st.fixed_dictionaries({"call_id": call_id, "to": user}),
            "signal": st.builds(lambda c, b: {"call_id": c, **b}, call_id, signal_bodies),
            "room.join": st.fixed_dictionaries({"room": room}, optional=media),
            "room.signal": st.builds(
                lambda r, u, b: {"room": r, "to": u, **b}, room, user, signal_bodies
            ),
            "room.media": st.fixed_dictionaries({"room": room, **media}, optional=screen),
            "room.invite": st.fixed_dictionaries({"room": room, "to": user}),
            "chat.send": st.one_of(
                st.fixed_dictionaries({"room": room, "text": st.sampled_from(["hi", "<b>"])}),
                st.fixed_dictionaries({"call_id": call_id, "text": st.just("hello")}),
            ),
        }
        if event in fields:
            return fields[event]
        if SCHEMAS[event] in (CallIdPayload, HangupPayload):
            return st.fixed_dictionaries({"call_id": call_id})
        assert SCHEMAS[event] is RoomPayload, event
        return st.fixed_dictionaries({"room": room})

    def next_steps(self) -> list[tuple[str, Tab, str, dict[str, Any]]]:
        """What people would sensibly do now, as ``(label, tab, event, payload)``:
        call, answer, talk, grow a call, join, invite, take a call or seat to another
        tab, hang up, leave. Out of order steps come from the other rules."""
        state = self.host.state
        steps: list[tuple[str, Tab, str, dict[str, Any]]] = []
        for user_id, tabs in self.tabs.items():
            others = [u for u in ACTORS if u != user_id]
            call = state.calls.live_call_of(user_id)
            seat = state.rooms.seat_of(user_id)
            invite = state.rooms.invite_of(user_id)
            for n, tab in enumerate(tabs, 1):
                label = f"{user_id}/{n}"
                if call is None and seat is None and invite is None:
                    steps += [(label, tab, "call.invite", {"to": u}) for u in others]
                    steps += [(label, tab, "room.join", {"room": r}) for r in ROOMS]
                if call is not None and call.state is CallState.RINGING:
                    ids = {"call_id": call.id}
                    if user_id == call.callee_id:
                        steps += [
                            (label, tab, "call.accept", ids),
                            (label, tab, "call.decline", ids),
                        ]
                    elif tab.sid == call.caller_sid:
                        steps.append((label, tab, "call.cancel", ids))
                if call is not None and call.state is CallState.ACTIVE:
                    ids = {"call_id": call.id}
                    if tab.sid == call.sid_of(user_id):
                        steps += [
                            (label, tab, "signal", {**ids, "description": OFFER}),
                            (label, tab, "call.media", {**ids, "mic": False, "cam": True}),
                            (label, tab, "chat.send", {**ids, "text": "hi"}),
                            (label, tab, "call.hangup", ids),
                        ]
                        steps += [
                            (label, tab, "call.add", {**ids, "to": u})
                            for u in others
                            if not call.has_party(u)
                        ]
                    else:
                        peer = call.other(user_id)
                        steps.append((label, tab, "call.resume", {**ids, "peer": peer}))
                if seat is not None:
                    name, member = seat
                    room = {"room": name}
                    if tab.sid == member.sid:
                        steps += [
                            (label, tab, "room.media", {**room, "mic": True, "cam": False}),
                            (label, tab, "chat.send", {**room, "text": "hello"}),
                            (label, tab, "room.leave", room),
                        ]
                        steps += [(label, tab, "room.invite", {**room, "to": u}) for u in others]
                        steps += [
                            (label, tab, "room.signal", {**room, "to": u, "candidate": CANDIDATE})
                            for u in others
                        ]
                    else:
                        steps.append((label, tab, "room.resume", room))
                if invite is not None:
                    room = {"room": invite.room}
                    steps += [(label, tab, "room.join", room), (label, tab, "room.decline", room)]
        return steps

    # -- rules ------------------------------------------------------------------------

    @precondition(lambda self: len(self.open()) < 7)
    @rule(user_id=st.sampled_from(ACTORS))
    def open_tab(self, user_id: str) -> None:
        tab = self.connect(user_id)
        assert tab.connected
        self.tabs[user_id].append(tab)
        self.harvest(None)

    @precondition(lambda self: self.open())
    @rule(data=st.data())
    def close_tab(self, data: st.DataObject) -> None:
        tab = self.pick(data)
        tab.close()
        self.tabs[str(tab.user_id)].remove(tab)

    @precondition(lambda self: self.open())
    @rule(data=st.data())
    def send_well_formed(self, data: st.DataObject) -> None:
        tab = self.pick(data)
        event = data.draw(st.sampled_from(sorted(EVENTS)), label="event")
        payload = data.draw(self.well_formed(event), label="payload")
        self.emit(tab, event, [payload])

    @precondition(lambda self: self.open())
    @rule(data=st.data())
    def follow_the_protocol(self, data: st.DataObject) -> None:
        steps = {
            f"{label} {event} {payload}": (tab, event, payload)
            for label, tab, event, payload in self.next_steps()
        }
        if steps:
            tab, event, payload = steps[data.draw(st.sampled_from(sorted(steps)), label="step")]
            self.emit(tab, event, [payload])

    @precondition(lambda self: self.open())
    @rule(data=st.data())
    def follow_the_protocol_too(self, data: st.DataObject) -> None:
        """(Twice as likely as the other rules.)"""
        self.follow_the_protocol(data)

    @precondition(lambda self: self.open())
    @rule(data=st.data())
    def send_anything(self, data: st.DataObject) -> None:
        tab = self.pick(data)
        event = data.draw(st.one_of(st.sampled_from(sorted(EVENTS)), not_events), label="event")
        args = data.draw(arguments(event), label="args")
        refs = {CALL: self.call_ids[-1], ROOM: self.room_names[-1]}
        self.emit(tab, event, resolve(args, refs))

    @precondition(lambda self: self.open() and self.sent)
    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        """Send again something sent before, from any tab: accept twice, hang up
        twice, leave twice, resume with a stale id..."""
        tab = self.pick(data)
        event, args = data.draw(st.sampled_from(self.sent), label="sent")
        self.emit(tab, event, args)

    # -- invariants ----------------------------------------------------------------------

    @invariant()
    def consistent(self) -> None:
        check_world(self.host, {**self.tabs, BYSTANDER: [self.bystander]}, grace=self.grace)

    @invariant()
    def bystander_undisturbed(self) -> None:
        assert heard(self.bystander) == ["hello"], self.bystander.log
        view = presence_view(self.bystander.log)
        if view is not None:
            told = {user_id: status for user_id, status in view.items() if user_id != BYSTANDER}
            truth = {
                user.id: status.value
                for user, status in self.host.state.presence.users()
                if user.id != BYSTANDER
            }
            assert told == truth, "the bystander was told a wrong presence"
        assert expected_status(self.host, BYSTANDER) is Status.AVAILABLE

    @invariant()
    def nothing_logged(self) -> None:
        self.errors.check()


def run_sessions(
    make_host: MakeHost,
    connector_for: ConnectorFor,
    errors: ErrorLog,
    *,
    examples: int,
    steps: int,
    grace: float = 0,
) -> None:
    """Run ``examples`` :class:`Session` s of up to ``steps`` steps, each on a new
    host (with a reconnect ``grace`` in seconds, or none)."""

    class Fuzzed(Session):
        pass

    host_config = {**fuzz_config(), "VIDEOCHAT_RECONNECT_GRACE": grace}
    Fuzzed.grace = grace > 0
    Fuzzed.make_host = staticmethod(lambda: make_host(config=host_config))  # type: ignore[method-assign,assignment]
    Fuzzed.connector_for = staticmethod(connector_for)  # type: ignore[method-assign,assignment]
    Fuzzed.errors = errors
    run_state_machine_as_test(
        Fuzzed, settings=settings(FUZZ, max_examples=examples, stateful_step_count=steps)
    )
