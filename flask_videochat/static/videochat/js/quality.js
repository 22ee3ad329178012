/**
 * Connection quality of one peer from two `getStats()` samples: round-trip time,
 * packet loss, incoming bitrate and frames per second, rated good, fair or poor.
 * @module quality
 */

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
export const QUALITY_WORDS = { good: "Good connection", fair: "Fair connection", poor: "Poor connection", unknown: "Connecting…" };
