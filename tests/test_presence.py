"""Who is online (:class:`MemoryPresence`, and :class:`RedisPresence` shared by
processes): one entry per user however many tabs they have; they join with their
first connection and leave with their last."""

from __future__ import annotations

import pytest

from flask_videochat import MemoryPresence, Status, User
from flask_videochat.core.presence import PresenceStore

ADA = User("ada", "Ada Lovelace")
BOB = User("bob", "Bob")


@pytest.fixture(params=("memory", "redis"))
def presence(request: pytest.FixtureRequest) -> PresenceStore:
    if request.param == "memory":
        return MemoryPresence()
    import redis

    from flask_videochat.stores.redis import RedisPresence

    client = redis.Redis.from_url(request.getfixturevalue("redis_url"), decode_responses=True)
    request.addfinalizer(client.close)
    return RedisPresence(client, "test-process")


def test_states_of_some_users(presence: PresenceStore) -> None:
    presence.connect("a1", ADA)
    presence.connect("b1", BOB)
    presence.set_status("bob", Status.IN_CALL)

    assert presence.states(["bob", "ada", "nobody"]) == {
        "ada": (ADA, Status.AVAILABLE),
        "bob": (BOB, Status.IN_CALL),
    }
    assert presence.states([]) == {}


def test_user_public_form_is_id_and_name() -> None:
    assert ADA.public() == {"id": "ada", "name": "Ada Lovelace"}


def test_first_connection_joins(presence: PresenceStore) -> None:
    assert presence.connect("a1", ADA) is True

    assert presence.get("ada") == ADA
    assert presence.user_of("a1") == ADA
    assert presence.sids_of("ada") == frozenset({"a1"})
    assert presence.users() == [(ADA, Status.AVAILABLE)]


def test_more_tabs_are_the_same_user(presence: PresenceStore) -> None:
    presence.connect("a1", ADA)
    assert presence.connect("a2", ADA) is False

    assert presence.sids_of("ada") == frozenset({"a1", "a2"})
    assert presence.user_of("a2") == ADA
    assert presence.users() == [(ADA, Status.AVAILABLE)]


def test_closing_one_of_two_tabs_does_not_leave(presence: PresenceStore) -> None:
    presence.connect("a1", ADA)
    presence.connect("a2", ADA)

    assert presence.disconnect("a1") == (ADA, False)

    assert presence.get("ada") == ADA
    assert presence.sids_of("ada") == frozenset({"a2"})
    assert presence.user_of("a1") is None
    assert presence.users() == [(ADA, Status.AVAILABLE)]


def test_closing_the_last_tab_leaves(presence: PresenceStore) -> None:
    presence.connect("a1", ADA)
    presence.connect("a2", ADA)
    presence.disconnect("a1")

    assert presence.disconnect("a2") == (ADA, True)

    assert presence.get("ada") is None
    assert presence.sids_of("ada") == frozenset()
    assert presence.user_of("a2") is None
    assert presence.users() == []


def test_an_unknown_or_closed_connection_disconnects_as_nobody(presence: PresenceStore) -> None:
    assert presence.disconnect("nope") == (None, False)
    presence.connect("a1", ADA)
    presence.disconnect("a1")
    assert presence.disconnect("a1") == (None, False)


def test_users_are_independent(presence: PresenceStore) -> None:
    presence.connect("a1", ADA)
    assert presence.connect("b1", BOB) is True

    assert sorted(u.id for u, _ in presence.users()) == ["ada", "bob"]
    assert presence.disconnect("b1") == (BOB, True)
    assert presence.users() == [(ADA, Status.AVAILABLE)]


def test_status_changes_are_reported_once(presence: PresenceStore) -> None:
    presence.connect("a1", ADA)
    presence.connect("b1", BOB)

    assert presence.set_status("ada", Status.RINGING) is True
    assert presence.set_status("ada", Status.RINGING) is False
    assert presence.set_status("ada", Status.IN_CALL) is True
    assert dict((u.id, s) for u, s in presence.users()) == {
        "ada": Status.IN_CALL,
        "bob": Status.AVAILABLE,
    }
    assert presence.set_status("ada", Status.AVAILABLE) is True


def test_status_of_an_offline_user_is_not_published(presence: PresenceStore) -> None:
    assert presence.set_status("ada", Status.IN_CALL) is False
    assert presence.users() == []


def test_a_user_who_comes_back_starts_available(presence: PresenceStore) -> None:
    presence.connect("a1", ADA)
    presence.set_status("ada", Status.IN_CALL)
    presence.disconnect("a1")

    assert presence.connect("a2", ADA) is True
    assert presence.users() == [(ADA, Status.AVAILABLE)]
