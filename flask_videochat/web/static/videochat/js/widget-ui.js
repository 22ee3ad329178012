/**
 * The widget's shadow DOM: the header, the status line, the error alert, the
 * sign-in message, and the parts (incoming panel, stage, controls, lobby, room,
 * add panel, device check, chat, online list) laid out in one body. Shows a view
 * ({@link module:view}) by handing each part its piece and moving the shared pieces
 * (your preview, the controls, the chat, the device check) to where they belong.
 * Built with `textContent` only: names are untrusted.
 * @module widget-ui
 */

import { CallStage, Controls } from "./call-stage.js";
import { ChatView } from "./chat-view.js";
import { DeviceCheck } from "./device-check.js";
import { h, place } from "./dom.js";
import { ICON_STYLESHEET } from "./icons.js";
import { applySpeaker } from "./media.js";
import { ERR_RATE_LIMITED, rateLimitedMessage } from "./errors.js";
import { AddPanel, PresenceList } from "./presence-view.js";
import { IncomingPanel } from "./ring.js";
import { t } from "./i18n.js";
import { Lobby, RoomView } from "./room-view.js";
import { StageSize } from "./stage-size.js";

const STYLESHEET = new URL("../css/videochat.css", import.meta.url).href;

/** Milliseconds between two updates of a countdown in the error alert. */
export const COUNTDOWN_INTERVAL_MS = 1000;

/** The error alert: an error's words and code; a rate limit's counts down. */
export class ErrorAlert {
  constructor() {
    this.root = h("p", { class: "vc-error", role: "alert", "data-testid": "videochat-error", part: "error", hidden: true });
    this._timer = null;
  }

  /**
   * Show an error. One refused for its rate limit says when it may be done again,
   * counting down, and goes away when it may.
   * @param {{code: string, message: string, retryAfter?: number|null, event?: string|null}} error
   * @returns {boolean} whether it is a rate limit with a wait
   */
  show({ code, message, retryAfter = null, event = null }) {
    const limited = code === ERR_RATE_LIMITED && typeof retryAfter === "number";
    this.root.textContent = limited ? rateLimitedMessage(event, retryAfter) : message;
    this.root.dataset.code = code;
    this.root.hidden = false;
    if (limited) this._countDown(event, performance.now() + retryAfter * 1000);
    return limited;
  }

  /** Hide the alert. */
  hide() {
    this.root.hidden = true;
    this.root.textContent = "";
  }

  /** Stop counting down. Idempotent. */
  stop() {
    clearInterval(this._timer);
  }

  /** The words of this refusal, until it expires or another message replaces them. */
  _countDown(event, until) {
    this.stop();
    this._timer = setInterval(() => {
      const left = (until - performance.now()) / 1000;
      if (this.root.hidden || this.root.dataset.code !== ERR_RATE_LIMITED) this.stop();
      else if (left <= 0) {
        this.stop();
        this.hide();
      } else this.root.textContent = rateLimitedMessage(event, left);
    }, COUNTDOWN_INTERVAL_MS);
  }
}

/** The widget's DOM. */
export class WidgetUI {
  /**
   * @param {ShadowRoot} shadowRoot
   * @param {object} on  what the person's clicks do: `accept`, `decline`, `hangup`,
   *   `leave`, `join`, `call(userId)`, `invite(userId)`, `mute`, `camera`, `screen`,
   *   `devices`, `add`, `send(text)`, `selectDevices(devices)`, `speaker(deviceId)`, `reopenPreview`,
   *   `layout("grid"|"speaker")`, `pin(userId)` (pin, or unpin whom you pinned)
   */
  constructor(shadowRoot, on) {
    /** The audio output (device id) the others play on; null: the default. */
    this.speaker = null;
    this.me = h("span", { class: "vc-me", hidden: true });
    this.dot = h("span", { class: "vc-dot", title: t("state.connecting_server"), "aria-hidden": "true" });
    this.status = h("p", { class: "vc-status", "aria-live": "polite", "data-testid": "videochat-status", part: "status" }, t("state.connecting_server"));
    this.error = new ErrorAlert();
    this.signin = h("div", { class: "vc-signin", hidden: true });
    this.incoming = new IncomingPanel({ onAccept: on.accept, onDecline: on.decline });
    this.stage = new CallStage();
    // A panel outside the enlarged call (the device check, the add panel) opens
    // where it is: the call goes back to its place first.
    const shown = (panel, open) => () => {
      if (this.size.enlarged && !this.size.target?.contains(panel().root)) this.size.setEnlarged(false);
      open();
    };
    this.controls = new Controls({
      onMute: on.mute, onCamera: on.camera, onScreen: on.screen,
      onDevices: shown(() => this.devices, on.devices), onAdd: shown(() => this.add, on.add),
      onHangup: on.hangup, onLeave: on.leave,
    });
    this.lobby = new Lobby({ onJoin: on.join });
    this.room = new RoomView({ onLayout: on.layout, onPin: on.pin });
    this.add = new AddPanel({ onInvite: on.invite });
    this.devices = new DeviceCheck({ onSelect: on.selectDevices, onSpeaker: on.speaker, onUse: on.reopenPreview });
    this.devices.root.hidden = true;
    /** Whether the device check shows "send no camera / no microphone" (before joining). */
    this.devicesBeforeJoining = null;
    this.chat = new ChatView({ send: on.send });
    this.presence = new PresenceList({ onCall: on.call });
    /** Enlarge, full screen, picture-in-picture: on the stage, or the room. */
    this.size = new StageSize();
    this.body = h(
      "div",
      { class: "vc-body" },
      this.incoming.root,
      this.lobby.root,
      this.stage.root,
      this.room.root,
      this.add.root,
      this.devices.root,
      this.status,
      this.error.root,
      this.chat.root,
      this.presence.heading,
      this.presence.list,
      this.presence.empty,
    );
    shadowRoot.append(
      h("link", { rel: "stylesheet", href: STYLESHEET }),
      h("link", { rel: "stylesheet", href: ICON_STYLESHEET }),
      h(
        "div",
        { class: "vc", part: "container" },
        h("header", { class: "vc-head" }, h("span", { class: "vc-title" }, t("widget.title")), this.dot, this.me),
        this.signin,
        this.body,
      ),
    );
  }

