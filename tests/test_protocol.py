"""Payload validation (:func:`flask_videochat.core.protocol.parse`): what the server
accepts from a browser, and the error code of everything it refuses."""

from __future__ import annotations

from typing import Any

import pytest

from flask_videochat.core.protocol import (
    MAX_CANDIDATE_LENGTH,
    MAX_CHAT_LENGTH,
    MAX_ID_LENGTH,
    MAX_MID_LENGTH,
    MAX_MLINE_INDEX,
    MAX_SDP_LENGTH,
    MAX_UFRAG_LENGTH,
    CallAddPayload,
    CallIdPayload,
    CallMediaPayload,
    CallResumePayload,
    ChatPayload,
    ErrorCode,
    InvitePayload,
    Payload,
    ProtocolError,
    RoomInvitePayload,
    RoomJoinPayload,
    RoomMediaPayload,
    RoomPayload,
    RoomSignalPayload,
    SignalPayload,
    error_ack,
    parse,
)

SDP = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
CANDIDATE = "candidate:842163049 1 udp 1677729535 192.0.2.7 46154 typ srflx raddr 0.0.0.0 rport 0"
FULL_CANDIDATE = {
    "candidate": CANDIDATE,
    "sdpMid": "0",
    "sdpMLineIndex": 0,
    "usernameFragment": "EsAw",
}


def refused(model: type[Payload], data: Any) -> ErrorCode:
    """The code ``parse`` refuses ``data`` with (fails if it is accepted)."""
    with pytest.raises(ProtocolError) as info:
        parse(model, data)
    assert info.value.message
    return info.value.code


# -- accepted --------------------------------------------------------------------


def test_invite_payload() -> None:
    assert parse(InvitePayload, {"to": "42"}) == InvitePayload(to="42")


def test_call_id_payload() -> None:
    assert parse(CallIdPayload, {"call_id": "abc"}).call_id == "abc"  # type: ignore[union-attr]


@pytest.mark.parametrize("kind", ["offer", "answer", "pranswer"])
def test_description_signal(kind: str) -> None:
    payload = parse(SignalPayload, {"call_id": "c", "description": {"type": kind, "sdp": SDP}})
    assert isinstance(payload, SignalPayload)
    assert payload.relayed("ada") == {
        "call_id": "c",
        "from": "ada",
        "description": {"type": kind, "sdp": SDP},
    }


def test_rollback_needs_no_sdp() -> None:
    payload = parse(SignalPayload, {"call_id": "c", "description": {"type": "rollback"}})
    assert isinstance(payload, SignalPayload)
    assert payload.relayed("bob")["description"]["type"] == "rollback"


def test_candidate_signal_relays_every_field() -> None:
    payload = parse(SignalPayload, {"call_id": "c", "candidate": FULL_CANDIDATE})
    assert isinstance(payload, SignalPayload)
    assert payload.relayed("bob") == {"call_id": "c", "from": "bob", "candidate": FULL_CANDIDATE}


def test_candidate_optional_fields_may_be_null_or_absent() -> None:
    nulls = {
        "candidate": CANDIDATE,
        "sdpMid": None,
        "sdpMLineIndex": None,
        "usernameFragment": None,
    }
    assert parse(SignalPayload, {"call_id": "c", "candidate": nulls})
    payload = parse(SignalPayload, {"call_id": "c", "candidate": {"candidate": CANDIDATE}})
    assert isinstance(payload, SignalPayload)
    assert payload.relayed("bob")["candidate"] == nulls


def test_limits_exactly_at_the_boundary_are_accepted() -> None:
    assert parse(InvitePayload, {"to": "u" * MAX_ID_LENGTH})
    assert parse(CallIdPayload, {"call_id": "c" * MAX_ID_LENGTH})
    assert parse(
        SignalPayload,
        {
            "call_id": "c" * MAX_ID_LENGTH,
            "description": {"type": "offer", "sdp": "s" * MAX_SDP_LENGTH},
        },
    )
    assert parse(
        SignalPayload,
        {
            "call_id": "c",
            "candidate": {
                "candidate": "x" * MAX_CANDIDATE_LENGTH,
                "sdpMid": "m" * MAX_MID_LENGTH,
                "sdpMLineIndex": MAX_MLINE_INDEX,
                "usernameFragment": "f" * MAX_UFRAG_LENGTH,
            },
        },
    )


