/**
 * One connection's worth of the widget: the signaling connection, the call and
 * room controllers, and what the widget remembers besides them (the last message,
 * a note on the room, the device check's and add panel's toggles, a hold on
 * calling). Their events update that state, render it (view.js computes what to
 * show, widget-ui.js shows it) and are forwarded as the element's `videochat-*`
 * events. The element starts a new session whenever it (re)connects, so nothing of
 * an old connection's state survives into the next.
 * @module session
 */

import { CallController } from "./call.js";
import { CALLING_EVENTS, ERR_UNAUTHENTICATED } from "./errors.js";
import { QualityMonitor } from "./quality.js";
import { RingNotice } from "./ring.js";
import { Ringtone } from "./ringtone.js";
import { RoomController } from "./room.js";
import { Signaling } from "./signaling.js";
import { SpeakerWatch } from "./speaker.js";
import { stateOf, widgetView } from "./view.js";
import { t } from "./i18n.js";
import { endMessage, inviteEndedNote, leftMessage, missedInvitation, ringingNote } from "./words.js";

/** Milliseconds between two updates of the Call buttons while calling is held back. */
export const CALL_WAIT_INTERVAL_MS = 1000;

/** The parts of a full render (see {@link WidgetUI#show}). */
const ALL_PARTS = ["header", "layout", "controls", "presence"];

/** One connection of a `<video-chat>` element (or its sign-in message). */
export class Session {
  /**
   * @param {object} options
   * @param {HTMLElement} options.host  the element, whose attributes are read
   * @param {import("./widget-ui.js").WidgetUI} options.ui
   * @param {(name: string, detail: object) => void} options.fire  dispatches `videochat-<name>`
   */
  constructor({ host, ui, fire }) {
    this.host = host;
    this.ui = ui;
    this.fire = fire;
    /** @type {Signaling|null} */
    this.signaling = null;
    /** @type {CallController|null} */
    this.controller = null;
    /** @type {RoomController|null} */
    this.room = null;
    this.signedOut = host.hasAttribute("signed-out");
    this._connection = "connecting";
    this._reconnecting = false;
    this._lastMessage = "";
    this._roomNote = "";
    this._mediaSettled = false;
    this._devicesOpen = false;
    this._addOpen = false;
    this._callsAllowedAt = 0;
    this._callTimer = null;
    this._peerMediaSeen = new Map();
    this._ringtone = new Ringtone();
    /** The room's layout: chosen, pinned, who speaks and who spoke last (view.js, `roomLayout`). */
    this._roomLayout = { layout: "grid", pinned: null, speaker: null, recentSpeaker: null };
    /** Tells who speaks in the room, from the audio levels. */
    this.speakers = new SpeakerWatch({
      sample: () => this.room?.audioEnergy() ?? Promise.resolve({}),
      onChange: (id) => {
        const self = this.controller?.self?.id;
        this._roomLayout = { ...this._roomLayout, speaker: id };
        if (id !== null && id !== self) this._roomLayout.recentSpeaker = id;
        this.render("members");
      },
    });
    /** The ring's system notification while the tab is hidden. */
    this._ringNotice = new RingNotice();
    /** Rates every peer connection while in a call or room. */
    this.quality = new QualityMonitor({
      peers: () => (this.room?.state === "joined" ? this.room.ratedPeers() : this.controller?.ratedPeers() ?? []),
      onRating: (id, rating, changed) => {
        if (this.room?.state === "joined") ui.room.showQuality(id, rating);
        else ui.stage.showQuality(id, rating);
        if (changed) fire("quality", { peerId: id, ...rating });
      },
    });
    if (!this.signedOut) this._connect();
    this.render();
  }

  /** The controller whose microphone and camera the controls act on. */
  media() {
    const r = this.room;
    const callIdle = this.controller?.state === "idle";
    if (r && (r.state !== "idle" || (callIdle && (this._roomMode || r.invite)))) return r;
    return this.controller;
  }

