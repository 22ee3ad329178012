/**
 * One RTCPeerConnection to one remote peer, negotiated with the "perfect
 * negotiation" pattern (W3C WebRTC 1.0 §10.7; MDN "Perfect negotiation").
 * Knows nothing of Socket.IO: outgoing messages go through the `send` callback,
 * incoming ones come in through {@link Peer#handleSignal}.
 * @module peer
 */

import { ERR_NEGOTIATION } from "./errors.js";
import { logger } from "./log.js";

const log = logger("peer");

/** Milliseconds a connection may stay "disconnected" before an ICE restart. */
export const DISCONNECTED_RESTART_MS = 2000;
/** Milliseconds after an ICE restart before another one, while still not connected
 * (the path may still be cut: keep trying until it is back). */
export const RESTART_RETRY_MS = 3000;
/** Milliseconds an offer may wait for its answer before it is taken back and made
 * again (an offer sent while the signaling connection was down is lost). */
export const OFFER_TIMEOUT_MS = 4000;
/** Milliseconds a new connection may take to reach "connected" before an ICE
 * restart (on a LAN it takes a fraction of a second; through TURN about one). */
export const CONNECT_RESTART_MS = 5000;
/** Milliseconds from the start after which a connection that never reached
 * "connected" is given up (`connectfailed`): the restart at
 * {@link CONNECT_RESTART_MS} and its retries every {@link RESTART_RETRY_MS} failed. */
export const CONNECT_GIVE_UP_MS = 15000;
/** ICE candidates kept while their description has not come yet. */
export const MAX_PENDING_CANDIDATES = 200;

/**
 * @fires Peer#track        detail: {stream: MediaStream}
 * @fires Peer#statechange  detail: {connectionState: RTCPeerConnectionState}
 * @fires Peer#connectfailed detail: {restarts} (never reached "connected" within {@link CONNECT_GIVE_UP_MS})
 * @fires Peer#close
 */
export class Peer extends EventTarget {
  /**
   * @param {object} options
   * @param {boolean} options.polite  whether this side yields in an offer collision (named by the server)
   * @param {RTCIceServer[]} [options.iceServers]
   * @param {RTCIceTransportPolicy} [options.iceTransportPolicy]  "all", or "relay" (TURN relays only)
   * @param {(msg: {description?: RTCSessionDescriptionInit, candidate?: RTCIceCandidateInit}) => void} options.send
   * @param {number} [options.connectRestartMs]  see {@link CONNECT_RESTART_MS}
   * @param {number} [options.connectGiveUpMs]   see {@link CONNECT_GIVE_UP_MS}
   */
  constructor({
    polite,
    iceServers = [],
    iceTransportPolicy = "all",
    send,
    connectRestartMs = CONNECT_RESTART_MS,
    connectGiveUpMs = CONNECT_GIVE_UP_MS,
  }) {
    super();
    this._connectRestartMs = connectRestartMs;
    this._connectGiveUpMs = connectGiveUpMs;
    /** Candidates that came before a description with their ICE username fragment. */
    this._pendingCandidates = [];
    /** Username fragments of the remote description now, and of earlier ones. */
    this._remoteUfrags = new Set();
    this._oldUfrags = new Set();
    /** Whether the connection ever reached "connected". */
    this.everConnected = false;
    this.polite = polite;
    this._send = send;
    this._makingOffer = false;
    this._ignoreOffer = false;
    this._queue = Promise.resolve();
    this._pendingStream = undefined;
    this._closed = false;
    this._restartTimer = null;
    /** ICE restarts made so far. */
    this.restarts = 0;
    this.remoteStream = new MediaStream();
    this.pc = new RTCPeerConnection({ iceServers, iceTransportPolicy });
    this.pc.onnegotiationneeded = () => this._negotiate();
    this.pc.onicecandidate = ({ candidate }) => {
      if (candidate && candidate.candidate) this._send({ candidate: iceCandidateInit(candidate) });
    };
    this.pc.ontrack = ({ track }) => {
      this.remoteStream.addTrack(track);
      this.dispatchEvent(new CustomEvent("track", { detail: { stream: this.remoteStream, track } }));
    };
    this.pc.onconnectionstatechange = () => this._onConnectionState();
    // The device is back on a network (a Wi-Fi switch, a cable): do not wait for the
    // next retry.
    this._onOnline = () => {
      if (this.pc.connectionState !== "connected" && this.pc.connectionState !== "new") this.restartIce();
    };
    globalThis.addEventListener?.("online", this._onOnline);
  }

