/**
 * The client side of rooms: a mesh of peer connections, one per other member, with
 * the server naming the polite peer of each pair (docs/protocol.md, "Rooms"). The
 * newcomer makes the first offer to every member; members answer with their tracks.
 * Also room invitations (ringing someone into a room) and the room's chat. No DOM.
 * @module room
 */

import { MediaOwner } from "./local-media.js";
import { Peer } from "./peer.js";
import { stopStream } from "./media.js";
import { ERR_CONNECT_FAILED, ERR_NOT_IN_ROOM, connectFailedMessage } from "./errors.js";
import { keepInOrder } from "./chat-view.js";

/** Room states: not in a room, waiting for the join acknowledgement, in the room. */
export const ROOM_STATES = Object.freeze(["idle", "joining", "joined"]);

/** Chat messages kept in the browser per room. */
export const MAX_MESSAGES = 200;

/** Signals kept per member while their peer connection does not exist yet. */
const MAX_EARLY_SIGNALS = 64;

/**
 * @typedef {{id: string, name: string, mic: boolean, cam: boolean, screen: boolean, seat: string}} Member
 *   `seat`: an opaque id, new each time the person takes a seat (kept when resumed)
 * @typedef {{id: string, from: {id: string, name: string}, text: string, ts: number}} ChatMessage
 */

/**
 * @fires RoomController#state         detail: {state, room}
 * @fires RoomController#members       detail: {members: Member[]} (the others, in join order)
 * @fires RoomController#memberleft    detail: {id, reason}
 * @fires RoomController#localstream   detail: {stream: MediaStream|null}
 * @fires RoomController#remotestream  detail: {peerId, stream}
 * @fires RoomController#peerstate     detail: {peerId, connectionState}
 * @fires RoomController#peerfailed    detail: {peerId, code: "ERR_CONNECT_FAILED", message} (the connection to
 *   a member never came up; ICE restarts go on, and `peerstate` "connected" says when it does)
 * @fires RoomController#chat          detail: {message: ChatMessage}
 * @fires RoomController#invite        detail: {room, from: {id, name}, members: number} (someone rings you into a room)
 * @fires RoomController#inviteended   detail: {room, id, reason} (an invitation you sent or got ended)
 * @fires RoomController#left          detail: {room, reason, byMe}
 * @fires RoomController#resumed       detail: {room} (the seat is yours again after a drop)
 * @fires RoomController#error         detail: {code, message}
 */
export class RoomController extends MediaOwner {
  static GONE_CODE = ERR_NOT_IN_ROOM;

  /**
   * @param {import("./signaling.js").Signaling} signaling
   */
  constructor(signaling) {
    super(signaling, "room");
    this.self = null;
    /** The room's name while joining or joined. */
    this.room = null;
    this.capacity = null;
    /** @type {Map<string, Member>} the other members, in join order */
    this.members = new Map();
    /** @type {Map<string, Peer>} */
    this.peers = new Map();
    /** @type {ChatMessage[]} */
    this.messages = [];
    /** The invitation ringing here: {room, from, members}, or null. */
    this.invite = null;
    this._previewForInvite = false;
    this._early = new Map();
    /** Membership events that came before the join's acknowledgement. */
    this._beforeAck = [];
    /** Counts joins, so that a late acknowledgement of an abandoned one is ignored. */
    this._generation = 0;
    /** The room to take a seat in again once the signaling connection is back. */
    this._rejoin = null;
    /** Whether the signaling connection dropped while in the room (the seat is kept
     * for the server's reconnect grace; `room.resume` takes it back). */
    this._away = false;
    const whileJoining = (fn) => (e) => {
      if (this.state === "joining" && e.detail.room === this.room) this._beforeAck.push(() => fn(e.detail));
      else fn(e.detail);
    };
    this._listen({
      hello: (e) => {
        this.self = e.detail.self;
        this._takeIce(e.detail);
      },
      // The server frees a seat as soon as its connection drops; take it again
      // (as a newcomer, reconnecting to everyone) when the connection is back.
      // The server keeps a seat for its reconnect grace: keep the peer connections
      // (media flows without the server) and take the seat back on reconnect.
      disconnect: () => {
        if (this.state === "joined") this._away = true;
        else if (this.state === "joining") {
          this._rejoin = this.room;
          this._finish("connection_lost", { byMe: false });
        }
      },
      connect: () => this._onReconnect(),
      "room.member_joined": whileJoining((d) => this._onMemberJoined(d)),
      "room.member_left": whileJoining((d) => this._onMemberLeft(d)),
      "room.left": (e) => this._mine(e.detail.room) && this._finish(e.detail.reason, { byMe: false }),
      "room.signal": (e) => this._onSignal(e.detail),
      "room.media": whileJoining((d) => this._onMedia(d)),
      "room.invite": (e) => this._onInvite(e.detail),
      "room.invite_ended": (e) => this._onInviteEnded(e.detail),
      "chat.message": (e) => this._onChat(e.detail),
    });
  }

