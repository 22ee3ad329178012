/**
 * flask-videochat's browser side. Loading this module defines `<video-chat>`.
 * @module index
 */

export { VideoChatElement } from "./element.js";
export { STATUS_WORDS, endMessage, roomTitle } from "./words.js";
export { QualityMonitor, QUALITY_THRESHOLDS, rateQuality } from "./quality.js";
export { MediaOwner } from "./local-media.js";
export { DeviceCheck } from "./device-check.js";
export { CallController, STATES } from "./call.js";
export { RoomController, ROOM_STATES } from "./room.js";
export { RoomView } from "./room-view.js";
export { ChatView } from "./chat-view.js";
export { Peer } from "./peer.js";
export { Signaling, SignalingError } from "./signaling.js";
export { getLocalMedia, mediaErrorCode, MEDIA_ERRORS } from "./media.js";
export { Ringtone } from "./ringtone.js";

import { VideoChatElement } from "./element.js";

VideoChatElement.define();
