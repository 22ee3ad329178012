"""Chromium for WebRTC tests on one machine: found on the system, launched with a fake
camera and microphone (:func:`launch_chromium`), and a way to cut its media path
(:class:`NetworkCut`)."""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

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
        """Cut the network (``active`` becomes true)."""
        self._run("-N", self.CHAIN)
        for direction in ("--dport", "--sport") if self.keep_port is not None else ():
            self._run("-A", self.CHAIN, "-p", "tcp", direction, str(self.keep_port), "-j", "RETURN")
        self._run("-A", self.CHAIN, "-j", "DROP")
        self._run("-I", "INPUT", "-j", self.CHAIN)
        self.active = True

    def restore(self) -> None:
        """Restore the network (``active`` becomes false); safe to call twice."""
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