  // -- actions -----------------------------------------------------------

  /**
   * Open the camera and microphone before joining (a preview; joining is then
   * immediate). Idempotent.
   * @returns {Promise<MediaStream|null>}
   */
  preview() {
    return this._media ?? this._openMedia(() => true);
  }

  /** Close the preview's camera and microphone (not while in a room). */
  releasePreview() {
    if (this.state !== "idle") return;
    this._media = null;
    this.stopLocalMedia();
    this._emit("localstream", { stream: null });
  }

  /**
   * Join a room: open the devices (if not yet), take a seat, connect to every member.
   * @param {string} room
   * @returns {Promise<boolean>} whether you are in the room (an `error` event says why not)
   */
  async join(room) {
    if (this.state !== "idle") return false;
    const generation = ++this._generation;
    const current = () => this._generation === generation && this.state === "joining";
    this.invite = null;
    this._previewForInvite = false;
    this.room = room;
    this._beforeAck = [];
    this._setState("joining");
    const stream = await this.preview();
    if (!current()) return false;
    let ack;
    let mic;
    let cam;
    try {
      ({ mic, cam } = this.mediaState());
      ack = await this.signaling.request("room.join", { room, mic, cam });
    } catch (err) {
      if (current()) this._reset();
      this._refused(err);
      return false;
    }
    // Left meanwhile: leave() told the server, after this join on the same socket.
    if (!current()) return false;
    this._enter(ack);
    for (const member of ack.members) {
      const peer = this._createPeer(member.id, member.polite);
      peer.start(stream);
    }
    for (const apply of this._beforeAck.splice(0)) apply();
    // What changed while joining (a mute, a screen) is not in the join request.
    const sent = this.mediaState();
    if (sent.mic !== mic || sent.cam !== cam || sent.screen) this.announceMedia();
    this._log("joined", room);
    return true;
  }

  /**
   * Take over a 1:1 call that became a room (`call.upgraded`): the existing peer
   * connection and local stream go on, now signaled through the room.
   * @param {{room: string, capacity: number, members: Member[], history: ChatMessage[],
   *   peerId: string, peer: Peer, stream: MediaStream|null}} handover
   */
  adopt({ room, capacity, members, history, peerId, peer, stream, sharing = false, cameraTrack = null }) {
    if (this.state !== "idle") this._finish("replaced", { byMe: true, silent: true });
    if (this.localStream && this.localStream !== stream) stopStream(this.localStream); // a lobby preview
    this._generation++;
    this.invite = null;
    this._previewForInvite = false;
    this.room = room;
    this.localStream = stream;
    this.sharing = sharing;
    this._cameraTrack = cameraTrack;
    const screen = sharing ? stream?.getVideoTracks()[0] : null;
    if (screen) this.watchScreen(screen);
    this._media = Promise.resolve(stream);
    this._emit("localstream", { stream });
    this._enter({ capacity, members, history });
    peer.reroute((msg) => this._sendSignal(peerId, msg));
    this._watch(peerId, peer);
    this.peers.set(peerId, peer);
    if (peer.remoteStream.getTracks().length) {
      this._emit("remotestream", { peerId, stream: peer.remoteStream });
    }
    this._emit("peerstate", { peerId, connectionState: peer.connectionState });
    // The server seats both parties with microphone and camera on: say how they are.
    this.announceMedia();
  }

