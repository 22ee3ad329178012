/**
 * The room's views: the lobby (the room's name, your preview and a Join button
 * before joining), and the room itself: tiles (yours and one per other member, each
 * with the person's video, name, and microphone state as an icon) in grid view or
 * speaker view (one big tile: whom you pinned, else who speaks), the speaker
 * highlighted, a pin button on each tile, and the participant list (microphone and
 * camera state as icons with words for screen readers, a pin button and a volume
 * slider per person). The element moves its shared pieces (your preview, the
 * controls, the chat panel, the device check) into whichever is shown.
 * @module room-view
 */

import { t as tr, tn } from "./i18n.js";
import { applySpeaker } from "./media.js";
import { avatar, h, qualityIndicator, showQuality } from "./dom.js";
import { icon, setIcon } from "./icons.js";
import { mediaWords, pinWords, volumeWords } from "./words.js";

/** A person's volume (percent) until its slider is moved. */
export const DEFAULT_VOLUME = 100;

/** The lobby of the room the `room` attribute names: its name, your preview, Join. */
export class Lobby {
  /** @param {{onJoin: () => void}} handlers */
  constructor({ onJoin }) {
    this.join = h("button", { type: "button", class: "vc-btn vc-accept vc-join", "data-testid": "videochat-join", part: "button join" }, tr("lobby.join"));
    this.title = h("strong", { class: "vc-room-name" });
    /** Where your preview goes. */
    this.stage = h("div", { class: "vc-lobby-stage" });
    this.root = h(
      "section",
      { class: "vc-lobby", "aria-label": tr("lobby.label"), part: "lobby", hidden: true },
      h("p", { class: "vc-lobby-title" }, `${tr("lobby.room")} `, this.title),
      this.stage,
      this.join,
    );
    this.join.addEventListener("click", onJoin);
  }

  /** @param {{shown: boolean, title: string, joinEnabled: boolean}} view  the view's `lobby` */
  show({ shown, title, joinEnabled }) {
    this.root.hidden = !shown;
    this.title.textContent = title;
    this.join.disabled = !joinEnabled;
  }
}

/** The room's view. */
export class RoomView {
  /**
   * @param {{onLayout?: (layout: "grid"|"speaker") => void, onPin?: (id: string) => void}} [handlers]
   *   a layout button was pressed; a pin button was pressed (the view says who is pinned)
   */
  constructor({ onLayout = () => {}, onPin = () => {} } = {}) {
    this._onPin = onPin;
    /** @type {Map<string, {tile: HTMLElement, video: HTMLVideoElement, cover: HTMLElement, label: HTMLElement, state: HTMLElement, pin: HTMLButtonElement}>} */
    this.tiles = new Map();
    /** Participant rows by user id. @type {Map<string, object>} */
    this.rows = new Map();
    /** Each remote person's volume in percent, by user id (kept while you are in the room). */
    this.volumes = new Map();
    this._selfId = null;
    this.name = h("strong", { class: "vc-room-name" });
    this.count = h("span", { class: "vc-room-count" });
    this.layoutButtons = new Map();
    for (const layout of ["grid", "speaker"]) {
      const button = h("button", { type: "button", class: "vc-layout-btn", "data-testid": `videochat-layout-${layout}`, "aria-pressed": "false", part: "button layout" });
      button.addEventListener("click", () => onLayout(layout));
      this.layoutButtons.set(layout, button);
    }
    this.layoutToggle = h("div", { class: "vc-layout-toggle", role: "group", "aria-label": tr("room.layout_label") }, ...this.layoutButtons.values());
    this.selfMuted = mutedBadge("videochat-self-muted");
    this.selfTile = h("div", { class: "vc-tile vc-tile-self", "data-testid": "videochat-self-tile", part: "tile self-tile" },
      h("span", { class: "vc-tile-label" }, h("span", { class: "vc-tile-name" }, tr("member.you")), this.selfMuted));
    this.grid = h("div", { class: "vc-grid", "data-count": "1", "data-layout": "grid", part: "grid" }, this.selfTile);
    this.controlsSlot = h("div", { class: "vc-room-controls" });
    /** The room's heading: its name, how many, the layout toggle (and the size buttons). */
    this.head = h("div", { class: "vc-room-head" }, h("span", { class: "vc-room-title" }, this.name, this.count), this.layoutToggle);
    this.people = h("ul", { class: "vc-participants", "aria-label": tr("room.people_label"), part: "participants" });
    this.side = h("div", { class: "vc-room-side" }, h("h3", { class: "vc-heading" }, tr("room.heading")), this.people);
    this.root = h(
      "section",
      { class: "vc-room", "data-testid": "videochat-room", "aria-label": tr("lobby.room"), part: "room", hidden: true },
      h("div", { class: "vc-room-main" },
        this.head,
        this.grid, this.controlsSlot),
      this.side,
    );
  }

