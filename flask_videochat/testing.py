"""Tools for testing a site that uses flask-videochat in real Chromium.

The same tools drive flask-videochat's own end-to-end suite. They need the
``test`` extra (``pip install flask-videochat[test]``): Playwright, with Chromium
from the system (Debian's ``chromium`` package) when there is one.

- :func:`launch_chromium` starts Chromium with a fake camera and microphone
  (optionally a solid-colour camera from :func:`write_solid_y4m`, or refused access).
- :class:`LiveServer` runs your site in a subprocess on a free port.
- :class:`Coturn` runs a coturn TURN server on loopback for ``VIDEOCHAT_TURN_*``.
- :class:`VideoChatPage` is a page object for the ``<video-chat>`` widget, with
  ``expect_*`` methods that wait for what a person would see.

The pytest fixtures built on them are in :mod:`flask_videochat.pytest_plugin`.

Example::

    with sync_playwright() as pw:
        browser = launch_chromium(pw, video_file=write_solid_y4m(tmp / "red.y4m", RED))
        page = VideoChatPage(browser.new_page())
        page.page.goto(url)
        page.expect_online("2")
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from .testing_services import RedisServer  # noqa: F401 - part of the kit

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Locator, Page, Playwright

#: Chromium switches for WebRTC tests on one machine: fake devices, no permission
#: prompt, ICE over loopback, and no background traffic to Google's services.
FAKE_MEDIA_ARGS: tuple[str, ...] = (
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)

#: Colours of fake cameras, as RGB. Far apart, so a decoded frame is told apart.
RED = (220, 40, 40)
BLUE = (40, 70, 220)
GREEN = (40, 190, 70)

#: Seconds the ``expect_*`` helpers wait before failing.
DEFAULT_TIMEOUT = 15.0


def find_chromium() -> str | None:
    """The system Chromium's path (``$VIDEOCHAT_CHROMIUM``, then ``chromium``,
    ``chromium-browser`` on ``PATH``), or ``None`` to use Playwright's own browser."""
    explicit = os.environ.get("VIDEOCHAT_CHROMIUM")
    if explicit:
        return explicit
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def write_solid_y4m(path: str | os.PathLike[str], rgb: tuple[int, int, int], *,
                    width: int = 320, height: int = 240, frames: int = 2) -> Path:
    """Write a YUV4MPEG2 (``.y4m``) video of one solid colour, for Chromium's
    ``--use-file-for-fake-video-capture`` (which loops it).

    :param rgb: the colour, 0 to 255 per channel; converted to limited-range
        BT.601 Y'CbCr 4:2:0, as Chromium decodes y4m files.
    :returns: ``path``.
    """
    r, g, b = rgb
    y = round(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255)
    cb = round(128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255)
    cr = round(128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255)
    luma = bytes([y]) * (width * height)
    quarter = (width // 2) * (height // 2)
    frame = b"FRAME\n" + luma + bytes([cb]) * quarter + bytes([cr]) * quarter
    out = Path(path)
    with out.open("wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            f.write(frame)
    return out


#: ``media_access`` values: every request granted, every request refused, or no
#: automatic answer (grant some with Playwright's context ``permissions=``, as a
#: person who allowed only the microphone would).
MEDIA_ACCESS = ("granted", "denied", "site-settings")


def chromium_args(*, video_file: str | os.PathLike[str] | None = None,
                  media_access: str = "granted") -> list[str]:
    """Chromium switches: :data:`FAKE_MEDIA_ARGS`, camera and microphone access as
    ``media_access`` says (see :data:`MEDIA_ACCESS`), the fake camera from ``video_file``.

    :raises ValueError: an unknown ``media_access``.
    """
    if media_access not in MEDIA_ACCESS:
        raise ValueError(f"media_access must be one of {MEDIA_ACCESS}, got {media_access!r}")
    args = list(FAKE_MEDIA_ARGS)
    if media_access == "granted":
        args.append("--use-fake-ui-for-media-stream")
    elif media_access == "denied":
        args.append("--use-fake-ui-for-media-stream=deny")
    if video_file is not None:
        args.append(f"--use-file-for-fake-video-capture={os.fspath(video_file)}")
    return args


def launch_chromium(playwright: Playwright, *, video_file: str | os.PathLike[str] | None = None,
                    media_access: str = "granted", headless: bool = True,
                    extra_args: Sequence[str] = ()) -> Browser:
    """Launch Chromium (the system one when :func:`find_chromium` finds it) with a
    fake camera and microphone. One browser per simulated person: the fake camera
    is a switch of the whole browser process.

    :param video_file: a ``.y4m`` file for the camera (default: Chromium's test pattern).
    :param media_access: ``"granted"``, ``"denied"`` (as a person who clicked
        "Block"), or ``"site-settings"`` (grant chosen permissions per context).
    """
    return playwright.chromium.launch(
        executable_path=find_chromium(),
        headless=headless,
        args=[*chromium_args(video_file=video_file, media_access=media_access), *extra_args],
    )


def only_loopback() -> bool:
    """Whether this process's network namespace has no interface but loopback (as in
    ``scripts/test``'s namespace): only then may a test cut the network there."""
    try:
        return set(os.listdir("/sys/class/net")) == {"lo"}
    except OSError:
        return False


class NetworkCut:
    """Cut every path on loopback except one TCP port (the site's: signaling stays
    up, the browsers' media path is cut), or every path (``keep_port=None``: the
    signaling connection drops too), with iptables, and restore it. Refuses to run
    outside a loopback-only network namespace, so it never touches a real host.

    :raises RuntimeError: not root, no ``iptables``, or not in such a namespace.

    Example::

        with NetworkCut(keep_port=server.port):
            ...   # media path cut
    """

    CHAIN = "VIDEOCHAT_CUT"

    def __init__(self, keep_port: int | None) -> None:
        if os.geteuid() != 0 or not shutil.which("iptables") or not only_loopback():
            raise RuntimeError("NetworkCut needs root, iptables and a loopback-only namespace")
        self.keep_port = keep_port
        self.active = False

    def _run(self, *args: str, check: bool = True) -> None:
        subprocess.run(["iptables", "-w", *args], check=check, capture_output=True)

    def cut(self) -> None:
        self._run("-N", self.CHAIN)
        for direction in ("--dport", "--sport") if self.keep_port is not None else ():
            self._run("-A", self.CHAIN, "-p", "tcp", direction, str(self.keep_port), "-j", "RETURN")
        self._run("-A", self.CHAIN, "-j", "DROP")
        self._run("-I", "INPUT", "-j", self.CHAIN)
        self.active = True

    def restore(self) -> None:
        self._run("-D", "INPUT", "-j", self.CHAIN, check=False)
        self._run("-F", self.CHAIN, check=False)
        self._run("-X", self.CHAIN, check=False)
        self.active = False

    def __enter__(self) -> NetworkCut:
        self.cut()
        return self

    def __exit__(self, *exc: object) -> None:
        self.restore()


#: Device id and label of the camera :func:`add_second_camera` adds.
SECOND_CAMERA_ID = "videochat-test-second-camera"
SECOND_CAMERA_LABEL = "Second camera (test)"

_SECOND_CAMERA_JS = """(() => {
  const ID = %(id)s, LABEL = %(label)s, COLOUR = %(colour)s;
  const md = navigator.mediaDevices;
  if (!md) return;
  const enumerate = md.enumerateDevices.bind(md), getUserMedia = md.getUserMedia.bind(md);
  md.enumerateDevices = async () => {
    const list = await enumerate();
    const granted = list.some((d) => d.label);
    const camera = {deviceId: ID, kind: "videoinput", label: granted ? LABEL : "", groupId: ID};
    camera.toJSON = () => ({...camera});
    return [...list, camera];
  };
  md.getUserMedia = async (constraints) => {
    const id = constraints?.video?.deviceId;
    if ((id?.exact ?? id?.ideal ?? id) !== ID) return getUserMedia(constraints);
    const canvas = document.createElement("canvas");
    canvas.width = 320; canvas.height = 240;
    const context = canvas.getContext("2d");
    const paint = () => { context.fillStyle = COLOUR; context.fillRect(0, 0, 320, 240); };
    paint();
    const [track] = canvas.captureStream(30).getVideoTracks();
    const timer = setInterval(paint, 33);
    track.addEventListener("ended", () => clearInterval(timer));
    const settings = track.getSettings.bind(track);
    track.getSettings = () => ({...settings(), deviceId: ID});  // as a camera reports it
    const stop = track.stop.bind(track);
    track.stop = () => { clearInterval(timer); stop(); };
    const audio = constraints.audio
      ? (await getUserMedia({audio: constraints.audio})).getAudioTracks() : [];
    return new MediaStream([track, ...audio]);
  };
})();"""


def add_second_camera(context: BrowserContext, rgb: tuple[int, int, int]) -> None:
    """Give a browser context a second camera showing one solid colour: listed by
    ``enumerateDevices`` (id :data:`SECOND_CAMERA_ID`) and opened by ``getUserMedia``
    with that device id, as a canvas stream. For testing camera switching: Chromium's
    own extra fake cameras are either the same picture or a depth camera (Y16) that
    WebRTC does not send. Call before opening pages."""
    import json

    context.add_init_script(_SECOND_CAMERA_JS % {
        "id": json.dumps(SECOND_CAMERA_ID),
        "label": json.dumps(SECOND_CAMERA_LABEL),
        "colour": json.dumps(f"rgb({rgb[0]}, {rgb[1]}, {rgb[2]})"),
    })


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def terminate(process: subprocess.Popen[Any] | None) -> None:
    """Stop ``process`` if it runs: SIGTERM, then SIGKILL after 5 s; wait for it."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class LiveServer:
    """A site run in a subprocess until :meth:`stop`: ``command`` gets ``{port}``
    substituted, and the server counts as up once ``health_path`` answers 200.

    :raises RuntimeError: from :meth:`start` when it does not come up within
        ``timeout`` seconds; the message holds its output.

    Example::

        server = LiveServer([sys.executable, "-m", "example_site", "--port", "{port}"])
        with server:
            page.goto(server.url + "/login")
    """

    def __init__(self, command: Sequence[str], *, health_path: str = "/healthz",
                 env: dict[str, str] | None = None, timeout: float = 20.0,
                 port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [part.replace("{port}", str(self.port)) for part in command]
        self.health_path = health_path
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.timeout = timeout
        self._log = tempfile.TemporaryFile(mode="w+")
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> LiveServer:
        self._process = subprocess.Popen(
            self.command, stdout=self._log, stderr=subprocess.STDOUT, env=self.env, text=True
        )
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.url + self.health_path, timeout=1) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{' '.join(self.command)} did not come up:\n{self.output()}")

    def output(self) -> str:
        """Everything the server printed so far."""
        self._log.seek(0)
        return self._log.read()

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash would."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def restart(self) -> LiveServer:
        """Start the server again on the same port (after :meth:`kill` or :meth:`stop`)."""
        self.stop()
        return self.start()

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s). Its output stays
        readable through :meth:`output` until the object is garbage-collected."""
        terminate(self._process)

    def __del__(self) -> None:
        self.stop()
        self._log.close()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _free_udp_port(*, also_tcp: bool = False) -> int:
    """A UDP port (and TCP, with ``also_tcp``) free on 127.0.0.1 right now."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            if not also_tcp:
                return port
            try:
                with socket.socket() as tcp:
                    tcp.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port on 127.0.0.1")


def _free_udp_range(count: int) -> tuple[int, int]:
    """``count`` consecutive UDP ports free on 127.0.0.1 right now, below Linux's
    ephemeral range (32768 up) so that other programs' sockets rarely take them."""
    for _ in range(200):
        first = 20000 + secrets.randbelow(12000 - count)
        try:
            for port in range(first, first + count):
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return first, first + count - 1
    raise RuntimeError(f"no {count} consecutive free UDP ports on 127.0.0.1")


class Coturn:
    """A coturn TURN server (Debian's ``turnserver``, package ``coturn``) on
    127.0.0.1, run until :meth:`stop`. It takes the short-lived credentials that
    ``VIDEOCHAT_TURN_SECRET`` mints (``use-auth-secret``, ``static-auth-secret``),
    relays between loopback addresses (``allow-loopback-peers``; a real server
    refuses them) on a few free UDP ports, has no TLS, DTLS nor CLI, and logs
    verbosely to a file of its own (:meth:`output`).

    :param secret: the shared secret (letters and digits; default: a random one).
    :param realm: the TURN realm.
    :param port: the UDP and TCP port to listen on (default: a free one).
    :param relay_ports: how many UDP ports to relay on.
    :param binary: the ``turnserver`` program (default: ``turnserver`` on ``PATH``).
    :param options: more ``turnserver.conf`` lines (``"max-bps=100000"``).
    :raises RuntimeError: from :meth:`start` when ``turnserver`` is not installed, or
        does not answer a STUN binding request within ``timeout`` seconds (the
        message holds its log).

    Example::

        with Coturn() as turn:
            app.config.update(turn.config())   # VIDEOCHAT_TURN_URLS and _SECRET
    """

    def __init__(self, *, secret: str | None = None, realm: str = "videochat.test",
                 port: int | None = None, relay_ports: int = 20, timeout: float = 10.0,
                 binary: str | None = None, options: Sequence[str] = ()) -> None:
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self.secret = secret or secrets.token_hex(16)
        self.realm = realm
        self.port = port or _free_udp_port(also_tcp=True)
        self.relay_ports = relay_ports
        self.timeout = timeout
        self.binary = binary or shutil.which("turnserver") or "turnserver"
        self.options = list(options)

    @property
    def url(self) -> str:
        """The server's ``turn:`` URL over UDP."""
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    @property
    def urls(self) -> list[str]:
        """Its ``turn:`` URLs over UDP and over TCP."""
        return [self.url, f"turn:127.0.0.1:{self.port}?transport=tcp"]

    def config(self) -> dict[str, Any]:
        """``VIDEOCHAT_TURN_URLS`` (UDP) and ``VIDEOCHAT_TURN_SECRET`` for this server."""
        return {"VIDEOCHAT_TURN_URLS": [self.url], "VIDEOCHAT_TURN_SECRET": self.secret}

    def _conf(self, directory: Path) -> str:
        low, high = _free_udp_range(self.relay_ports)
        lines = [
            "listening-ip=127.0.0.1", "relay-ip=127.0.0.1", f"listening-port={self.port}",
            f"min-port={low}", f"max-port={high}", f"realm={self.realm}",
            "use-auth-secret", f"static-auth-secret={self.secret}", "fingerprint",
            "no-tls", "no-dtls", "no-cli", "allow-loopback-peers", "no-multicast-peers",
            f"log-file={directory / 'turnserver.log'}", "simple-log", "no-stdout-log",
            "verbose", f"pidfile={directory / 'turnserver.pid'}",
            # Its own user database, not the system's /var/lib/turn/turndb.
            f"userdb={directory / 'turndb'}",
            *self.options,
        ]
        return "\n".join(lines) + "\n"

    def start(self) -> Coturn:
        if not shutil.which(self.binary):
            raise RuntimeError(f"{self.binary} not found: install Debian's coturn package")
        self._dir = tempfile.TemporaryDirectory(prefix="videochat-coturn-")
        directory = Path(self._dir.name)
        conf = directory / "turnserver.conf"
        conf.write_text(self._conf(directory))
        with (directory / "stdout.log").open("wb") as out:
            self._process = subprocess.Popen([self.binary, "-c", str(conf)], stdout=out,
                                             stderr=subprocess.STDOUT, cwd=directory)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline and self._process.poll() is None:
            if self._answers_stun():
                return self
        self.stop()
        raise RuntimeError(f"turnserver did not come up on port {self.port}:\n{self.output()}")

    def _answers_stun(self) -> bool:
        """Whether a STUN binding request (RFC 5389) to the port gets its response."""
        tid = secrets.token_bytes(12)
        request = b"\x00\x01\x00\x00\x21\x12\xa4\x42" + tid
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.2)
            try:
                s.sendto(request, ("127.0.0.1", self.port))
                reply = s.recv(2048)
            except OSError:
                return False
        return reply[:2] == b"\x01\x01" and reply[8:20] == tid

    def output(self) -> str:
        """The server's log so far (and anything it printed)."""
        if self._dir is None:
            return ""
        directory = Path(self._dir.name)
        parts = [p.read_text(errors="replace") for p in
                 (directory / "stdout.log", directory / "turnserver.log") if p.exists()]
        return "\n".join(parts)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s). :meth:`output` stays
        readable until the object is garbage-collected."""
        terminate(self._process)

    def close(self) -> None:
        """Stop the server and delete its directory (config and logs)."""
        self.stop()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __del__(self) -> None:
        self.close()

    def __enter__(self) -> Coturn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def example_site_command(host: str = "127.0.0.1", async_mode: str = "eventlet") -> list[str]:
    """The command running flask-videochat's demo site on ``{port}``."""
    return [sys.executable, "-m", "example_site", "--host", host, "--port", "{port}",
            "--async-mode", async_mode]


