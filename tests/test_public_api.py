"""A host app written against the names of the release before the package got its
layers (issue 12) still works: every public name imports from where it did, and the
pytest plugin keeps its module name and fixtures."""

from __future__ import annotations

import importlib

import pytest

#: ``flask_videochat.__all__`` before the layers.
PUBLIC = [
    "NAMESPACE", "Call", "CallBook", "CallState", "ChatMessage", "EndReason", "ErrorCode",
    "Member", "MemoryPresence", "PresenceStore", "ProtocolError", "Room", "RoomBook", "Status",
    "User", "VideoChat", "VideoChatState", "__version__", "call_answered", "call_ended",
    "call_started", "chat_message", "room_joined", "room_left",
]

#: The public names of ``flask_videochat.testing`` (then one module, now a package).
KIT = [
    "FAKE_MEDIA_ARGS", "RED", "BLUE", "GREEN", "DEFAULT_TIMEOUT", "find_chromium",
    "write_solid_y4m", "MEDIA_ACCESS", "chromium_args", "launch_chromium", "only_loopback",
    "NetworkCut", "SECOND_CAMERA_ID", "SECOND_CAMERA_LABEL", "add_second_camera", "free_port",
    "terminate", "LiveServer", "Coturn", "example_site_command", "sign_in_with_form",
    "answered_call", "VideoChatPage", "RedisServer",
]

#: The fixtures and hook of ``flask_videochat.pytest_plugin`` (the entry point).
PLUGIN = [
    "pytest_runtest_makereport", "videochat_playwright", "videochat_launch",
    "videochat_base_url", "videochat_sign_in", "videochat_user",
]


@pytest.mark.parametrize(
    ("module", "names"),
    [
        ("flask_videochat", PUBLIC),
        ("flask_videochat.testing", KIT),
        ("flask_videochat.pytest_plugin", PLUGIN),
    ],
)
def test_the_public_names_import_from_where_they_did(module: str, names: list[str]) -> None:
    imported = importlib.import_module(module)
    assert [name for name in names if not hasattr(imported, name)] == []


def test_the_public_face_lists_what_it_exports() -> None:
    import flask_videochat

    assert sorted(flask_videochat.__all__) == sorted(PUBLIC)


def test_the_entry_point_names_the_plugin_module() -> None:
    from importlib.metadata import entry_points

    (plugin,) = [e for e in entry_points(group="pytest11") if e.name == "videochat"]
    assert plugin.value == "flask_videochat.pytest_plugin"