  /** Leave the room (your tile disappears for everyone at once). */
  async leave() {
    this._rejoin = null;
    if (this.state === "idle") return;
    const room = this.room;
    this._finish("left", { byMe: true });
    await this._quietly("room.leave", { room });
  }

  /** Tell the server at once that this tab leaves (page unload). */
  abandon() {
    if (this.state !== "idle") this.signaling.notify("room.leave", { room: this.room });
  }

  /**
   * Ring someone into this room.
   * @param {string} userId
   * @returns {Promise<{state: string, reason?: string}|null>} null when refused (an `error` event says why)
   */
  async inviteUser(userId) {
    if (this.state !== "joined") return null;
    try {
      const ack = await this.signaling.request("room.invite", { room: this.room, to: userId });
      return { state: ack.state, reason: ack.reason };
    } catch (err) {
      this._refused(err);
      return null;
    }
  }

  /** Refuse the invitation ringing here. */
  async declineInvite() {
    const invite = this.invite;
    if (!invite) return;
    this.invite = null;
    this._emit("inviteended", { room: invite.room, id: this.self?.id ?? null, reason: "declined-by-me" });
    this._releaseInvitePreview();
    await this._quietly("room.decline", { room: invite.room });
  }

  /**
   * Send a chat message to everyone in the room.
   * @param {string} text
   * @returns {Promise<boolean>} whether the server took it (an `error` event says why not)
   */
  async sendChat(text) {
    if (this.state !== "joined") return false;
    try {
      await this.signaling.request("chat.send", { room: this.room, text });
      return true;
    } catch (err) {
      this._refused(err);
      return false;
    }
  }

  /** The room's peer connections (for {@link MediaOwner}). */
  peerList() {
    return [...this.peers.values()];
  }

  /** Tell the others whether your microphone, camera and screen are on (through
   * {@link MediaOwner#announceMedia}). */
  sendMediaState(state) {
    if (this.state !== "joined") return null;
    return this.signaling.request("room.media", { room: this.room, ...state });
  }

  /**
   * Inbound counters of every peer connection, keyed by user id.
   * @returns {Promise<{state: string, room: string|null, peers: Object<string, {connectionState: string, video: object, audio: object}>}>}
   */
  async getStats() {
    const peers = {};
    await Promise.all(
      [...this.peers].map(async ([id, peer]) => {
        peers[id] = await peer.counters();
      }),
    );
    return { state: this.state, room: this.room, peers };
  }

  /**
   * The audio energy heard from each member and sent by you so far, for telling who
   * speaks (speaker.js): webrtc-stats `totalAudioEnergy` and `totalSamplesDuration`
   * (seconds) of each connection's `inbound-rtp` audio, and of your microphone's
   * `media-source` (left out while you are muted).
   * @returns {Promise<Object<string, {energy: number, duration: number}>>}  by user id (yours too)
   */
  async audioEnergy() {
    const out = {};
    const peers = [...this.peers];
    const reports = await Promise.all(peers.map(([, peer]) => peer.getStats()));
    reports.forEach((report, i) => {
      report?.forEach((s) => {
        if (s.kind !== "audio" || typeof s.totalAudioEnergy !== "number") return;
        const sample = { energy: s.totalAudioEnergy, duration: s.totalSamplesDuration ?? 0 };
        if (s.type === "inbound-rtp") out[peers[i][0]] = sample;
        // Yours, from one connection (the first): each counts from its own start.
        else if (s.type === "media-source" && i === 0 && this.self && !this.microphoneMuted) out[this.self.id] = sample;
      });
    });
    return out;
  }

  /** Leave, stop listening. Idempotent. */
  destroy() {
    if (!this._handlers) return;
    this._rejoin = null;
    this.abandon();
    this._finish(null, { byMe: true, silent: true });
    this.releasePreview();
    this._stopListening();
    this.dispatchEvent(new Event("close"));
  }

