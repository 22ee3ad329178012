/**
 * Connection quality of one peer from two `getStats()` samples: round-trip time,
 * packet loss, incoming bitrate and frames per second, rated good, fair or poor.
 * @module quality
 */

import { t, wordTable } from "./i18n.js";

/**
 * Thresholds of the rating. A connection is **poor** when any "poor" limit is
 * passed, **fair** when any "fair" limit is, else **good**. Loss is the share of
 * packets lost between the two samples; RTT is the selected ICE candidate pair's
 * `currentRoundTripTime`; frame rates count only while video is received.
 * (Roughly the limits of ITU-T G.114 for delay: one-way delay up to 150 ms is fine
 * for conversation, so a round trip above 300 ms is noticeable; audio codecs hide a
 * few percent of loss, video stutters beyond that.)
 */
export const QUALITY_THRESHOLDS = Object.freeze({
  fair: { rttMs: 300, lossPercent: 3, fps: 20 },
  poor: { rttMs: 600, lossPercent: 10, fps: 10 },
});

/** Seconds between two quality samples in the widget. */
export const QUALITY_INTERVAL_S = 2;

/**
 * Rate a connection from two successive {@link import("./peer.js").Peer#counters} samples.
 * @param {object|null} before the earlier sample (null: only `after` is known)
 * @param {object} after
 * @param {{video?: boolean}} [options] `video: false` when the other person's camera is
 *   off (a disabled camera sends a frame a second: not a poor connection)
 * @returns {{level: "good"|"fair"|"poor"|"unknown", rttMs: number|null, lossPercent: number|null,
 *   kbps: number|null, fps: number|null}}
 */
export function rateQuality(before, after, { video = true } = {}) {
  if (!after || after.connectionState !== "connected") {
    return { level: after?.connectionState === "connecting" || after?.connectionState === "new" ? "unknown" : "poor", rttMs: null, lossPercent: null, kbps: null, fps: null };
  }
  const rttMs = after.transport.rtt === null ? null : Math.round(after.transport.rtt * 1000);
  let lossPercent = null;
  let kbps = null;
  if (before) {
    const received = sum(after, "packetsReceived") - sum(before, "packetsReceived");
    const lost = sum(after, "packetsLost") - sum(before, "packetsLost");
    if (received + lost > 0) lossPercent = Math.max(0, (100 * lost) / (received + lost));
    const seconds = (after.at - before.at) / 1000;
    if (seconds > 0) kbps = Math.round(((sum(after, "bytesReceived") - sum(before, "bytesReceived")) * 8) / 1000 / seconds);
  }
  const receivingVideo = after.video.packetsReceived > (before?.video.packetsReceived ?? 0);
  const fps = video && receivingVideo ? after.video.framesPerSecond : null;
  const past = (limits) =>
    (rttMs !== null && rttMs > limits.rttMs) ||
    (lossPercent !== null && lossPercent > limits.lossPercent) ||
    (fps !== null && fps < limits.fps);
  const level = past(QUALITY_THRESHOLDS.poor) ? "poor" : past(QUALITY_THRESHOLDS.fair) ? "fair" : "good";
  return { level, rttMs, lossPercent: lossPercent === null ? null : Math.round(lossPercent * 10) / 10, kbps, fps };
}

function sum(sample, key) {
  return (sample.video[key] ?? 0) + (sample.audio[key] ?? 0);
}

/** Words for each level, shown to the person. */
export const QUALITY_WORDS = wordTable({ good: "quality.good", fair: "quality.fair", poor: "quality.poor", unknown: "quality.unknown" });

/**
 * The rating in words, with its figures: "Good connection · 12 ms round trip · ...".
 * @param {ReturnType<typeof rateQuality>} rating
 */
export function qualityWords(rating) {
  const parts = [QUALITY_WORDS[rating.level]];
  if (rating.rttMs !== null) parts.push(t("quality.rtt", { ms: rating.rttMs }));
  if (rating.lossPercent !== null) parts.push(t("quality.loss", { percent: rating.lossPercent }));
  if (rating.kbps !== null) parts.push(`${rating.kbps} kbit/s`);
  if (rating.fps) parts.push(`${Math.round(rating.fps)} fps`);
  return parts.join(" · ");
}

/**
 * Rates peer connections every {@link QUALITY_INTERVAL_S} seconds while started.
 */
export class QualityMonitor {
  /**
   * @param {object} options
   * @param {() => [string, import("./peer.js").Peer, {video: boolean}][]} options.peers  what to rate now
   * @param {(peerId: string, rating: ReturnType<typeof rateQuality>, changed: boolean) => void} options.onRating
   */
  constructor({ peers, onRating }) {
    this._peers = peers;
    this._onRating = onRating;
    this._timer = null;
    /** @type {Map<string, {sample: object, rating: object}>} */
    this._last = new Map();
  }

  /** Start rating (idempotent). */
  start() {
    if (!this._timer) this._timer = setInterval(() => this._sample(), QUALITY_INTERVAL_S * 1000);
  }

  /** Stop and forget every rating (idempotent). */
  stop() {
    clearInterval(this._timer);
    this._timer = null;
    this._last.clear();
  }

  /** The last rating of a peer, or null. @param {string} peerId */
  rating(peerId) {
    return this._last.get(peerId)?.rating ?? null;
  }

  async _sample() {
    const timer = this._timer;
    for (const [id, peer, { video }] of this._peers()) {
      const sample = await peer.counters();
      // The call or room may have ended while the sample was taken.
      if (this._timer !== timer || peer.connectionState === "closed") return;
      const previous = this._last.get(id);
      const rating = rateQuality(previous?.sample ?? null, sample, { video });
      this._last.set(id, { sample, rating });
      this._onRating(id, rating, previous?.rating.level !== rating.level);
    }
  }
}