  /** Set the room's name (as text). */
  setRoom(name) {
    this.name.textContent = name ?? "";
  }

  /**
   * Show or hide the room. A room that appears out of sight (a widget low on a
   * phone's page) is scrolled into view, so that its tiles and controls are seen.
   * @param {{shown: boolean, title: string}} view  the view's `room`
   */
  show({ shown, title }) {
    const appearing = shown && this.root.hidden;
    this.root.hidden = !shown;
    this.setRoom(title);
    if (appearing) requestAnimationFrame(() => this._bringIntoView());
  }

  _bringIntoView() {
    if (this.root.hidden) return;
    const top = this.root.getBoundingClientRect().top;
    const bottom = this.controlsSlot.getBoundingClientRect().bottom;
    if (top < 0 || bottom > window.innerHeight) this.root.scrollIntoView({ block: "start" });
  }

  /**
   * Show these members: a tile each (in join order) and a participant list that
   * starts with you.
   * @param {{id: string, name: string, mic: boolean, cam: boolean, screen?: boolean}[]} members
   * @param {{self: {id: string, name: string}|null, mic: boolean, cam: boolean}} me
   */
  setMembers(members, me) {
    const ids = new Set(members.map((m) => m.id));
    for (const id of [...this.tiles.keys()]) if (!ids.has(id)) this.removeTile(id);
    for (const member of members) this._tile(member);
    this.grid.dataset.count = String(members.length + 1);
    this.count.textContent = members.length === 0 ? tr("room.only_you") : tn("room.people", members.length + 1);
    this._selfId = me.self?.id ?? null;
    this.selfTile.dataset.userId = this._selfId ?? "";
    this.selfMuted.hidden = me.mic;
    const rows = [];
    if (me.self) rows.push(this._person({ ...me.self, mic: me.mic, cam: me.cam }, true));
    for (const member of members) rows.push(this._person(member, false));
    for (const [id, row] of this.rows) if (!rows.includes(row)) this.rows.delete(id);
    const lis = rows.map((row) => row.li);
    if (lis.some((li, i) => this.people.children[i] !== li) || this.people.children.length !== lis.length) {
      this.people.replaceChildren(...lis);
    }
  }

  /**
   * Lay the tiles out: grid or speaker view, the big tile, the speaker highlighted,
   * the pin buttons and the layout toggle pressed as the view says.
   * @param {import("./view.js").RoomLayout} layout  the view's `room.layout`
   */
  showLayout(layout) {
    this.grid.dataset.layout = layout.layout;
    const mark = (el, id) => {
      el.dataset.big = String(id === layout.big);
      el.dataset.speaking = String(id !== null && id === layout.speaker);
      el.dataset.pinned = String(id !== null && id === layout.pinned);
    };
    mark(this.selfTile, this._selfId);
    for (const [id, t] of this.tiles) {
      mark(t.tile, id);
      showPin(t.pin, t.member.name, id === layout.pinned);
    }
    for (const [id, row] of this.rows) {
      row.li.dataset.speaking = String(id === layout.speaker);
      if (row.pin) showPin(row.pin, row.member.name, id === layout.pinned);
    }
    for (const option of layout.options ?? []) {
      const button = this.layoutButtons.get(option.layout);
      if (!button) continue;
      button.setAttribute("aria-pressed", String(option.pressed));
      button.setAttribute("aria-label", option.label);
      button.replaceChildren(icon(option.icon), h("span", { class: "vc-layout-text" }, option.text));
    }
  }