  /**
   * Show a view, or some parts of it: "header", "layout" (what is shown where, the
   * status), "controls" (with your preview), "presence" (the online list),
   * "members" (the room's tiles and participants). The add panel goes with
   * "controls", "presence" and "members".
   * @param {ReturnType<typeof import("./view.js").widgetView>} view
   * @param {Iterable<string>} parts
   */
  show(view, parts) {
    const want = new Set(parts);
    if (want.has("header")) this._showHeader(view);
    if (want.has("layout")) this._showLayout(view);
    if (want.has("controls")) {
      this.controls.show(view.controls);
      this.stage.showSelf(view.controls);
    }
    if (want.has("presence")) this.presence.show(view.presence);
    if (want.has("members") && view.room.shown) {
      this.room.setMembers(view.room.members, view.room.me);
      this.room.showLayout(view.room.layout);
    }
    if (want.has("controls") || want.has("presence") || want.has("members")) this.add.show(view.add);
  }

  /**
   * Open the device check (listing and metering `stream`) or close it, as the view says.
   * @param {{shown: boolean, beforeJoining: boolean}} view  the view's `devices`
   * @param {MediaStream|null} stream  what you send now
   */
  showDevices({ shown, beforeJoining }, stream) {
    const { root } = this.devices;
    if (shown && (root.hidden || this.devicesBeforeJoining !== beforeJoining)) {
      this.devicesBeforeJoining = beforeJoining;
      root.hidden = false;
      this.devices.show(stream, { beforeJoining });
    } else if (!shown && !root.hidden) {
      root.hidden = true;
      this.devices.hide();
    }
  }

  /**
   * Play the others on this audio output, now and from now on.
   * @param {string} deviceId
   * @returns {Promise<boolean>} whether the browser took it for every video
   */
  async setSpeaker(deviceId) {
    this.speaker = deviceId;
    const videos = [...this.body.querySelectorAll('video[data-testid="videochat-remote-video"]')];
    const results = await Promise.all(videos.map((v) => applySpeaker(v, deviceId)));
    return results.every(Boolean);
  }

  /** What you send changed: the device check, when open, lists and meters it. @param {MediaStream|null} stream */
  refreshDevices(stream) {
    if (!this.devices.root.hidden) this.devices.show(stream, { beforeJoining: this.devicesBeforeJoining });
  }

  /** Empty every list and video (the connection was closed). */
  clear() {
    this.incoming.show(null);
    this.size.show({ target: null });
    this.error.stop();
    this.error.hide();
    this.stage.removeRemote();
    this.stage.local.srcObject = null;
    this.room.clear();
    this.chat.clear();
    this.presence.clear();
    this.devices.root.hidden = true;
    this.devices.hide();
  }

  _showHeader({ header }) {
    this.me.textContent = header.me ?? "";
    this.me.hidden = header.me === null;
    this.dot.classList.toggle("vc-online", header.online);
    this.dot.title = header.title;
  }

  /** The size buttons: at the stage's top right, or at the end of the room's heading. */
  _showSize({ size, signedOut }) {
    const inRoom = size?.target === "room";
    const target = !size || signedOut ? null : inRoom ? this.room.root : this.stage.root;
    this.size.show({ target, video: inRoom ? () => null : () => this.stage.remoteSlot.querySelector("video") });
    place(this.size.root, inRoom ? this.room.head : this.stage.root);
  }

  _showLayout(view) {
    this._showSize(view);
    this.status.textContent = view.status;
    this.signin.hidden = view.signedOut === null;
    this.body.hidden = view.signedOut !== null;
    this.dot.hidden = view.signedOut !== null;
    if (view.signedOut) {
      const url = view.signedOut.signInUrl;
      this.signin.replaceChildren(this.status, ...(url ? [h("a", { class: "vc-btn vc-accept", href: url }, t("widget.sign_in"))] : []));
      return;
    }
    place(this.status, this.body, this.error.root);
    this.incoming.show(view.incoming);
    this.stage.show(view.stage);
    this.lobby.show(view.lobby);
    this.room.show(view.room);
    if (!view.quality) this.stage.quality.hidden = true;
    this.chat.root.hidden = !view.chat.shown;
    // Your preview, the controls, the chat and the device check live in whichever view is shown.
    const { selfSlot, previewLabel } = this.stage;
    const stage = this.stage.root;
    if (view.layout === "room") {
      place(selfSlot, this.room.selfTile);
      place(this.controls.root, this.room.controlsSlot);
      place(this.chat.root, this.room.side);
      place(this.devices.root, this.room.side, this.chat.root);
    } else {
      if (view.layout === "lobby") place(selfSlot, this.lobby.stage);
      else place(selfSlot, stage, previewLabel);
      place(this.controls.root, stage);
      place(this.chat.root, this.body, this.presence.heading);
      // In the lobby the device check comes after Join, so Join stays in sight.
      if (view.layout === "lobby") place(this.devices.root, this.lobby.root);
      else place(this.devices.root, this.body, this.status);
    }
    // While a call rings, the rest of the page is inert behind its panel: the device check goes in it.
    if (view.incoming) place(this.devices.root, this.incoming.devicesSlot);
  }
}
