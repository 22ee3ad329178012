/**
 * The client side of calls: presence, the call state, local media and the peer
 * connection, driven by the server's events (docs/protocol.md). No DOM here; the
 * custom element renders what this controller reports.
 * @module call
 */

import { MediaOwner } from "./local-media.js";
import { Peer } from "./peer.js";
import { ERR_ALREADY_IN_CALL, ERR_CALL_NOT_FOUND, ERR_CONNECT_FAILED, ERR_INVALID_STATE, ERROR_WORDS, connectFailedMessage } from "./errors.js";
import { keepInOrder } from "./chat-view.js";

/** The call states, in the order a call goes through them. */
export const STATES = Object.freeze(["idle", "calling", "ringing", "incoming", "connecting", "in-call"]);

/** Milliseconds a ringing tab that reconnected waits to hear the call ring again
 * before it takes the call as ended meanwhile. */
export const RERING_WAIT_MS = 2000;

/** Chat messages kept per call in the browser. */
export const MAX_MESSAGES = 200;

/**
 * @fires CallController#ready        detail: {self: {id, name}}
 * @fires CallController#presence     detail: {users: {id, name, status}[]} (sorted by name, without you)
 * @fires CallController#state        detail: {state, callId, peer: {id, name}|null}
 * @fires CallController#incoming     detail: {callId, from: {id, name}}
 * @fires CallController#localstream  detail: {stream: MediaStream|null}
 * @fires CallController#remotestream detail: {stream: MediaStream, peerId}
 * @fires CallController#ended        detail: {callId, reason, peer, byMe}
 * @fires CallController#chat         detail: {message: {id, from: {id, name}, text, ts}}
 * @fires CallController#upgraded     detail: {room, capacity, members, history, peerId, peer, stream}
 *   (the call became a room: the peer connection and the local stream are handed over, not closed)
 * @fires CallController#peermedia    detail: {peerId, mic, cam, screen}
 * @fires CallController#resumed      detail: {callId} (the call is the server's again after a drop)
 * @fires CallController#error        detail: {code, message}
 */
export class CallController extends MediaOwner {
  static GONE_CODE = ERR_CALL_NOT_FOUND;

  /**
   * @param {import("./signaling.js").Signaling} signaling
   */
  constructor(signaling) {
    super(signaling, "call");
    /** @type {{id: string, name: string}|null} */
    this.self = null;
    /** @type {Map<string, {id: string, name: string, status: string}>} */
    this.users = new Map();
    /** The call of this tab, or null.
     * @type {{id: string|null, peer: {id: string, name: string}, outgoing: boolean}|null} */
    this.current = null;
    this.remoteStream = null;
    /** What the other person sends, as they announced it: {mic, cam, screen}. */
    this.peerMedia = { mic: true, cam: true, screen: false };
    /** The revision of `peerMedia`, or null before the first announcement. */
    this._peerMediaRev = null;
    this._peer = null;
    this._cancelRequested = false;
    this._earlySignals = [];
    /** Chat messages of the current call, oldest first. */
    this.messages = [];
    this._listen({
      hello: (e) => this._onHello(e.detail),
      "presence.snapshot": (e) => this._onSnapshot(e.detail),
      "presence.changes": (e) => this._onPresenceChanges(e.detail),
      "call.incoming": (e) => this._onIncoming(e.detail),
      "call.accepted": (e) => this._onAccepted(e.detail),
      "call.ended": (e) => this._onEnded(e.detail),
      signal: (e) => this._onSignal(e.detail),
      "call.upgraded": (e) => this._onUpgraded(e.detail),
      "call.media": (e) => this._onPeerMedia(e.detail),
      "call.resumed": (e) => {
        if (this.current?.id !== e.detail.call_id) return;
        this.announceMedia(); // refused while the call waited for the other side
        this._peer?.resync();
        this._emit("resumed", { callId: e.detail.call_id });
      },
      disconnect: () => {
        this._wasConnected = true;
      },
      connect: () => this._onReconnect(),
      "chat.message": (e) => this._onChat(e.detail),
      refused: (e) => this._emit("error", e.detail),
    });
  }

  // -- actions -----------------------------------------------------------

  /**
   * Call a user: open the camera, ask the server to ring them.
   * @param {string} userId
   */
  async call(userId) {
    if (this.state !== "idle") return this._error(ERR_ALREADY_IN_CALL, ERROR_WORDS[ERR_ALREADY_IN_CALL]);
    const peer = this.users.get(userId) ?? { id: userId, name: userId };
    this.current = { id: null, peer, outgoing: true };
    this._cancelRequested = false;
    this._setState("calling");
    this._acquireMedia();
    let ack;
    try {
      ack = await this.signaling.request("call.invite", { to: userId });
    } catch (err) {
      if (this.current?.outgoing && this.current.id === null) this._finish("refused", { byMe: true });
      return this._refused(err);
    }
    if (!this.current?.outgoing || (this.current.id !== null && this.current.id !== ack.call_id)) return;
    this.current.id = ack.call_id;
    if (ack.state === "ended") return this._finish(ack.reason, { byMe: false });
    if (this._cancelRequested) return this.hangup();
    if (this.state === "calling") this._setState("ringing");
  }

