/**
 * Making the call bigger: three buttons on the 1:1 stage (and on the room) to
 * - enlarge it from its place on the page (a sidebar) to the whole page and back
 *   (Escape also restores it; it is shown in the top layer as a manual popover
 *   where the browser has the Popover API, so no part of the page covers it);
 * - show it full screen (Fullscreen API; Escape leaves, and the button follows);
 * - pop it out in picture-in-picture, to keep talking while using the page: the
 *   whole call with its controls in a Document Picture-in-Picture window where the
 *   browser has one (`window.documentPictureInPicture`; the widget's stylesheets
 *   and theme are copied in, and the call moves back when the window closes), else
 *   the other person's video (`HTMLVideoElement.requestPictureInPicture`).
 * A button the browser cannot back is hidden.
 * @module stage-size
 */

import { h } from "./dom.js";
import { t } from "./i18n.js";
import { icon, setIcon } from "./icons.js";

/** The Document Picture-in-Picture window's size, in CSS pixels. */
export const PIP_WINDOW_SIZE = Object.freeze({ width: 420, height: 360 });

/**
 * How this browser can pop a call out: "document" (Document Picture-in-Picture:
 * the whole call), "video" (the remote video only), or null (neither).
 * @param {Window} [win]
 * @returns {"document"|"video"|null}
 */
export function pipMode(win = window) {
  if ("documentPictureInPicture" in win) return "document";
  if (win.document.pictureInPictureEnabled && "requestPictureInPicture" in win.HTMLVideoElement.prototype) return "video";
  return null;
}

/** A small icon button with its words as accessible name and tooltip. */
function sizeButton(testid, label, iconName, part) {
  return h("button", { type: "button", class: "vc-btn vc-tip vc-size-btn", "data-testid": testid, "aria-label": label, "data-tip": label, "aria-pressed": "false", part: `button ${part}` }, icon(iconName));
}

/** Show a size button's state: pressed, words, icon. */
function showButton(btn, pressed, label, iconName) {
  btn.setAttribute("aria-pressed", String(pressed));
  btn.setAttribute("aria-label", label);
  btn.dataset.tip = label;
  setIcon(btn.querySelector(".vc-icon"), iconName);
}

/** The size buttons and what they do to their target (the stage or the room). */
export class StageSize {
  constructor() {
    this.enlarge = sizeButton("videochat-enlarge", t("size.enlarge"), "maximize-2", "enlarge");
    this.fullscreen = sizeButton("videochat-fullscreen", t("size.fullscreen"), "fullscreen", "fullscreen");
    this.pip = sizeButton("videochat-pip", t("size.pip"), "picture-in-picture-2", "pip");
    this.root = h("div", { class: "vc-size", role: "group", "aria-label": t("size.label"), part: "size", hidden: true },
      this.enlarge, this.fullscreen, this.pip);
    /** The element made bigger (the stage or the room); null while not shown. @type {HTMLElement|null} */
    this.target = null;
    /** The remote video for video picture-in-picture. @type {() => HTMLVideoElement|null} */
    this.video = () => null;
    /** Whether the target fills the page. */
    this.enlarged = false;
    /** The Document Picture-in-Picture window the target is in, or null. @type {Window|null} */
    this.pipWindow = null;
    /** In the target's place while it is in the Document Picture-in-Picture window. */
    this.back = h("button", { type: "button", class: "vc-btn", "data-testid": "videochat-pip-back", part: "button pip-back" }, t("size.pip_back"));
    this.home = h("div", { class: "vc-pip-home", "data-testid": "videochat-pip-home", part: "pip-home" },
      h("p", {}, t("size.pip_home")), this.back);
    this.back.addEventListener("click", () => this.pipWindow?.close());
    this._onKey = (e) => {
      if (e.key === "Escape" && this.enlarged && !this._fullscreenElement()) this.setEnlarged(false);
    };
    this._onFullscreen = () => this._showState();
    this.enlarge.addEventListener("click", () => this.setEnlarged(!this.enlarged));
    this.fullscreen.addEventListener("click", () => this.toggleFullscreen());
    this.pip.addEventListener("click", () => this.togglePip());
    document.addEventListener("fullscreenchange", this._onFullscreen);
    this._showState();
  }

  /**
   * Show the buttons for a target, or hide them and undo everything (the call or
   * room is over). A new target (the call grew into a room) stays enlarged if the
   * old one was; full screen and picture-in-picture end.
   * @param {{target: HTMLElement|null, video?: () => HTMLVideoElement|null}} view
   */
  show({ target, video = () => null }) {
    if (target !== this.target) {
      const enlarged = this.enlarged;
      this.reset();
      this.target = target;
      if (target && enlarged) this.setEnlarged(true);
    }
    this.video = video;
    this.root.hidden = target === null;
    this._showState();
  }