  /**
   * Ring someone into your room, or turn your 1:1 call into a room with them; the
   * status says you ring them (or that they are busy).
   * @param {string} userId
   */
  invite(userId) {
    this._addOpen = false;
    this.render("controls");
    const name = this.controller?.users.get(userId)?.name ?? userId;
    const done = (result) => {
      if (!result) return;
      this._roomNote = ringingNote(name, result);
      this.render();
    };
    if (this.room?.state === "joined") return this.room.inviteUser(userId).then(done);
    return this.controller?.addParticipant(userId).then(done);
  }

  /**
   * Change the room's layout.
   * @param {{layout?: "grid"|"speaker", pinned?: string|null}} change  the layout chosen; whom to pin (null: nobody)
   */
  setRoomLayout(change) {
    this._roomLayout = { ...this._roomLayout, ...change };
    this.render("members");
  }

  /** Pin this person (their tile is big), or unpin them if they are pinned. @param {string} userId */
  togglePin(userId) {
    this.setRoomLayout({ pinned: this._roomLayout.pinned === userId ? null : userId });
  }

  /** Open or close the device check during a call. */
  toggleDevices() {
    this._devicesOpen = !this._devicesOpen;
    this.render();
  }

  /** Open or close the panel of people to add. */
  toggleAdd() {
    this._addOpen = !this._addOpen;
    this.render("controls");
  }

  /**
   * The `room` attribute changed from `old`: leave the room it named (if you are in
   * it, joining it or about to rejoin it) and show the new room's lobby with its
   * preview, or the online list when there is no room any more.
   * @param {string|null} old
   */
  switchRoom(old) {
    const r = this.room;
    if (r) {
      if (old !== null && r.target === old) r.leave();
      if (this._roomMode && r.state === "idle") r.preview();
      else if (!this._roomMode && r.state === "idle" && !r.invite) {
        r.releasePreview();
        if (this.controller.state !== "idle") this.showLocal(this.controller.localStream);
      }
    }
    this._lastMessage = "";
    this.render();
  }

  /** The person changed what to send before joining or answering: open the
   * preview again with the new choice. */
  async reopenPreview() {
    const c = this.controller;
    if (c?.state === "incoming") await c.reopenPreview();
    else if (this.room && this.room.state === "idle") {
      this.room.releasePreview();
      await this.room.preview();
    }
    this.render("controls");
  }

  /** Close the connection (a call or room in progress ends) and empty the UI. Idempotent. */
  destroy() {
    clearInterval(this._callTimer);
    this._ringtone.ring(null);
    this._ringNotice.destroy();
    this.quality.stop();
    this.speakers.stop();
    this.controller?.destroy();
    this.room?.destroy();
    this.signaling?.destroy();
    this.controller = this.room = this.signaling = null;
    this.ui.clear();
  }

  // -- wiring ---------------------------------------------------------------

  _connect() {
    const { host, ui, fire } = this;
    const s = (this.signaling = new Signaling({
      namespace: host.getAttribute("namespace") || "/videochat",
      path: host.getAttribute("socket-path") || "/socket.io",
    }));
    const c = (this.controller = new CallController(s));
    const r = (this.room = new RoomController(s));
    s.addEventListener("disconnect", () => {
      this._connection = "offline";
      this._reconnecting = true; // said while idle, until something else is
      this._renderConnection();
      this._reconnecting = false;
      fire("connection", { online: false });
    });
    s.addEventListener("connect", () => {
      this._connection = "online";
      this._renderConnection();
      fire("connection", { online: true });
    });
    s.addEventListener("refused", (e) => {
      if (e.detail.code !== ERR_UNAUTHENTICATED) return;
      this.signedOut = true;
      this.render();
    });
    s.addEventListener("hello", (e) => {
      ui.chat.input.maxLength = e.detail.limits?.chat ?? ui.chat.input.maxLength;
    });
    c.addEventListener("ready", (e) => {
      this._connection = "online";
      this._renderConnection();
      if (this._roomMode && r.state === "idle") r.preview();
      fire("ready", e.detail);
    });
    c.addEventListener("presence", (e) => {
      this.render("presence");
      fire("presence", e.detail);
    });
    c.addEventListener("incoming", (e) => fire("incoming", e.detail));
    c.addEventListener("state", (e) => {
      this.render();
      fire("state", e.detail);
    });
    c.addEventListener("remotestream", (e) => {
      ui.stage.showRemote(e.detail.stream, e.detail.peerId, ui.speaker);
      this.render();
    });
    c.addEventListener("peermedia", (e) => {
      this.render();
      fire("peer-media", e.detail);
    });
    c.addEventListener("upgraded", (e) => {
      ui.stage.removeRemote(); // the room's tile plays that stream now
      r.adopt(e.detail);
    });
    c.addEventListener("ended", (e) => {
      this._lastMessage = endMessage(e.detail);
      ui.stage.removeRemote();
      ui.chat.clear();
      this._mediaSettled = false;
      ui.stage.local.srcObject = r.localStream;
      this.render();
      fire("ended", e.detail);
    });
    for (const owner of [c, r]) {
      owner.addEventListener("localstream", (e) => this.showLocal(e.detail.stream));
      owner.addEventListener("chat", (e) => this._showChat(e.detail));
      owner.addEventListener("resumed", (e) => fire("resumed", e.detail));
      owner.addEventListener("error", (e) => this._showError(e.detail));
      owner.addEventListener("media", (e) => {
        this.render("controls", "members");
        fire("media", e.detail);
      });
    }
    this._wireRoom(r);
  }