  /** Answer the incoming call; the first tab to answer gets it. */
  async accept() {
    if (this.state !== "incoming") return;
    const callId = this.current.id;
    this._setState("connecting");
    let ack;
    try {
      ack = await this.signaling.request("call.accept", { call_id: callId });
    } catch (err) {
      // Already ended here (another tab answered, the caller cancelled): nothing to add.
      if (this.current?.id !== callId) return;
      this._finish("refused", { byMe: true });
      return this._refused(err);
    }
    if (!this.current || this.current.id !== callId) return;
    this.current.peer = ack.peer;
    const peer = this._createPeer(ack.polite);
    const stream = await this._media;
    if (this._peer === peer) {
      peer.start(stream);
      this.announceMedia();
    }
  }

  /** While ringing: open the preview again (the person changed what to send). */
  async reopenPreview() {
    if (this.state !== "incoming") return;
    this.stopLocalMedia();
    this._media = null;
    await this._acquireMedia();
  }

  /** Refuse the incoming call. */
  async decline() {
    if (this.state !== "incoming") return;
    const callId = this.current.id;
    this._finish("declined-by-me", { byMe: true });
    await this._quietly("call.decline", { call_id: callId });
  }

  /** Hang up, or cancel a call that is still ringing out, or decline one ringing in. */
  async hangup() {
    if (this.state === "incoming") return this.decline();
    if (!this.current) return;
    if (this.current.id === null) {
      this._cancelRequested = true; // the invite is on its way; cancel when it is answered
      return;
    }
    const { id } = this.current;
    const ringingOut = this.state === "ringing" || this.state === "calling";
    const event = ringingOut ? "call.cancel" : "call.hangup";
    this._finish(ringingOut ? "cancelled-by-me" : "hangup", { byMe: true });
    await this._quietly(event, { call_id: id });
  }

  /** Tell the server at once that this tab's call is over (page unload). */
  abandon() {
    if (this.current?.id && this.state !== "incoming") {
      this.signaling.notify("call.hangup", { call_id: this.current.id });
    }
  }

  /**
   * Ring a third person into the answered call: the server turns the call into a
   * room (both of you stay connected) and invites them.
   * @param {string} userId
   * @returns {Promise<{room: string, state: string, reason?: string}|null>} null when refused (an `error` event says why)
   */
  async addParticipant(userId) {
    // Only once connected: the room takes over a running peer connection.
    if (this.state !== "in-call") return null;
    try {
      const ack = await this.signaling.request("call.add", { call_id: this.current.id, to: userId });
      return { room: ack.room, state: ack.state, reason: ack.reason };
    } catch (err) {
      this._refused(err);
      return null;
    }
  }

  /**
   * Send a chat message to the other party of the answered call.
   * @param {string} text
   * @returns {Promise<boolean>} whether the server took it (an `error` event says why not)
   */
  async sendChat(text) {
    if (!this.current?.id || (this.state !== "in-call" && this.state !== "connecting")) return false;
    try {
      await this.signaling.request("chat.send", { call_id: this.current.id, text });
      return true;
    } catch (err) {
      this._refused(err);
      return false;
    }
  }

  /** The peer connection of the call, as a list (for {@link MediaOwner}). */
  peerList() {
    return this._peer ? [this._peer] : [];
  }

  /** Tell the other party whether your microphone, camera and screen are on
   * (through {@link MediaOwner#announceMedia}). */
  sendMediaState(state) {
    if (!this.current?.id || !this._peer) return null;
    return this.signaling.request("call.media", { call_id: this.current.id, ...state });
  }

  /**
   * Counters of the current call, from `RTCPeerConnection.getStats()`. `peers` has
   * the same counters keyed by the other person's user id (as in a room).
   * @returns {Promise<{state: string, callId: string|null, peerId: string|null, connectionState: string|null,
   *   video: {framesDecoded: number, frameWidth: number, frameHeight: number, packetsReceived: number},
   *   audio: {totalSamplesReceived: number, packetsReceived: number},
   *   peers: Object<string, {connectionState: string, video: object, audio: object}>}>}
   */
  async getStats() {
    const peerId = this.current?.peer.id ?? null;
    const out = {
      state: this.state,
      callId: this.current?.id ?? null,
      peerId,
      connectionState: this._peer?.connectionState ?? null,
      video: { framesDecoded: 0, frameWidth: 0, frameHeight: 0, packetsReceived: 0 },
      audio: { totalSamplesReceived: 0, packetsReceived: 0 },
      peers: {},
    };
    if (this._peer && peerId !== null) {
      const counters = await this._peer.counters();
      Object.assign(out, { video: counters.video, audio: counters.audio });
      out.peers[peerId] = counters;
    }
    return out;
  }

