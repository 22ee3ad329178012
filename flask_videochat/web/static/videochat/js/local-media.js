/**
 * What a call or a room sends: the local stream, microphone and camera switches,
 * device changes and screen sharing, applied to every peer connection with
 * `replaceTrack` (no renegotiation when the peer already sends that kind).
 * {@link CallController} and {@link RoomController} extend {@link MediaOwner}, which
 * also holds what they share: the state and its event, the signaling handlers, the
 * ICE servers, opening the camera, and reporting errors.
 * @module local-media
 */

import { ERR_RATE_LIMITED, ERR_TIMEOUT } from "./errors.js";
import { getDeviceTrack, getLocalMedia, getScreenTrack, savePreferences, stopStream, swapTrack } from "./media.js";
import { SignalingError } from "./signaling.js";
import { logger } from "./log.js";

/** Milliseconds a burst of media changes (a microphone and a camera switched
 * together) is gathered into one announcement. */
export const ANNOUNCE_DEBOUNCE_MS = 50;
/** Least milliseconds between two announcements of the media state: 100 a minute
 * at most, under the server's default limit for `call.media` and `room.media`
 * (120 a minute), however fast someone flips their microphone. */
export const ANNOUNCE_INTERVAL_MS = 600;

/**
 * @fires MediaOwner#state        detail: {@link MediaOwner#stateDetail} (the state changed)
 * @fires MediaOwner#localstream  detail: {stream: MediaStream|null}
 * @fires MediaOwner#media        detail: {mic, cam, screen} (your own state changed)
 * @fires MediaOwner#error        detail: {code, message, retryAfter?, event?} (`retryAfter`: seconds, with ERR_RATE_LIMITED)
 */
export class MediaOwner extends EventTarget {
  /**
   * The code of a refusal that only says the call or room is gone already: a
   * request sent with {@link MediaOwner#_quietly} does not log it (overridden).
   * @type {string|null}
   */
  static GONE_CODE = null;

  /**
   * @param {import("./signaling.js").Signaling|null} [signaling]
   * @param {string} [name]  the debug logger's name
   */
  constructor(signaling = null, name = "media") {
    super();
    this.signaling = signaling;
    /** The state (the subclass's states, "idle" first). */
    this.state = "idle";
    this.iceServers = [];
    /** "all", or "relay" (TURN relays only), from `hello`. */
    this.iceTransportPolicy = "all";
    this._handlers = null;
    this._log = logger(name);
    /** The local media being opened, or open (a promise of the stream), or null. */
    this._media = null;
    /** @type {MediaStream|null} what you send */
    this.localStream = null;
    /** Whether a screen is shared instead of the camera. */
    this.sharing = false;
    this._cameraTrack = null;
    /** Bumped whenever the local media is stopped: async work started before
     * (a screen picker, a device switch) must not touch what came after. */
    this._session = 0;
    this._sharePending = false;
    /** The revision of the last media state announced: it grows with each one, and
     * from the clock, so that it keeps growing across a reload of the page too. */
    this._mediaRev = Date.now();
    this._announcing = { timer: null, busy: false, dirty: false, lastAt: -Infinity };
  }

  /**
   * The peer connections that send the local stream (overridden).
   * @returns {import("./peer.js").Peer[]}
   */
  peerList() {
    return [];
  }

  /**
   * Tell the others how your media is now. Announcements are coalesced: only the
   * latest state is sent, at most one request is in flight, at most one every
   * {@link ANNOUNCE_INTERVAL_MS}; each carries a growing `rev` so that the other
   * side never takes an older one for the newer; one the server refuses for its
   * rate limit is sent again after its `retry_after` (so the others always end on
   * your latest state).
   */
  announceMedia() {
    const a = this._announcing;
    a.dirty = true;
    if (a.timer === null && !a.busy) this._scheduleAnnouncement(0);
  }

  /**
   * Send one media state (overridden: `call.media` / `room.media`).
   * @param {{mic: boolean, cam: boolean, screen: boolean, rev: number}} state
   * @returns {Promise<object>|null} the request, or null when there is nobody to tell
   */
  sendMediaState(state) {
    return null;
  }

  _scheduleAnnouncement(atLeastMs) {
    const a = this._announcing;
    const wait = Math.max(atLeastMs, ANNOUNCE_DEBOUNCE_MS, a.lastAt + ANNOUNCE_INTERVAL_MS - performance.now());
    a.timer = setTimeout(() => this._announceNow(), wait);
  }

