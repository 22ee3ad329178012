"""Chat text and display names through ``/videochat``: text made only of controls or
invisible characters is refused (chat) or replaced (names), emoji and right-to-left
text pass (``flask_videochat.core.text``; docs/protocol.md, "Chat" and "Display names")."""

# Hebrew, Arabic and Persian text here is on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterator

import pytest
from flask import Flask
from flask_login import LoginManager, UserMixin, login_user

from flask_videochat import VideoChat, chat_message
from tests.support import Sent, answered, assert_error, assert_nothing, clear, recording

if TYPE_CHECKING:
    from tests.harness import Connector, Host, MakeHost, Tab

    Connectors = Callable[[Host], Connector]

#: Chat text refused with ``ERR_INVALID_PAYLOAD``: controls, a lone surrogate (the
#: test client sends JSON, so this is the ``"\\ud800"`` escape of a real client), and
#: text with nothing visible.
REFUSED = {
    "nul": "\u0000",
    "nul-inside": "a\u0000b",
    "escape": "\x1b[2J",
    "zero-width-spaces": "\u200b\u200b",
    "word-joiner": "\u2060",
    "bom": "\ufeff",
    "rlo": "\u202e",
    "lone-surrogate": "\ud800",
    "hangul-filler": "\u3164",
    "combining-mark": "\u0301",
}

#: Chat text accepted: as sent -> as stored and relayed.
ACCEPTED = {
    "family": ("\U0001f468\u200d\U0001f469\u200d\U0001f467",) * 2,
    "flag": ("\U0001f1e9\U0001f1ea",) * 2,
    "keycap": ("1\ufe0f\u20e3",) * 2,
    "skin-tone": ("\U0001f44b\U0001f3fe",) * 2,
    "hebrew": ("שלום",) * 2,
    "arabic": ("سلام",) * 2,
    "persian-zwnj": ("می\u200cخواهم",) * 2,
    "rlm": ("\u200fשלום\u200f :)",) * 2,
    "lines": ("one\ntwo\tthree",) * 2,
    "nfc": ("e\u0301", "\u00e9"),
}


def join(tab: Tab, room: str = "standup") -> None:
    ack = tab.emit("room.join", {"room": room})
    assert ack["ok"] is True, ack


@pytest.fixture
def chat_signals(host: Host) -> Iterator[Sent]:
    """Every ``chat_message`` signal the host app gets."""
    with recording(host, {"chat": chat_message}) as sent:
        yield sent


def _where(connect: Connector, where: str) -> tuple[Tab, Tab, dict[str, str]]:
    """Ada and Bob in room "standup", or in a 1:1 call; their inboxes cleared."""
    ada, bob = connect("ada"), connect("bob")
    if where == "room":
        join(ada)
        join(bob)
        target = {"room": "standup"}
    else:
        target = {"call_id": answered(ada, bob)}
    clear(ada, bob)
    return ada, bob, target


def _history(host: Host, where: str) -> tuple[str, ...]:
    if where == "room":
        room = host.rooms.get("standup")
        assert room is not None
        return tuple(m.text for m in room.history)
    call = host.book.live_call_of("ada")
    assert call is not None
    return tuple(m.text for m in call.chat)


@pytest.mark.parametrize("text", list(REFUSED.values()), ids=list(REFUSED))
@pytest.mark.parametrize("where", ["room", "call"])
def test_chat_without_visible_text_or_with_controls_is_refused(
    connect: Connector, host: Host, chat_signals: Sent, text: str, where: str
) -> None:
    ada, bob, target = _where(connect, where)

    ack = ada.emit("chat.send", {**target, "text": text})

    assert_error(ack, "ERR_INVALID_PAYLOAD")
    assert ack["error"]["message"].startswith("Invalid text: A chat message "), ack
    assert_nothing(ada, bob)
    assert _history(host, where) == ()
    assert chat_signals == []


