/**
 * Who speaks in a room, from the audio levels: the loudest person above a
 * threshold, held for a while after they pause, and replaced only by someone who
 * speaks while they have been quiet for a moment (hysteresis: no flicker between
 * two voices or across the gaps in a sentence). {@link nextSpeaker} and
 * {@link audioLevels} are pure; {@link SpeakerWatch} samples and calls them.
 * No DOM.
 * @module speaker
 */

/**
 * The decision's tuning.
 * - `threshold`: the level (RMS, 0 to 1 as webrtc-stats `audioLevel`) from which a person speaks;
 * - `holdMs`: milliseconds the speaker stays the speaker after their level last reached it;
 * - `switchMs`: milliseconds the speaker must have been below it before someone else takes over.
 */
export const SPEAKER_OPTIONS = Object.freeze({ threshold: 0.02, holdMs: 1500, switchMs: 700 });

/** Milliseconds between two samples of the audio levels. */
export const SPEAKER_INTERVAL_MS = 250;

/**
 * @typedef {{id: string|null, heard: Object<string, number>}} SpeakerState
 *   `id`: who speaks (a user id) or null; `heard`: when each person last reached the
 *   threshold (milliseconds, the clock of `now`)
 */

/** Nobody speaks yet. @type {SpeakerState} */
export const NO_SPEAKER = Object.freeze({ id: null, heard: Object.freeze({}) });

/**
 * The speaker after one sample of the levels.
 * @param {SpeakerState} prev
 * @param {Object<string, number>} levels  each person's level now (0 to 1), by user id;
 *   people not in it are gone
 * @param {number} now  milliseconds
 * @param {{threshold: number, holdMs: number, switchMs: number}} [options]
 * @returns {SpeakerState}
 */
export function nextSpeaker(prev, levels, now, options = SPEAKER_OPTIONS) {
  const { threshold, holdMs, switchMs } = options;
  const heard = {};
  let loudest = null;
  for (const [id, level] of Object.entries(levels)) {
    if (id in prev.heard) heard[id] = prev.heard[id];
    if (level >= threshold) {
      heard[id] = now;
      if (loudest === null || level > levels[loudest]) loudest = id;
    }
  }
  const current = prev.id !== null && prev.id in heard ? prev.id : null;
  if (current !== null) {
    const quiet = now - heard[current];
    if (quiet <= holdMs && (loudest === null || loudest === current || quiet < switchMs)) return { id: current, heard };
  }
  return { id: loudest, heard };
}

/**
 * Levels from two samples of cumulative audio energy: the RMS level over the time
 * between them, `sqrt(ΔtotalAudioEnergy / ΔtotalSamplesDuration)` (webrtc-stats), so
 * that a short sound between two samples counts.
 * @param {Object<string, {energy: number, duration: number}>} before  by user id
 * @param {Object<string, {energy: number, duration: number}>} after  by user id
 * @returns {Object<string, number>}  0 to 1 by user id (0 for someone without an earlier sample)
 */
export function audioLevels(before, after) {
  const levels = {};
  for (const [id, now] of Object.entries(after)) {
    const then = before[id];
    const duration = then ? now.duration - then.duration : 0;
    const energy = then ? now.energy - then.energy : 0;
    levels[id] = duration > 0 && energy > 0 ? Math.min(1, Math.sqrt(energy / duration)) : 0;
  }
  return levels;
}

/** Samples the audio energy every {@link SPEAKER_INTERVAL_MS} and says when the speaker changes. */
export class SpeakerWatch {
  /**
   * @param {object} options
   * @param {() => Promise<Object<string, {energy: number, duration: number}>>} options.sample
   *   cumulative audio energy by user id (RoomController#audioEnergy)
   * @param {(id: string|null) => void} options.onChange  the speaker's user id, or null for nobody
   */
  constructor({ sample, onChange }) {
    this._sample = sample;
    this._onChange = onChange;
    this._timer = null;
    this._state = NO_SPEAKER;
    this._last = {};
    this._busy = false;
  }

  /** Who speaks now (a user id), or null. */
  get speaker() {
    return this._state.id;
  }

  /** Start sampling. Idempotent. */
  start() {
    if (this._timer !== null) return;
    this._timer = setInterval(() => this._tick(), SPEAKER_INTERVAL_MS);
  }

  /** Stop sampling and forget who spoke (says nobody speaks, if someone did). Idempotent. */
  stop() {
    clearInterval(this._timer);
    this._timer = null;
    this._last = {};
    const had = this._state.id;
    this._state = NO_SPEAKER;
    if (had !== null) this._onChange(null);
  }

  async _tick() {
    if (this._busy) return;
    this._busy = true;
    try {
      const sample = await this._sample();
      if (this._timer === null) return;
      const prev = this._state.id;
      this._state = nextSpeaker(this._state, audioLevels(this._last, sample), performance.now());
      this._last = sample;
      if (this._state.id !== prev) this._onChange(this._state.id);
    } catch {
      // A connection closing meanwhile: the next sample will do.
    } finally {
      this._busy = false;
    }
  }
}