  async _announceNow() {
    const a = this._announcing;
    a.timer = null;
    if (!a.dirty) return;
    a.dirty = false;
    this._mediaRev += 1;
    const request = this.sendMediaState({ ...this.mediaState(), rev: this._mediaRev });
    if (!request) return;
    a.busy = true;
    a.lastAt = performance.now();
    let retryMs = 0;
    try {
      await request;
    } catch (err) {
      this._log("media state refused", err);
      if (err?.code === ERR_RATE_LIMITED) {
        a.dirty = true;
        retryMs = (err.retryAfter ?? 1) * 1000;
      } else if (err?.code === ERR_TIMEOUT) {
        a.dirty = true;
      }
    } finally {
      a.busy = false;
    }
    if (a.dirty && a.timer === null) this._scheduleAnnouncement(retryMs);
  }

  /** Forget announcements not sent yet (nobody is left to tell). */
  _stopAnnouncing() {
    const a = this._announcing;
    clearTimeout(a.timer);
    a.timer = null;
    a.dirty = false;
  }

  /** `{mic, cam, screen}`: what you send now. */
  mediaState() {
    const on = (tracks) => tracks.some((t) => t.enabled && t.readyState === "live");
    return {
      mic: on(this.localStream?.getAudioTracks() ?? []),
      cam: on(this.localStream?.getVideoTracks() ?? []),
      screen: this.sharing,
    };
  }

  /** Whether the microphone is muted (or absent). */
  get microphoneMuted() {
    return !this.mediaState().mic;
  }

  /** Whether the camera (or the shared screen) is off (or absent). */
  get cameraOff() {
    return !this.mediaState().cam;
  }

  /** @param {boolean} muted */
  setMicrophoneMuted(muted) {
    for (const t of this.localStream?.getAudioTracks() ?? []) t.enabled = !muted;
    this._mediaChanged();
  }

  /** @param {boolean} off */
  setCameraOff(off) {
    for (const t of this.localStream?.getVideoTracks() ?? []) t.enabled = !off;
    this._mediaChanged();
  }

  /**
   * Send `track` instead of the local track of its kind, to every peer.
   * @param {MediaStreamTrack} track
   * @returns {Promise<MediaStreamTrack|null>} the track it replaced (not stopped)
   */
  async replaceLocalTrack(track) {
    if (!this.localStream) {
      this.localStream = new MediaStream();
      this._streamCreated(this.localStream);
    }
    const old = swapTrack(this.localStream, track);
    await Promise.all(this.peerList().map((peer) => peer.setLocalTrack(track, this.localStream)));
    this._emit("localstream", { stream: this.localStream });
    return old;
  }

  /**
   * Switch to another camera or microphone during a call (or in a preview). The new
   * device keeps the old one's muted / camera-off state; the choice is remembered.
   * @param {{videoInput?: string, audioInput?: string}} devices device ids from `enumerateDevices`
   * @returns {Promise<boolean>} whether every switch worked (an `error` event says why not)
   */
  async selectDevices({ videoInput, audioInput } = {}) {
    let ok = true;
    for (const [kind, deviceId, pref] of [["video", videoInput, "videoDeviceId"], ["audio", audioInput, "audioDeviceId"]]) {
      if (deviceId === undefined) continue;
      savePreferences({ [pref]: deviceId, [kind]: true });
      const session = this._session;
      if (kind === "video" && this.sharing) {
        // Sharing a screen: the camera comes back when sharing stops.
        const track = await this._newTrack(kind, deviceId);
        if (track && session !== this._session) {
          track.stop();
          return false;
        }
        if (!track) ok = false;
        else {
          this._cameraTrack?.stop();
          this._cameraTrack = track;
        }
        continue;
      }
      const current = this.localStream?.getTracks().find((t) => t.kind === kind);
      if (current?.getSettings().deviceId === deviceId) continue;
      const track = await this._newTrack(kind, deviceId);
      if (track && session !== this._session) {
        track.stop(); // the call ended meanwhile
        return false;
      }
      if (!track) {
        ok = false;
        continue;
      }
      track.enabled = current ? current.enabled : true;
      const old = await this.replaceLocalTrack(track);
      old?.stop();
    }
    this._mediaChanged();
    return ok;
  }

  /**
   * Share a screen, window or tab in place of the camera (the browser asks which).
   * Stops by itself when the person stops it in the browser's own bar.
   * @returns {Promise<boolean>} whether sharing started
   */
  async startScreenShare() {
    if (this.sharing || this._sharePending) return this.sharing;
    const session = this._session;
    let track;
    this._sharePending = true;
    try {
      track = await getScreenTrack();
    } catch (err) {
      this._emit("error", err);
      return false;
    } finally {
      this._sharePending = false;
    }
    if (session !== this._session) {
      track.stop(); // the call ended while the person was picking a screen
      return false;
    }
    this._cameraTrack = this.localStream?.getVideoTracks()[0] ?? null;
    this.sharing = true;
    this.watchScreen(track);
    await this.replaceLocalTrack(track);
    this._mediaChanged();
    return true;
  }