  /** End everything and stop listening. Idempotent. */
  destroy() {
    if (!this._handlers) return;
    this.abandon();
    this._finish(null, { byMe: true, silent: true });
    this._stopListening();
    this.dispatchEvent(new Event("close"));
  }

  /**
   * The peer connection to rate for quality, with whether its frame rate counts
   * (not while the other person's camera is off or they share a screen, which
   * sends few frames by design).
   * @returns {[string, Peer, {video: boolean}][]}
   */
  ratedPeers() {
    if (!this._peer || !this.current) return [];
    return [[this.current.peer.id, this._peer, { video: this.peerMedia.cam && !this.peerMedia.screen }]];
  }

  /** The detail of the `state` event: `{state, callId, peer}`. */
  stateDetail() {
    return { state: this.state, callId: this.current?.id ?? null, peer: this.current?.peer ?? null };
  }

  // -- server events ---------------------------------------------------------

  _onHello(hello) {
    this.self = hello.self;
    this._takeIce(hello);
    this._emit("ready", { self: hello.self });
  }

  _onSnapshot({ users }) {
    this.users = new Map(users.map((u) => [u.id, u]));
    this._emitPresence();
  }

  /**
   * Apply `presence.changes`: each entry is that person's state when the server
   * sent it (online with a status, or gone), so applying it is idempotent.
   */
  _onPresenceChanges({ users = [], left = [] }) {
    for (const user of users) {
      if (user.id !== this.self?.id) this.users.set(user.id, user);
    }
    for (const id of left) this.users.delete(id);
    if (users.length || left.length) this._emitPresence();
  }

  _onIncoming({ call_id: callId, from }) {
    if (this.state === "incoming" && this.current?.id === callId) {
      this._rerung = true; // rung again on a new connection: still ringing
      return;
    }
    if (this.state !== "idle") return; // another tab's business, or busy here
    this.current = { id: callId, peer: from, outgoing: false };
    this._setState("incoming");
    this._emit("incoming", { callId, from });
    this._acquireMedia(); // preview while ringing, so accepting is fast
  }

  _onAccepted({ call_id: callId, peer, polite }) {
    if (!this._isCurrent(callId)) return;
    this.current.peer = peer;
    const p = this._createPeer(polite);
    p.answerWith(this._media);
    for (const msg of this._earlySignals.splice(0)) p.handleSignal(msg);
    this._media?.then(() => this._peer === p && this.announceMedia());
  }

  _onEnded({ call_id: callId, reason }) {
    if (!this._isCurrent(callId)) return;
    const other = this.current.peer;
    this._finish(reason, { byMe: false });
    if (reason === "connect_failed") this._error(ERR_CONNECT_FAILED, connectFailedMessage(other));
  }

  _onUpgraded({ call_id: callId, room, capacity, members, history }) {
    if (!this._isCurrent(callId) || !this._peer) return;
    const handover = {
      room, capacity, members, history,
      peerId: this.current.peer.id, peer: this._peer, stream: this.localStream,
      sharing: this.sharing, cameraTrack: this._cameraTrack,
    };
    this.sharing = false;
    this._cameraTrack = null;
    // Forget the call without closing what the room takes over.
    this._peer = null;
    this.localStream = null;
    this._media = null;
    this.remoteStream = null;
    this.current = null;
    this.messages = [];
    this.peerMedia = { mic: true, cam: true, screen: false };
    this._peerMediaRev = null;
    this._stopAnnouncing();
    this._emit("upgraded", handover);
    this._setState("idle");
  }

  _onChat({ call_id: callId, message }) {
    if (callId === undefined || !this.current || this.current.id !== callId) return;
    if (!keepInOrder(this.messages, message, MAX_MESSAGES)) return;
    this._emit("chat", { message });
  }

  _onPeerMedia({ call_id: callId, mic, cam, screen, rev }) {
    if (!this.current || this.current.id !== callId) return;
    if (typeof rev === "number") {
      if (this._peerMediaRev !== null && rev < this._peerMediaRev) return; // an older state
      this._peerMediaRev = rev;
    }
    this.peerMedia = { mic, cam, screen: Boolean(screen) };
    this._emit("peermedia", { peerId: this.current.peer.id, ...this.peerMedia });
  }