  /** The connection state, "closed" after {@link Peer#destroy}. */
  get connectionState() {
    return this._closed ? "closed" : this.pc.connectionState;
  }

  /**
   * Send `stream`'s tracks now; this side makes the first offer. With no stream
   * (receive-only), asks to receive audio and video instead.
   * @param {MediaStream|null} stream
   */
  start(stream) {
    this.watchConnecting();
    if (stream && stream.getTracks().length) {
      this._addTracks(stream);
    }
    const kinds = new Set(stream ? stream.getTracks().map((t) => t.kind) : []);
    for (const kind of ["audio", "video"]) {
      if (!kinds.has(kind)) this.pc.addTransceiver(kind, { direction: "recvonly" });
    }
  }

  /**
   * Send `stream`'s tracks in the answer to the first remote offer (the side that
   * does not start: it avoids an offer collision on every call).
   * @param {MediaStream|null|Promise<MediaStream|null>} stream
   */
  answerWith(stream) {
    this._pendingStream = stream;
    // From when this side can answer (its camera may wait on a permission prompt).
    Promise.resolve(stream).then(() => this.watchConnecting(), () => this.watchConnecting());
  }

  /**
   * Make sure this new connection gets up: an ICE restart when it is not
   * "connected" after {@link CONNECT_RESTART_MS} (a lost candidate, a path that
   * needed a relay), and `connectfailed` when it still is not after
   * {@link CONNECT_GIVE_UP_MS}, so that nobody waits on "Connecting…" for ever.
   * Called by {@link Peer#start} and {@link Peer#answerWith}; idempotent.
   */
  watchConnecting() {
    if (this._connectTimers || this.everConnected || this._closed) return;
    this._connectTimers = [
      setTimeout(() => {
        if (!this._closed && !this.everConnected) {
          log("not connected in time: ICE restart");
          this.restartIce();
        }
      }, this._connectRestartMs),
      setTimeout(() => {
        if (!this._closed && !this.everConnected) {
          log("could not connect");
          this.dispatchEvent(new CustomEvent("connectfailed", { detail: { restarts: this.restarts } }));
        }
      }, this._connectGiveUpMs),
    ];
  }

  _stopWatchingConnecting() {
    for (const timer of this._connectTimers ?? []) clearTimeout(timer);
  }

  /**
   * Apply one message from the other peer. Messages are applied in arrival order.
   * @param {{description?: RTCSessionDescriptionInit, candidate?: RTCIceCandidateInit}} msg
   * @returns {Promise<void>}
   */
  handleSignal(msg) {
    // Messages are applied one after the other in the order they came; the order
    // they came in may still not be the order they were sent in (two server
    // processes): a candidate that comes before its description is kept for it.
    this._queue = this._queue.then(() => this._apply(msg)).catch((err) => {
      log("signal failed", err);
      this.dispatchEvent(new CustomEvent("error", { detail: { code: ERR_NEGOTIATION, message: String(err) } }));
    });
    return this._queue;
  }

  /**
   * Send this peer's outgoing messages another way from now on (a 1:1 call that
   * grew into a room keeps its connection; its signaling moves to the room).
   * @param {(msg: {description?: RTCSessionDescriptionInit, candidate?: RTCIceCandidateInit}) => void} send
   */
  reroute(send) {
    this._send = send;
  }