  /**
   * Play a member's stream in their tile.
   * @param {string} id
   * @param {MediaStream} stream
   * @param {string|null} [speaker]  the audio output's device id
   */
  setStream(id, stream, speaker = null) {
    const t = this.tiles.get(id);
    if (!t) return;
    if (t.video.srcObject !== stream) t.video.srcObject = stream;
    this._applyVolume(id);
    t.video.play().catch(() => {});
    applySpeaker(t.video, speaker);
    const update = () => this._cover(id);
    stream.onaddtrack = update;
    t.video.onresize = update;
    update();
  }

  /**
   * Play a member at this volume (their tile's `<video>` plays their audio); 0 mutes
   * them for you only.
   * @param {string} id
   * @param {number} percent  0 to 100
   */
  setVolume(id, percent) {
    const value = Math.max(0, Math.min(100, Math.round(Number(percent) || 0)));
    this.volumes.set(id, value);
    this._applyVolume(id);
  }

  /** Show a member's connection state on their tile ("connected" clears a failure). */
  setConnection(id, connectionState) {
    const t = this.tiles.get(id);
    if (!t) return;
    t.tile.dataset.connection = connectionState;
    if (connectionState === "connected") t.failed = null;
    this._cover(id);
  }

  /** Say on a member's tile that the connection to them could not be made. */
  setFailed(id, message) {
    const t = this.tiles.get(id);
    if (!t) return;
    t.failed = message;
    this._cover(id);
  }

  /** Show a rating of the connection to a member on their tile. @param {string} id @param {object} rating */
  showQuality(id, rating) {
    const el = this.tiles.get(id)?.quality;
    if (el) showQuality(el, id, rating);
  }

  /** Remove a member's tile at once and release its stream. */
  removeTile(id) {
    const t = this.tiles.get(id);
    if (!t) return;
    t.video.srcObject = null;
    t.tile.remove();
    this.tiles.delete(id);
    this.grid.dataset.count = String(this.tiles.size + 1);
  }

  /** Remove every tile (the room is over). */
  clear() {
    for (const id of [...this.tiles.keys()]) this.removeTile(id);
    this.people.replaceChildren();
    this.rows.clear();
    this.volumes.clear();
    this.setRoom("");
  }

  _tile(member) {
    let t = this.tiles.get(member.id);
    if (!t) {
      const video = h("video", { class: "vc-tile-video", "data-testid": "videochat-remote-video", "data-user-id": member.id, autoplay: true, playsinline: true, part: "remote-video" });
      const cover = h("div", { class: "vc-tile-cover" });
      const label = h("span", { class: "vc-tile-name" });
      const state = mutedBadge("videochat-remote-muted");
      const quality = qualityIndicator();
      const pin = this._pinButton(member.id, "vc-tile-pin");
      const tile = h("div", { class: "vc-tile", "data-testid": "videochat-tile", "data-user-id": member.id, part: "tile" },
        video, cover, quality, pin, h("span", { class: "vc-tile-label" }, label, state));
      t = { tile, video, cover, label, state, quality, pin, member };
      this.tiles.set(member.id, t);
      this.grid.append(tile);
    }
    t.member = member;
    t.label.textContent = member.screen ? tr("member.presenting", { name: member.name }) : member.name;
    // A narrow tile ends a long name in an ellipsis; the whole name is its tooltip
    // (and whole in the participant list, which wraps).
    t.label.title = t.label.textContent;
    t.state.hidden = member.mic;
    t.tile.dataset.mic = String(member.mic);
    t.tile.dataset.cam = String(member.cam);
    t.tile.dataset.screen = String(Boolean(member.screen));
    this._cover(member.id);
    return t;
  }

  /** The avatar covers a tile while there is no picture: camera off, or not connected yet. */
  _cover(id) {
    const t = this.tiles.get(id);
    if (!t) return;
    const stream = t.video.srcObject;
    const hasVideo = Boolean(stream?.getVideoTracks().length) && t.video.videoWidth > 0;
    const connecting = !hasVideo && t.tile.dataset.connection !== "connected";
    const failed = connecting && t.failed;
    const words = failed ? t.failed : !t.member.cam ? tr("media.camera_off") : connecting ? tr("media.connecting") : hasVideo ? "" : tr("media.no_video");
    const covered = !t.member.cam || !hasVideo;
    t.cover.hidden = !covered;
    const testid = failed ? "videochat-connect-failed" : !t.member.cam ? "videochat-camera-off" : null;
    if (covered) t.cover.replaceChildren(avatar(t.member, "vc-large"), h("span", { "data-testid": testid }, words));
    else t.cover.replaceChildren();
  }

