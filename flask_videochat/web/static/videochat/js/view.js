/**
 * What the widget shows, computed from its state: a plain object in (the state of
 * the call, the room, your media, who is online), a plain "view" object out (which
 * panels, buttons, words and statuses). No DOM, no side effects: the element gathers
 * the state, calls {@link widgetView}, and hands the view to its parts.
 * @module view
 */

import { t } from "./i18n.js";
import { LAYOUT_WORDS, STATUS_WORDS, forbiddenCallWords, incomingWords, inviteWords, ringingTitle, roomTitle, stateWords, waitWords } from "./words.js";

/** What the other person sends before they say otherwise. */
const PEER_MEDIA = Object.freeze({ mic: true, cam: true, screen: false });

/** States in which an error still shown belongs to what came before. */
const FRESH_STATES = new Set(["calling", "incoming", "joining"]);

/**
 * @typedef {{id: string, name: string}} Person
 * @typedef {{id: string, name: string, status: string, callable?: boolean}} OnlineUser
 *   `callable`: false when the host's `can_call` does not let you call them (absent: you may)
 * @typedef {{id: string, name: string, mic: boolean, cam: boolean, screen?: boolean}} Member
 *
 * @typedef {object} WidgetState  everything the widget shows depends on (every field optional)
 * @property {boolean} signedOut  show the sign-in message, do not connect
 * @property {string|null} signInUrl  the `sign-in-url` attribute
 * @property {"connecting"|"online"|"offline"} connection  the signaling connection
 *   ("connecting": not connected yet)
 * @property {boolean} reconnecting  the connection just dropped: say so while idle
 * @property {string|null} roomAttribute  the `room` attribute (room mode when set)
 * @property {Person|null} self  you, once the server said who you are
 * @property {OnlineUser[]} users  who is online (without you), sorted by name
 * @property {{state: string, peer: Person|null, peerMedia: {mic: boolean, cam: boolean, screen: boolean},
 *   remoteVideo: boolean}} call  the 1:1 call; `remoteVideo`: a remote `<video>` plays a stream with video
 * @property {{state: "idle"|"joining"|"joined", name: string|null, members: Member[],
 *   invite: {room: string, from: Person, members: number}|null, mic: boolean, cam: boolean}} room
 *   the room (`members`: the others; `mic`, `cam`: what you send there)
 * @property {{muted: boolean, cameraOff: boolean, hasMicrophone: boolean, hasCamera: boolean,
 *   sharing: boolean, settled: boolean}} media  what the controls act on (`settled`: the camera was asked for)
 * @property {string} lastMessage  what happened last (why a call ended...)
 * @property {string} roomNote  a note after the room's status ("Ringing Cy…")
 * @property {boolean} devicesOpen  the Devices control is pressed
 * @property {boolean} addOpen  the Add control is pressed
 * @property {number} callWait  seconds until calling is allowed again (0: now)
 * @property {{layout: "grid"|"speaker", pinned: string|null, speaker: string|null, recentSpeaker: string|null}} roomLayout
 *   the room's layout: the one chosen, whom you pinned (a user id), who speaks now and who spoke
 *   last (user ids, from the audio levels; see speaker.js)
 */

/** The state of a widget that is connecting, with nobody online and nothing going on. */
export const INITIAL_STATE = Object.freeze({
  signedOut: false,
  signInUrl: null,
  connection: "connecting",
  reconnecting: false,
  roomAttribute: null,
  self: null,
  users: [],
  call: { state: "idle", peer: null, peerMedia: PEER_MEDIA, remoteVideo: false },
  room: { state: "idle", name: null, members: [], invite: null, mic: true, cam: true },
  media: { muted: false, cameraOff: false, hasMicrophone: false, hasCamera: false, sharing: false, settled: false },
  lastMessage: "",
  roomNote: "",
  devicesOpen: false,
  addOpen: false,
  callWait: 0,
  roomLayout: { layout: "grid", pinned: null, speaker: null, recentSpeaker: null },
});

/**
 * The state with every missing field (and every missing field of `call`, `room`
 * and `media`) taken from {@link INITIAL_STATE}.
 * @param {Partial<WidgetState>} state
 * @returns {WidgetState}
 */
export function completeState(state) {
  const out = { ...INITIAL_STATE, ...state };
  for (const key of ["call", "room", "media"]) out[key] = { ...INITIAL_STATE[key], ...state[key] };
  out.call.peerMedia = { ...PEER_MEDIA, ...out.call.peerMedia };
  out.roomLayout = { ...INITIAL_STATE.roomLayout, ...state.roomLayout };
  return out;
}