  /** Stop sharing when the person stops it in the browser's own bar (the owner of
   * a screen track changes when a call becomes a room). @param {MediaStreamTrack} track */
  watchScreen(track) {
    track.onended = () => this.stopScreenShare();
  }

  /** Stop sharing: the camera comes back (or no video, if there was none). */
  async stopScreenShare() {
    if (!this.sharing) return;
    this.sharing = false;
    const screen = this.localStream?.getVideoTracks()[0] ?? null;
    const camera = this._cameraTrack;
    this._cameraTrack = null;
    if (camera && camera.readyState === "live") {
      await this.replaceLocalTrack(camera);
    } else if (screen) {
      this.localStream.removeTrack(screen);
      await Promise.all(this.peerList().map((peer) => peer.stopSending("video")));
      this._emit("localstream", { stream: this.localStream });
    }
    screen?.stop();
    this._mediaChanged();
  }

  /** Stop the local tracks (and a camera kept aside while sharing). */
  stopLocalMedia() {
    this._session++;
    stopStream(this.localStream);
    this._cameraTrack?.stop();
    this._cameraTrack = null;
    this.sharing = false;
    this.localStream = null;
  }

  /** {@link replaceLocalTrack} had to create the local stream (receive-only until
   * now): peers that connect later (they wait on `_media`) send it too. */
  _streamCreated(stream) {
    this._media = Promise.resolve(stream);
  }

  async _newTrack(kind, deviceId) {
    try {
      return await getDeviceTrack(kind, deviceId);
    } catch (err) {
      this._emit("error", err);
      return null;
    }
  }

  _mediaChanged() {
    this.announceMedia();
    this._emit("media", this.mediaState());
  }

  /** Report an error: `error` event `{code, message}`. */
  _error(code, message) {
    this._emit("error", { code, message });
  }

  /**
   * Report a request the server refused (or that got no answer): `error` event
   * `{code, message, retryAfter, event}` (`retryAfter` in seconds, with
   * `ERR_RATE_LIMITED`).
   * @param {import("./signaling.js").SignalingError} err
   */
  _refused(err) {
    this._emit("error", { code: err.code, message: err.message, retryAfter: err.retryAfter ?? null, event: err.event ?? null });
  }

  _emit(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }

  /** The detail of the `state` event (overridden). @returns {object} */
  stateDetail() {
    return { state: this.state };
  }

  /** Move to `state` and say so (a `state` event), unless already there. */
  _setState(state) {
    if (this.state === state) return;
    this.state = state;
    this._emit("state", this.stateDetail());
  }

  /** Send a request whose refusal changes nothing here (a hang-up, a leave): a
   * refusal is only logged. */
  async _quietly(event, payload) {
    try {
      await this.signaling.request(event, payload);
    } catch (err) {
      if (err instanceof SignalingError && err.code !== this.constructor.GONE_CODE) this._log(event, "refused", err);
    }
  }

  /** Listen to the signaling connection's events. @param {Object<string, (e: Event) => void>} handlers */
  _listen(handlers) {
    this._handlers = handlers;
    for (const [name, fn] of Object.entries(handlers)) this.signaling.addEventListener(name, fn);
  }

  /** Stop listening. @returns {boolean} whether it was listening (a destroy is idempotent) */
  _stopListening() {
    if (!this._handlers) return false;
    for (const [name, fn] of Object.entries(this._handlers)) this.signaling.removeEventListener(name, fn);
    this._handlers = null;
    return true;
  }

  /** Take the ICE servers of `hello`. A reconnect brings fresh TURN credentials:
   * the next ICE restart of every peer connection uses them. */
  _takeIce({ ice_servers: iceServers, ice_transport_policy: policy }) {
    this.iceServers = iceServers ?? [];
    this.iceTransportPolicy = policy ?? "all";
    const config = { iceServers: this.iceServers, iceTransportPolicy: this.iceTransportPolicy };
    for (const peer of this.peerList()) peer.setIceServers(config);
  }

  /**
   * Open the camera and microphone (`localstream` event; an `error` event for what
   * could not be opened). The stream is dropped when `wanted()` says it is no longer
   * wanted by the time it opens, or when other media were opened meanwhile.
   * @param {() => boolean} wanted
   * @returns {Promise<MediaStream|null>} also kept as `_media`
   */
  _openMedia(wanted) {
    const media = (this._media = getLocalMedia().then(({ stream, error }) => {
      if (!wanted() || this._media !== media) {
        stopStream(stream); // ended or released while the camera was starting
        return null;
      }
      this.localStream = stream;
      this._emit("localstream", { stream });
      if (error) this._error(error.code, error.message);
      return stream;
    }));
    return media;
  }
}