  _applyVolume(id) {
    const video = this.tiles.get(id)?.video;
    const percent = this.volumes.get(id) ?? DEFAULT_VOLUME;
    if (video) {
      video.volume = percent / 100;
      video.muted = percent === 0;
    }
    const row = this.rows.get(id);
    if (row?.volume) {
      if (Number(row.volume.value) !== percent) row.volume.value = String(percent);
      row.volume.setAttribute("aria-valuetext", `${percent}%`);
      setIcon(row.volumeIcon, percent === 0 ? "volume-x" : "volume-2");
    }
  }

  _pinButton(id, cls) {
    const button = h("button", { type: "button", class: `vc-pin ${cls}`, "data-testid": "videochat-pin", "data-user-id": id, "aria-pressed": "false", part: "button pin" }, icon("pin"));
    button.addEventListener("click", () => this._onPin(id));
    return button;
  }

  /** A participant row, made once per person and updated in place (a slider being moved stays). */
  _person(member, isSelf) {
    let row = this.rows.get(member.id);
    if (!row || row.isSelf !== isSelf) {
      const name = h("span", { class: "vc-name" });
      const you = h("span", { class: "vc-you" }, isSelf ? "(you)" : "");
      const mic = h("span", { class: "vc-state", "data-state": "mic" }, icon("mic-off"), h("span", { class: "vc-sr" }));
      const cam = h("span", { class: "vc-state", "data-state": "cam" }, icon("video-off"), h("span", { class: "vc-sr" }));
      const li = h("li", { class: "vc-person", "data-testid": "videochat-participant", "data-user-id": member.id, part: "participant" },
        avatar(member), h("span", { class: "vc-person-name" }, name, you), h("span", { class: "vc-person-state" }, mic, cam));
      row = { li, name, you, mic, cam, isSelf, member, avatarName: member.name };
      if (!isSelf) {
        row.pin = this._pinButton(member.id, "vc-person-pin");
        row.volumeIcon = icon("volume-2");
        row.volume = h("input", { type: "range", min: "0", max: "100", step: "1", value: String(this.volumes.get(member.id) ?? DEFAULT_VOLUME), class: "vc-volume-input", "data-testid": "videochat-volume", "data-user-id": member.id, part: "volume" });
        row.volume.addEventListener("input", () => this.setVolume(member.id, row.volume.value));
        li.append(h("span", { class: "vc-person-tools" }, h("label", { class: "vc-volume" }, row.volumeIcon, row.volume), row.pin));
      }
      this.rows.set(member.id, row);
    }
    row.member = member;
    if (row.avatarName !== member.name) {
      row.li.firstChild.replaceWith(avatar(member));
      row.avatarName = member.name;
    }
    row.name.textContent = member.name;
    row.name.title = member.name; // the whole name, should a very long one be cut
    if (!isSelf) {
      row.volume.setAttribute("aria-label", volumeWords(member.name));
      this._applyVolume(member.id);
    }
    const words = mediaWords(member);
    showState(row.mic, !member.mic, "mic-off", words.mic);
    showState(row.cam, !member.cam || Boolean(member.screen), member.screen ? "monitor-up" : "video-off", words.cam);
    row.li.dataset.mic = String(member.mic);
    row.li.dataset.cam = String(member.cam);
    return row;
  }
}

/** The "Muted" badge of a tile: the mic-off icon, "Muted" for screen readers. */
function mutedBadge(testid) {
  return h("span", { class: "vc-tile-muted", "data-testid": testid, title: tr("media.muted"), hidden: true }, icon("mic-off"), h("span", { class: "vc-sr" }, tr("media.muted")));
}

/** A pin button's icon, label and pressed state. */
function showPin(button, name, pinned) {
  button.setAttribute("aria-pressed", String(pinned));
  button.setAttribute("aria-label", pinWords(name, pinned));
  button.title = pinWords(name, pinned);
  setIcon(button.firstChild, pinned ? "pin-off" : "pin");
}

/** A state in the participant list: its icon shown when `off`, its words always (for screen readers). */
function showState(el, off, name, words) {
  el.classList.toggle("vc-off", off);
  setIcon(el.firstChild, name);
  el.firstChild.hidden = !off;
  el.lastChild.textContent = words;
  el.title = off ? words : "";
}
