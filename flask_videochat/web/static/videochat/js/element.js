/**
 * `<video-chat>`: the widget, as a custom element. This module is its wiring: the
 * lifecycle, the attributes, the public methods. A {@link Session} (session.js)
 * holds one connection: the controllers, whose events it forwards as `videochat-*`
 * events; view.js computes what to show from the state, and the parts in
 * widget-ui.js show it (the call stage, the online list, the lobby and the room,
 * the chat, the device check).
 * @module element
 */

import { loadPreferences } from "./media.js";
import { askNotificationPermission } from "./ring.js";
import { Session } from "./session.js";
import { stateOf } from "./view.js";
import { WidgetUI } from "./widget-ui.js";

/** The attributes the element reads (all observed). */
export const ATTRIBUTES = Object.freeze(["namespace", "socket-path", "signed-out", "sign-in-url", "room"]);

/**
 * The `<video-chat>` custom element.
 *
 * Attributes (all observed: a change after the element is connected takes effect
 * at once):
 * - `namespace` (Socket.IO namespace URL, default "/videochat"), `socket-path`
 *   (default "/socket.io"): a change closes the connection (ending a call or
 *   leaving a room in progress) and opens a new one;
 * - `signed-out`: show a sign-in message and do not connect; added, it closes the
 *   connection as above; removed, the widget connects;
 * - `sign-in-url`: the sign-in message's link;
 * - `room`: room mode, a preview and a Join button for that room. Changed to
 *   another room, the widget leaves the room the old value named (if you are in it,
 *   joining it, or about to rejoin it) and shows the new room's lobby; removed, it
 *   leaves that room too and shows the online list. A 1:1 call, or a room you were
 *   invited into, goes on.
 *
 * @fires videochat-ready        detail: {self: {id, name}}
 * @fires videochat-presence     detail: {users: {id, name, status}[]}
 * @fires videochat-incoming     detail: {callId, from: {id, name}}
 * @fires videochat-state        detail: {state, callId, peer}
 * @fires videochat-ended        detail: {callId, reason, peer, byMe, outgoing}
 * @fires videochat-invite       detail: {room, from: {id, name}, members} (someone rings you into a room)
 * @fires videochat-room-state   detail: {state: "idle"|"joining"|"joined", room}
 * @fires videochat-members      detail: {members: {id, name, mic, cam}[]} (the others in your room)
 * @fires videochat-member-left  detail: {id, reason}
 * @fires videochat-left         detail: {room, reason, byMe}
 * @fires videochat-chat         detail: {message: {id, from: {id, name}, text, ts, seq}} (`ts`: milliseconds since the epoch; `seq`: its place in the chat)
 * @fires videochat-media        detail: {mic, cam, screen} (what you send changed)
 * @fires videochat-peer-media   detail: {peerId, mic, cam, screen} (what someone else sends changed)
 * @fires videochat-peer-failed  detail: {peerId, code, message} (in a room, the connection to a member did not come up)
 * @fires videochat-quality      detail: {peerId, level, rttMs, lossPercent, kbps, fps} (a peer's rating changed)
 * @fires videochat-connection   detail: {online} (the signaling connection dropped or came back)
 * @fires videochat-resumed      detail: {callId} or {room} (after a drop, the call or seat is taken back)
 * @fires videochat-error        detail: {code, message, retryAfter, event}
 * All events bubble and cross the shadow boundary (`composed`).
 */
export class VideoChatElement extends HTMLElement {
  /**
   * Register the element (once).
   * @param {string} [tag]
   */
  static define(tag = "video-chat") {
    if (!customElements.get(tag)) customElements.define(tag, this);
  }