  /** The room this tab is in, joining, or will join again once the signaling
   * connection is back; null when none. */
  get target() {
    return this.room ?? this._rejoin;
  }

  /**
   * The peer connections to rate for quality, with whether a member's frame rate
   * counts (not while their camera is off or they share a screen).
   * @returns {[string, Peer, {video: boolean}][]}
   */
  ratedPeers() {
    if (this.state !== "joined") return [];
    return [...this.peers].map(([id, peer]) => {
      const m = this.members.get(id) ?? { cam: true };
      return [id, peer, { video: m.cam && !m.screen }];
    });
  }

  /** The detail of the `state` event: `{state, room}`. */
  stateDetail() {
    return { state: this.state, room: this.room };
  }

  // -- server events ---------------------------------------------------------

  _mine(room) {
    return this.state !== "idle" && room === this.room;
  }

  _onMemberJoined({ room, member, polite }) {
    if (!this._mine(room) || member.id === this.self?.id) return;
    this.peers.get(member.id)?.destroy(); // a stale connection of theirs (a reload)
    this.members.set(member.id, member);
    const peer = this._createPeer(member.id, polite);
    peer.answerWith(this._media ?? this.localStream);
    this._emitMembers();
  }

  _onMemberLeft({ room, id, reason }) {
    if (!this._mine(room)) return;
    this.peers.get(id)?.destroy();
    this.peers.delete(id);
    this._early.delete(id);
    if (this.members.delete(id)) {
      this._emit("memberleft", { id, reason });
      this._emitMembers();
    }
  }

  _onSignal({ room, from, description, candidate }) {
    if (!this._mine(room)) return;
    const msg = description ? { description } : { candidate };
    const peer = this.peers.get(from);
    if (peer) {
      peer.handleSignal(msg);
      return;
    }
    const early = this._early.get(from) ?? [];
    if (early.length < MAX_EARLY_SIGNALS) early.push(msg);
    this._early.set(from, early);
  }

  _onMedia({ room, id, mic, cam, screen = false, rev }) {
    const member = this.members.get(id);
    if (!this._mine(room) || !member) return;
    if (typeof rev === "number" && typeof member.rev === "number" && rev < member.rev) return; // older
    this.members.set(id, { ...member, mic, cam, screen, rev: rev ?? member.rev });
    this._emitMembers();
  }

  _onInvite({ room, from, members }) {
    if (this.state !== "idle" || this.invite) return;
    this.invite = { room, from, members };
    this._emit("invite", { ...this.invite });
    this._previewForInvite = !this._media; // a room page's lobby preview stays on afterwards
    this.preview(); // so accepting is fast
  }

  _onInviteEnded({ room, id, reason }) {
    if (this.invite?.room === room && id === this.self?.id) {
      this.invite = null;
      this._releaseInvitePreview();
    }
    this._emit("inviteended", { room, id, reason });
  }

  _releaseInvitePreview() {
    if (this._previewForInvite && this.state === "idle") this.releasePreview();
    this._previewForInvite = false;
  }

  _onChat({ room, message }) {
    if (room === undefined || !this._mine(room)) return;
    if (this._remember(message)) this._emit("chat", { message });
  }

  // -- internals -----------------------------------------------------------

  _enter({ capacity, members, history }) {
    this.capacity = capacity;
    this.members = new Map(members.map(({ polite, ...m }) => [m.id, m]));
    this.messages = [];
    for (const message of history ?? []) this._remember(message);
    this._setState("joined");
    this._emitMembers();
    for (const message of this.messages) this._emit("chat", { message });
  }

  _createPeer(memberId, polite) {
    const peer = new Peer({
      polite,
      iceServers: this.iceServers,
      iceTransportPolicy: this.iceTransportPolicy,
      send: (msg) => this._sendSignal(memberId, msg),
    });
    this._watch(memberId, peer);
    this.peers.set(memberId, peer);
    for (const msg of this._early.get(memberId) ?? []) peer.handleSignal(msg);
    this._early.delete(memberId);
    return peer;
  }

