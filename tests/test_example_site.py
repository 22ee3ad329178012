"""The example site's configuration: a secret key kept in its instance folder, and
a site that cannot work (two processes, two keys, one store) refusing to start."""

from __future__ import annotations

import shutil
import stat
import sys
from pathlib import Path

import pytest

from example_site.app import create_app
from flask_videochat.testing import LiveServer
from flask_videochat.testing_services import RedisServer


@pytest.fixture(autouse=True)
def no_secret_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("VIDEOCHAT_STORE_URL", raising=False)


def test_the_secret_key_is_made_once_and_kept_in_the_instance_folder(tmp_path: Path) -> None:
    first = create_app(instance_path=str(tmp_path))
    key = first.config["SECRET_KEY"]
    kept = tmp_path / "secret_key"
    assert kept.read_text() == key and len(key) == 64
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600, "readable by its owner only"
    assert create_app(instance_path=str(tmp_path)).config["SECRET_KEY"] == key
    assert list(tmp_path.iterdir()) == [kept], "no scratch file left behind"


def test_a_restarted_site_keeps_people_signed_in(tmp_path: Path) -> None:
    before = create_app({"TESTING": True}, instance_path=str(tmp_path))
    client = before.test_client()
    client.post("/login", data={"name": "Ada"})
    assert client.get("/people").status_code == 200
    cookie = client.get_cookie("session")
    assert cookie is not None

    after = create_app({"TESTING": True}, instance_path=str(tmp_path))  # a restart
    again = after.test_client()
    again.set_cookie("session", cookie.value)
    assert again.get("/people").status_code == 200, "still signed in"


def test_secret_key_from_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert create_app(instance_path=str(tmp_path)).config["SECRET_KEY"] == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


def test_a_second_process_with_another_secret_key_refuses_to_start(tmp_path: Path) -> None:
    """Two example_site processes on one Redis with different SECRET_KEYs: the
    second one exits at start-up saying why, instead of serving calls that ring and
    never connect."""
    if not shutil.which("redis-server"):
        pytest.fail("redis-server not found: install Debian's redis-server package")
    command = [sys.executable, "-m", "example_site", "--port", "{port}"]
    with RedisServer() as redis_server:
        env = {"VIDEOCHAT_STORE_URL": redis_server.url, "VIDEOCHAT_ICE_SERVERS": "[]"}
        with LiveServer(command, env={**env, "SECRET_KEY": "first"}) as first:
            second = LiveServer(command, env={**env, "SECRET_KEY": "second"}, timeout=15)
            with pytest.raises(RuntimeError) as refused:
                second.start()
            assert "did not come up" in str(refused.value)
            assert "different SECRET_KEY" in str(refused.value), "the output says why"
            assert "example_site: cannot start:" in str(refused.value)
            assert "Traceback" not in str(refused.value) + first.output()
            # The same key joins the site (start() raises if it does not come up).
            with LiveServer(command, env={**env, "SECRET_KEY": "first"}) as third:
                assert "cannot start" not in third.output()