  /** The attributes whose changes {@link VideoChatElement#attributeChangedCallback} hears. */
  static get observedAttributes() {
    return ATTRIBUTES;
  }

  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    /** The current connection, or null while the element is not connected. @type {Session|null} */
    this._session = null;
    // Placing, accepting or joining (a click: a user gesture) is when the widget asks
    // to show a notification of the next ring while the tab is hidden.
    this._ui = new WidgetUI(this.shadowRoot, {
      accept: () => (askNotificationPermission(), this.accept()),
      decline: () => this.decline(),
      hangup: () => this.hangup(),
      leave: () => this.leaveRoom(),
      join: () => (askNotificationPermission(), this.joinRoom()),
      call: (userId) => (askNotificationPermission(), this.call(userId)),
      invite: (userId) => this.invite(userId),
      mute: () => this.setMicrophoneMuted(!this._media()?.microphoneMuted),
      camera: () => this.setCameraOff(!this._media()?.cameraOff),
      screen: () => (this._media()?.sharing ? this.stopScreenShare() : this.startScreenShare()),
      devices: () => this._session?.toggleDevices(),
      add: () => this._session?.toggleAdd(),
      send: (text) => this.sendChat(text),
      selectDevices: (devices) => this.selectDevices(devices),
      speaker: (deviceId) => this.setSpeaker(deviceId),
      reopenPreview: () => this._session?.reopenPreview(),
      layout: (layout) => this._session?.setRoomLayout({ layout }),
      pin: (userId) => this._session?.togglePin(userId),
    });
    this._ui.speaker = loadPreferences().audioOutputId;
  }

  // -- public API ---------------------------------------------------------------

  /** The state: a call state ("idle", "calling", "ringing", "incoming",
   * "connecting", "in-call"), or "joining" / "in-room" while in a room. */
  get state() {
    return stateOf({ call: { state: this._controller?.state ?? "idle" }, room: { state: this._room?.state ?? "idle" } });
  }

  /** You, as the server knows you: `{id, name}`, or null before connecting. */
  get currentUser() {
    return this._controller?.self ?? null;
  }

  /** The room you are in (or joining), or null. */
  get currentRoom() {
    return this._room?.room ?? null;
  }

  /** Call a person by user id. @param {string} userId */
  call(userId) {
    return this._controller?.call(String(userId));
  }

  /** Accept the ringing call, or the invitation into a room. */
  accept() {
    if (this._controller?.state === "incoming") return this._controller.accept();
    if (this._room?.invite) return this._room.join(this._room.invite.room);
    return undefined;
  }

  /** Decline the ringing call, or the invitation into a room. */
  decline() {
    if (this._controller?.state === "incoming") return this._controller.decline();
    return this._room?.declineInvite();
  }

  /** Hang up, or cancel a call still ringing out. */
  hangup() {
    return this._controller?.hangup();
  }

  /**
   * Join a room (default: the `room` attribute's).
   * @param {string} [name]
   * @returns {Promise<boolean>} whether you are in
   */
  joinRoom(name = this.getAttribute("room")) {
    if (!this._room || !name || this._controller?.state !== "idle") return Promise.resolve(false);
    return this._room.join(String(name));
  }

  /** Leave the room. */
  leaveRoom() {
    return this._room?.leave();
  }

  /**
   * Ring someone into your room, or turn your 1:1 call into a room with them.
   * @param {string} userId
   */
  invite(userId) {
    return this._session?.invite(String(userId));
  }

  /**
   * Send a chat message to your call or room.
   * @param {string} text
   * @returns {Promise<boolean>} whether the server took it
   */
  sendChat(text) {
    if (this._room?.state === "joined") return this._room.sendChat(String(text));
    return this._controller?.sendChat(String(text)) ?? Promise.resolve(false);
  }

  /**
   * Switch camera and/or microphone (device ids from `navigator.mediaDevices.enumerateDevices()`),
   * in the preview or during a call without renegotiating (`replaceTrack`).
   * @param {{videoInput?: string, audioInput?: string}} devices
   * @returns {Promise<boolean>} whether it worked (a `videochat-error` says why not)
   */
  async selectDevices(devices) {
    return (await this._media()?.selectDevices(devices ?? {})) ?? false;
  }

  /** Share your screen instead of your camera. @returns {Promise<boolean>} whether sharing started */
  async startScreenShare() {
    const ok = (await this._media()?.startScreenShare()) ?? false;
    this._render("controls");
    return ok;
  }

  /** Stop sharing your screen; your camera comes back. */
  async stopScreenShare() {
    await this._media()?.stopScreenShare();
    this._render("controls");
  }

  /**
   * Play the others' audio on this output device, where the browser allows it
   * (`HTMLMediaElement.setSinkId`). @param {string} deviceId
   * @returns {Promise<boolean>} whether the browser took it
   */
  setSpeaker(deviceId) {
    return this._ui.setSpeaker(String(deviceId));
  }

  /** Mute or unmute your microphone. @param {boolean} muted */
  setMicrophoneMuted(muted) {
    this._media()?.setMicrophoneMuted(Boolean(muted));
    this._render("controls", "members");
  }

  /** Turn your camera off or on. @param {boolean} off */
  setCameraOff(off) {
    this._media()?.setCameraOff(Boolean(off));
    this._render("controls", "members");
  }

  /**
   * Counters of the current call or room: `{state, peers: {userId: {connectionState,
   * video, audio}}}`, plus `callId`, `peerId`, `video`, `audio` in a 1:1 call and
   * `room` in a room (see CallController#getStats, RoomController#getStats).
   */
  async getStats() {
    let stats;
    if (this._room && this._room.state !== "idle") stats = { ...(await this._room.getStats()), state: this.state };
    else stats = this._controller ? await this._controller.getStats() : { state: "idle", peers: {} };
    for (const [id, counters] of Object.entries(stats.peers)) counters.quality = this._session?.quality.rating(id) ?? null;
    return stats;
  }

  // -- lifecycle -----------------------------------------------------------

  /** Connect (or show the sign-in message); listen for the page going away. */
  connectedCallback() {
    this._onPageHide = () => {
      this._controller?.abandon();
      this._room?.abandon();
    };
    window.addEventListener("pagehide", this._onPageHide);
    this._start();
  }

  /** Close the connection (a call or room in progress ends); stop listening. */
  disconnectedCallback() {
    window.removeEventListener("pagehide", this._onPageHide);
    this._stop();
    this._ui.devices.destroy();
  }

  /**
   * An observed attribute changed (see the class's description). Values set
   * before the element is connected are read when it connects.
   * @param {string} name
   * @param {string|null} oldValue
   * @param {string|null} newValue
   */
  attributeChangedCallback(name, oldValue, newValue) {
    if (!this._session || oldValue === newValue) return;
    if (name === "room") this._session.switchRoom(oldValue);
    else if (name === "sign-in-url") this._render();
    else {
      this._stop();
      this._start();
    }
  }

  // -- internals ---------------------------------------------------------------

  _start() {
    this._session = new Session({ host: this, ui: this._ui, fire: (name, detail) => this._fire(name, detail) });
  }

  _stop() {
    this._session?.destroy();
    this._session = null;
  }

  /** The call controller of the connection, or null. */
  get _controller() {
    return this._session?.controller ?? null;
  }

  /** The room controller of the connection, or null. */
  get _room() {
    return this._session?.room ?? null;
  }

  /** The signaling connection, or null. */
  get _signaling() {
    return this._session?.signaling ?? null;
  }

  /** The controller whose microphone and camera the controls act on. */
  _media() {
    return this._session?.media() ?? null;
  }

  /** Show what changed (see {@link Session#render}). @param {...string} parts */
  _render(...parts) {
    this._session?.render(...parts);
  }

  _fire(name, detail) {
    this.dispatchEvent(new CustomEvent(`videochat-${name}`, { detail, bubbles: true, composed: true }));
  }
}