/**
 * The widget's state in one word: a call state ("idle", "calling", "ringing",
 * "incoming", "connecting", "in-call"), or "joining" / "in-room" for a room.
 * @param {Partial<WidgetState>} state
 */
export function stateOf(state) {
  const { call, room } = completeState(state);
  if (room.state === "joined") return "in-room";
  if (room.state === "joining") return "joining";
  return call.state;
}

/**
 * What to show.
 * @param {Partial<WidgetState>} input
 * @returns {{
 *   state: string, status: string, signedOut: {signInUrl: string|null}|null,
 *   header: {me: string|null, online: boolean, title: string},
 *   ring: {title: string}|null, incoming: {caller: Person, words: string}|null,
 *   stage: object, lobby: {shown: boolean, title: string, joinEnabled: boolean},
 *   room: {shown: boolean, title: string, members: Member[], me: {self: Person|null, mic: boolean, cam: boolean},
 *     layout: RoomLayout},
 *   layout: "room"|"lobby"|"stage",
 *   controls: object, add: {shown: boolean, open: boolean, candidates: OnlineUser[]},
 *   chat: {shown: boolean}, devices: {shown: boolean, beforeJoining: boolean, open: boolean},
 *   quality: boolean, size: {target: "stage"|"room"}|null, presence: object, lastMessage: string,
 *   clearError: boolean}}
 *   `size`: the buttons that make the call bigger (enlarge, full screen, picture-in-picture)
 *   and what they act on; null: not shown
 *   `lastMessage`, `devices.open` and `add.open`: the element keeps these for next time
 */
export function widgetView(input) {
  const s = completeState(input);
  const { call, room } = s;
  const state = stateOf(s);
  const inRoom = room.state !== "idle";
  const invite = !inRoom && call.state === "idle" ? room.invite : null;
  const ringing = call.state === "incoming" || invite !== null;
  const caller = call.state === "incoming" ? call.peer : invite?.from ?? null;
  const lobby = s.roomAttribute !== null && s.connection !== "connecting" && !inRoom && call.state === "idle" && invite === null;
  const inSession = room.state === "joined" || call.state === "in-call" || call.state === "connecting";
  const beforeJoining = lobby || ringing;
  const devicesOpen = inSession && s.devicesOpen;
  const addShown = inRoom ? room.state === "joined" : call.state === "in-call";
  const stage = stageView(s, { inRoom, invite, ringing });
  return {
    state,
    status: statusOf(s, state, invite),
    signedOut: s.signedOut ? { signInUrl: s.signInUrl } : null,
    header: headerView(s),
    ring: ringing ? { title: ringingTitle(caller?.name ?? "") } : null,
    incoming: ringing ? { caller, words: incomingWords(invite) } : null,
    stage,
    lobby: { shown: lobby, title: s.roomAttribute ?? "", joinEnabled: Boolean(s.self) },
    room: { shown: inRoom, title: roomTitle(room.name), members: room.members, me: { self: s.self, mic: room.mic, cam: room.cam },
      layout: roomLayoutView(s) },
    layout: inRoom ? "room" : lobby ? "lobby" : "stage",
    controls: controlsView(s, { inRoom, inSession, devicesShown: inSession && (beforeJoining || devicesOpen), addShown, hangup: stage.hangup }),
    add: addView(s, addShown),
    chat: { shown: inSession },
    devices: { shown: beforeJoining || devicesOpen, beforeJoining, open: devicesOpen },
    quality: inSession,
    size: sizeView(s),
    presence: presenceView(s),
    lastMessage: state === "idle" ? s.lastMessage : "",
    clearError: FRESH_STATES.has(state),
  };
}

function statusOf(s, state, invite) {
  if (s.signedOut) return t("state.signed_out");
  if (s.connection === "connecting") return t("state.connecting_server");
  if (s.reconnecting && state === "idle") return t("state.reconnecting");
  let status = stateWords(state, {
    name: s.call.peer?.name ?? "",
    room: s.room.name,
    others: s.room.members.map((m) => m.name),
    lastMessage: s.lastMessage,
    roomMode: s.roomAttribute !== null,
  });
  if (invite) status = inviteWords(invite);
  if (s.room.state !== "idle" && s.roomNote) status += ` · ${s.roomNote}`;
  return status;
}

