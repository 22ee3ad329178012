/**
 * `<video-chat>`: the widget. An online list with a call button per person, an
 * incoming-call panel, the call stage (remote video, your preview, controls), the
 * room view (tiles, participants), the chat panel and the state in words. Renders only with `textContent`: names are untrusted.
 * @module element
 */

import { CallController } from "./call.js";
import { ChatView } from "./chat-view.js";
import { DeviceCheck } from "./device-check.js";
import { avatar, h } from "./dom.js";
import { loadPreferences } from "./media.js";
import { QualityMonitor, qualityWords } from "./quality.js";
import { Ringtone } from "./ringtone.js";
import { RoomController } from "./room.js";
import { RoomView } from "./room-view.js";
import { Signaling } from "./signaling.js";
import { CALLING_EVENTS, STATUS_WORDS, endMessage, listWords, rateLimitedMessage, roomTitle, waitWords } from "./words.js";

export { STATUS_WORDS, endMessage, roomTitle };


const STYLESHEET = new URL("../css/videochat.css", import.meta.url).href;

/**
 * The `<video-chat>` custom element.
 *
 * Attributes: `namespace` (Socket.IO namespace URL, default "/videochat"),
 * `socket-path` (default "/socket.io"), `signed-out` (show a sign-in message, do
 * not connect), `sign-in-url`, `room` (room mode: a preview and a Join button for
 * that room).
 *
 * @fires videochat-ready        detail: {self: {id, name}}
 * @fires videochat-presence     detail: {users: {id, name, status}[]}
 * @fires videochat-incoming     detail: {callId, from: {id, name}}
 * @fires videochat-state        detail: {state, callId, peer}
 * @fires videochat-ended        detail: {callId, reason, peer, byMe}
 * @fires videochat-invite       detail: {room, from: {id, name}, members} (someone rings you into a room)
 * @fires videochat-room-state   detail: {state: "idle"|"joining"|"joined", room}
 * @fires videochat-members      detail: {members: {id, name, mic, cam}[]} (the others in your room)
 * @fires videochat-member-left  detail: {id, reason}
 * @fires videochat-left         detail: {room, reason, byMe}
 * @fires videochat-chat         detail: {message: {id, from: {id, name}, text, ts}}
 * @fires videochat-media        detail: {mic, cam, screen} (what you send changed)
 * @fires videochat-peer-media   detail: {peerId, mic, cam, screen} (what someone else sends changed)
 * @fires videochat-quality      detail: {peerId, level, rttMs, lossPercent, kbps, fps} (a peer's rating changed)
 * @fires videochat-connection   detail: {online} (the signaling connection dropped or came back)
 * @fires videochat-resumed      detail: {callId} or {room} (after a drop, the call or seat is taken back)
 * @fires videochat-error        detail: {code, message}
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

  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    this._controller = null;
    this._room = null;
    this._signaling = null;
    this._lastMessage = "";
    this._roomNote = "";
    this._ringtone = new Ringtone();
    this._mediaSettled = false;
    this._pageTitle = null;
    this._speaker = loadPreferences().audioOutputId;
    this._qualityMonitor = new QualityMonitor({
      peers: () => this._qualityPeers(),
      onRating: (id, rating, changed) => {
        const target = this._room?.state === "joined" ? this._roomView.quality(id) : this._ui.quality;
        if (target) showQuality(target, id, rating);
        if (changed) this._fire("quality", { peerId: id, ...rating });
      },
    });
    this._build();
  }

  // -- public API ---------------------------------------------------------------

  /** The state: a call state ("idle", "calling", "ringing", "incoming",
   * "connecting", "in-call"), or "joining" / "in-room" while in a room. */
  get state() {
    const room = this._room?.state ?? "idle";
    if (room === "joined") return "in-room";
    if (room === "joining") return "joining";
    return this._controller?.state ?? "idle";
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
    this._ui.addPanel.hidden = true;
    const name = this._controller?.users.get(String(userId))?.name ?? String(userId);
    const done = (result) => {
      if (!result) return;
      this._roomNote = result.state === "ended" ? `${name} is busy.` : `Ringing ${name}…`;
      this._render();
    };
    if (this._room?.state === "joined") return this._room.inviteUser(String(userId)).then(done);
    return this._controller?.addParticipant(String(userId)).then(done);
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
    this._renderControls();
    return ok;
  }

  /** Stop sharing your screen; your camera comes back. */
  async stopScreenShare() {
    await this._media()?.stopScreenShare();
    this._renderControls();
  }

  /**
   * Play the others' audio on this output device, where the browser allows it
   * (`HTMLMediaElement.setSinkId`). @param {string} deviceId
   * @returns {Promise<boolean>} whether the browser took it
   */
  async setSpeaker(deviceId) {
    this._speaker = String(deviceId);
    const videos = [...this.shadowRoot.querySelectorAll('video[data-testid="videochat-remote-video"]')];
    const results = await Promise.all(videos.map((v) => applySpeaker(v, this._speaker)));
    return results.every(Boolean);
  }

  /** Mute or unmute your microphone. @param {boolean} muted */
  setMicrophoneMuted(muted) {
    this._media()?.setMicrophoneMuted(Boolean(muted));
    this._renderControls();
    this._renderRoom();
  }

  /** Turn your camera off or on. @param {boolean} off */
  setCameraOff(off) {
    this._media()?.setCameraOff(Boolean(off));
    this._renderControls();
    this._renderRoom();
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
    for (const [id, counters] of Object.entries(stats.peers)) counters.quality = this._qualityMonitor.rating(id);
    return stats;
  }

  // -- lifecycle -----------------------------------------------------------

  connectedCallback() {
    this._onPageHide = () => {
      this._controller?.abandon();
      this._room?.abandon();
    };
    window.addEventListener("pagehide", this._onPageHide);
    if (this.hasAttribute("signed-out")) {
      this._showSignedOut();
      return;
    }
    this._connect();
  }

  disconnectedCallback() {
    window.removeEventListener("pagehide", this._onPageHide);
    clearInterval(this._errorTimer);
    clearInterval(this._callTimer);
    this._ring(false);
    this._qualityMonitor.stop();
    this._devices.destroy();
    this._controller?.destroy();
    this._room?.destroy();
    this._roomView.clear();
    this._chat.clear();
    this._signaling?.destroy();
    this._controller = this._room = this._signaling = null;
  }

  // -- wiring ---------------------------------------------------------------

  _connect() {
    this._signaling = new Signaling({
      namespace: this.getAttribute("namespace") || "/videochat",
      path: this.getAttribute("socket-path") || "/socket.io",
    });
    const c = (this._controller = new CallController(this._signaling));
    const r = (this._room = new RoomController(this._signaling));
    this._signaling.addEventListener("disconnect", () => {
      this._setConnection(false);
      this._fire("connection", { online: false });
    });
    this._signaling.addEventListener("connect", () => {
      this._setConnection(true);
      this._fire("connection", { online: true });
    });
    this._signaling.addEventListener("refused", (e) => {
      if (e.detail.code === "ERR_UNAUTHENTICATED") this._showSignedOut();
    });
    this._signaling.addEventListener("hello", (e) => {
      this._chat.input.maxLength = e.detail.limits?.chat ?? this._chat.input.maxLength;
    });
    c.addEventListener("ready", (e) => {
      this._ui.me.textContent = e.detail.self.name;
      this._ui.me.hidden = false;
      this._setConnection(true);
      if (this._roomMode && r.state === "idle") r.preview();
      this._fire("ready", e.detail);
    });
    c.addEventListener("presence", (e) => {
      this._renderPresence(e.detail.users);
      this._fire("presence", e.detail);
    });
    c.addEventListener("incoming", (e) => this._fire("incoming", e.detail));
    c.addEventListener("state", (e) => {
      this._render();
      this._fire("state", e.detail);
    });
    c.addEventListener("localstream", (e) => this._showLocal(e.detail.stream));
    c.addEventListener("remotestream", (e) => this._showRemote(e.detail));
    c.addEventListener("chat", (e) => this._showChat(e.detail));
    for (const owner of [c, r]) owner.addEventListener("resumed", (e) => this._fire("resumed", e.detail));
    c.addEventListener("peermedia", (e) => {
      this._render();
      this._fire("peer-media", e.detail);
    });
    for (const owner of [c, r]) {
      owner.addEventListener("media", (e) => {
        this._renderControls();
        this._renderRoom();
        this._fire("media", e.detail);
      });
    }
    c.addEventListener("upgraded", (e) => {
      this._removeRemote(); // the room's tile plays that stream now
      r.adopt(e.detail);
    });
    c.addEventListener("ended", (e) => {
      this._lastMessage = endMessage(e.detail);
      this._removeRemote();
      this._chat.clear();
      this._mediaSettled = false;
      this._ui.local.srcObject = r.localStream;
      this._render();
      this._fire("ended", e.detail);
    });
    c.addEventListener("error", (e) => this._showError(e.detail));

    r.addEventListener("state", (e) => {
      if (e.detail.state !== "idle") this._lastMessage = "";
      if (e.detail.state === "joining") this._chat.clear();
      this._render();
      this._fire("room-state", e.detail);
    });
    r.addEventListener("members", (e) => {
      this._renderRoom();
      this._render();
      this._fire("members", e.detail);
      for (const m of e.detail.members) {
        const key = `${m.mic}/${m.cam}/${m.screen}`;
        if (this._peerMediaSeen?.get(m.id) !== key) {
          (this._peerMediaSeen ??= new Map()).set(m.id, key);
          this._fire("peer-media", { peerId: m.id, mic: m.mic, cam: m.cam, screen: Boolean(m.screen) });
        }
      }
    });
    r.addEventListener("memberleft", (e) => {
      this._roomView.removeTile(e.detail.id);
      this._fire("member-left", e.detail);
    });
    r.addEventListener("remotestream", (e) => {
      this._roomView.setStream(e.detail.peerId, e.detail.stream);
      const video = this._roomView.tiles.get(e.detail.peerId)?.video;
      if (video) applySpeaker(video, this._speaker);
    });
    r.addEventListener("peerstate", (e) => this._roomView.setConnection(e.detail.peerId, e.detail.connectionState));
    r.addEventListener("peerfailed", (e) => {
      this._roomView.setFailed(e.detail.peerId, e.detail.message);
      this._fire("peer-failed", e.detail);
    });
    r.addEventListener("localstream", (e) => this._showLocal(e.detail.stream));
    r.addEventListener("chat", (e) => this._showChat(e.detail));
    r.addEventListener("invite", (e) => {
      this._render();
      this._fire("invite", e.detail);
    });
    r.addEventListener("inviteended", (e) => this._onInviteEnded(e.detail));
    r.addEventListener("left", (e) => {
      const { reason, byMe } = e.detail;
      const words = {
        joined_elsewhere: "You joined from another tab.",
        connection_lost: "Connection lost. You will rejoin the room when it is back…",
      };
      this._lastMessage = words[reason] ?? (byMe ? "You left the room." : "You are no longer in the room.");
      this._roomView.clear();
      this._chat.clear();
      this._roomNote = "";
      this._mediaSettled = false;
      this._render();
      this._fire("left", e.detail);
      // Back in the lobby: the preview again (not in a tab that gave its seat away).
      if (this._roomMode && reason !== "joined_elsewhere") r.preview();
    });
    r.addEventListener("error", (e) => this._showError(e.detail));
  }

  /** Whether this widget shows one room (the `room` attribute). */
  get _roomMode() {
    return this.hasAttribute("room");
  }

  /** The controller whose microphone and camera the controls act on. */
  _media() {
    const r = this._room;
    const callIdle = this._controller?.state === "idle";
    if (r && (r.state !== "idle" || (callIdle && (this._roomMode || r.invite)))) return r;
    return this._controller;
  }

  _fire(name, detail) {
    this.dispatchEvent(new CustomEvent(`videochat-${name}`, { detail, bubbles: true, composed: true }));
  }

  _onInviteEnded({ room, id, reason }) {
    const self = this._controller?.self?.id;
    if (id !== self && room === this._room?.room) {
      const name = this._controller?.users.get(id)?.name ?? "They";
      const words = { declined: `${name} declined.`, no_answer: `${name} did not answer.`, busy: `${name} is busy.` };
      this._roomNote = words[reason] ?? "";
    } else if (id === self && reason === "no_answer") {
      this._lastMessage = "You missed an invitation to a call.";
    }
    this._render();
  }

  // -- DOM -----------------------------------------------------------------

  _build() {
    const ui = (this._ui = {});
    const button = (testid, cls, label, text, part, attrs = {}) =>
      h("button", { type: "button", class: `vc-btn ${cls}`, "data-testid": testid, "aria-label": label, part: `button ${part}`, ...attrs }, text);
    ui.me = h("span", { class: "vc-me", hidden: true });
    ui.dot = h("span", { class: "vc-dot", title: "Connecting…", "aria-hidden": "true" });
    ui.error = h("p", { class: "vc-error", role: "alert", "data-testid": "videochat-error", part: "error", hidden: true });
    ui.status = h("p", { class: "vc-status", "aria-live": "polite", "data-testid": "videochat-status", part: "status" }, "Connecting…");

    ui.incomingName = h("strong");
    ui.incomingWhat = h("span", {}, " is calling…");
    ui.incomingAvatar = h("span");
    ui.accept = h("button", { type: "button", class: "vc-btn vc-accept", "data-testid": "videochat-accept", part: "button accept" }, "Accept");
    ui.decline = h("button", { type: "button", class: "vc-btn vc-decline", "data-testid": "videochat-decline", part: "button decline" }, "Decline");
    ui.incoming = h(
      "section",
      { class: "vc-incoming", "data-testid": "videochat-incoming", "aria-label": "Incoming call", part: "incoming", hidden: true },
      ui.incomingAvatar,
      h("p", { class: "vc-incoming-text" }, ui.incomingName, ui.incomingWhat),
      h("div", { class: "vc-incoming-actions" }, ui.decline, ui.accept),
    );

    ui.remoteSlot = h("div", { class: "vc-remote" });
    ui.placeholder = h("div", { class: "vc-placeholder" });
    ui.local = h("video", { class: "vc-local", "data-testid": "videochat-local-video", autoplay: true, playsinline: true, part: "local-video" });
    ui.local.muted = true;
    ui.localOff = h("span", { class: "vc-local vc-local-off", "aria-hidden": "true" }, "Camera off");
    ui.mute = button("videochat-mute", "vc-round", "Mute microphone", "Mic", "mute", { "aria-pressed": "false" });
    ui.camera = button("videochat-camera", "vc-round", "Turn camera off", "Cam", "camera", { "aria-pressed": "false" });
    ui.screen = button("videochat-screen-share", "vc-round", "Share your screen", "Share", "screen-share", { "aria-pressed": "false" });
    ui.devicesButton = button("videochat-devices", "vc-round", "Camera and microphone settings", "Devices", "devices-button", { "aria-expanded": "false" });
    ui.add = button("videochat-add-participant", "vc-round", "Add someone to this call", "Add", "add", { "aria-expanded": "false" });
    ui.hangup = button("videochat-hangup", "vc-hangup", "Hang up", "Hang up", "hangup", { hidden: true });
    ui.leave = button("videochat-leave", "vc-hangup", "Leave the room", "Leave", "leave", { hidden: true });
    ui.controls = h("div", { class: "vc-controls" }, ui.mute, ui.camera, ui.screen, ui.devicesButton, ui.add, ui.hangup, ui.leave);
    ui.peerMuted = h("span", { class: "vc-tile-muted", "data-testid": "videochat-remote-muted", hidden: true }, "Muted");
    ui.peerNameText = h("span", {});
    ui.quality = h("span", { class: "vc-quality", "data-testid": "videochat-quality", role: "img", part: "quality", hidden: true }, h("i"), h("i"), h("i"));
    ui.peerName = h("span", { class: "vc-peer-name", part: "peer-name" }, ui.peerNameText, ui.peerMuted);
    ui.previewLabel = h("span", { class: "vc-preview-label" }, "Your camera");
    ui.selfSlot = h("div", { class: "vc-self" }, ui.local, ui.localOff);
    ui.stage = h(
      "section",
      { class: "vc-stage", "aria-label": "Call", part: "stage", hidden: true },
      ui.remoteSlot,
      ui.placeholder,
      ui.peerName,
      ui.quality,
      ui.selfSlot,
      ui.previewLabel,
      ui.controls,
    );

    ui.join = h("button", { type: "button", class: "vc-btn vc-accept vc-join", "data-testid": "videochat-join", part: "button join" }, "Join room");
    ui.lobbyTitle = h("strong", { class: "vc-room-name" });
    ui.lobbyStage = h("div", { class: "vc-lobby-stage" });
    ui.lobby = h(
      "section",
      { class: "vc-lobby", "aria-label": "Join the room", part: "lobby", hidden: true },
      h("p", { class: "vc-lobby-title" }, "Room ", ui.lobbyTitle),
      ui.lobbyStage,
      ui.join,
    );

    this._roomView = new RoomView();
    this._devices = new DeviceCheck({
      onSelect: (devices) => this.selectDevices(devices),
      onSpeaker: (deviceId) => this.setSpeaker(deviceId),
      onUse: () => this._reopenPreview(),
    });
    this._devices.root.hidden = true;
    this._chat = new ChatView({ send: (text) => this.sendChat(text) });

    ui.addList = h("ul", { class: "vc-list vc-add-list", "aria-label": "People you can add" });
    ui.addEmpty = h("p", { class: "vc-empty" }, "Nobody else is available right now.");
    ui.addPanel = h(
      "section",
      { class: "vc-add-panel", "aria-label": "Add someone", "data-testid": "videochat-add-panel", part: "add-panel", hidden: true },
      h("h3", { class: "vc-heading" }, "Add someone to this call"),
      ui.addList,
      ui.addEmpty,
    );

    ui.onlineHeading = h("h3", { class: "vc-heading" }, "Online now");
    ui.list = h("ul", { class: "vc-list", "data-testid": "videochat-presence", "aria-label": "People online", part: "presence" });
    ui.empty = h("p", { class: "vc-empty" }, "Nobody else is online right now.");
    ui.signin = h("div", { class: "vc-signin", hidden: true });

    ui.accept.addEventListener("click", () => this.accept());
    ui.decline.addEventListener("click", () => this.decline());
    ui.hangup.addEventListener("click", () => this.hangup());
    ui.leave.addEventListener("click", () => this.leaveRoom());
    ui.join.addEventListener("click", () => this.joinRoom());
    ui.mute.addEventListener("click", () => this.setMicrophoneMuted(!this._media()?.microphoneMuted));
    ui.camera.addEventListener("click", () => this.setCameraOff(!this._media()?.cameraOff));
    ui.screen.addEventListener("click", () => (this._media()?.sharing ? this.stopScreenShare() : this.startScreenShare()));
    ui.devicesButton.addEventListener("click", () => {
      this._devicesOpen = !this._devicesOpen;
      this._render();
    });
    ui.add.addEventListener("click", () => {
      ui.addPanel.hidden = !ui.addPanel.hidden;
      ui.add.setAttribute("aria-expanded", String(!ui.addPanel.hidden));
      this._renderAddList();
    });

    ui.body = h(
      "div",
      { class: "vc-body" },
      ui.incoming,
      ui.lobby,
      ui.stage,
      this._roomView.root,
      ui.addPanel,
      this._devices.root,
      ui.status,
      ui.error,
      this._chat.root,
      ui.onlineHeading,
      ui.list,
      ui.empty,
    );
    this.shadowRoot.append(
      h("link", { rel: "stylesheet", href: STYLESHEET }),
      h(
        "div",
        { class: "vc", part: "container" },
        h("header", { class: "vc-head" }, h("span", { class: "vc-title" }, "Video calls"), ui.dot, ui.me),
        ui.signin,
        ui.body,
      ),
    );
  }

  _showSignedOut() {
    const { signin, body, dot } = this._ui;
    const url = this.getAttribute("sign-in-url");
    this._ui.status.textContent = "Sign in to make video calls.";
    signin.replaceChildren(this._ui.status, ...(url ? [h("a", { class: "vc-btn vc-accept", href: url }, "Sign in")] : []));
    signin.hidden = false;
    body.hidden = true;
    dot.hidden = true;
  }

  _setConnection(online) {
    this._ui.dot.classList.toggle("vc-online", online);
    this._ui.dot.title = online ? "Connected" : "Reconnecting…";
    if (!online && this.state === "idle") this._ui.status.textContent = "Reconnecting…";
    else if (online && this.state === "idle") this._render();
  }

  /**
   * Show who is online. Rows are kept per person and updated in place (moved only
   * when the order changes): a row rebuilt under the pointer would swallow a click
   * on its Call button made while someone else's status changed.
   */
  _renderPresence(users) {
    const { list, empty } = this._ui;
    const rows = (this._presenceRows ??= new Map());
    const online = new Set(users.map((u) => u.id));
    for (const [id, row] of rows) {
      if (!online.has(id)) {
        row.li.remove();
        rows.delete(id);
      }
    }
    let previous = null;
    for (const user of users) {
      let row = rows.get(user.id);
      if (!row) {
        row = this._presenceRow(user.id);
        rows.set(user.id, row);
      }
      if (row.name.textContent !== user.name) {
        row.name.textContent = user.name;
        row.avatar.replaceWith((row.avatar = avatar(user)));
        row.button.setAttribute("aria-label", `Call ${user.name}`);
      }
      if (row.li.dataset.status !== user.status) {
        row.li.dataset.status = user.status;
        row.status.className = `vc-presence vc-${user.status}`;
        row.status.textContent = STATUS_WORDS[user.status] ?? user.status;
      }
      const at = previous ? previous.nextSibling : list.firstChild;
      if (at !== row.li) list.insertBefore(row.li, at);
      previous = row.li;
    }
    empty.hidden = users.length > 0;
    this._renderCallButtons();
    this._renderAddList();
  }

  _presenceRow(userId) {
    const button = h(
      "button",
      { type: "button", class: "vc-btn vc-call", "data-testid": "videochat-call", part: "button call" },
      "Call",
    );
    button.addEventListener("click", () => this.call(userId));
    const name = h("span", { class: "vc-name" });
    const status = h("span", { class: "vc-presence" });
    const placeholder = h("span");
    const li = h(
      "li",
      { class: "vc-user", "data-testid": "videochat-user", "data-user-id": userId, part: "user" },
      placeholder,
      h("span", { class: "vc-user-text" }, name, status),
      button,
    );
    return { li, button, name, status, avatar: placeholder };
  }

  /** The people who can be added to your call or room: online, available, not in it. */
  _renderAddList() {
    const { addList, addEmpty, addPanel } = this._ui;
    if (addPanel.hidden) return;
    const inRoom = this._room?.members ?? new Map();
    const candidates = [...(this._controller?.users.values() ?? [])].filter(
      (u) => u.status === "available" && !inRoom.has(u.id),
    ).sort((a, b) => a.name.localeCompare(b.name));
    addList.replaceChildren(
      ...candidates.map((user) => {
        const button = h("button", { type: "button", class: "vc-btn vc-call", "data-testid": "videochat-invite", "aria-label": `Add ${user.name}`, part: "button invite" }, "Add");
        button.addEventListener("click", () => this.invite(user.id));
        return h("li", { class: "vc-user", "data-user-id": user.id, part: "user" }, avatar(user), h("span", { class: "vc-user-text" }, h("span", { class: "vc-name" }, user.name)), button);
      }),
    );
    addEmpty.hidden = candidates.length > 0;
  }

  _render() {
    const c = this._controller;
    const r = this._room;
    const { ui } = this;
    const callState = c?.state ?? "idle";
    const roomState = r?.state ?? "idle";
    const inRoom = roomState !== "idle";
    const invite = !inRoom && callState === "idle" ? r?.invite ?? null : null;
    const peer = c?.current?.peer ?? null;
    const name = peer?.name ?? "";

    // Incoming: a 1:1 call, or an invitation into a room.
    const ringing = callState === "incoming" || invite !== null;
    ui.incoming.hidden = !ringing;
    const caller = callState === "incoming" ? peer : invite?.from ?? null;
    this._ring(ringing, caller?.name ?? "");
    if (ringing) {
      ui.incomingName.textContent = caller.name;
      ui.incomingWhat.textContent = invite
        ? ` invites you to a call with ${invite.members} ${invite.members === 1 ? "person" : "people"}…`
        : " is calling…";
      ui.incomingAvatar.replaceWith((ui.incomingAvatar = avatar(caller, "vc-large")));
    }

    // The 1:1 stage.
    const staged = !inRoom && (callState !== "idle" || invite !== null);
    ui.stage.hidden = !staged;
    ui.stage.dataset.state = invite ? "incoming" : callState;
    ui.hangup.hidden = inRoom || callState === "idle" || callState === "incoming";
    ui.leave.hidden = !inRoom;
    ui.add.hidden = !(inRoom ? roomState === "joined" : callState === "in-call");
    if (ui.add.hidden) ui.addPanel.hidden = true;
    // The remote <video> stays (it plays the audio); the avatar covers it when the
    // other person sends no video, or says their camera is off (no frozen frame).
    const peerMedia = c?.peerMedia ?? { mic: true, cam: true, screen: false };
    const remoteVideo = c?.remoteStream?.getVideoTracks().length > 0;
    const showingVideo = callState === "in-call" && Boolean(ui.remoteSlot.firstChild) && remoteVideo && peerMedia.cam;
    const cameraOffWords = callState === "in-call" && !peerMedia.cam ? [h("span", { class: "vc-camera-off", "data-testid": "videochat-camera-off" }, "Camera off")] : [];
    ui.placeholder.replaceChildren(...(peer ? [avatar(peer, "vc-large"), h("span", {}, name), ...cameraOffWords] : []));
    ui.placeholder.hidden = showingVideo;
    ui.stage.dataset.peerMic = String(peerMedia.mic);
    ui.stage.dataset.peerCam = String(peerMedia.cam);
    ui.stage.dataset.peerScreen = String(Boolean(peerMedia.screen));
    ui.peerNameText.textContent = peerMedia.screen ? `${name} (presenting)` : name;
    ui.peerMuted.hidden = peerMedia.mic || callState !== "in-call";
    ui.peerName.hidden = !showingVideo && ui.peerMuted.hidden;
    ui.previewLabel.hidden = !ringing;

    // Room mode: the lobby before joining; the room once joining.
    const lobby = this._roomMode && !inRoom && callState === "idle" && invite === null;
    ui.lobby.hidden = !lobby;
    ui.lobbyTitle.textContent = this.getAttribute("room") ?? "";
    ui.join.disabled = !c?.self;
    this._roomView.root.hidden = !inRoom;
    this._roomView.setRoom(roomTitle(r?.room));

    // Your preview, the controls and the chat live in whichever view is shown.
    if (inRoom) this._place(ui.selfSlot, this._roomView.selfTile);
    else if (lobby) this._place(ui.selfSlot, ui.lobbyStage);
    else this._place(ui.selfSlot, ui.stage, ui.previewLabel);
    if (inRoom) this._place(ui.controls, this._roomView.controlsSlot);
    else this._place(ui.controls, ui.stage);
    const chatting = roomState === "joined" || callState === "in-call" || callState === "connecting";
    this._chat.root.hidden = !chatting;
    if (inRoom) this._place(this._chat.root, this._roomView.side);
    else this._place(this._chat.root, ui.body, ui.onlineHeading);

    // The device check: before joining or answering (with "send no camera / no
    // microphone"), and from the Devices control during a call.
    const beforeJoining = lobby || ringing;
    const inSession = roomState === "joined" || callState === "in-call" || callState === "connecting";
    if (!inSession) this._devicesOpen = false;
    const showDevices = beforeJoining || (inSession && this._devicesOpen);
    ui.devicesButton.hidden = !inSession;
    ui.devicesButton.setAttribute("aria-expanded", String(showDevices && inSession));
    if (lobby) this._place(this._devices.root, ui.lobby, ui.join);
    else if (inRoom) this._place(this._devices.root, this._roomView.side, this._chat.root);
    else this._place(this._devices.root, ui.body, ui.status);
    if (showDevices && (this._devices.root.hidden || this._devicesMode !== beforeJoining)) {
      this._devicesMode = beforeJoining;
      this._devices.root.hidden = false;
      this._devices.show(this._media()?.localStream ?? null, { beforeJoining });
    } else if (!showDevices && !this._devices.root.hidden) {
      this._devices.root.hidden = true;
      this._devices.hide();
    }
    ui.screen.hidden = !inSession;
    if (inSession) this._qualityMonitor.start();
    else {
      this._qualityMonitor.stop();
      this._ui.quality.hidden = true;
    }

    const others = [...(r?.members.values() ?? [])].map((m) => m.name);
    const words = {
      idle: this._lastMessage || (this._roomMode ? "Ready to join? Check your camera, then join." : "Ready. Pick someone to call."),
      calling: `Calling ${name}…`,
      ringing: `Ringing ${name}…`,
      incoming: `${name} is calling…`,
      connecting: `Connecting to ${name}…`,
      "in-call": `In call with ${name}`,
      joining: `Joining ${roomTitle(r?.room)}…`,
      "in-room": others.length ? `In ${roomTitle(r?.room)} with ${listWords(others)}` : `Waiting for others to join ${roomTitle(r?.room)}…`,
    };
    const state = this.state;
    let status = words[state] ?? "";
    if (invite) status = `${invite.from.name} invites you to a call…`;
    if (inRoom && this._roomNote) status += ` · ${this._roomNote}`;
    ui.status.textContent = status;
    if (state !== "idle") this._lastMessage = "";
    if (state === "calling" || state === "incoming" || state === "joining") this._hideError();
    this._renderCallButtons();
    this._renderControls();
  }

  /** Move `node` into `parent` (before `before`) unless it is there already. A
   * playing video moved synchronously keeps playing. */
  _place(node, parent, before = null) {
    if (node.parentNode === parent && (before === null || node.nextSibling === before)) return;
    parent.insertBefore(node, before);
  }

  _renderRoom() {
    const r = this._room;
    if (!r || r.state === "idle") return;
    this._roomView.setMembers([...r.members.values()], {
      self: this._controller?.self ?? null,
      mic: !r.microphoneMuted,
      cam: !r.cameraOff,
    });
    this._renderAddList();
  }

  /** Ring (sound, and the page title for a background tab) while a call comes in. */
  _ring(on, name = "") {
    if (on) {
      this._ringtone.start();
      if (this._pageTitle === null) this._pageTitle = document.title;
      document.title = `${name} is calling…`;
    } else {
      this._ringtone.stop();
      if (this._pageTitle !== null) document.title = this._pageTitle;
      this._pageTitle = null;
    }
  }

  get ui() {
    return this._ui;
  }

  _renderControls() {
    const m = this._media();
    const { mute, camera } = this._ui;
    const muted = m?.microphoneMuted ?? false;
    const off = m?.cameraOff ?? false;
    mute.setAttribute("aria-pressed", String(muted));
    mute.setAttribute("aria-label", muted ? "Unmute microphone" : "Mute microphone");
    mute.textContent = muted ? "Unmute" : "Mute";
    const hasMicrophone = Boolean(m?.localStream?.getAudioTracks().length);
    const hasCamera = Boolean(m?.localStream?.getVideoTracks().length);
    camera.setAttribute("aria-pressed", String(off));
    camera.setAttribute("aria-label", off ? "Turn camera on" : "Turn camera off");
    camera.textContent = !hasCamera ? "No camera" : off ? "Camera on" : "Camera off";
    if (!hasMicrophone) mute.textContent = "No mic";
    mute.disabled = !hasMicrophone;
    camera.disabled = !hasCamera;
    const sharing = Boolean(m?.sharing);
    this._ui.screen.setAttribute("aria-pressed", String(sharing));
    this._ui.screen.setAttribute("aria-label", sharing ? "Stop sharing your screen" : "Share your screen");
    this._ui.screen.textContent = sharing ? "Stop sharing" : "Share";
    this._ui.selfSlot.classList.toggle("vc-sharing", sharing);
    if (sharing) camera.disabled = true;
    // No frozen or black preview: once the camera has been asked for, say it is off.
    const showOff = this._mediaSettled && off;
    this._ui.local.hidden = showOff;
    this._ui.localOff.hidden = !showOff;
  }

  _showLocal(stream) {
    this._mediaSettled = true;
    this._ui.local.srcObject = stream;
    // The device check lists and meters what is sent now.
    if (!this._devices.root.hidden) this._devices.show(stream, { beforeJoining: this._devicesMode });
    this._renderControls();
    this._renderRoom();
  }

  /** The person changed what to send before joining or answering: open the
   * preview again with the new choice. */
  async _reopenPreview() {
    const c = this._controller;
    if (c?.state === "incoming") await c.reopenPreview();
    else if (this._room && this._room.state === "idle") {
      this._room.releasePreview();
      await this._room.preview();
    }
    this._renderControls();
  }

  /** The peer connections to rate, with whether a camera's frame rate counts (a
   * shared screen sends few frames by design; a camera that is off sends none). */
  _qualityPeers() {
    if (this._room?.state === "joined") {
      return [...this._room.peers].map(([id, peer]) => {
        const m = this._room.members.get(id) ?? { cam: true };
        return [id, peer, { video: m.cam && !m.screen }];
      });
    }
    const c = this._controller;
    if (!c?._peer || !c.current) return [];
    return [[c.current.peer.id, c._peer, { video: c.peerMedia.cam && !c.peerMedia.screen }]];
  }

  _showRemote({ stream, peerId }) {
    let video = this._ui.remoteSlot.querySelector("video");
    if (!video) {
      video = h("video", { class: "vc-remote-video", "data-testid": "videochat-remote-video", autoplay: true, playsinline: true, part: "remote-video" });
      this._ui.remoteSlot.append(video);
    }
    video.dataset.userId = peerId;
    if (video.srcObject !== stream) video.srcObject = stream;
    video.play().catch(() => {});
    applySpeaker(video, this._speaker);
    this._render();
  }

  _removeRemote() {
    for (const video of this._ui.remoteSlot.querySelectorAll("video")) {
      video.srcObject = null;
      video.remove();
    }
  }

  _showChat({ message }) {
    this._chat.add(message, { mine: message.from.id === this._controller?.self?.id });
    this._fire("chat", { message });
  }

  _showError({ code, message, retryAfter = null, event = null }) {
    const { error } = this._ui;
    const limited = code === "ERR_RATE_LIMITED" && typeof retryAfter === "number";
    error.textContent = limited ? rateLimitedMessage(event, retryAfter) : message;
    error.dataset.code = code;
    error.hidden = false;
    if (limited) this._coolDown(event, retryAfter);
    this._fire("error", { code, message, retryAfter, event });
  }

  _hideError() {
    this._ui.error.hidden = true;
    this._ui.error.textContent = "";
  }

  /**
   * A request was refused for its rate limit: count down to when it may be sent
   * again, in the error's words and, for calling, on the Call buttons (which say
   * "Call in 40 s" meanwhile rather than looking dead), then clear both.
   */
  _coolDown(event, seconds) {
    const until = performance.now() + seconds * 1000;
    const { error } = this._ui;
    // The words of this refusal, until it expires or another message replaces them.
    clearInterval(this._errorTimer);
    const words = () => {
      const left = (until - performance.now()) / 1000;
      if (error.hidden || error.dataset.code !== "ERR_RATE_LIMITED") clearInterval(this._errorTimer);
      else if (left <= 0) {
        clearInterval(this._errorTimer);
        this._hideError();
      } else error.textContent = rateLimitedMessage(event, left);
    };
    this._errorTimer = setInterval(words, 1000);
    if (!CALLING_EVENTS.has(event)) return;
    // The Call buttons, on their own timer: another refusal does not stop it.
    this._callsAllowedAt = Math.max(this._callsAllowedAt ?? 0, until);
    clearInterval(this._callTimer);
    this._callTimer = setInterval(() => {
      if (this._callWait() === 0) clearInterval(this._callTimer);
      this._renderCallButtons();
    }, 1000);
    this._renderCallButtons();
  }

  /** Seconds until calling is allowed again after a refusal for its rate limit (0: now). */
  _callWait() {
    return Math.max(0, Math.ceil(((this._callsAllowedAt ?? 0) - performance.now()) / 1000));
  }

  /** Enable each Call button of the online list, or say how long to wait. */
  _renderCallButtons() {
    const wait = this._callWait();
    for (const b of this._ui.list.querySelectorAll("button")) {
      const presence = b.closest("li")?.dataset.status;
      b.disabled = this.state !== "idle" || presence !== "available" || wait > 0;
      const text = wait > 0 ? `Call in ${wait} s` : "Call";
      if (b.textContent !== text) b.textContent = text;
      b.title = wait > 0 ? `You can call again in ${waitWords(wait)}.` : "";
    }
  }
}

/** Play `video`'s audio on the chosen output, where the browser allows it. */
async function applySpeaker(video, deviceId) {
  if (!deviceId || typeof video.setSinkId !== "function") return !deviceId;
  try {
    await video.setSinkId(deviceId);
    return true;
  } catch {
    return false;
  }
}

/** Show a quality rating on an indicator (three bars, the figures in its title). */
function showQuality(el, peerId, rating) {
  const words = qualityWords(rating);
  el.hidden = false;
  el.dataset.userId = peerId;
  el.dataset.level = rating.level;
  el.title = words;
  el.setAttribute("aria-label", words);
}
