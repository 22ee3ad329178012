/**
 * The 1:1 call's parts: the stage (the other person's
 * video or avatar, their name, your preview) and the controls. The controls and
 * your preview are moved into the lobby or the room while those are shown. Each
 * part shows what the view ({@link module:view}) says.
 * @module call-stage
 */

import { t } from "./i18n.js";
import { applySpeaker } from "./media.js";
import { avatar, h, qualityIndicator, showQuality } from "./dom.js";
import { icon, setIcon } from "./icons.js";

/**
 * An icon button of the controls: the icon, `label` as its accessible name and as
 * its tooltip (`data-tip`, shown on hover and keyboard focus by css/videochat.css).
 */
function button(testid, cls, label, iconName, part, attrs = {}) {
  return h("button", { type: "button", class: `vc-btn vc-tip ${cls}`, "data-testid": testid, "aria-label": label, "data-tip": label, part: `button ${part}`, ...attrs }, icon(iconName));
}

/**
 * Set an icon toggle from its view: pressed, label, tooltip, icon, disabled.
 * @param {HTMLButtonElement} btn  a {@link button}
 * @param {{pressed: boolean, label: string, tip: string, icon: string, disabled?: boolean}} view
 */
function showIconToggle(btn, { pressed, label, tip, icon: name, disabled = false }) {
  btn.setAttribute("aria-pressed", String(pressed));
  btn.setAttribute("aria-label", label);
  btn.dataset.tip = tip;
  btn.disabled = disabled;
  setIcon(btn.querySelector(".vc-icon"), name);
}

/** The controls: microphone, camera, screen, devices, add someone, hang up, leave. */
export class Controls {
  /**
   * @param {{onMute: () => void, onCamera: () => void, onScreen: () => void, onDevices: () => void,
   *   onAdd: () => void, onHangup: () => void, onLeave: () => void}} handlers
   */
  constructor(handlers) {
    this.mute = button("videochat-mute", "vc-round", t("controls.mute"), "mic", "mute", { "aria-pressed": "false" });
    this.camera = button("videochat-camera", "vc-round", t("controls.camera_off"), "video", "camera", { "aria-pressed": "false" });
    this.screen = button("videochat-screen-share", "vc-round vc-share", t("controls.share"), "monitor-up", "screen-share", { "aria-pressed": "false" });
    this.devices = button("videochat-devices", "vc-round", t("controls.devices"), "settings", "devices-button", { "aria-expanded": "false" });
    this.add = button("videochat-add-participant", "vc-round", t("controls.add"), "user-plus", "add", { "aria-expanded": "false" });
    // Hang up and Leave: red, always last.
    this.hangup = button("videochat-hangup", "vc-hangup", t("controls.hangup"), "phone-off", "hangup", { hidden: true });
    this.leave = button("videochat-leave", "vc-hangup", t("controls.leave"), "log-out", "leave", { hidden: true });
    this.root = h("div", { class: "vc-controls", role: "group", "aria-label": t("controls.label") },
      this.mute, this.camera, this.screen, this.devices, this.add, this.hangup, this.leave);
    const on = { mute: "onMute", camera: "onCamera", screen: "onScreen", devices: "onDevices", add: "onAdd", hangup: "onHangup", leave: "onLeave" };
    for (const [name, handler] of Object.entries(on)) this[name].addEventListener("click", handlers[handler]);
  }

  /** @param {object} view  the view's `controls` */
  show(view) {
    showIconToggle(this.mute, view.mute);
    showIconToggle(this.camera, view.camera);
    showIconToggle(this.screen, view.screen);
    this.screen.hidden = !view.screen.shown;
    this.devices.hidden = !view.devices.shown;
    this.devices.setAttribute("aria-expanded", String(view.devices.expanded));
    this.add.hidden = !view.add.shown;
    this.add.setAttribute("aria-expanded", String(view.add.expanded));
    this.hangup.hidden = !view.hangup;
    this.leave.hidden = !view.leave;
  }
}

