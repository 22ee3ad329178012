"""Generated payloads (hypothesis strategies): well-formed and malformed fields
of every event, very deep and very long values, names that are not events, what a
browser may send on connecting, and signals of a sensible session."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st

from flask_videochat.core.protocol import (
    EVENTS,
    MAX_CANDIDATE_LENGTH,
    MAX_CHAT_LENGTH,
    MAX_ID_LENGTH,
    MAX_MID_LENGTH,
    MAX_SDP_LENGTH,
    MAX_UFRAG_LENGTH,
    ChatPayload,
    Payload,
    RoomSignalPayload,
    SignalPayload,
)
from tests.fuzz.oracle import ACTORS, BYSTANDER, NO_CALL, NOT_EVENTS, ROOMS, SCHEMAS
from tests.support import CANDIDATE, OFFER

if TYPE_CHECKING:
    pass


# -- generated payloads ---------------------------------------------------------------

#: Far above every limit: a few hundred KB.
HUGE = 300_000

plain_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12)
)
#: Bytes travel as binary attachments and arrive as bytes.
scalars = plain_scalars | st.binary(max_size=4)


def trees(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
        ),
        max_leaves=8,
    )


json_values = trees(scalars)


def nest(depth: int, kind: str, leaf: Any) -> Any:
    """``leaf`` inside ``depth`` lists, dicts or both in turn."""
    value = leaf
    for level in range(depth):
        as_list = kind == "list" or (kind == "mixed" and level % 2 == 0)
        value = [value] if as_list else {"description": value}
    return value


#: 50 to 500 levels; and some around 32, the depth a size cap may allow.
depths = st.one_of(st.integers(50, 500), st.integers(25, 40))
deep_values = st.builds(nest, depths, st.sampled_from(["list", "dict", "mixed"]), scalars)


def sized(*lengths: int) -> st.SearchStrategy[str]:
    """Strings of exactly these lengths (code points), of one repeated character."""
    return st.builds(
        lambda char, n: char * n,
        st.sampled_from(["x", "\u00e9", "\U0001f600", "<", "\x00"]),
        st.sampled_from(lengths),
    )


#: What a field may hold instead of what it should: any JSON, very deep, very long.
wrong = st.one_of(json_values, json_values, deep_values, sized(HUGE))

#: Placeholders that :func:`resolve` replaces with the ids of the scene.
CALL, ROOM = "{call}", "{room}"

#: Ids that are not anyone's: random text (never the bystander's id).
random_ids = st.text(min_size=1, max_size=20).filter(lambda s: s not in (BYSTANDER, CALL, ROOM))

# Well-formed ids are mostly those of the scene, so that events reach its call or room.
call_ids = st.one_of(*[st.just(CALL)] * 6, st.just(NO_CALL), random_ids, sized(MAX_ID_LENGTH))
bad_ids = st.one_of(st.just(""), sized(MAX_ID_LENGTH + 1, HUGE), wrong)
user_ids = st.one_of(
    st.sampled_from(ACTORS), st.sampled_from(ACTORS), random_ids, sized(MAX_ID_LENGTH)
)
room_names = st.one_of(
    st.just(ROOM),
    st.just(ROOM),
    st.sampled_from([*ROOMS, "call-x"]),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", fullmatch=True),
)
bad_rooms = st.one_of(
    st.sampled_from(["", "-lobby", "_x", "lob by", "lobby\n", "l\u00f6bby", "a/b", "x" * 65]),
    st.text(max_size=70),
    wrong,
)
bools = st.booleans()
bad_bools = st.one_of(st.sampled_from([0, 1, "true", None, [True]]), wrong)
revs = st.one_of(st.integers(min_value=0, max_value=2**53 - 1), st.none())
bad_revs = st.one_of(st.sampled_from([-1, 2**53, 1.5, "3", True]), wrong)
hangup_reasons = st.one_of(st.just("connect_failed"), st.none())
bad_hangup_reasons = st.one_of(st.sampled_from(["hangup", "failed", "", 0]), wrong)
texts = st.one_of(
    st.sampled_from(["hi", "<img src=x onerror=alert(1)>", "x" * MAX_CHAT_LENGTH]),
    st.text(min_size=1, max_size=40),
)
bad_texts = st.one_of(
    st.sampled_from(["", " ", "\n\t ", "\u3000"]), sized(MAX_CHAT_LENGTH + 1, HUGE), wrong
)
descriptions = st.fixed_dictionaries(
    {"type": st.sampled_from(["offer", "answer", "pranswer", "rollback"])},
    optional={"sdp": st.one_of(st.text(max_size=30), sized(MAX_SDP_LENGTH))},
)
bad_descriptions = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "type": st.one_of(st.sampled_from(["OFFER", "", "candidate"]), wrong),
            "sdp": st.one_of(sized(MAX_SDP_LENGTH + 1, HUGE), wrong),
            "extra": json_values,
        },
    ),
    wrong,
)
candidates = st.fixed_dictionaries(
    {"candidate": st.one_of(st.text(max_size=30), sized(MAX_CANDIDATE_LENGTH))},
    optional={
        "sdpMid": st.none() | st.text(max_size=MAX_MID_LENGTH),
        "sdpMLineIndex": st.none() | st.integers(0, 1023),
        "usernameFragment": st.none() | sized(MAX_UFRAG_LENGTH),
    },
)
bad_candidates = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "candidate": st.one_of(sized(MAX_CANDIDATE_LENGTH + 1, HUGE), wrong),
            "sdpMid": st.one_of(sized(MAX_MID_LENGTH + 1), wrong),
            "sdpMLineIndex": st.one_of(st.sampled_from([-1, 1024, 2**70, 0.0, True]), wrong),
            "usernameFragment": st.one_of(sized(MAX_UFRAG_LENGTH + 1), wrong),
            "extra": json_values,
        },
    ),
    wrong,
)

#: Each payload field: (well-formed values, malformed values).
FIELDS: dict[str, tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]] = {
    "call_id": (call_ids, bad_ids),
    "to": (user_ids, bad_ids),
    "peer": (user_ids, bad_ids),
    "room": (room_names, bad_rooms),
    "mic": (bools, bad_bools),
    "cam": (bools, bad_bools),
    "screen": (bools, bad_bools),
    "rev": (revs, bad_revs),
    "reason": (hangup_reasons, bad_hangup_reasons),
    "text": (texts, bad_texts),
    "description": (descriptions, bad_descriptions),
    "candidate": (candidates, bad_candidates),
}


#: Fields of which a payload carries exactly one.
EXACTLY_ONE: dict[type[Payload], tuple[str, str]] = {
    SignalPayload: ("description", "candidate"),
    RoomSignalPayload: ("description", "candidate"),
    ChatPayload: ("room", "call_id"),
}


def well_formed(model: type[Payload]) -> st.SearchStrategy[dict[str, Any]]:
    """Payloads that fit ``model`` (the ids may name nothing)."""
    either = EXACTLY_ONE.get(model, ())
    required = [n for n, f in model.model_fields.items() if f.is_required()]
    optional = [n for n in model.model_fields if n not in required and n not in either]
    base = st.fixed_dictionaries(
        {n: FIELDS[n][0] for n in required}, optional={n: FIELDS[n][0] for n in optional}
    )
    if not either:
        return base
    return st.one_of(
        *(st.builds(lambda p, v, n=n: {**p, n: v}, base, FIELDS[n][0]) for n in either)
    )


def payloads(model: type[Payload]) -> st.SearchStrategy[Any]:
    """Payloads for ``model``, half of them well formed; the others with wrong,
    missing or unknown fields, or not an object at all."""
    names = list(model.model_fields)
    fitting = well_formed(model)
    anything = st.fixed_dictionaries(
        {}, optional={n: st.one_of(FIELDS[n][0], FIELDS[n][1]) for n in names}
    )
    extra = st.dictionaries(
        # "seq" is the envelope's number (tests/test_ordering.py), not a payload field.
        st.text(max_size=8).filter(lambda k: k not in names and k != "seq"),
        json_values,
        min_size=1,
        max_size=2,
    )
    return st.one_of(
        *[fitting] * 5,
        anything,
        st.builds(lambda p, e: {**p, **e}, fitting, extra),
        json_values,
        deep_values,
        st.builds(lambda p: {**p, "padding": "x" * HUGE}, fitting),
    )


def arguments(event: str) -> st.SearchStrategy[list[Any]]:
    """The arguments of one emit of ``event``: mostly one payload, or none, or several."""
    payload = (
        payloads(SCHEMAS[event]) if isinstance(event, str) and event in SCHEMAS else json_values
    )
    return st.one_of(
        *[payload.map(lambda p: [p])] * 6,
        st.just([]),
        st.lists(payload | json_values, min_size=2, max_size=3),
    )


def resolve(value: Any, refs: dict[str, str]) -> Any:
    """``value`` with each placeholder (in nested lists and dicts) replaced."""
    if isinstance(value, str):
        return refs.get(value, value)
    if isinstance(value, dict):
        return {k: resolve(v, refs) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, refs) for v in value]
    return value


#: Event names that are not strings: the Socket.IO protocol wants one, a hostile
#: client may send anything JSON.
odd_names = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.lists(st.sampled_from(sorted(EVENTS)), max_size=2),
    st.dictionaries(st.sampled_from(sorted(EVENTS)), st.none(), max_size=1),
)
not_events = st.one_of(
    st.sampled_from(NOT_EVENTS),
    st.text(max_size=30).filter(lambda name: name not in EVENTS),
    odd_names,
)


#: What a browser may send on connecting: an object (Socket.IO v5's ``auth``), or
#: nothing. (python-socketio's packets take no other kind: bytes cannot be encoded
#: and a bare number is read as a packet id.)
connect_auths = st.one_of(
    st.none(),
    st.dictionaries(st.text(max_size=8), trees(plain_scalars), max_size=4),
    st.builds(nest, st.integers(50, 500), st.just("dict"), st.none()),
)


signal_bodies = st.one_of(
    st.builds(
        lambda kind: {"description": {**OFFER, "type": kind}},
        st.sampled_from(["offer", "answer", "rollback"]),
    ),
    st.just({"candidate": CANDIDATE}),
)