  /**
   * Inbound media counters of this connection, from `getStats()` (W3C
   * webrtc-stats: `inbound-rtp`, the selected `candidate-pair`).
   * @returns {Promise<{connectionState: string, restarts: number, at: number,
   *   video: {framesDecoded: number, frameWidth: number, frameHeight: number, framesPerSecond: number,
   *     packetsReceived: number, packetsLost: number, bytesReceived: number},
   *   audio: {totalSamplesReceived: number, packetsReceived: number, packetsLost: number, bytesReceived: number},
   *   transport: {rtt: number|null, localCandidateType: string|null, remoteCandidateType: string|null}}>}
   *   `at`: milliseconds (performance.now) of the sample; `rtt` in seconds
   */
  async counters() {
    const out = {
      connectionState: this.connectionState,
      restarts: this.restarts,
      at: performance.now(),
      video: { framesDecoded: 0, frameWidth: 0, frameHeight: 0, framesPerSecond: 0, packetsReceived: 0, packetsLost: 0, bytesReceived: 0 },
      audio: { totalSamplesReceived: 0, packetsReceived: 0, packetsLost: 0, bytesReceived: 0 },
      transport: { rtt: null, localCandidateType: null, remoteCandidateType: null },
    };
    const report = await this.getStats();
    if (!report) return out;
    let pair = null;
    report.forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") {
        out.video = {
          framesDecoded: s.framesDecoded ?? 0,
          frameWidth: s.frameWidth ?? 0,
          frameHeight: s.frameHeight ?? 0,
          framesPerSecond: s.framesPerSecond ?? 0,
          packetsReceived: s.packetsReceived ?? 0,
          packetsLost: s.packetsLost ?? 0,
          bytesReceived: s.bytesReceived ?? 0,
        };
      } else if (s.type === "inbound-rtp" && s.kind === "audio") {
        out.audio = {
          totalSamplesReceived: s.totalSamplesReceived ?? 0,
          packetsReceived: s.packetsReceived ?? 0,
          packetsLost: s.packetsLost ?? 0,
          bytesReceived: s.bytesReceived ?? 0,
        };
      } else if (s.type === "transport" && s.selectedCandidatePairId) {
        pair = report.get(s.selectedCandidatePairId) ?? pair;
      } else if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded" && !pair) {
        pair = s;
      }
    });
    if (pair) {
      out.transport = {
        rtt: pair.currentRoundTripTime ?? null,
        localCandidateType: report.get(pair.localCandidateId)?.candidateType ?? null,
        remoteCandidateType: report.get(pair.remoteCandidateId)?.candidateType ?? null,
      };
    }
    return out;
  }

  /**
   * Send `track` in place of what this connection sends of its kind, without
   * renegotiating when a sender of that kind exists (`RTCRtpSender.replaceTrack`,
   * W3C WebRTC 1.0 §5.2); otherwise (an audio-only peer starting video) the track is
   * added and perfect negotiation renegotiates.
   * @param {MediaStreamTrack} track
   * @param {MediaStream} stream the local stream the track belongs to
   */
  async setLocalTrack(track, stream) {
    if (this._closed) return;
    const transceiver = this.pc.getTransceivers().find(
      (t) => t.receiver.track?.kind === track.kind && t.direction !== "stopped" && t.currentDirection !== "stopped",
    );
    if (transceiver) {
      await transceiver.sender.replaceTrack(track);
      transceiver.sender.setStreams?.(stream);
      if (transceiver.direction === "recvonly") transceiver.direction = "sendrecv";
      else if (transceiver.direction === "inactive") transceiver.direction = "sendonly";
    } else {
      this.pc.addTrack(track, stream);
    }
  }

  /**
   * Stop sending `kind` (the transceiver stays, so sending again needs no renegotiation).
   * @param {"audio"|"video"} kind
   */
  async stopSending(kind) {
    if (this._closed) return;
    const sender = this.pc.getSenders().find((x) => x.track?.kind === kind);
    await sender?.replaceTrack(null);
  }

  /**
   * Use these ICE servers from the next candidate gathering on (an ICE restart): a
   * new `hello` brings fresh TURN credentials, and the ones this connection was
   * made with may have expired by the time it restarts ICE. Allocations already
   * made keep their credentials.
   * @param {{iceServers: RTCIceServer[], iceTransportPolicy?: RTCIceTransportPolicy}} config
   */
  setIceServers({ iceServers, iceTransportPolicy = "all" }) {
    if (this._closed) return;
    try {
      this.pc.setConfiguration({ ...this.pc.getConfiguration(), iceServers, iceTransportPolicy });
    } catch (err) {
      log("new ICE servers refused", err);
    }
  }

  /** Restart ICE (new candidates, same call) through the normal negotiation path;
   * repeated every {@link RESTART_RETRY_MS} until the connection is back. */
  restartIce() {
    if (this._closed) return;
    log("ICE restart");
    this.restarts = (this.restarts ?? 0) + 1;
    this.pc.restartIce();
    clearTimeout(this._restartTimer);
    this._restartTimer = setTimeout(() => {
      if (!this._closed && this.pc.connectionState !== "connected") this.restartIce();
    }, RESTART_RETRY_MS);
  }

  /** Close the connection and forget every handler. Idempotent. */
  destroy() {
    if (this._closed) return;
    this._closed = true;
    clearTimeout(this._restartTimer);
    clearTimeout(this._offerTimer);
    this._stopWatchingConnecting();
    this._pendingCandidates = [];
    globalThis.removeEventListener?.("online", this._onOnline);
    this.pc.onnegotiationneeded = this.pc.onicecandidate = this.pc.ontrack = this.pc.onconnectionstatechange = null;
    for (const track of this.remoteStream.getTracks()) this.remoteStream.removeTrack(track);
    this.pc.close();
    this.dispatchEvent(new Event("close"));
  }

  /** @returns {Promise<RTCStatsReport|null>} */
  async getStats() {
    return this._closed ? null : this.pc.getStats();
  }

  _addTracks(stream) {
    for (const track of stream.getTracks()) {
      const reusable = this.pc.getTransceivers().find(
        (t) => t.receiver.track?.kind === track.kind && !t.sender.track && t.direction !== "stopped",
      );
      if (reusable) {
        reusable.sender.replaceTrack(track);
        reusable.direction = "sendrecv";
        reusable.sender.setStreams?.(stream);
      } else {
        this.pc.addTrack(track, stream);
      }
    }
  }

  async _negotiate() {
    if (this._closed) return;
    try {
      this._makingOffer = true;
      await this.pc.setLocalDescription();
      this._send({ description: descriptionInit(this.pc.localDescription) });
      this._watchOffer();
    } catch (err) {
      log("offer failed", err);
    } finally {
      this._makingOffer = false;
    }
  }

  /** Take back an offer that got no answer in time, and make it again. */
  _watchOffer() {
    clearTimeout(this._offerTimer);
    this._offerTimer = setTimeout(() => this.resync(), OFFER_TIMEOUT_MS);
  }

  /**
   * Get negotiation going again after messages may have been lost (the signaling
   * connection dropped): an offer still waiting for its answer is rolled back and
   * made again, and ICE restarts if the connection is not up.
   * @returns {Promise<void>}
   */
  resync() {
    this._queue = this._queue.then(async () => {
      if (this._closed) return;
      if (this.pc.signalingState === "have-local-offer") {
        log("offer unanswered: rolling back and offering again");
        await this.pc.setLocalDescription({ type: "rollback" });
        if (this.pc.connectionState !== "connected") this.restartIce();
        else await this._negotiate();
      } else if (this.pc.connectionState !== "connected" && this.pc.connectionState !== "new") {
        this.restartIce();
      }
    }).catch((err) => log("resync failed", err));
    return this._queue;
  }

  async _apply({ description, candidate }) {
    if (this._closed) return;
    const pc = this.pc;
    if (description) {
      const collision = description.type === "offer" && (this._makingOffer || pc.signalingState !== "stable");
      this._ignoreOffer = !this.polite && collision;
      if (this._ignoreOffer) {
        log("ignoring a colliding offer (impolite)");
        // Its candidates will never apply: drop them rather than keep them.
        for (const ufrag of ufragsOf(description)) if (!this._remoteUfrags.has(ufrag)) this._oldUfrags.add(ufrag);
        return;
      }
      await pc.setRemoteDescription(description); // rolls back our offer when polite
      this._remoteDescriptionSet(description);
      if (description.type === "answer" || description.type === "offer") clearTimeout(this._offerTimer);
      if (description.type === "offer") {
        if (this._pendingStream !== undefined) {
          const stream = await this._pendingStream;
          this._pendingStream = undefined;
          if (this._closed) return;
          if (stream) this._addTracks(stream);
        }
        await pc.setLocalDescription();
        this._send({ description: descriptionInit(pc.localDescription) });
      }
    } else if (candidate) {
      const fate = this._candidateFate(candidate);
      if (fate === "keep") {
        log("candidate before its description: kept");
        this._pendingCandidates.push(candidate);
        if (this._pendingCandidates.length > MAX_PENDING_CANDIDATES) this._pendingCandidates.shift();
      } else if (fate === "apply") {
        await this._addCandidate(candidate);
      } else {
        log("candidate of a superseded ICE generation: dropped");
      }
    }
  }

  /**
   * What to do with a remote candidate now: "apply" it (its description is the
   * current one), "keep" it (its description has not come yet), or "drop" it (it
   * belongs to an earlier ICE generation, before a restart: JSEP RFC 8829 §5.7,
   * candidates name their generation by `usernameFragment`).
   */
  _candidateFate({ usernameFragment: ufrag }) {
    if (!this.pc.remoteDescription) return "keep";
    if (!ufrag || this._remoteUfrags.has(ufrag)) return "apply";
    if (this._oldUfrags.has(ufrag)) return "drop";
    return this._remoteUfrags.size ? "keep" : "apply";
  }

  /** A remote description was applied: its ICE username fragments are current
   * from now on; candidates kept for it are applied, those of older ones dropped. */
  _remoteDescriptionSet(description) {
    const ufrags = ufragsOf(description);
    if (ufrags.size) {
      for (const old of this._remoteUfrags) if (!ufrags.has(old)) this._oldUfrags.add(old);
      this._remoteUfrags = ufrags;
    }
    const pending = this._pendingCandidates;
    this._pendingCandidates = [];
    for (const candidate of pending) {
      const fate = this._candidateFate(candidate);
      if (fate === "keep") this._pendingCandidates.push(candidate);
      else if (fate === "apply") this._addCandidate(candidate).catch((err) => log("kept candidate refused", err));
    }
  }

  async _addCandidate(candidate) {
    try {
      await this.pc.addIceCandidate(candidate);
    } catch (err) {
      if (!this._ignoreOffer) throw err;
    }
  }

  _onConnectionState() {
    const state = this.pc.connectionState;
    log("connection", state);
    if (state === "connected" && this.pc.signalingState === "stable") clearTimeout(this._offerTimer);
    if (state === "connected" || state === "closed") clearTimeout(this._restartTimer);
    if (state === "connected") {
      this.everConnected = true;
      this._stopWatchingConnecting();
    }
    if (state === "failed") this.restartIce();
    if (state === "disconnected") {
      clearTimeout(this._restartTimer);
      this._restartTimer = setTimeout(() => this.restartIce(), DISCONNECTED_RESTART_MS);
    }
    this.dispatchEvent(new CustomEvent("statechange", { detail: { connectionState: state } }));
  }
}

/** The ICE username fragments (`a=ice-ufrag`, RFC 8839 §5.4) of a description. */
function ufragsOf(description) {
  return new Set((description.sdp ?? "").match(/^a=ice-ufrag:(\S+)/gm)?.map((line) => line.slice(12)) ?? []);
}

function descriptionInit(d) {
  return { type: d.type, sdp: d.sdp };
}

function iceCandidateInit(c) {
  return {
    candidate: c.candidate,
    sdpMid: c.sdpMid ?? null,
    sdpMLineIndex: c.sdpMLineIndex ?? null,
    usernameFragment: c.usernameFragment ?? null,
  };
}