/** The header: your name and the connection's dot. */
function headerView(s) {
  const titles = { connecting: t("state.connecting_server"), online: t("state.connected"), offline: t("state.reconnecting") };
  return { me: s.self?.name ?? null, online: s.connection === "online", title: titles[s.connection] };
}

/**
 * The 1:1 stage: the other person's video or avatar, their name and microphone,
 * your preview's label, and the Hang up button.
 */
function stageView({ call }, { inRoom, invite, ringing }) {
  const { peer, peerMedia } = call;
  const inCall = call.state === "in-call";
  // The remote <video> stays (it plays the audio); the avatar covers it when the
  // other person sends no video, or says their camera is off (no frozen frame).
  const showingVideo = inCall && call.remoteVideo && peerMedia.cam;
  const peerMuted = !peerMedia.mic && inCall;
  const name = peer?.name ?? "";
  return {
    shown: !inRoom && (call.state !== "idle" || invite !== null),
    state: invite ? "incoming" : call.state,
    hangup: !inRoom && call.state !== "idle" && call.state !== "incoming",
    placeholder: peer ? { peer, cameraOff: inCall && !peerMedia.cam } : null,
    showingVideo,
    peerMedia: { mic: peerMedia.mic, cam: peerMedia.cam, screen: Boolean(peerMedia.screen) },
    peerName: peerMedia.screen ? t("member.presenting", { name }) : name,
    peerMuted,
    peerNameShown: showingVideo || peerMuted,
    previewLabel: ringing,
  };
}

/** A toggle button's words: pressed, its label, its text, whether it is disabled. */
function toggle(pressed, label, text, disabled = false) {
  return { pressed, label, text, disabled };
}

/**
 * A toggle's icon (`on`'s, or `off`'s when `off`) and its tooltip: what a click
 * does, or why the button is disabled.
 * @param {boolean} off
 * @param {string} on  a Lucide icon's name
 * @param {string} offIcon
 * @param {string} tip
 * @returns {{icon: string, tip: string}}
 */
function iconToggle(off, on, offIcon, tip) {
  return { icon: off ? offIcon : on, tip };
}

/**
 * The controls (microphone, camera, screen, devices, add, hang up, leave) and your
 * preview: camera off is said in words rather than shown as a frozen or black frame.
 */
function controlsView({ media, addOpen }, { inRoom, inSession, devicesShown, addShown, hangup }) {
  const cameraText = t(!media.hasCamera ? "controls.no_camera" : media.cameraOff ? "media.camera_on" : "media.camera_off");
  const mute = toggle(media.muted, t(media.muted ? "controls.unmute" : "controls.mute"),
    t(!media.hasMicrophone ? "controls.no_mic" : media.muted ? "controls.unmute_text" : "controls.mute_text"), !media.hasMicrophone);
  const camera = toggle(media.cameraOff, t(media.cameraOff ? "controls.camera_on" : "controls.camera_off"), cameraText,
    !media.hasCamera || media.sharing);
  const screen = toggle(media.sharing, t(media.sharing ? "controls.stop_sharing" : "controls.share"),
    t(media.sharing ? "controls.stop_sharing_text" : "controls.share_text"));
  return {
    mute: { ...mute, ...iconToggle(media.muted || !media.hasMicrophone, "mic", "mic-off",
      !media.hasMicrophone ? t("controls.no_mic_found") : mute.label) },
    camera: { ...camera, ...iconToggle(media.cameraOff || !media.hasCamera, "video", "video-off",
      !media.hasCamera ? t("controls.no_camera_found") : media.sharing ? t("controls.camera_while_sharing") : camera.label) },
    screen: { ...screen, ...iconToggle(media.sharing, "monitor-up", "monitor-x", screen.label), shown: inSession },
    devices: { shown: inSession, expanded: devicesShown },
    add: { shown: addShown, expanded: addShown && addOpen },
    hangup,
    leave: inRoom,
    sharing: media.sharing,
    localOff: media.settled && media.cameraOff,
  };
}

/**
 * The size buttons (enlarge, full screen, picture-in-picture): on the 1:1 stage
 * once the call is up, on the room once joined.
 * @returns {{target: "stage"|"room"}|null}
 */
function sizeView({ call, room }) {
  if (room.state === "joined") return { target: "room" };
  if (room.state === "idle" && call.state === "in-call") return { target: "stage" };
  return null;
}

