/**
 * `<video-chat>`: the widget. An online list with a call button per person, an
 * incoming-call panel, the call stage (remote video, your preview, controls) and
 * the call state in words. Renders only with `textContent`: names are untrusted.
 * @module element
 */

import { CallController } from "./call.js";
import { Ringtone } from "./ringtone.js";
import { Signaling } from "./signaling.js";

/** Words for each presence status. */
export const STATUS_WORDS = { available: "Available", ringing: "On the phone", in_call: "In a call" };

const STYLESHEET = new URL("../css/videochat.css", import.meta.url).href;

/**
 * Create an element with attributes and children (strings become text nodes).
 * @param {string} tag
 * @param {Record<string, string|boolean>} [attrs]
 * @param {...(Node|string)} children
 */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value == null) continue;
    el.setAttribute(name, value === true ? "" : value);
  }
  el.append(...children);
  return el;
}

/** Up to two initials of a name, for the avatar. */
function initials(name) {
  const words = String(name).match(/[\p{L}\p{N}]+/gu) ?? [];
  const letters = words.slice(0, 2).map((w) => [...w][0]);
  return letters.join("").toUpperCase() || "?";
}

/** A stable hue for a person, so their avatar keeps its colour. */
function hue(id) {
  let n = 0;
  for (const ch of String(id)) n = (n * 31 + ch.codePointAt(0)) % 9973;
  return Math.round((n * 137.508) % 360); // golden angle: neighbouring ids far apart
}

function avatar(user, size = "") {
  const el = h("span", { class: `vc-avatar ${size}`, "aria-hidden": "true", part: "avatar" }, initials(user.name));
  el.style.setProperty("--vc-hue", String(hue(user.id)));
  return el;
}