  /** The signaling connection is back after a drop: take the call back (the server
   * kept it for the reconnect grace, or re-creates it after a restart when both
   * sides ask). A call ringing here rings again on the new connection unless it
   * ended meanwhile; a call ringing out is taken back if it was answered meanwhile,
   * else cancelled (its answer would go to the old connection). */
  async _onReconnect() {
    if (!this._wasConnected || !this.current) return;
    const { id, peer } = this.current;
    if (id === null) return; // the invite's acknowledgement was lost: it times out
    if (this.state === "incoming") {
      this._rerung = false;
      setTimeout(() => {
        if (this.state === "incoming" && this.current?.id === id && !this._rerung) {
          this._finish("cancelled", { byMe: false });
        }
      }, RERING_WAIT_MS);
      return;
    }
    const ringingOut = this.state === "calling" || this.state === "ringing";
    if (!ringingOut && this.state !== "connecting" && this.state !== "in-call") return;
    let ack;
    try {
      ack = await this.signaling.request("call.resume", { call_id: id, peer: peer.id });
    } catch (err) {
      this._log("resume refused", err);
      if (this.current?.id !== id) return; // call.ended told the real reason
      if (ringingOut && err.code === ERR_INVALID_STATE) {
        this._finish("connection_lost", { byMe: true });
        await this._quietly("call.cancel", { call_id: id });
      } else {
        this._finish("peer_disconnected", { byMe: false });
      }
      return;
    }
    if (this.current?.id !== id) return;
    this._log("resume", ack.state);
    if (ringingOut && ack.state === "active") {
      // Answered while this tab was away: as if call.accepted had come.
      this._onAccepted({ call_id: id, peer: ack.peer, polite: false });
      return;
    }
    this.announceMedia();
    // "pending": the server restarted and waits for the other side (call.resumed).
    if (ack.state === "active") {
      this._peer?.resync(); // offers sent while away were lost
      this._emit("resumed", { callId: id });
    }
  }

  _onSignal({ call_id: callId, description, candidate }) {
    if (!this._isCurrent(callId)) return;
    const msg = description ? { description } : { candidate };
    if (this._peer) this._peer.handleSignal(msg);
    else this._earlySignals.push(msg);
  }

  // -- internals -----------------------------------------------------------

  /** Whether `callId` is this tab's call. An answer can overtake the invite's
   * acknowledgement; the only call an inviting tab can hear of is its own. */
  _isCurrent(callId) {
    if (this.current?.outgoing && this.current.id === null) this.current.id = callId;
    return this.current !== null && this.current.id === callId;
  }

  _acquireMedia() {
    if (this._media) return this._media;
    const call = this.current;
    return this._openMedia(() => this.current === call);
  }

  _createPeer(polite) {
    const callId = this.current.id;
    const peer = new Peer({
      polite,
      iceServers: this.iceServers,
      iceTransportPolicy: this.iceTransportPolicy,
      send: (msg) => {
        this.signaling.request("signal", { call_id: callId, ...msg }).catch((err) => this._log("signal refused", err));
      },
    });
    peer.addEventListener("track", (e) => {
      if (this._peer !== peer) return;
      this.remoteStream = e.detail.stream;
      this._emit("remotestream", { stream: e.detail.stream, peerId: this.current.peer.id });
    });
    peer.addEventListener("connectfailed", () => {
      if (this._peer !== peer) return;
      const { id, peer: other } = this.current;
      this._finish("connect_failed", { byMe: true });
      this._error(ERR_CONNECT_FAILED, connectFailedMessage(other));
      this._quietly("call.hangup", { call_id: id, reason: "connect_failed" });
    });
    peer.addEventListener("statechange", (e) => {
      if (this._peer !== peer) return;
      // The media path broke: the network may have changed under the socket too.
      if (e.detail.connectionState === "disconnected" || e.detail.connectionState === "failed") {
        this.signaling.probe();
      }
      if (e.detail.connectionState === "connected") this._setState("in-call");
    });
    this._peer = peer;
    if (this.state !== "connecting") this._setState("connecting");
    return peer;
  }

  _finish(reason, { byMe, silent = false }) {
    const call = this.current;
    this.current = null;
    this._peer?.destroy();
    this._peer = null;
    this._earlySignals = [];
    this.messages = [];
    this._media = null;
    this.stopLocalMedia();
    this.remoteStream = null;
    this.peerMedia = { mic: true, cam: true, screen: false };
    this._peerMediaRev = null;
    this._stopAnnouncing();
    this._setState("idle");
    if (!silent) this._emit("ended", { callId: call?.id ?? null, reason, peer: call?.peer ?? null, byMe, outgoing: call?.outgoing ?? false });
  }

  _emitPresence() {
    const users = [...this.users.values()].sort((a, b) => a.name.localeCompare(b.name));
    this._emit("presence", { users });
  }
}