  _wireRoom(r) {
    const { ui, fire } = this;
    r.addEventListener("state", (e) => {
      if (e.detail.state !== "idle") this._lastMessage = "";
      if (e.detail.state === "joining") ui.chat.clear();
      if (e.detail.state === "joined") this.speakers.start();
      else {
        this.speakers.stop();
        this._roomLayout = { ...this._roomLayout, pinned: null, speaker: null, recentSpeaker: null };
      }
      this.render();
      fire("room-state", e.detail);
    });
    r.addEventListener("members", (e) => {
      this.render("members");
      this.render();
      fire("members", e.detail);
      for (const m of e.detail.members) {
        const key = `${m.mic}/${m.cam}/${m.screen}`;
        if (this._peerMediaSeen.get(m.id) === key) continue;
        this._peerMediaSeen.set(m.id, key);
        fire("peer-media", { peerId: m.id, mic: m.mic, cam: m.cam, screen: Boolean(m.screen) });
      }
    });
    r.addEventListener("memberleft", (e) => {
      ui.room.removeTile(e.detail.id);
      fire("member-left", e.detail);
    });
    r.addEventListener("remotestream", (e) => ui.room.setStream(e.detail.peerId, e.detail.stream, ui.speaker));
    r.addEventListener("peerstate", (e) => ui.room.setConnection(e.detail.peerId, e.detail.connectionState));
    r.addEventListener("peerfailed", (e) => {
      ui.room.setFailed(e.detail.peerId, e.detail.message);
      fire("peer-failed", e.detail);
    });
    r.addEventListener("invite", (e) => {
      this.render();
      fire("invite", e.detail);
    });
    r.addEventListener("inviteended", (e) => this._onInviteEnded(e.detail));
    r.addEventListener("left", (e) => {
      this._lastMessage = leftMessage(e.detail);
      ui.room.clear();
      ui.chat.clear();
      this._roomNote = "";
      this._mediaSettled = false;
      this.render();
      fire("left", e.detail);
      // Back in the lobby: the preview again (not in a tab that gave its seat away).
      if (this._roomMode && e.detail.reason !== "joined_elsewhere") r.preview();
    });
  }

  /** Whether the widget shows one room (the `room` attribute). */
  get _roomMode() {
    return this.host.hasAttribute("room");
  }

  _onInviteEnded({ room, id, reason }) {
    const self = this.controller?.self?.id;
    if (id !== self && room === this.room?.room) {
      this._roomNote = inviteEndedNote(this.controller?.users.get(id)?.name ?? t("end.peer_unknown"), reason);
    } else if (id === self && reason === "no_answer") {
      this._lastMessage = missedInvitation();
    }
    this.render();
  }

  // -- rendering ---------------------------------------------------------------