/**
 * The `<video-chat>` custom element.
 *
 * Attributes: `namespace` (Socket.IO namespace URL, default "/videochat"),
 * `socket-path` (default "/socket.io"), `signed-out` (show a sign-in message, do
 * not connect), `sign-in-url`.
 *
 * @fires videochat-ready     detail: {self: {id, name}}
 * @fires videochat-presence  detail: {users: {id, name, status}[]}
 * @fires videochat-incoming  detail: {callId, from: {id, name}}
 * @fires videochat-state     detail: {state, callId, peer}
 * @fires videochat-ended     detail: {callId, reason, peer, byMe}
 * @fires videochat-error     detail: {code, message}
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
    this._signaling = null;
    this._lastMessage = "";
    this._ringtone = new Ringtone();
    this._mediaSettled = false;
    this._pageTitle = null;
    this._build();
  }

  // -- public API ---------------------------------------------------------------

  /** The call state: "idle", "calling", "ringing", "incoming", "connecting" or "in-call". */
  get state() {
    return this._controller?.state ?? "idle";
  }

  /** You, as the server knows you: `{id, name}`, or null before connecting. */
  get currentUser() {
    return this._controller?.self ?? null;
  }

  /** Call a person by user id. @param {string} userId */
  call(userId) {
    return this._controller?.call(String(userId));
  }

  /** Accept the ringing call. */
  accept() {
    return this._controller?.accept();
  }

  /** Decline the ringing call. */
  decline() {
    return this._controller?.decline();
  }

  /** Hang up, or cancel a call still ringing out. */
  hangup() {
    return this._controller?.hangup();
  }

  /** Mute or unmute your microphone. @param {boolean} muted */
  setMicrophoneMuted(muted) {
    this._controller?.setMicrophoneMuted(Boolean(muted));
    this._renderControls();
  }

  /** Turn your camera off or on. @param {boolean} off */
  setCameraOff(off) {
    this._controller?.setCameraOff(Boolean(off));
    this._renderControls();
  }

  /** Counters of the current call (see CallController#getStats). */
  getStats() {
    return this._controller ? this._controller.getStats() : Promise.resolve({ state: "idle" });
  }

  // -- lifecycle -----------------------------------------------------------

  connectedCallback() {
    this._onPageHide = () => this._controller?.abandon();
    window.addEventListener("pagehide", this._onPageHide);
    if (this.hasAttribute("signed-out")) {
      this._showSignedOut();
      return;
    }
    this._connect();
  }

  disconnectedCallback() {
    window.removeEventListener("pagehide", this._onPageHide);
    this._ring(false);
    this._controller?.destroy();
    this._signaling?.destroy();
    this._controller = this._signaling = null;
  }

  // -- wiring ---------------------------------------------------------------

  _connect() {
    this._signaling = new Signaling({
      namespace: this.getAttribute("namespace") || "/videochat",
      path: this.getAttribute("socket-path") || "/socket.io",
    });
    const c = (this._controller = new CallController(this._signaling));
    this._signaling.addEventListener("disconnect", () => this._setConnection(false));
    this._signaling.addEventListener("connect", () => this._setConnection(true));
    this._signaling.addEventListener("refused", (e) => {
      if (e.detail.code === "ERR_UNAUTHENTICATED") this._showSignedOut();
    });
    c.addEventListener("ready", (e) => {
      this._ui.me.textContent = e.detail.self.name;
      this._ui.me.hidden = false;
      this._setConnection(true);
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
    c.addEventListener("localstream", (e) => {
      this._mediaSettled = true;
      this._ui.local.srcObject = e.detail.stream;
      this._renderControls();
    });
    c.addEventListener("remotestream", (e) => this._showRemote(e.detail));
    c.addEventListener("ended", (e) => {
      this._lastMessage = endMessage(e.detail);
      this._removeRemote();
      this._mediaSettled = false;
      this._ui.local.srcObject = null;
      this._render();
      this._fire("ended", e.detail);
    });
    c.addEventListener("error", (e) => this._showError(e.detail));
  }

  _fire(name, detail) {
    this.dispatchEvent(new CustomEvent(`videochat-${name}`, { detail, bubbles: true, composed: true }));
  }

  // -- DOM -----------------------------------------------------------------

  _build() {
    const ui = (this._ui = {});
    ui.me = h("span", { class: "vc-me", hidden: true });
    ui.dot = h("span", { class: "vc-dot", title: "Connecting…", "aria-hidden": "true" });
    ui.error = h("p", { class: "vc-error", role: "alert", "data-testid": "videochat-error", part: "error", hidden: true });
    ui.status = h("p", { class: "vc-status", "aria-live": "polite", "data-testid": "videochat-status", part: "status" }, "Connecting…");

    ui.incomingName = h("strong");
    ui.incomingAvatar = h("span");
    ui.accept = h("button", { type: "button", class: "vc-btn vc-accept", "data-testid": "videochat-accept", part: "button accept" }, "Accept");
    ui.decline = h("button", { type: "button", class: "vc-btn vc-decline", "data-testid": "videochat-decline", part: "button decline" }, "Decline");
    ui.incoming = h(
      "section",
      { class: "vc-incoming", "data-testid": "videochat-incoming", "aria-label": "Incoming call", part: "incoming", hidden: true },
      ui.incomingAvatar,
      h("p", { class: "vc-incoming-text" }, ui.incomingName, h("span", {}, " is calling…")),
      h("div", { class: "vc-incoming-actions" }, ui.decline, ui.accept),
    );

    ui.remoteSlot = h("div", { class: "vc-remote" });
    ui.placeholder = h("div", { class: "vc-placeholder" });
    ui.local = h("video", { class: "vc-local", "data-testid": "videochat-local-video", autoplay: true, playsinline: true, part: "local-video" });
    ui.local.muted = true;
    ui.localOff = h("span", { class: "vc-local vc-local-off", "aria-hidden": "true" }, "Camera off");
    ui.mute = h("button", { type: "button", class: "vc-btn vc-round", "data-testid": "videochat-mute", "aria-pressed": "false", "aria-label": "Mute microphone", part: "button mute" }, "Mic");
    ui.camera = h("button", { type: "button", class: "vc-btn vc-round", "data-testid": "videochat-camera", "aria-pressed": "false", "aria-label": "Turn camera off", part: "button camera" }, "Cam");
    ui.hangup = h("button", { type: "button", class: "vc-btn vc-hangup", "data-testid": "videochat-hangup", "aria-label": "Hang up", part: "button hangup", hidden: true }, "Hang up");
    ui.peerName = h("span", { class: "vc-peer-name", part: "peer-name" });
    ui.previewLabel = h("span", { class: "vc-preview-label" }, "Your camera");
    ui.stage = h(
      "section",
      { class: "vc-stage", "aria-label": "Call", part: "stage", hidden: true },
      ui.remoteSlot,
      ui.placeholder,
      ui.peerName,
      ui.local,
      ui.localOff,
      ui.previewLabel,
      h("div", { class: "vc-controls" }, ui.mute, ui.camera, ui.hangup),
    );

    ui.list = h("ul", { class: "vc-list", "data-testid": "videochat-presence", "aria-label": "People online", part: "presence" });
    ui.empty = h("p", { class: "vc-empty" }, "Nobody else is online right now.");
    ui.signin = h("div", { class: "vc-signin", hidden: true });

    ui.accept.addEventListener("click", () => this.accept());
    ui.decline.addEventListener("click", () => this.decline());
    ui.hangup.addEventListener("click", () => this.hangup());
    ui.mute.addEventListener("click", () => this.setMicrophoneMuted(!this._controller?.microphoneMuted));
    ui.camera.addEventListener("click", () => this.setCameraOff(!this._controller?.cameraOff));

    ui.body = h("div", { class: "vc-body" }, ui.incoming, ui.stage, ui.status, ui.error, h("h3", { class: "vc-heading" }, "Online now"), ui.list, ui.empty);
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

  _renderPresence(users) {
    const { list, empty } = this._ui;
    const busy = this.state !== "idle";
    list.replaceChildren(
      ...users.map((user) => {
        const button = h(
          "button",
          { type: "button", class: "vc-btn vc-call", "data-testid": "videochat-call", "aria-label": `Call ${user.name}`, part: "button call" },
          "Call",
        );
        button.disabled = busy || user.status !== "available";
        button.addEventListener("click", () => this.call(user.id));
        return h(
          "li",
          { class: "vc-user", "data-testid": "videochat-user", "data-user-id": user.id, "data-status": user.status, part: "user" },
          avatar(user),
          h("span", { class: "vc-user-text" }, h("span", { class: "vc-name" }, user.name), h("span", { class: `vc-presence vc-${user.status}` }, STATUS_WORDS[user.status] ?? user.status)),
          button,
        );
      }),
    );
    empty.hidden = users.length > 0;
  }

  _render() {
    const c = this._controller;
    const { ui } = this;
    const state = this.state;
    const peer = c?.current?.peer ?? null;
    const name = peer?.name ?? "";
    ui.incoming.hidden = state !== "incoming";
    this._ring(state === "incoming", name);
    if (state === "incoming") {
      ui.incomingName.textContent = name;
      ui.incomingAvatar.replaceWith((ui.incomingAvatar = avatar(peer, "vc-large")));
    }
    ui.stage.hidden = state === "idle";
    ui.hangup.hidden = state === "idle" || state === "incoming";
    ui.stage.dataset.state = state;
    ui.placeholder.replaceChildren(...(peer ? [avatar(peer, "vc-large"), h("span", {}, name)] : []));
    // The remote <video> stays (it plays the audio); the avatar covers it when the
    // other person sends no video.
    const remoteVideo = c?.remoteStream?.getVideoTracks().length > 0;
    const showingVideo = state === "in-call" && Boolean(ui.remoteSlot.firstChild) && remoteVideo;
    ui.placeholder.hidden = showingVideo;
    ui.peerName.textContent = name;
    ui.peerName.hidden = !showingVideo;
    ui.previewLabel.hidden = state !== "incoming";
    const words = {
      idle: this._lastMessage || "Ready. Pick someone to call.",
      calling: `Calling ${name}…`,
      ringing: `Ringing ${name}…`,
      incoming: `${name} is calling…`,
      connecting: `Connecting to ${name}…`,
      "in-call": `In call with ${name}`,
    };
    ui.status.textContent = words[state];
    if (state !== "idle") this._lastMessage = "";
    if (state === "calling" || state === "incoming") this._hideError();
    for (const b of ui.list.querySelectorAll("button")) {
      const status = b.closest("li")?.dataset.status;
      b.disabled = state !== "idle" || status !== "available";
    }
    this._renderControls();
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
    const c = this._controller;
    const { mute, camera } = this._ui;
    const muted = c?.microphoneMuted ?? false;
    const off = c?.cameraOff ?? false;
    mute.setAttribute("aria-pressed", String(muted));
    mute.setAttribute("aria-label", muted ? "Unmute microphone" : "Mute microphone");
    mute.textContent = muted ? "Unmute" : "Mute";
    const hasMicrophone = Boolean(c?.localStream?.getAudioTracks().length);
    const hasCamera = Boolean(c?.localStream?.getVideoTracks().length);
    camera.setAttribute("aria-pressed", String(off));
    camera.setAttribute("aria-label", off ? "Turn camera on" : "Turn camera off");
    camera.textContent = !hasCamera ? "No camera" : off ? "Camera on" : "Camera off";
    if (!hasMicrophone) mute.textContent = "No mic";
    mute.disabled = !hasMicrophone;
    camera.disabled = !hasCamera;
    // No frozen or black preview: once the camera has been asked for, say it is off.
    const showOff = this._mediaSettled && off;
    this._ui.local.hidden = showOff;
    this._ui.localOff.hidden = !showOff;
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
    this._render();
  }

  _removeRemote() {
    for (const video of this._ui.remoteSlot.querySelectorAll("video")) {
      video.srcObject = null;
      video.remove();
    }
  }

  _showError({ code, message }) {
    this._ui.error.textContent = message;
    this._ui.error.dataset.code = code;
    this._ui.error.hidden = false;
    this._fire("error", { code, message });
  }

  _hideError() {
    this._ui.error.hidden = true;
    this._ui.error.textContent = "";
  }
}

/**
 * The words shown when a call ends.
 * @param {{reason: string, peer: {name: string}|null, byMe: boolean, outgoing: boolean}} ended
 */
export function endMessage({ reason, peer, byMe, outgoing }) {
  const name = peer?.name ?? "The other person";
  switch (reason) {
    case "declined": // on the callee's side: declined in another tab
      return outgoing ? `${name} declined the call.` : "You declined the call.";
    case "declined-by-me":
      return "You declined the call.";
    case "busy":
      return `${name} is busy.`;
    case "no_answer":
      return outgoing ? `${name} did not answer.` : `Missed call from ${name}.`;
    case "cancelled":
      return outgoing ? "Call cancelled." : `${name} cancelled the call.`;
    case "cancelled-by-me":
      return "Call cancelled.";
    case "hangup":
      return byMe ? "Call ended." : `Call ended: ${name} hung up.`;
    case "peer_disconnected":
      return `${name} lost the connection. Call ended.`;
    case "answered_elsewhere":
      return "Answered in another tab.";
    case "failed":
      return "The call could not be made.";
    default:
      return "Call ended.";
  }
}