  _watch(memberId, peer) {
    peer.addEventListener("connectfailed", () => {
      if (this.peers.get(memberId) !== peer) return;
      const message = connectFailedMessage(this.members.get(memberId) ?? null);
      this._emit("peerfailed", { peerId: memberId, code: ERR_CONNECT_FAILED, message });
      this._error(ERR_CONNECT_FAILED, message);
    });
    peer.addEventListener("track", (e) => {
      if (this.peers.get(memberId) === peer) this._emit("remotestream", { peerId: memberId, stream: e.detail.stream });
    });
    peer.addEventListener("statechange", (e) => {
      if (this.peers.get(memberId) !== peer) return;
      const state = e.detail.connectionState;
      // The media path broke: the network may have changed under the socket too.
      if (state === "disconnected" || state === "failed") this.signaling.probe();
      this._emit("peerstate", { peerId: memberId, connectionState: state });
    });
  }

  _sendSignal(to, msg) {
    if (this.state === "idle") return;
    this.signaling.request("room.signal", { room: this.room, to, ...msg }).catch((err) => this._log("signal refused", err));
  }

  /** Back online: take the kept seat, or join again when it is gone (the grace
   * ran out, or the server restarted). */
  async _onReconnect() {
    const rejoin = this._rejoin;
    this._rejoin = null;
    if (rejoin && this.state === "idle") {
      this.join(rejoin);
      return;
    }
    if (!this._away || this.state !== "joined") return;
    this._away = false;
    const room = this.room;
    let ack;
    try {
      ack = await this.signaling.request("room.resume", { room });
    } catch (err) {
      if (this.room !== room || this.state !== "joined") return;
      this._finish("connection_lost", { byMe: false });
      // A grown call's room is private and gone with its seats: nothing to rejoin.
      if (!room.startsWith("call-")) {
        this._log("resume refused, joining again", err);
        this.join(room);
      }
      return;
    }
    if (this.room !== room || this.state !== "joined") return;
    // Catch up with what happened while away: who left, who came, how they are.
    const listed = new Map(ack.members.map(({ polite, ...m }) => [m.id, { member: m, polite }]));
    for (const id of [...this.members.keys()]) {
      if (!listed.has(id)) this._onMemberLeft({ room, id, reason: "disconnected" });
    }
    for (const [id, { member, polite }] of listed) {
      const known = this.members.get(id);
      // A room.media that came meanwhile may be newer than the server's list.
      const newer = known?.seat === member.seat && typeof known.rev === "number" && known.rev > (member.rev ?? -1);
      this.members.set(id, newer ? { ...member, mic: known.mic, cam: known.cam, screen: known.screen, rev: known.rev } : member);
      // A new seat (they reloaded while we were away): our connection to their
      // old page is dead; connect to the new one.
      if (this.peers.has(id) && known?.seat !== member.seat) {
        this.peers.get(id).destroy();
        this.peers.delete(id);
        this._emit("memberleft", { id, reason: "replaced" });
      }
      if (!this.peers.has(id)) this._createPeer(id, polite).start(this.localStream);
    }
    for (const message of ack.history ?? []) {
      if (this._remember(message)) this._emit("chat", { message });
    }
    this._emitMembers();
    this.announceMedia();
    // Offers and answers sent while away were lost: get negotiation going again.
    for (const peer of this.peers.values()) peer.resync();
    this._emit("resumed", { room });
  }

  _remember(message) {
    return keepInOrder(this.messages, message, MAX_MESSAGES);
  }

  _finish(reason, { byMe, silent = false }) {
    const room = this.room;
    this._reset();
    if (!silent) this._emit("left", { room, reason, byMe });
  }

  _reset() {
    for (const peer of this.peers.values()) peer.destroy();
    this.peers = new Map();
    this.members = new Map();
    this._early = new Map();
    this._beforeAck = [];
    this.messages = [];
    this.room = null;
    this.capacity = null;
    this._media = null;
    this._away = false;
    this._stopAnnouncing();
    this.stopLocalMedia();
    this._setState("idle");
  }

  _emitMembers() {
    this._emit("members", { members: [...this.members.values()] });
  }
}