def sign_in_with_form(page: Page, base_url: str, name: str, *, path: str = "/login",
                      label: str = "Name", button: str = "Sign in") -> None:
    """Sign in through a form with one text field (``label``) and a submit button.
    The browser submits the form's hidden fields too (a CSRF token)."""
    page.goto(base_url + path)
    page.get_by_label(label).fill(name)
    page.get_by_role("button", name=button).click()
    page.wait_for_load_state()


def answered_call(caller: VideoChatPage, callee: VideoChatPage, *, caller_name: str,
                  callee_name: str) -> tuple[str, str]:
    """``caller`` calls ``callee`` (found by name in the online list), ``callee``
    accepts, and both reach "in call".

    :returns: ``(caller_id, callee_id)``.
    """
    callee_id = caller.user_id_of(callee_name)
    caller_id = callee.user_id_of(caller_name)
    caller.call(callee_id)
    callee.expect_ringing(caller_name)
    callee.accept()
    caller.expect_in_call_with(callee_id)
    callee.expect_in_call_with(caller_id)
    return caller_id, callee_id


_STATS_JS = "el => el.getStats()"

#: In a page: sample the frames decoded from one peer (and their connection state)
#: every 100 ms, and note every ``videochat-resumed``, until collected.
_WATCH_JS = """(el, peerId) => {
  clearInterval(window.__vcTimer);
  window.__vcSamples = [];
  window.__vcResumed = [];
  if (!el.__vcResumedWatched) {
    el.__vcResumedWatched = true;
    el.addEventListener("videochat-resumed", (e) => window.__vcResumed?.push(e.detail));
  }
  window.__vcTimer = setInterval(async () => {
    const peer = (await el.getStats()).peers[peerId];
    window.__vcSamples.push(peer ? {frames: peer.video.framesDecoded, state: peer.connectionState}
                                 : {frames: -1, state: "none"});
  }, 100);
}"""

