/**
 * The room's views: the lobby (the room's name, your preview and a Join button
 * before joining), and the room itself: a grid of tiles (yours and one per other
 * member, each with the person's video, name, and microphone and camera state)
 * that adapts to the number of people, and the participant list. The element moves
 * its shared pieces (your preview, the controls, the chat panel, the device check)
 * into whichever is shown.
 * @module room-view
 */

import { applySpeaker } from "./media.js";
import { avatar, h, qualityIndicator, showQuality } from "./dom.js";

/** The lobby of the room the `room` attribute names: its name, your preview, Join. */
export class Lobby {
  /** @param {{onJoin: () => void}} handlers */
  constructor({ onJoin }) {
    this.join = h("button", { type: "button", class: "vc-btn vc-accept vc-join", "data-testid": "videochat-join", part: "button join" }, "Join room");
    this.title = h("strong", { class: "vc-room-name" });
    /** Where your preview goes. */
    this.stage = h("div", { class: "vc-lobby-stage" });
    this.root = h(
      "section",
      { class: "vc-lobby", "aria-label": "Join the room", part: "lobby", hidden: true },
      h("p", { class: "vc-lobby-title" }, "Room ", this.title),
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
  constructor() {
    /** @type {Map<string, {tile: HTMLElement, video: HTMLVideoElement, cover: HTMLElement, label: HTMLElement, state: HTMLElement}>} */
    this.tiles = new Map();
    this.name = h("strong", { class: "vc-room-name" });
    this.count = h("span", { class: "vc-room-count" });
    this.selfTile = h("div", { class: "vc-tile vc-tile-self", part: "tile self-tile" }, h("span", { class: "vc-tile-name" }, "You"));
    this.grid = h("div", { class: "vc-grid", "data-count": "1", part: "grid" }, this.selfTile);
    this.controlsSlot = h("div", { class: "vc-room-controls" });
    this.people = h("ul", { class: "vc-participants", "aria-label": "People in this room", part: "participants" });
    this.side = h("div", { class: "vc-room-side" }, h("h3", { class: "vc-heading" }, "In this room"), this.people);
    this.root = h(
      "section",
      { class: "vc-room", "data-testid": "videochat-room", "aria-label": "Room", part: "room", hidden: true },
      h("div", { class: "vc-room-main" }, h("div", { class: "vc-room-head" }, this.name, this.count), this.grid, this.controlsSlot),
      this.side,
    );
  }

  /** Set the room's name (as text). */
  setRoom(name) {
    this.name.textContent = name ?? "";
  }

  /** @param {{shown: boolean, title: string}} view  the view's `room` */
  show({ shown, title }) {
    this.root.hidden = !shown;
    this.setRoom(title);
  }

  /**
   * Show these members: a tile each (in join order) and a participant list that
   * starts with you.
   * @param {{id: string, name: string, mic: boolean, cam: boolean}[]} members
   * @param {{self: {id: string, name: string}|null, mic: boolean, cam: boolean}} me
   */
  setMembers(members, me) {
    const ids = new Set(members.map((m) => m.id));
    for (const id of [...this.tiles.keys()]) if (!ids.has(id)) this.removeTile(id);
    for (const member of members) this._tile(member);
    this.grid.dataset.count = String(members.length + 1);
    this.count.textContent = members.length === 0 ? "Only you so far" : `${members.length + 1} people`;
    const rows = [];
    if (me.self) rows.push(this._person({ ...me.self, mic: me.mic, cam: me.cam }, true));
    for (const member of members) rows.push(this._person(member, false));
    this.people.replaceChildren(...rows);
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
    t.video.play().catch(() => {});
    applySpeaker(t.video, speaker);
    const update = () => this._cover(id);
    stream.onaddtrack = update;
    t.video.onresize = update;
    update();
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
    this.setRoom("");
  }

  _tile(member) {
    let t = this.tiles.get(member.id);
    if (!t) {
      const video = h("video", { class: "vc-tile-video", "data-testid": "videochat-remote-video", "data-user-id": member.id, autoplay: true, playsinline: true, part: "remote-video" });
      const cover = h("div", { class: "vc-tile-cover" });
      const label = h("span", { class: "vc-tile-name" });
      const state = h("span", { class: "vc-tile-muted", "data-testid": "videochat-remote-muted", hidden: true }, "Muted");
      const quality = qualityIndicator();
      const tile = h("div", { class: "vc-tile", "data-testid": "videochat-tile", "data-user-id": member.id, part: "tile" }, video, cover, quality, h("span", { class: "vc-tile-label" }, label, state));
      t = { tile, video, cover, label, state, quality, member };
      this.tiles.set(member.id, t);
      this.grid.append(tile);
    }
    t.member = member;
    t.label.textContent = member.screen ? `${member.name} (presenting)` : member.name;
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
    const words = failed ? t.failed : !t.member.cam ? "Camera off" : connecting ? "Connecting…" : hasVideo ? "" : "No video";
    const covered = !t.member.cam || !hasVideo;
    t.cover.hidden = !covered;
    const testid = failed ? "videochat-connect-failed" : !t.member.cam ? "videochat-camera-off" : null;
    if (covered) t.cover.replaceChildren(avatar(t.member, "vc-large"), h("span", { "data-testid": testid }, words));
    else t.cover.replaceChildren();
  }

  _person(member, isSelf) {
    const pill = (on, onWords, offWords, kind) =>
      h("span", { class: `vc-pill ${on ? "vc-on" : "vc-off"}`, "data-state": `${kind}-${on ? "on" : "off"}` }, on ? onWords : offWords);
    return h(
      "li",
      { class: "vc-person", "data-testid": "videochat-participant", "data-user-id": member.id, part: "participant" },
      avatar(member),
      h("span", { class: "vc-name" }, isSelf ? `${member.name} (you)` : member.name),
      pill(member.mic, "Mic on", "Muted", "mic"),
      member.screen ? h("span", { class: "vc-pill vc-on", "data-state": "screen-on" }, "Presenting") : pill(member.cam, "Camera on", "Camera off", "cam"),
    );
  }
}