/** The 1:1 stage: the other person's video (or their avatar), their name, your preview. */
export class CallStage {
  constructor() {
    this.remoteSlot = h("div", { class: "vc-remote" });
    this.placeholder = h("div", { class: "vc-placeholder" });
    this.local = h("video", { class: "vc-local", "data-testid": "videochat-local-video", autoplay: true, playsinline: true, part: "local-video" });
    this.local.muted = true;
    this.localOff = h("span", { class: "vc-local vc-local-off", "aria-hidden": "true" }, t("media.camera_off"));
    // Their microphone off: an icon, with words for screen readers.
    this.peerMuted = h("span", { class: "vc-peer-muted", "data-testid": "videochat-remote-muted", hidden: true },
      icon("mic-off"), h("span", { class: "vc-sr" }, t("media.muted")));
    this.peerNameText = h("span", {});
    this.quality = qualityIndicator();
    this.peerName = h("span", { class: "vc-peer-name", part: "peer-name" }, this.peerNameText, this.peerMuted);
    this.previewLabel = h("span", { class: "vc-preview-label" }, t("stage.your_camera"));
    /** Your preview; moved into the lobby or your room tile while those are shown. */
    this.selfSlot = h("div", { class: "vc-self" }, this.local, this.localOff);
    this.root = h(
      "section",
      { class: "vc-stage", "aria-label": t("stage.label"), part: "stage", hidden: true },
      this.remoteSlot,
      this.placeholder,
      this.peerName,
      this.quality,
      this.selfSlot,
      this.previewLabel,
    );
  }

  /** Whether a remote `<video>` is on the stage. */
  get hasRemote() {
    return Boolean(this.remoteSlot.firstChild);
  }

  /** @param {object} view  the view's `stage` */
  show(view) {
    this.root.hidden = !view.shown;
    this.root.dataset.state = view.state;
    const p = view.placeholder;
    const cameraOff = p?.cameraOff ? [h("span", { class: "vc-camera-off", "data-testid": "videochat-camera-off" }, icon("video-off"), t("media.camera_off"))] : [];
    this.placeholder.replaceChildren(...(p ? [avatar(p.peer, "vc-large"), h("span", {}, p.peer.name), ...cameraOff] : []));
    this.placeholder.hidden = view.showingVideo;
    this.root.dataset.peerMic = String(view.peerMedia.mic);
    this.root.dataset.peerCam = String(view.peerMedia.cam);
    this.root.dataset.peerScreen = String(view.peerMedia.screen);
    this.peerNameText.textContent = view.peerName;
    this.peerMuted.hidden = !view.peerMuted;
    this.peerName.hidden = !view.peerNameShown;
    this.previewLabel.hidden = !view.previewLabel;
  }

  /**
   * Your preview: what you send, and whether to say the camera is off instead.
   * @param {{sharing: boolean, localOff: boolean}} view  the view's `controls`
   */
  showSelf({ sharing, localOff }) {
    this.selfSlot.classList.toggle("vc-sharing", sharing);
    this.local.hidden = localOff;
    this.localOff.hidden = !localOff;
  }

  /**
   * Play the other person's stream.
   * @param {MediaStream} stream
   * @param {string} peerId
   * @param {string|null} speaker  the audio output's device id
   */
  showRemote(stream, peerId, speaker) {
    let video = this.remoteSlot.querySelector("video");
    if (!video) {
      video = h("video", { class: "vc-remote-video", "data-testid": "videochat-remote-video", autoplay: true, playsinline: true, part: "remote-video" });
      this.remoteSlot.append(video);
    }
    video.dataset.userId = peerId;
    if (video.srcObject !== stream) video.srcObject = stream;
    video.play().catch(() => {});
    applySpeaker(video, speaker);
  }

  /** Remove the other person's video (the call ended, or a room tile plays it now). */
  removeRemote() {
    for (const video of this.remoteSlot.querySelectorAll("video")) {
      video.srcObject = null;
      video.remove();
    }
  }

  /** Show a rating of the call's connection. @param {string} peerId @param {object} rating */
  showQuality(peerId, rating) {
    showQuality(this.quality, peerId, rating);
  }
}
