/**
 * The incoming-call ring, synthesised with Web Audio (no sound file to serve).
 * Browsers keep an AudioContext silent until the person has interacted with the
 * page; the panel still shows the call visually, and the page title says it (for a
 * background tab).
 * @module ringtone
 */

/** Seconds of one ring cycle: two short tones, then silence. */
export const RING_PERIOD_S = 3;
/** The two frequencies of the ring, in hertz (a common telephone ring pair). */
export const RING_FREQUENCIES_HZ = [440, 480];
/** Gain of the ring, 0 to 1. */
export const RING_GAIN = 0.08;

/** Plays a repeating ring until stopped. */
export class Ringtone {
  constructor() {
    this._context = null;
    this._timer = null;
    /** The page's own title while a call rings, or null. */
    this._pageTitle = null;
  }

  /**
   * Ring with the page's title saying so, or stop and give the page its title back.
   * @param {string|null} title  e.g. "Bob is calling…"; null: stop
   */
  ring(title) {
    if (title !== null) {
      this.start();
      if (this._pageTitle === null) this._pageTitle = document.title;
      document.title = title;
    } else {
      this.stop();
      if (this._pageTitle !== null) document.title = this._pageTitle;
      this._pageTitle = null;
    }
  }

  /** Start ringing (no-op when already ringing or when Web Audio is missing). */
  start() {
    if (this._timer || !globalThis.AudioContext) return;
    this._context = new AudioContext();
    const ring = () => {
      const ctx = this._context;
      if (!ctx || ctx.state === "closed") return;
      const gain = ctx.createGain();
      gain.gain.value = 0;
      gain.connect(ctx.destination);
      const t = ctx.currentTime;
      for (const [start, stop] of [[0, 0.4], [0.6, 1.0]]) {
        gain.gain.setValueAtTime(RING_GAIN, t + start);
        gain.gain.setValueAtTime(0, t + stop);
      }
      for (const hz of RING_FREQUENCIES_HZ) {
        const osc = ctx.createOscillator();
        osc.frequency.value = hz;
        osc.connect(gain);
        osc.start(t);
        osc.stop(t + 1.0);
      }
    };
    ring();
    this._timer = setInterval(ring, RING_PERIOD_S * 1000);
  }

  /** Stop ringing. Idempotent. */
  stop() {
    clearInterval(this._timer);
    this._timer = null;
    this._context?.close().catch(() => {});
    this._context = null;
  }
}