/** The people you can add to your call or room: online, available, not in it. */
function addView(s, shown) {
  const open = shown && s.addOpen;
  const inRoom = new Set(s.room.members.map((m) => m.id));
  const candidates = open
    ? s.users.filter((u) => u.status === "available" && u.callable !== false && !inRoom.has(u.id)).sort((a, b) => a.name.localeCompare(b.name))
    : [];
  return { shown, open, candidates };
}

/**
 * The online list: each person with their status in words and their Call button,
 * which is enabled only when both of you are free, the host lets you call them
 * (`callable`; else `reason` says why, in words) and calling is not held back after
 * a refusal for its rate limit (it then says how long to wait). In a room, its
 * members are not listed: the room shows them.
 */
function presenceView(s) {
  const free = stateOf(s) === "idle";
  const wait = s.callWait;
  const members = new Set(s.room.state === "idle" ? [] : s.room.members.map((m) => m.id));
  const users = s.users.filter((u) => !members.has(u.id));
  return {
    users: users.map((u) => {
      const forbidden = u.callable === false;
      const waitTitle = wait > 0 ? t("call.wait_title", { wait: waitWords(wait) }) : "";
      return {
        id: u.id,
        name: u.name,
        status: u.status,
        statusWords: STATUS_WORDS[u.status] ?? u.status,
        call: {
          label: t("call.label", { name: u.name }),
          text: wait > 0 && !forbidden ? t("call.button_wait", { seconds: wait }) : t("call.button"),
          title: forbidden ? forbiddenCallWords(u.name) : waitTitle,
          reason: forbidden ? forbiddenCallWords(u.name) : "",
          disabled: !free || u.status !== "available" || wait > 0 || forbidden,
        },
      };
    }),
    empty: users.length === 0,
  };
}

/**
 * @typedef {object} RoomLayout  how the room's tiles are laid out
 * @property {"grid"|"speaker"} layout  the layout shown: "speaker" while someone is pinned
 * @property {"grid"|"speaker"} chosen  the layout the person chose (unpinning goes back to it)
 * @property {string|null} big  the user id of the big tile in speaker view (null in grid view)
 * @property {string|null} pinned  whom you pinned, while they are in the room
 * @property {string|null} speaker  who speaks now (highlighted), while they are in the room
 * @property {{layout: string, text: string, label: string, icon: string, pressed: boolean}[]} options
 *   the layout toggle's buttons
 */

/**
 * Which tile is big: the person you pinned; else, in speaker view, who speaks now
 * (not you), else who spoke last, else the first other member (you when alone).
 * Pinning someone shows speaker view; unpinning goes back to the layout chosen.
 * Pure: ids that are not in the room count as none.
 * @param {{layout?: "grid"|"speaker", pinned?: string|null, speaker?: string|null,
 *   recentSpeaker?: string|null, selfId?: string|null, memberIds?: string[]}} room
 *   `memberIds`: the others, in join order
 * @returns {{layout: "grid"|"speaker", chosen: "grid"|"speaker", big: string|null,
 *   pinned: string|null, speaker: string|null}}
 */
export function roomLayout({ layout = "grid", pinned = null, speaker = null, recentSpeaker = null, selfId = null, memberIds = [] }) {
  const present = (id) => id !== null && id !== undefined && (id === selfId || memberIds.includes(id));
  const other = (id) => (present(id) && id !== selfId ? id : null);
  const pin = present(pinned) ? pinned : null;
  const chosen = layout === "speaker" ? "speaker" : "grid";
  const shown = pin ? "speaker" : chosen;
  const big = shown === "speaker" ? pin ?? other(speaker) ?? other(recentSpeaker) ?? memberIds[0] ?? selfId : null;
  return { layout: shown, chosen, big, pinned: pin, speaker: present(speaker) ? speaker : null };
}

/** The room's layout with the toggle's buttons (see {@link roomLayout}). @returns {RoomLayout} */
function roomLayoutView(s) {
  const layout = roomLayout({ ...s.roomLayout, selfId: s.self?.id ?? null, memberIds: s.room.members.map((m) => m.id) });
  const icons = { grid: "layout-grid", speaker: "presentation" };
  const options = ["grid", "speaker"].map((name) => ({
    layout: name, ...LAYOUT_WORDS[name], icon: icons[name], pressed: layout.layout === name,
  }));
  return { ...layout, options };
}