@pytest.mark.parametrize(("text", "stored"), list(ACCEPTED.values()), ids=list(ACCEPTED))
@pytest.mark.parametrize("where", ["room", "call"])
def test_emoji_and_right_to_left_chat_pass_as_written(
    connect: Connector, host: Host, chat_signals: Sent, text: str, stored: str, where: str
) -> None:
    ada, bob, target = _where(connect, where)

    ack = ada.emit("chat.send", {**target, "text": text})

    assert ack["ok"] is True, ack
    message = ack["message"]
    assert message["text"] == stored
    relayed = [{**target, "message": message}]
    assert ada.received("chat.message") == relayed
    assert bob.received("chat.message") == relayed
    assert _history(host, where) == (stored,)
    [(_, kwargs)] = chat_signals
    assert kwargs["message"].text == stored


def test_a_text_too_long_after_normalisation_is_too_large(connect: Connector) -> None:
    from flask_videochat.core.protocol import MAX_CHAT_LENGTH

    ada, bob, target = _where(connect, "room")
    # 1,000 code points as sent, 3,000 in NFC (U+FB2C decomposes in every form).
    assert_error(
        ada.emit("chat.send", {**target, "text": "\ufb2c" * MAX_CHAT_LENGTH}), "ERR_TOO_LARGE"
    )
    assert_nothing(ada, bob)
    # 2,000 code points as sent, 1,000 in NFC: the limit counts what is stored.
    ack = ada.emit("chat.send", {**target, "text": "e\u0301" * MAX_CHAT_LENGTH})
    assert ack["ok"] is True, ack
    assert ack["message"]["text"] == "\u00e9" * MAX_CHAT_LENGTH


# -- display names ----------------------------------------------------------------------

#: The host's names (from its identity loader): id -> (name given, name shown).
NAMES = {
    "ctl": ("Ada\u0000\u0007 Love\x1blace", "Ada Lovelace"),
    "rlo": ("Mallory\u202e (admin)", "Mallory (admin)"),
    "iso": ("\u2067Bob\u2069", "Bob"),
    "zw": ("\u200b\u200b\u2060\ufeff", "zw"),
    "bidi": ("\u202e\u2066", "bidi"),
    "nul": ("\u0000", "nul"),
    "sur": ("Sur\ud800", "Sur"),
    "nfc": ("Rene\u0301e", "Renée"),
    "fam": ("Ada \U0001f468\u200d\U0001f469\u200d\U0001f467",) * 2,
    "heb": ("\u200fשלום\u200f",) * 2,
    "fa": ("مریم\u200cسادات",) * 2,
}


@pytest.fixture
def named(make_host: MakeHost, connector_for: Connectors) -> tuple[Host, Connector]:
    """A host whose identity loader gives the names of :data:`NAMES`."""
    from flask import session

    def load() -> Any:
        uid = session.get("uid")
        return (uid, NAMES[uid][0]) if uid else None

    host = make_host(login=False, identity_loader=load)
    return host, connector_for(host)


@pytest.mark.parametrize("uid", list(NAMES))
def test_display_names_are_cleaned_or_fall_back_to_the_id(
    named: tuple[Host, Connector], uid: str
) -> None:
    host, connect = named
    shown = {"id": uid, "name": NAMES[uid][1]}
    watcher = connect("nfc")
    watcher.clear()

    tab = connect(uid)

    assert tab.received("hello")[0]["self"] == shown
    if uid != "nfc":
        listed = {**shown, "status": "available"}
        assert watcher.online() == [listed]
        newcomer = connect("zw" if uid != "zw" else "ctl")
        assert listed in newcomer.received("presence.snapshot")[0]["users"]
        assert tab.emit("call.invite", {"to": "nfc"})["ok"] is True
        assert watcher.received("call.incoming")[0]["from"] == shown
    user = host.state.presence.get(uid)
    assert user is not None and user.public() == shown


def test_flask_login_names_skip_an_attribute_with_nothing_visible() -> None:
    class Person(UserMixin):
        def __init__(self, display_name: str, name: str) -> None:
            self.id = "7"
            self.display_name = display_name
            self.name = name

    app = Flask(__name__)
    app.config["SECRET_KEY"] = "test-secret"
    LoginManager(app)
    videochat = VideoChat()
    with app.test_request_context():
        login_user(Person("\u200b\u202e", "Grace"))
        assert videochat._load_identity() == ("7", "Grace")
    with app.test_request_context():
        login_user(Person("\u3164", "\u0000"))
        assert videochat._load_identity() == ("7", "7")
