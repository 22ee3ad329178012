/**
 * The device check: choose camera, microphone and speaker, see the microphone level,
 * and (before joining or answering) choose to send no camera or no microphone at all.
 * Shown under the preview before a room is joined or a call is accepted, and from
 * the "Devices" control during a call. No DOM outside its own root.
 * @module device-check
 */

import { t } from "./i18n.js";
import { h } from "./dom.js";
import { LevelMeter, listDevices, loadPreferences, savePreferences } from "./media.js";

/** Milliseconds between two redraws of the level meter. */
export const METER_INTERVAL_MS = 100;

/** The device check panel. */
export class DeviceCheck {
  /**
   * @param {object} handlers
   * @param {(devices: {videoInput?: string, audioInput?: string}) => void} handlers.onSelect
   * @param {(deviceId: string) => void} handlers.onSpeaker
   * @param {(use: {video: boolean, audio: boolean}) => void} handlers.onUse  what to send (before joining)
   */
  constructor({ onSelect, onSpeaker, onUse }) {
    const select = (testid, label) =>
      h("select", { class: "vc-select", "data-testid": testid, "aria-label": label, part: "device-select" });
    this.camera = select("videochat-camera-select", t("devices.camera"));
    this.microphone = select("videochat-microphone-select", t("devices.microphone"));
    this.speaker = select("videochat-speaker-select", t("devices.speaker"));
    this.useCamera = h("input", { type: "checkbox", "data-testid": "videochat-use-camera" });
    this.useMicrophone = h("input", { type: "checkbox", "data-testid": "videochat-use-microphone" });
    this.meterBar = h("span", { class: "vc-meter-bar" });
    this.meter = h("span", { class: "vc-meter", role: "meter", "aria-label": t("devices.mic_level"), "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0", "data-testid": "videochat-mic-level" }, this.meterBar);
    this.summary = h("p", { class: "vc-device-summary", "data-testid": "videochat-device-summary" });
    this.useRow = h("div", { class: "vc-use" },
      h("label", {}, this.useCamera, ` ${t("devices.camera")}`),
      h("label", {}, this.useMicrophone, ` ${t("devices.microphone")}`));
    this.speakerRow = h("label", { class: "vc-field" }, h("span", {}, t("devices.speaker")), this.speaker);
    this.root = h(
      "section",
      { class: "vc-devices", "aria-label": t("devices.label"), "data-testid": "videochat-device-check", part: "devices" },
      this.useRow,
      h("label", { class: "vc-field" }, h("span", {}, t("devices.camera")), this.camera),
      h("label", { class: "vc-field" }, h("span", {}, t("devices.microphone")), h("span", { class: "vc-mic-row" }, this.microphone, this.meter)),
      this.speakerRow,
      this.summary,
    );
    this.camera.addEventListener("change", () => onSelect({ videoInput: this.camera.value }));
    this.microphone.addEventListener("change", () => onSelect({ audioInput: this.microphone.value }));
    this.speaker.addEventListener("change", () => {
      savePreferences({ audioOutputId: this.speaker.value });
      onSpeaker(this.speaker.value);
    });
    const use = () => {
      const choice = { video: this.useCamera.checked, audio: this.useMicrophone.checked };
      savePreferences(choice);
      this._renderSummary(choice);
      onUse(choice);
    };
    this.useCamera.addEventListener("change", use);
    this.useMicrophone.addEventListener("change", use);
    this._meter = null;
    this._timer = null;
    this._onDeviceChange = () => this.refresh();
    navigator.mediaDevices?.addEventListener?.("devicechange", this._onDeviceChange);
  }

  /**
   * Show the devices and the current choice; meter the microphone of `stream`.
   * @param {MediaStream|null} stream the preview or the call's local stream
   * @param {{beforeJoining: boolean}} options whether "send no camera / no microphone" is offered
   */
  async show(stream, { beforeJoining }) {
    this.useRow.hidden = !beforeJoining;
    this.summary.hidden = !beforeJoining;
    const prefs = loadPreferences();
    this.useCamera.checked = prefs.video;
    this.useMicrophone.checked = prefs.audio;
    this._renderSummary(prefs, stream);
    this._meterStream(stream);
    await this.refresh(stream);
  }

  /** Fill the lists (labels appear once access was granted). */
  async refresh(stream = this._stream) {
    this._stream = stream;
    const devices = await listDevices();
    const prefs = loadPreferences();
    const current = (kind) => stream?.getTracks().find((t) => t.kind === kind)?.getSettings().deviceId;
    fill(this.camera, devices.videoinput, current("video") || prefs.videoDeviceId, "camera");
    fill(this.microphone, devices.audioinput, current("audio") || prefs.audioDeviceId, "microphone");
    const canChooseSpeaker = "setSinkId" in HTMLMediaElement.prototype && devices.audiooutput.length > 0;
    this.speakerRow.hidden = !canChooseSpeaker;
    if (canChooseSpeaker) fill(this.speaker, devices.audiooutput, prefs.audioOutputId, "speaker");
    this.camera.disabled = devices.videoinput.length === 0 || !stream?.getVideoTracks().length;
    this.microphone.disabled = devices.audioinput.length === 0 || !stream?.getAudioTracks().length;
  }

  /** Stop metering. Idempotent. */
  hide() {
    this._meterStream(null);
  }

  /** Stop metering and listening. */
  destroy() {
    this.hide();
    navigator.mediaDevices?.removeEventListener?.("devicechange", this._onDeviceChange);
  }

  _renderSummary({ video, audio }, stream = this._stream) {
    const hasVideo = Boolean(stream?.getVideoTracks().length) || video;
    const hasAudio = Boolean(stream?.getAudioTracks().length) || audio;
    this.summary.textContent =
      video && audio && hasVideo && hasAudio ? t("devices.seen_and_heard")
      : audio && hasAudio && !video ? t("devices.audio_only")
      : video && hasVideo && !audio ? t("devices.video_only")
      : !video && !audio ? t("devices.receive_only")
      : "";
  }

  _meterStream(stream) {
    clearInterval(this._timer);
    this._meter?.destroy();
    this._meter = null;
    this.meterBar.style.width = "0%";
    if (!stream?.getAudioTracks().length) return;
    try {
      this._meter = new LevelMeter(stream);
    } catch {
      return; // no Web Audio: no meter
    }
    this._timer = setInterval(() => {
      const percent = Math.round((this._meter?.level() ?? 0) * 100);
      this.meterBar.style.width = `${percent}%`;
      this.meter.setAttribute("aria-valuenow", String(percent));
    }, METER_INTERVAL_MS);
  }
}

function fill(select, devices, selectedId, noun) {
  select.replaceChildren(
    ...devices.map((d, i) => {
      const option = h("option", { value: d.deviceId }, d.label || t(`devices.${noun}_n`, { n: i + 1 }));
      option.selected = d.deviceId === selectedId;
      return option;
    }),
  );
  if (devices.length === 0) select.append(h("option", { value: "" }, t(`devices.no_${noun}`)));
}
