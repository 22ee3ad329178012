"""Fake cameras for tests: solid-colour video files (:func:`write_solid_y4m`), so that
a test can tell whose picture a tile shows, and a second camera in a page
(:func:`add_second_camera`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

#: Colours of fake cameras, as RGB. Far apart, so a decoded frame is told apart.
RED = (220, 40, 40)
#: A fake camera's blue, as RGB (see :data:`RED`).
BLUE = (40, 70, 220)
#: A fake camera's green, as RGB (see :data:`RED`).
GREEN = (40, 190, 70)


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


#: The device id of the camera :func:`add_second_camera` adds, as
#: ``enumerateDevices()`` lists it.
SECOND_CAMERA_ID = "videochat-test-second-camera"
#: That camera's label.
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