def test_documented_limits() -> None:
    # docs/protocol.md "Limits" and the hello message promise these numbers.
    assert (
        MAX_SDP_LENGTH,
        MAX_CANDIDATE_LENGTH,
        MAX_MID_LENGTH,
        MAX_UFRAG_LENGTH,
        MAX_MLINE_INDEX,
        MAX_ID_LENGTH,
    ) == (40_000, 2_048, 64, 256, 1_023, 128)


# -- refused ---------------------------------------------------------------------


@pytest.mark.parametrize("data", ["42", 42, None, ["to", "42"], [{"to": "42"}], True, 1.5])
@pytest.mark.parametrize("model", [InvitePayload, CallIdPayload, SignalPayload])
def test_not_an_object(model: type[Payload], data: Any) -> None:
    assert refused(model, data) is ErrorCode.INVALID_PAYLOAD


def cand(**fields: Any) -> dict[str, Any]:
    """A signal carrying ``FULL_CANDIDATE`` with ``fields`` changed."""
    return {"call_id": "c", "candidate": {**FULL_CANDIDATE, **fields}}


def desc(**fields: Any) -> dict[str, Any]:
    """A signal carrying an offer with ``fields`` changed."""
    return {"call_id": "c", "description": {"type": "offer", "sdp": SDP, **fields}}