  /** Back to normal: not enlarged, not full screen, not in picture-in-picture. */
  reset() {
    if (this.enlarged) this.setEnlarged(false);
    if (this._fullscreenElement()) document.exitFullscreen().catch(() => {});
    this.pipWindow?.close();
    if (document.pictureInPictureElement) document.exitPictureInPicture().catch(() => {});
  }

  /**
   * Enlarge the target to the whole page, or restore it.
   * @param {boolean} on
   */
  setEnlarged(on) {
    const el = this.target;
    if (!el || on === this.enlarged) return;
    this.enlarged = on;
    el.classList.toggle("vc-enlarged", on);
    if (on) {
      if (typeof el.showPopover === "function" && el.isConnected) {
        el.popover = "manual";
        el.showPopover();
      }
      window.addEventListener("keydown", this._onKey);
    } else {
      if (el.hasAttribute("popover")) {
        if (el.matches(":popover-open")) el.hidePopover();
        el.removeAttribute("popover");
      }
      window.removeEventListener("keydown", this._onKey);
    }
    this._showState();
  }

  /** Show the target full screen, or leave full screen. @returns {Promise<void>} */
  async toggleFullscreen() {
    if (this._fullscreenElement()) await document.exitFullscreen().catch(() => {});
    else await this.target?.requestFullscreen().catch(() => {});
  }

  /** Pop the call out in picture-in-picture, or bring it back. @returns {Promise<void>} */
  async togglePip() {
    if (this.pipWindow) this.pipWindow.close();
    else if (document.pictureInPictureElement) await document.exitPictureInPicture().catch(() => {});
    else if (pipMode() === "document") await this._openPipWindow();
    else {
      const video = this.video();
      if (!video) return;
      video.addEventListener("leavepictureinpicture", () => this._showState(), { once: true });
      await video.requestPictureInPicture().catch(() => {});
    }
    this._showState();
  }

  /** The target if it is full screen (in its shadow root's terms), else null. */
  _fullscreenElement() {
    const el = this.target;
    return el && el.getRootNode().fullscreenElement === el ? el : null;
  }

  /**
   * Move the target, with its controls, into a Document Picture-in-Picture window
   * with the widget's stylesheets and theme; it comes back when the window closes.
   */
  async _openPipWindow() {
    const el = this.target;
    if (!el) return;
    const pipWindow = await window.documentPictureInPicture.requestWindow(PIP_WINDOW_SIZE).catch(() => null);
    if (!pipWindow || this.target !== el) {
      pipWindow?.close();
      return;
    }
    if (this.enlarged) this.setEnlarged(false);
    const doc = pipWindow.document;
    const root = el.getRootNode();
    for (const link of root.querySelectorAll('link[rel="stylesheet"]')) doc.head.append(doc.importNode(link));
    doc.title = document.title;
    const frame = doc.createElement("div");
    frame.className = "vc-pip";
    const theme = getComputedStyle(root.host ?? document.documentElement);
    for (const name of theme) if (name.startsWith("--videochat-")) frame.style.setProperty(name, theme.getPropertyValue(name));
    frame.style.font = theme.font;
    el.before(this.home);
    frame.append(el);
    doc.body.append(frame);
    playAll(el);
    this.pipWindow = pipWindow;
    pipWindow.addEventListener("pagehide", () => this._pipClosed(el), { once: true });
  }

  /** The Document Picture-in-Picture window closed: the target goes back to its place. */
  _pipClosed(el) {
    if (this.home.isConnected) {
      this.home.replaceWith(el);
      playAll(el);
    }
    this.pipWindow = null;
    this._showState();
  }

  /** The buttons' states and which are shown. */
  _showState() {
    const inPip = this.pipWindow !== null;
    const full = Boolean(this._fullscreenElement());
    const mode = pipMode();
    const isStage = this.target?.classList.contains("vc-stage") ?? false;
    this.enlarge.hidden = inPip || full;
    this.fullscreen.hidden = inPip || !document.fullscreenEnabled;
    this.pip.hidden = mode === null || (mode === "video" && !isStage);
    showButton(this.enlarge, this.enlarged, t(this.enlarged ? "size.restore" : "size.enlarge"),
      this.enlarged ? "minimize-2" : "maximize-2");
    showButton(this.fullscreen, full, t(full ? "size.exit_fullscreen" : "size.fullscreen"), full ? "minimize" : "fullscreen");
    const pipOn = inPip || Boolean(document.pictureInPictureElement);
    showButton(this.pip, pipOn, t(pipOn ? "size.pip_exit" : "size.pip"), "picture-in-picture-2");
  }
}

/** Play every video under `el` again (moving a video to another document pauses it). */
function playAll(el) {
  for (const video of el.querySelectorAll("video")) video.play().catch(() => {});
}