  /** Everything the view depends on, as plain values (view.js, `WidgetState`). */
  snapshot() {
    const c = this.controller;
    const r = this.room;
    const m = this.media();
    const stream = m?.localStream ?? null;
    return {
      signedOut: this.signedOut,
      signInUrl: this.host.getAttribute("sign-in-url"),
      connection: this._connection,
      reconnecting: this._reconnecting,
      roomAttribute: this.host.getAttribute("room"),
      self: c?.self ?? null,
      users: [...(c?.users.values() ?? [])].sort((a, b) => a.name.localeCompare(b.name)),
      call: c && {
        state: c.state,
        peer: c.current?.peer ?? null,
        peerMedia: c.peerMedia,
        remoteVideo: this.ui.stage.hasRemote && Boolean(c.remoteStream?.getVideoTracks().length),
      },
      room: r && { state: r.state, name: r.room, members: [...r.members.values()], invite: r.invite, mic: !r.microphoneMuted, cam: !r.cameraOff },
      media: {
        muted: m?.microphoneMuted ?? false,
        cameraOff: m?.cameraOff ?? false,
        hasMicrophone: Boolean(stream?.getAudioTracks().length),
        hasCamera: Boolean(stream?.getVideoTracks().length),
        sharing: Boolean(m?.sharing),
        settled: this._mediaSettled,
      },
      lastMessage: this._lastMessage,
      roomNote: this._roomNote,
      devicesOpen: this._devicesOpen,
      addOpen: this._addOpen,
      callWait: this._callWait(),
      roomLayout: this._roomLayout,
    };
  }

  /**
   * Show the view of the state now: some parts of it (see {@link WidgetUI#show}),
   * or all of it with what goes with it (the ring, the device check, the quality
   * monitor, and the state the view says to keep).
   * @param {...string} parts
   */
  render(...parts) {
    const view = widgetView(this.snapshot());
    this.ui.show(view, parts.length ? parts : ALL_PARTS);
    if (parts.length) return;
    this._lastMessage = view.lastMessage;
    this._devicesOpen = view.devices.open;
    this._addOpen = view.add.open;
    this._ringtone.ring(view.ring?.title ?? null);
    this._ringNotice.ring(view.ring?.title ?? null);
    this.ui.showDevices(view.devices, this.media()?.localStream ?? null);
    if (view.quality) this.quality.start();
    else this.quality.stop();
    if (view.clearError) this.ui.error.hide();
  }

  /** The connection came or went: the dot, and the rest only while idle. */
  _renderConnection() {
    if (stateOf(this.snapshot()) === "idle") this.render();
    else this.render("header");
  }

  /** What you send changed (or was asked for): your preview, the device check, the controls. */
  showLocal(stream) {
    this._mediaSettled = true;
    this.ui.stage.local.srcObject = stream;
    this.ui.refreshDevices(stream);
    this.render("controls", "members");
  }

  _showChat({ message }) {
    this.ui.chat.add(message, { mine: message.from.id === this.controller?.self?.id });
    this.fire("chat", { message });
  }

  _showError({ code, message, retryAfter = null, event = null }) {
    if (this.ui.error.show({ code, message, retryAfter, event })) this._holdCalls(event, retryAfter);
    this.fire("error", { code, message, retryAfter, event });
  }

  /**
   * A call was refused for its rate limit: the Call buttons say "Call in 40 s"
   * meanwhile rather than looking dead (on their own timer: another refusal does
   * not stop it).
   */
  _holdCalls(event, seconds) {
    if (!CALLING_EVENTS.has(event)) return;
    this._callsAllowedAt = Math.max(this._callsAllowedAt, performance.now() + seconds * 1000);
    clearInterval(this._callTimer);
    this._callTimer = setInterval(() => {
      if (this._callWait() === 0) clearInterval(this._callTimer);
      this.render("presence");
    }, CALL_WAIT_INTERVAL_MS);
    this.render("presence");
  }

  /** Seconds until calling is allowed again after a refusal for its rate limit (0: now). */
  _callWait() {
    return Math.max(0, Math.ceil((this._callsAllowedAt - performance.now()) / 1000));
  }
}
