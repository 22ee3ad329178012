/**
 * What the widget shows, computed from its state: a plain object in (the state of
 * the call, the room, your media, who is online), a plain "view" object out (which
 * panels, buttons, words and statuses). No DOM, no side effects: the element gathers
 * the state, calls {@link widgetView}, and hands the view to its parts.
 * @module view
 */

import { STATUS_WORDS, incomingWords, inviteWords, ringingTitle, roomTitle, stateWords, waitWords } from "./words.js";

/** What the other person sends before they say otherwise. */
const PEER_MEDIA = Object.freeze({ mic: true, cam: true, screen: false });

/** States in which an error still shown belongs to what came before. */
const FRESH_STATES = new Set(["calling", "incoming", "joining"]);

/**
 * @typedef {{id: string, name: string}} Person
 * @typedef {{id: string, name: string, status: string}} OnlineUser
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
 *   room: {shown: boolean, title: string, members: Member[], me: {self: Person|null, mic: boolean, cam: boolean}},
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
    room: { shown: inRoom, title: roomTitle(room.name), members: room.members, me: { self: s.self, mic: room.mic, cam: room.cam } },
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
  if (s.signedOut) return "Sign in to make video calls.";
  if (s.connection === "connecting") return "Connecting…";
  if (s.reconnecting && state === "idle") return "Reconnecting…";
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
  const titles = { connecting: "Connecting…", online: "Connected", offline: "Reconnecting…" };
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
    peerName: peerMedia.screen ? `${name} (presenting)` : name,
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
  const cameraText = !media.hasCamera ? "No camera" : media.cameraOff ? "Camera on" : "Camera off";
  const mute = toggle(media.muted, media.muted ? "Unmute microphone" : "Mute microphone",
    !media.hasMicrophone ? "No mic" : media.muted ? "Unmute" : "Mute", !media.hasMicrophone);
  const camera = toggle(media.cameraOff, media.cameraOff ? "Turn camera on" : "Turn camera off", cameraText,
    !media.hasCamera || media.sharing);
  const screen = toggle(media.sharing, media.sharing ? "Stop sharing your screen" : "Share your screen",
    media.sharing ? "Stop sharing" : "Share");
  return {
    mute: { ...mute, ...iconToggle(media.muted || !media.hasMicrophone, "mic", "mic-off",
      !media.hasMicrophone ? "No microphone found" : mute.label) },
    camera: { ...camera, ...iconToggle(media.cameraOff || !media.hasCamera, "video", "video-off",
      !media.hasCamera ? "No camera found" : media.sharing ? "Your camera is off while you share your screen" : camera.label) },
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
    ? s.users.filter((u) => u.status === "available" && !inRoom.has(u.id)).sort((a, b) => a.name.localeCompare(b.name))
    : [];
  return { shown, open, candidates };
}

/**
 * The online list: each person with their status in words and their Call button,
 * which is enabled only when both of you are free and calling is not held back
 * after a refusal for its rate limit (it then says how long to wait).
 */
function presenceView(s) {
  const free = stateOf(s) === "idle";
  const wait = s.callWait;
  return {
    users: s.users.map((u) => ({
      id: u.id,
      name: u.name,
      status: u.status,
      statusWords: STATUS_WORDS[u.status] ?? u.status,
      call: {
        label: `Call ${u.name}`,
        text: wait > 0 ? `Call in ${wait} s` : "Call",
        title: wait > 0 ? `You can call again in ${waitWords(wait)}.` : "",
        disabled: !free || u.status !== "available" || wait > 0,
      },
    })),
    empty: s.users.length === 0,
  };
}
