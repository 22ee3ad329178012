"""The pytest plugin (entry point ``videochat``): the fixtures of
:mod:`flask_videochat.testing.pytest_plugin`, under the name the entry point and the
docs have always used."""

from __future__ import annotations

from .testing.pytest_plugin import (  # noqa: F401 (fixtures and hooks, found by name)
    pytest_runtest_makereport,
    videochat_base_url,
    videochat_launch,
    videochat_playwright,
    videochat_sign_in,
    videochat_user,
)
