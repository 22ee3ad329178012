/**
 * Camera, microphone and speaker: getUserMedia with fall-backs, its errors as the
 * stable codes of errors.js, the person's device choices, screen capture, a level
 * meter and the audio output of a `<video>`.
 * @module media
 */

import {
  ERR_CAMERA_DENIED, ERR_CAMERA_UNAVAILABLE, ERR_DEVICE_IN_USE, ERR_DEVICE_SWITCH, ERR_INSECURE_CONTEXT, ERR_MEDIA,
  ERR_MICROPHONE_DENIED, ERR_MICROPHONE_UNAVAILABLE, ERR_NO_DEVICE, ERR_OVERCONSTRAINED, ERR_PERMISSION_DENIED,
  ERR_SCREEN_DENIED, ERR_SCREEN_UNAVAILABLE, errorOf,
} from "./errors.js";

/** Constraints of the first attempt. */
export const DEFAULT_CONSTRAINTS = {
  audio: { echoCancellation: true, noiseSuppression: true },
  video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } },
};

/**
 * Map a getUserMedia failure to a stable code.
 * @param {Error} err
 * @returns {string} one of the `ERR_*` codes of errors.js
 */
export function mediaErrorCode(err) {
  switch (err?.name) {
    case "NotAllowedError":
    case "SecurityError":
      return ERR_PERMISSION_DENIED;
    case "NotFoundError":
      return ERR_NO_DEVICE;
    case "NotReadableError":
    case "AbortError":
      return ERR_DEVICE_IN_USE;
    case "OverconstrainedError":
      return ERR_OVERCONSTRAINED;
    default:
      return ERR_MEDIA;
  }
}

/** Where the person's device choices are remembered between pages. */
export const PREFERENCES_KEY = "videochat.devices";

/**
 * The person's device choices: whether to send camera and microphone at all, and
 * which devices (ids from `enumerateDevices`, `""` for the browser's default).
 * Kept in `localStorage` so the next call starts with them.
 * @typedef {{video: boolean, audio: boolean, videoDeviceId: string, audioDeviceId: string, audioOutputId: string}} Preferences
 */

/** @returns {Preferences} */
export function loadPreferences() {
  const defaults = { video: true, audio: true, videoDeviceId: "", audioDeviceId: "", audioOutputId: "" };
  try {
    const saved = JSON.parse(globalThis.localStorage?.getItem(PREFERENCES_KEY) ?? "{}");
    const out = { ...defaults };
    for (const [key, value] of Object.entries(defaults)) {
      if (typeof saved?.[key] === typeof value) out[key] = saved[key];
    }
    return out;
  } catch {
    return defaults;
  }
}

/** @param {Partial<Preferences>} changes @returns {Preferences} the new preferences */
export function savePreferences(changes) {
  const next = { ...loadPreferences(), ...changes };
  try {
    globalThis.localStorage?.setItem(PREFERENCES_KEY, JSON.stringify(next));
  } catch {
    // private mode: remembered for this page only
  }
  return next;
}

/**
 * getUserMedia constraints for the person's preferences: `false` for a kind they
 * chose not to send, the chosen device as `ideal` (a device that went away falls
 * back to another).
 * @param {Preferences} [prefs]
 * @returns {MediaStreamConstraints}
 */
export function constraintsFor(prefs = loadPreferences()) {
  const kind = (use, base, deviceId) => (use ? { ...base, ...(deviceId ? { deviceId: { ideal: deviceId } } : {}) } : false);
  return {
    audio: kind(prefs.audio, DEFAULT_CONSTRAINTS.audio, prefs.audioDeviceId),
    video: kind(prefs.video, DEFAULT_CONSTRAINTS.video, prefs.videoDeviceId),
  };
}

/**
 * The cameras, microphones and speakers the page may use. Labels are empty until
 * the person has granted access once.
 * @returns {Promise<{videoinput: MediaDeviceInfo[], audioinput: MediaDeviceInfo[], audiooutput: MediaDeviceInfo[]}>}
 */
export async function listDevices() {
  const out = { videoinput: [], audioinput: [], audiooutput: [] };
  const devices = (await navigator.mediaDevices?.enumerateDevices?.()) ?? [];
  for (const d of devices) out[d.kind]?.push(d);
  return out;
}

/**
 * One new track from a chosen device.
 * @param {"audio"|"video"} kind
 * @param {string} deviceId
 * @returns {Promise<MediaStreamTrack>}
 * @throws {{code: string, message: string}} `ERR_DEVICE_SWITCH` or the getUserMedia code
 */
export async function getDeviceTrack(kind, deviceId) {
  const base = DEFAULT_CONSTRAINTS[kind];
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ [kind]: { ...base, deviceId: { exact: deviceId } } });
    return stream.getTracks()[0];
  } catch (err) {
    const code = mediaErrorCode(err);
    throw errorOf(code === ERR_MEDIA ? ERR_DEVICE_SWITCH : code);
  }
}