INVALID: dict[str, tuple[type[Payload], Any]] = {
    # missing fields
    "invite-empty-object": (InvitePayload, {}),
    "call-id-missing": (CallIdPayload, {}),
    "signal-call-id-missing": (SignalPayload, {"description": {"type": "offer", "sdp": SDP}}),
    "description-type-missing": (SignalPayload, {"call_id": "c", "description": {"sdp": SDP}}),
    "candidate-candidate-missing": (SignalPayload, {"call_id": "c", "candidate": {"sdpMid": "0"}}),
    # unknown fields, at every level
    "invite-unknown-field": (InvitePayload, {"to": "42", "video": True}),
    "call-id-unknown-field": (CallIdPayload, {"call_id": "c", "reason": "x"}),
    "signal-unknown-field": (SignalPayload, {**desc(), "sdp": SDP}),
    "description-unknown-field": (SignalPayload, desc(extra="x")),
    "candidate-unknown-field": (SignalPayload, cand(port=3478)),
    # wrong types
    "int-to": (InvitePayload, {"to": 42}),
    "int-call-id": (CallIdPayload, {"call_id": 7}),
    "null-call-id": (CallIdPayload, {"call_id": None}),
    "list-call-id": (CallIdPayload, {"call_id": ["c"]}),
    "bool-sdp-mline-index": (SignalPayload, cand(sdpMLineIndex=True)),
    "float-sdp-mline-index": (SignalPayload, cand(sdpMLineIndex=1.0)),
    "string-sdp-mline-index": (SignalPayload, cand(sdpMLineIndex="0")),
    "int-sdp-mid": (SignalPayload, cand(sdpMid=0)),
    "int-candidate": (SignalPayload, cand(candidate=1)),
    "bytes-like-sdp": (SignalPayload, desc(sdp=["v=0"])),
    "description-not-object": (SignalPayload, {"call_id": "c", "description": SDP}),
    "candidate-not-object": (SignalPayload, {"call_id": "c", "candidate": CANDIDATE}),
    "unknown-sdp-type": (SignalPayload, desc(type="bogus")),
    # out of range, not a size limit of SDP or candidate
    "empty-to": (InvitePayload, {"to": ""}),
    "empty-call-id": (CallIdPayload, {"call_id": ""}),
    "empty-signal-call-id": (SignalPayload, {**desc(), "call_id": ""}),
    "oversize-to": (InvitePayload, {"to": "u" * (MAX_ID_LENGTH + 1)}),
    "oversize-call-id": (CallIdPayload, {"call_id": "c" * (MAX_ID_LENGTH + 1)}),
    "oversize-signal-call-id": (SignalPayload, {**desc(), "call_id": "c" * (MAX_ID_LENGTH + 1)}),
    "oversize-sdp-mid": (SignalPayload, cand(sdpMid="m" * (MAX_MID_LENGTH + 1))),
    "oversize-ufrag": (SignalPayload, cand(usernameFragment="f" * (MAX_UFRAG_LENGTH + 1))),
    "mline-index-too-high": (SignalPayload, cand(sdpMLineIndex=MAX_MLINE_INDEX + 1)),
    "mline-index-negative": (SignalPayload, cand(sdpMLineIndex=-1)),
    # exactly one of description and candidate
    "neither": (SignalPayload, {"call_id": "c"}),
    "neither-explicit-nulls": (
        SignalPayload,
        {"call_id": "c", "description": None, "candidate": None},
    ),
    "both": (SignalPayload, {**desc(), "candidate": FULL_CANDIDATE}),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_invalid_payloads(case: str) -> None:
    model, data = INVALID[case]
    assert refused(model, data) is ErrorCode.INVALID_PAYLOAD


@pytest.mark.parametrize(
    "data",
    [
        desc(sdp="s" * (MAX_SDP_LENGTH + 1)),
        cand(candidate="x" * (MAX_CANDIDATE_LENGTH + 1)),
    ],
    ids=["sdp", "candidate"],
)
def test_oversize_sdp_and_candidate_are_too_large(data: dict[str, Any]) -> None:
    assert refused(SignalPayload, data) is ErrorCode.TOO_LARGE


def test_error_messages_name_the_field_and_do_not_echo_the_input() -> None:
    with pytest.raises(ProtocolError) as info:
        parse(SignalPayload, desc(sdp="SECRET" * 20_000))
    assert "sdp" in info.value.message
    assert "SECRET" not in info.value.message
    assert len(info.value.message) < 300


def test_error_ack_shape() -> None:
    error = ProtocolError(ErrorCode.USER_OFFLINE, "That person is not online.")
    expected = {
        "ok": False,
        "error": {"code": "ERR_USER_OFFLINE", "message": "That person is not online."},
    }
    assert error.ack() == expected
    assert error_ack(ErrorCode.USER_OFFLINE, "That person is not online.") == expected


# -- rooms, call growth, chat ------------------------------------------------------------


@pytest.mark.parametrize("name", ["standup", "a", "A-1_b", "9" * 64, "call-Xy_9-z"])
def test_room_names(name: str) -> None:
    assert parse(RoomPayload, {"room": name}) == RoomPayload(room=name)


@pytest.mark.parametrize(
    "name",
    ["", "-standup", "_x", "9" * 65, "stand up", "standup\n", "room/1", "caf\u00e9", 5, None],
)
def test_bad_room_names(name: Any) -> None:
    assert refused(RoomPayload, {"room": name}) is ErrorCode.INVALID_PAYLOAD


def test_room_join_defaults_to_microphone_and_camera_on() -> None:
    assert parse(RoomJoinPayload, {"room": "r"}) == RoomJoinPayload(room="r", mic=True, cam=True)
    joined = parse(RoomJoinPayload, {"room": "r", "mic": False, "cam": False})
    assert joined == RoomJoinPayload(room="r", mic=False, cam=False)


def test_room_signal_relays_the_sender_instead_of_the_addressee() -> None:
    payload = parse(RoomSignalPayload, {"room": "r", "to": "bob", "candidate": FULL_CANDIDATE})
    assert isinstance(payload, RoomSignalPayload)
    assert payload.relayed("ada") == {"room": "r", "from": "ada", "candidate": FULL_CANDIDATE}


def test_chat_payload() -> None:
    assert parse(ChatPayload, {"room": "r", "text": "hi"}) == ChatPayload(room="r", text="hi")
    to_call = parse(ChatPayload, {"call_id": "c", "text": " x" * 500})
    assert to_call == ChatPayload(call_id="c", text=" x" * 500)


ROOM_INVALID: dict[str, tuple[type[Payload], Any]] = {
    "join-mic-int": (RoomJoinPayload, {"room": "r", "mic": 1}),
    "join-cam-string": (RoomJoinPayload, {"room": "r", "cam": "true"}),
    "join-unknown-field": (RoomJoinPayload, {"room": "r", "capacity": 10}),
    "media-missing-cam": (RoomMediaPayload, {"room": "r", "mic": True}),
    "invite-empty-to": (RoomInvitePayload, {"room": "r", "to": ""}),
    "invite-oversize-to": (RoomInvitePayload, {"room": "r", "to": "u" * (MAX_ID_LENGTH + 1)}),
    "signal-neither": (RoomSignalPayload, {"room": "r", "to": "bob"}),
    "signal-both": (
        RoomSignalPayload,
        {"room": "r", "to": "bob", "description": {"type": "offer"}, "candidate": FULL_CANDIDATE},
    ),
    "signal-no-to": (RoomSignalPayload, {"room": "r", "candidate": FULL_CANDIDATE}),
    "add-no-to": (CallAddPayload, {"call_id": "c"}),
    "chat-neither": (ChatPayload, {"text": "hi"}),
    "chat-both": (ChatPayload, {"room": "r", "call_id": "c", "text": "hi"}),
    "chat-empty": (ChatPayload, {"room": "r", "text": ""}),
    "chat-blank": (ChatPayload, {"room": "r", "text": " \n\t\u3000"}),
    "chat-not-text": (ChatPayload, {"room": "r", "text": ["hi"]}),
    "chat-bad-room": (ChatPayload, {"room": "../r", "text": "hi"}),
}


@pytest.mark.parametrize("case", list(ROOM_INVALID))
def test_invalid_room_and_chat_payloads(case: str) -> None:
    model, data = ROOM_INVALID[case]
    assert refused(model, data) is ErrorCode.INVALID_PAYLOAD


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (ChatPayload, {"room": "r", "text": "x" * (MAX_CHAT_LENGTH + 1)}),
        (ChatPayload, {"call_id": "c", "text": " " * (MAX_CHAT_LENGTH + 1)}),
        (
            RoomSignalPayload,
            {
                "room": "r",
                "to": "b",
                "description": {"type": "offer", "sdp": "s" * (MAX_SDP_LENGTH + 1)},
            },
        ),
    ],
    ids=["chat", "blank-chat", "room-sdp"],
)
def test_oversize_chat_and_room_sdp_are_too_large(model: type[Payload], data: Any) -> None:
    assert refused(model, data) is ErrorCode.TOO_LARGE


