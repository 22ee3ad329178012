/**
 * One RTCPeerConnection to one remote peer, negotiated with the "perfect
 * negotiation" pattern (W3C WebRTC 1.0 §10.7; MDN "Perfect negotiation").
 * Knows nothing of Socket.IO: outgoing messages go through the `send` callback,
 * incoming ones come in through {@link Peer#handleSignal}.
 * @module peer
 */

const log = (...args) => {
  if (globalThis.localStorage?.getItem("videochat.debug") === "1") console.debug("[videochat:peer]", ...args);
};

/** Milliseconds a connection may stay "disconnected" before an ICE restart. */
export const DISCONNECTED_RESTART_MS = 4000;

/**
 * @fires Peer#track        detail: {stream: MediaStream}
 * @fires Peer#statechange  detail: {connectionState: RTCPeerConnectionState}
 * @fires Peer#close
 */
export class Peer extends EventTarget {
  /**
   * @param {object} options
   * @param {boolean} options.polite  whether this side yields in an offer collision (named by the server)
   * @param {RTCIceServer[]} [options.iceServers]
   * @param {(msg: {description?: RTCSessionDescriptionInit, candidate?: RTCIceCandidateInit}) => void} options.send
   */
  constructor({ polite, iceServers = [], send }) {
    super();
    this.polite = polite;
    this._send = send;
    this._makingOffer = false;
    this._ignoreOffer = false;
    this._queue = Promise.resolve();
    this._pendingStream = undefined;
    this._closed = false;
    this._restartTimer = null;
    this.remoteStream = new MediaStream();
    this.pc = new RTCPeerConnection({ iceServers });
    this.pc.onnegotiationneeded = () => this._negotiate();
    this.pc.onicecandidate = ({ candidate }) => {
      if (candidate && candidate.candidate) this._send({ candidate: iceCandidateInit(candidate) });
    };
    this.pc.ontrack = ({ track }) => {
      this.remoteStream.addTrack(track);
      this.dispatchEvent(new CustomEvent("track", { detail: { stream: this.remoteStream, track } }));
    };
    this.pc.onconnectionstatechange = () => this._onConnectionState();
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
  }

  /**
   * Apply one message from the other peer. Messages are applied in arrival order.
   * @param {{description?: RTCSessionDescriptionInit, candidate?: RTCIceCandidateInit}} msg
   * @returns {Promise<void>}
   */
  handleSignal(msg) {
    this._queue = this._queue.then(() => this._apply(msg)).catch((err) => {
      log("signal failed", err);
      this.dispatchEvent(new CustomEvent("error", { detail: { code: "ERR_NEGOTIATION", message: String(err) } }));
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
   * Inbound media counters of this connection, from `getStats()`.
   * @returns {Promise<{connectionState: string,
   *   video: {framesDecoded: number, frameWidth: number, frameHeight: number, packetsReceived: number},
   *   audio: {totalSamplesReceived: number, packetsReceived: number}}>}
   */
  async counters() {
    const out = {
      connectionState: this.connectionState,
      video: { framesDecoded: 0, frameWidth: 0, frameHeight: 0, packetsReceived: 0 },
      audio: { totalSamplesReceived: 0, packetsReceived: 0 },
    };
    const report = await this.getStats();
    report?.forEach((s) => {
      if (s.type !== "inbound-rtp") return;
      if (s.kind === "video") {
        out.video = {
          framesDecoded: s.framesDecoded ?? 0,
          frameWidth: s.frameWidth ?? 0,
          frameHeight: s.frameHeight ?? 0,
          packetsReceived: s.packetsReceived ?? 0,
        };
      } else if (s.kind === "audio") {
        out.audio = { totalSamplesReceived: s.totalSamplesReceived ?? 0, packetsReceived: s.packetsReceived ?? 0 };
      }
    });
    return out;
  }

  /** Restart ICE (new candidates, same call) through the normal negotiation path. */
  restartIce() {
    if (!this._closed) this.pc.restartIce();
  }

  /** Close the connection and forget every handler. Idempotent. */
  destroy() {
    if (this._closed) return;
    this._closed = true;
    clearTimeout(this._restartTimer);
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
    } catch (err) {
      log("offer failed", err);
    } finally {
      this._makingOffer = false;
    }
  }

  async _apply({ description, candidate }) {
    if (this._closed) return;
    const pc = this.pc;
    if (description) {
      const collision = description.type === "offer" && (this._makingOffer || pc.signalingState !== "stable");
      this._ignoreOffer = !this.polite && collision;
      if (this._ignoreOffer) {
        log("ignoring a colliding offer (impolite)");
        return;
      }
      await pc.setRemoteDescription(description); // rolls back our offer when polite
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
      try {
        await pc.addIceCandidate(candidate);
      } catch (err) {
        if (!this._ignoreOffer) throw err;
      }
    }
  }

  _onConnectionState() {
    const state = this.pc.connectionState;
    log("connection", state);
    clearTimeout(this._restartTimer);
    if (state === "failed") this.restartIce();
    if (state === "disconnected") {
      this._restartTimer = setTimeout(() => this.restartIce(), DISCONNECTED_RESTART_MS);
    }
    this.dispatchEvent(new CustomEvent("statechange", { detail: { connectionState: state } }));
  }
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