_COLOUR_JS = """v => {
  if (!v.videoWidth) return null;
  const c = document.createElement("canvas");
  c.width = 32; c.height = 32;
  const ctx = c.getContext("2d", {willReadFrequently: true});
  ctx.drawImage(v, 0, 0, 32, 32);
  const d = ctx.getImageData(8, 8, 16, 16).data;
  const sum = [0, 0, 0];
  for (let i = 0; i < d.length; i += 4) { sum[0] += d[i]; sum[1] += d[i+1]; sum[2] += d[i+2]; }
  const n = d.length / 4;
  return sum.map(s => Math.round(s / n));
}"""


class VideoChatPage:
    """Page object for the ``<video-chat>`` widget, through its public
    ``data-testid`` contract (``docs/testing.md``).

    :param page: a Playwright page showing the widget.
    :param timeout: seconds the ``expect_*`` methods wait.
    """

    def __init__(self, page: Page, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.page = page
        self.timeout = timeout

    # -- locators ---------------------------------------------------------------

    @property
    def element(self) -> Locator:
        return self.page.locator("video-chat")

    def _id(self, test_id: str) -> Locator:
        return self.element.get_by_test_id(test_id)

    @property
    def presence(self) -> Locator:
        return self._id("videochat-presence")

    def user(self, user_id: str) -> Locator:
        return self.presence.locator(f'[data-testid="videochat-user"][data-user-id="{user_id}"]')

    def user_named(self, name: str) -> Locator:
        """The online-list entry whose text contains ``name``."""
        return self.presence.locator('[data-testid="videochat-user"]', has_text=name)

    def user_id_of(self, name: str, *, timeout: float | None = None) -> str:
        """Wait until ``name`` is online and return their user id."""
        from playwright.sync_api import expect

        entry = self.user_named(name)
        expect(entry).to_have_count(1, timeout=self._ms(timeout))
        value = entry.get_attribute("data-user-id")
        assert value, f"the entry of {name!r} has no data-user-id"
        return value

    def call_button(self, user_id: str) -> Locator:
        return self.user(user_id).get_by_test_id("videochat-call")

    @property
    def incoming(self) -> Locator:
        return self._id("videochat-incoming")

    @property
    def accept_button(self) -> Locator:
        return self._id("videochat-accept")

    @property
    def decline_button(self) -> Locator:
        return self._id("videochat-decline")

    @property
    def hangup_button(self) -> Locator:
        return self._id("videochat-hangup")

    @property
    def status(self) -> Locator:
        return self._id("videochat-status")

    @property
    def error(self) -> Locator:
        return self._id("videochat-error")

    @property
    def local_video(self) -> Locator:
        return self._id("videochat-local-video")

    @property
    def room(self) -> Locator:
        return self._id("videochat-room")

    @property
    def join_button(self) -> Locator:
        return self._id("videochat-join")

    @property
    def leave_button(self) -> Locator:
        return self._id("videochat-leave")

    @property
    def add_participant_button(self) -> Locator:
        return self._id("videochat-add-participant")

    def tile(self, user_id: str | None = None) -> Locator:
        """The room tile of ``user_id`` (every remote tile when ``None``)."""
        selector = '[data-testid="videochat-tile"]'
        if user_id is not None:
            selector += f'[data-user-id="{user_id}"]'
        return self.element.locator(selector)

    @property
    def screen_share_button(self) -> Locator:
        return self._id("videochat-screen-share")

    @property
    def devices_button(self) -> Locator:
        return self._id("videochat-devices")

    @property
    def camera_select(self) -> Locator:
        return self._id("videochat-camera-select")

    @property
    def microphone_select(self) -> Locator:
        return self._id("videochat-microphone-select")

    @property
    def use_camera(self) -> Locator:
        """The "Camera" checkbox of the device check (before joining or answering)."""
        return self._id("videochat-use-camera")

    @property
    def use_microphone(self) -> Locator:
        return self._id("videochat-use-microphone")

    def quality(self, user_id: str) -> Locator:
        """The connection quality indicator for ``user_id`` (``data-level``)."""
        return self.element.locator(f'[data-testid="videochat-quality"][data-user-id="{user_id}"]')

    def _peer_scope(self, user_id: str) -> Locator:
        """Where ``user_id``'s media is shown: their room tile, else the call stage."""
        return self.tile(user_id).or_(self.element.locator(".vc-stage:not([hidden])"))

    @property
    def chat_input(self) -> Locator:
        return self._id("videochat-chat-input")

    @property
    def chat_send_button(self) -> Locator:
        return self._id("videochat-chat-send")

    @property
    def chat_messages(self) -> Locator:
        return self._id("videochat-chat-message")

    def remote_video(self, user_id: str | None = None) -> Locator:
        selector = '[data-testid="videochat-remote-video"]'
        if user_id is not None:
            selector += f'[data-user-id="{user_id}"]'
        return self.element.locator(selector)

    # -- actions ---------------------------------------------------------------

    def call(self, user_id: str) -> None:
        self.call_button(user_id).click()

    def accept(self) -> None:
        self.accept_button.click()

    def decline(self) -> None:
        self.decline_button.click()

    def hang_up(self) -> None:
        self.hangup_button.click()

    def join(self) -> None:
        """Click "Join room" (the page shows a room widget)."""
        self.join_button.click()

    def leave(self) -> None:
        self.leave_button.click()

    def send_chat(self, text: str) -> None:
        self.chat_input.fill(text)
        self.chat_send_button.click()

    def add_participant(self, user_id: str) -> None:
        """Open "Add person" and ring ``user_id`` into the call or room."""
        self.add_participant_button.click()
        panel = self._id("videochat-add-panel")
        panel.locator(f'li[data-user-id="{user_id}"]').get_by_test_id("videochat-invite").click()

    def stats(self) -> dict[str, Any]:
        """``<video-chat>.getStats()``: state and inbound RTP counters of the call."""
        return self.element.evaluate(_STATS_JS)  # type: ignore[no-any-return]

    def local_colour(self) -> tuple[int, int, int] | None:
        """Mean RGB of the middle of your own preview's current frame."""
        value = self.local_video.evaluate(_COLOUR_JS)
        return None if value is None else (value[0], value[1], value[2])

    def watch(self, user_id: str) -> None:
        """From now on, sample the frames decoded from ``user_id`` every 100 ms and
        note each ``videochat-resumed``: see :meth:`expect_one_connection_throughout`
        and :meth:`expect_resumed`."""
        self.element.evaluate(_WATCH_JS, user_id)

    def expect_resumed(self, *, timeout: float | None = None) -> None:
        """Since :meth:`watch`, the widget took its call or room seat back after a
        drop (``videochat-resumed``)."""
        self.page.wait_for_function("() => window.__vcResumed.length > 0",
                                    timeout=self._ms(timeout))

    def expect_one_connection_throughout(self, *, min_samples: int = 10,
                                         min_growth: int = 1) -> list[dict[str, Any]]:
        """Since :meth:`watch` (which this stops): the decoded-frame counter never
        fell back (a new connection would restart it), grew by at least
        ``min_growth`` frames over at least ``min_samples`` samples, and the
        connection was ``connected`` in every sample.

        :returns: the samples, ``{"frames", "state"}`` each.
        """
        samples: list[dict[str, Any]] = self.page.evaluate(
            "() => { clearInterval(window.__vcTimer); return window.__vcSamples; }")
        frames = [s["frames"] for s in samples]
        assert len(frames) > min_samples, frames
        assert all(b >= a for a, b in zip(frames, frames[1:])), frames
        assert frames[-1] >= frames[0] + min_growth, frames
        assert {s["state"] for s in samples} == {"connected"}, samples
        return samples

    def remote_colour(self, user_id: str | None = None) -> tuple[int, int, int] | None:
        """Mean RGB of the middle of the remote video's current frame (``None``
        before the first frame)."""
        value = self.remote_video(user_id).evaluate(_COLOUR_JS)
        return None if value is None else (value[0], value[1], value[2])

    # -- expectations ---------------------------------------------------------------

    def _ms(self, timeout: float | None) -> float:
        return (self.timeout if timeout is None else timeout) * 1000

    def expect_online(self, user_id: str, *, timeout: float | None = None) -> None:
        """``user_id`` is listed as online, with a call button."""
        from playwright.sync_api import expect

        expect(self.user(user_id)).to_be_visible(timeout=self._ms(timeout))
        expect(self.call_button(user_id)).to_be_visible(timeout=self._ms(timeout))

    def expect_offline(self, user_id: str, *, timeout: float | None = None) -> None:
        from playwright.sync_api import expect

        expect(self.user(user_id)).to_have_count(0, timeout=self._ms(timeout))

    def expect_ringing(self, caller_name: str | None = None, *,
                       timeout: float | None = None) -> None:
        """The incoming-call panel shows, with accept and decline (and the caller's name)."""
        from playwright.sync_api import expect

        expect(self.incoming).to_be_visible(timeout=self._ms(timeout))
        expect(self.accept_button).to_be_visible(timeout=self._ms(timeout))
        expect(self.decline_button).to_be_visible(timeout=self._ms(timeout))
        if caller_name is not None:
            expect(self.incoming).to_contain_text(caller_name, timeout=self._ms(timeout))

    def expect_not_ringing(self, *, timeout: float | None = None) -> None:
        from playwright.sync_api import expect

        expect(self.incoming).to_be_hidden(timeout=self._ms(timeout))

    def expect_status(self, text: str, *, timeout: float | None = None) -> None:
        """The call status reads ``text`` (a substring)."""
        from playwright.sync_api import expect

        expect(self.status).to_contain_text(text, timeout=self._ms(timeout))

    def expect_in_call_with(self, user_id: str, *, timeout: float | None = None) -> None:
        """In a call with ``user_id``: their video is shown and hang-up is offered."""
        from playwright.sync_api import expect

        expect(self.remote_video(user_id)).to_be_visible(timeout=self._ms(timeout))
        expect(self.hangup_button).to_be_visible(timeout=self._ms(timeout))
        self.page.wait_for_function(
            "el => el.state === 'in-call'", arg=self.element.element_handle(),
            timeout=self._ms(timeout),
        )

    def expect_idle(self, *, timeout: float | None = None) -> None:
        """No call: no remote video, no incoming panel, no hang-up button."""
        from playwright.sync_api import expect

        expect(self.remote_video()).to_have_count(0, timeout=self._ms(timeout))
        expect(self.incoming).to_be_hidden(timeout=self._ms(timeout))
        expect(self.hangup_button).to_be_hidden(timeout=self._ms(timeout))

    def expect_remote_video_playing(self, user_id: str, *, timeout: float | None = None,
                                    interval: float = 1.0) -> dict[str, Any]:
        """Media flows from ``user_id``: the remote ``<video>`` has a size and, between
        two ``getStats()`` samples ``interval`` seconds apart, video ``framesDecoded``
        and audio ``totalSamplesReceived`` both grew.

        :returns: the second sample.
        :raises AssertionError: not so within ``timeout`` seconds.
        """
        from playwright.sync_api import expect

        expect(self.remote_video(user_id)).to_be_visible(timeout=self._ms(timeout))
        return self._expect_growth(user_id, ("video", "audio"), timeout, interval)

    _COUNTERS = {"video": "framesDecoded", "audio": "totalSamplesReceived"}

    def _expect_growth(self, user_id: str, kinds: tuple[str, ...], timeout: float | None,
                       interval: float) -> dict[str, Any]:
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        before = self.stats()
        while True:
            self.page.wait_for_timeout(interval * 1000)
            after = self.stats()
            old, new = before["peers"].get(user_id), after["peers"].get(user_id)
            grew = old is not None and new is not None and all(
                new[kind][self._COUNTERS[kind]] > old[kind][self._COUNTERS[kind]]
                for kind in kinds
            )
            if "video" in kinds:
                grew = grew and self.remote_video(user_id).evaluate("v => v.videoWidth") > 0
            if grew:
                return after
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no {'+'.join(kinds)} from {user_id}: before={before}, after={after}"
                )
            before = after

    def expect_in_room(self, user_ids: Sequence[str], *, timeout: float | None = None) -> None:
        """In a room whose other members are exactly ``user_ids``: one tile each (and
        no other), and the leave button offered."""
        from playwright.sync_api import expect

        ms = self._ms(timeout)
        expect(self.room).to_be_visible(timeout=ms)
        expect(self.leave_button).to_be_visible(timeout=ms)
        for user_id in user_ids:
            expect(self.tile(user_id)).to_be_visible(timeout=ms)
        expect(self.tile()).to_have_count(len(user_ids), timeout=ms)

    def expect_no_tile(self, user_id: str, *, timeout: float | None = None) -> None:
        """The tile of ``user_id`` is gone (they left)."""
        from playwright.sync_api import expect

        expect(self.tile(user_id)).to_have_count(0, timeout=self._ms(timeout))

    def expect_chat_message(self, text: str, *, sender: str | None = None,
                            timeout: float | None = None) -> None:
        """A chat message whose text is exactly ``text`` is shown (as text), from
        ``sender`` (a name, or "You") when given."""
        from playwright.sync_api import expect

        message = self.chat_messages.filter(
            has=self.page.locator(".vc-chat-text", has_text=text)
        ).last
        expect(message).to_be_visible(timeout=self._ms(timeout))
        expect(message.locator(".vc-chat-text")).to_have_text(text)
        if sender is not None:
            expect(message.locator(".vc-chat-from")).to_have_text(sender)

    def expect_remote_audio_playing(self, user_id: str, *, timeout: float | None = None,
                                    interval: float = 1.0) -> dict[str, Any]:
        """Audio flows from ``user_id`` (``totalSamplesReceived`` grows between two
        samples ``interval`` seconds apart), whether or not video does.

        :returns: the second sample.
        :raises AssertionError: not so within ``timeout`` seconds.
        """
        return self._expect_growth(user_id, ("audio",), timeout, interval)

    def expect_peer_muted(self, user_id: str, muted: bool = True, *,
                          timeout: float | None = None) -> None:
        """``user_id``'s "Muted" badge is shown (``muted``) or gone."""
        from playwright.sync_api import expect

        scope = self._peer_scope(user_id)
        expect(scope).to_be_visible(timeout=self._ms(timeout))  # in a call or room with them
        badge = scope.get_by_test_id("videochat-remote-muted")
        if muted:
            expect(badge).to_be_visible(timeout=self._ms(timeout))
        else:
            expect(badge).to_be_hidden(timeout=self._ms(timeout))

    def expect_peer_camera_off(self, user_id: str, off: bool = True, *,
                               timeout: float | None = None) -> None:
        """``user_id``'s picture is replaced by "Camera off" (``off``), or shown again."""
        from playwright.sync_api import expect

        scope = self._peer_scope(user_id)
        expect(scope).to_be_visible(timeout=self._ms(timeout))
        words = scope.get_by_test_id("videochat-camera-off")
        if off:
            expect(words).to_be_visible(timeout=self._ms(timeout))
            expect(words).to_have_text("Camera off")
        else:
            expect(words).to_have_count(0, timeout=self._ms(timeout))
            expect(self.remote_video(user_id)).to_be_visible(timeout=self._ms(timeout))

    def expect_remote_aspect(self, user_id: str, ratio: float, *, tolerance: float = 0.05,
                             timeout: float | None = None) -> None:
        """The remote video of ``user_id`` has this width/height ratio (4/3 for a
        camera, 16/9 for a shared screen)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        seen = None
        while time.monotonic() < deadline:
            seen = self.remote_video(user_id).evaluate(
                "v => v.videoHeight ? v.videoWidth / v.videoHeight : null")
            if seen is not None and abs(seen - ratio) <= tolerance:
                return
            self.page.wait_for_timeout(200)
        raise AssertionError(f"remote video of {user_id} has aspect {seen}, expected {ratio:.3f}")

    def expect_remote_colour(self, user_id: str, rgb: tuple[int, int, int], *,
                             tolerance: int = 45, timeout: float | None = None) -> None:
        """The remote video of ``user_id`` shows ``rgb`` (each channel within
        ``tolerance``: video coding shifts colours a little)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        seen = None
        while time.monotonic() < deadline:
            seen = self.remote_colour(user_id)
            if seen is not None and all(abs(a - b) <= tolerance for a, b in zip(seen, rgb)):
                return
            self.page.wait_for_timeout(200)
        raise AssertionError(f"remote video of {user_id} shows {seen}, expected about {rgb}")