# -- media state and resuming ----------------------------------------------------------


def test_call_media_relays_the_sender_and_screen_defaults_to_off() -> None:
    payload = parse(CallMediaPayload, {"call_id": "c", "mic": False, "cam": True})
    assert isinstance(payload, CallMediaPayload)
    assert payload.relayed("ada") == {
        "call_id": "c",
        "from": "ada",
        "mic": False,
        "cam": True,
        "screen": False,
    }
    sharing = parse(CallMediaPayload, {"call_id": "c", "mic": True, "cam": False, "screen": True})
    assert sharing.relayed("bob")["screen"] is True  # type: ignore[union-attr]


def test_room_media_screen_defaults_to_off() -> None:
    assert parse(RoomMediaPayload, {"room": "r", "mic": True, "cam": True}) == RoomMediaPayload(
        room="r", mic=True, cam=True, screen=False
    )
    sharing = parse(RoomMediaPayload, {"room": "r", "mic": True, "cam": True, "screen": True})
    assert sharing.screen is True  # type: ignore[union-attr]


def test_call_resume_payload() -> None:
    assert parse(CallResumePayload, {"call_id": "c", "peer": "bob"}) == CallResumePayload(
        call_id="c", peer="bob"
    )
    assert parse(CallResumePayload, {"call_id": "c" * MAX_ID_LENGTH, "peer": "u" * MAX_ID_LENGTH})


RESUME_INVALID: dict[str, tuple[type[Payload], Any]] = {
    "call-media-no-cam": (CallMediaPayload, {"call_id": "c", "mic": True}),
    "call-media-no-call-id": (CallMediaPayload, {"mic": True, "cam": True}),
    "call-media-int-mic": (CallMediaPayload, {"call_id": "c", "mic": 1, "cam": True}),
    "call-media-string-screen": (
        CallMediaPayload,
        {"call_id": "c", "mic": True, "cam": True, "screen": "yes"},
    ),
    "call-media-null-screen": (
        CallMediaPayload,
        {"call_id": "c", "mic": True, "cam": True, "screen": None},
    ),
    "call-media-unknown-field": (
        CallMediaPayload,
        {"call_id": "c", "mic": True, "cam": True, "to": "bob"},
    ),
    "room-media-string-screen": (
        RoomMediaPayload,
        {"room": "r", "mic": True, "cam": True, "screen": "on"},
    ),
    "resume-no-peer": (CallResumePayload, {"call_id": "c"}),
    "resume-no-call-id": (CallResumePayload, {"peer": "bob"}),
    "resume-empty-peer": (CallResumePayload, {"call_id": "c", "peer": ""}),
    "resume-int-peer": (CallResumePayload, {"call_id": "c", "peer": 2}),
    "resume-object-peer": (CallResumePayload, {"call_id": "c", "peer": {"id": "bob"}}),
    "resume-oversize-peer": (
        CallResumePayload,
        {"call_id": "c", "peer": "u" * (MAX_ID_LENGTH + 1)},
    ),
    "resume-unknown-field": (CallResumePayload, {"call_id": "c", "peer": "bob", "room": "r"}),
}


@pytest.mark.parametrize("case", list(RESUME_INVALID))
def test_invalid_media_and_resume_payloads(case: str) -> None:
    model, data = RESUME_INVALID[case]
    assert refused(model, data) is ErrorCode.INVALID_PAYLOAD