/**
 * The screen (or a window or tab) the person picks, as a video track.
 * @returns {Promise<MediaStreamTrack>}
 * @throws {{code: string, message: string}} `ERR_SCREEN_DENIED` or `ERR_SCREEN_UNAVAILABLE`
 */
export async function getScreenTrack() {
  if (!navigator.mediaDevices?.getDisplayMedia) throw errorOf(ERR_SCREEN_UNAVAILABLE);
  try {
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
    const [track] = stream.getVideoTracks();
    track.contentHint = "detail"; // text stays sharp (W3C mst-content-hint)
    return track;
  } catch (err) {
    throw errorOf(err?.name === "NotAllowedError" || err?.name === "AbortError" ? ERR_SCREEN_DENIED : ERR_SCREEN_UNAVAILABLE);
  }
}

/**
 * Put `track` in `stream` in place of its track of the same kind (the stream object
 * stays the same, so everything holding it sees the new track).
 * @param {MediaStream} stream
 * @param {MediaStreamTrack} track
 * @returns {MediaStreamTrack|null} the track it replaced (not stopped)
 */
export function swapTrack(stream, track) {
  const old = stream.getTracks().find((t) => t.kind === track.kind) ?? null;
  if (old === track) return null;
  if (old) stream.removeTrack(old);
  stream.addTrack(track);
  return old;
}

/**
 * A microphone level meter (Web Audio `AnalyserNode`).
 */
export class LevelMeter {
  /** @param {MediaStream} stream a stream with an audio track */
  constructor(stream) {
    const Context = globalThis.AudioContext ?? globalThis.webkitAudioContext;
    this._context = new Context();
    this._source = this._context.createMediaStreamSource(stream);
    this._analyser = this._context.createAnalyser();
    this._analyser.fftSize = 512;
    this._samples = new Float32Array(this._analyser.fftSize);
    this._source.connect(this._analyser);
  }

  /** The level now, 0 (silence) to 1 (loud): the RMS of the last 512 samples, scaled. */
  level() {
    if (this._context.state === "suspended") this._context.resume().catch(() => {});
    this._analyser.getFloatTimeDomainData(this._samples);
    let sum = 0;
    for (const s of this._samples) sum += s * s;
    return Math.min(1, Math.sqrt(sum / this._samples.length) * 4);
  }

  /** Stop measuring. Idempotent. */
  destroy() {
    if (!this._context) return;
    this._source.disconnect();
    this._context.close().catch(() => {});
    this._context = null;
  }
}

/**
 * Get the camera and microphone. When that fails, try the microphone alone, then
 * the camera alone (one of them may be refused, missing or busy), then give up:
 * never throws, because a person without devices can still receive. A kind left
 * out of `constraints` (`false`) is not asked for; with neither, the result is
 * `{stream: null, error: null}` (receive only, by choice).
 * @param {MediaStreamConstraints} [constraints] default: {@link constraintsFor} the saved preferences
 * @returns {Promise<{stream: MediaStream|null, error: {code: string, message: string}|null}>}
 */
export async function getLocalMedia(constraints = constraintsFor()) {
  if (!constraints.audio && !constraints.video) return { stream: null, error: null };
  if (!navigator.mediaDevices?.getUserMedia) return { stream: null, error: errorOf(ERR_INSECURE_CONTEXT) };
  let first;
  try {
    return { stream: await navigator.mediaDevices.getUserMedia(constraints), error: null };
  } catch (err) {
    first = mediaErrorCode(err);
  }
  if (!constraints.audio || !constraints.video) return { stream: null, error: errorOf(first) };
  const denied = first === ERR_PERMISSION_DENIED;
  const fallbacks = [
    [{ audio: constraints.audio }, denied ? ERR_CAMERA_DENIED : ERR_CAMERA_UNAVAILABLE],
    [{ video: constraints.video }, denied ? ERR_MICROPHONE_DENIED : ERR_MICROPHONE_UNAVAILABLE],
  ];
  for (const [partial, code] of fallbacks) {
    try {
      return { stream: await navigator.mediaDevices.getUserMedia(partial), error: errorOf(code) };
    } catch {
      // try the next one
    }
  }
  return { stream: null, error: errorOf(first) };
}

/**
 * Stop every track of a stream. Accepts null.
 * @param {MediaStream|null} stream
 */
export function stopStream(stream) {
  for (const track of stream?.getTracks() ?? []) track.stop();
}

/**
 * Play `video`'s audio on an output device, where the browser allows it
 * (`HTMLMediaElement.setSinkId`).
 * @param {HTMLMediaElement} video
 * @param {string|null} deviceId  none: the default output
 * @returns {Promise<boolean>} whether the output is the one asked for
 */
export async function applySpeaker(video, deviceId) {
  if (!deviceId || typeof video.setSinkId !== "function") return !deviceId;
  try {
    await video.setSinkId(deviceId);
    return true;
  } catch {
    return false;
  }
}
