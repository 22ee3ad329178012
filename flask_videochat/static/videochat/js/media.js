/**
 * Camera and microphone: getUserMedia with fall-backs, and its errors as stable
 * codes with words for a person.
 * @module media
 */

/** Constraints of the first attempt. */
export const DEFAULT_CONSTRAINTS = {
  audio: { echoCancellation: true, noiseSuppression: true },
  video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } },
};

/** Error codes and the words shown for them. */
export const MEDIA_ERRORS = {
  ERR_PERMISSION_DENIED:
    "Camera and microphone access was refused. Allow them in your browser's site settings to be seen and heard; you can still see and hear others.",
  ERR_CAMERA_DENIED:
    "Camera access was refused, so others can hear you but not see you. Allow the camera in your browser's site settings to be seen.",
  ERR_MICROPHONE_DENIED:
    "Microphone access was refused, so others can see you but not hear you. Allow the microphone in your browser's site settings to be heard.",
  ERR_NO_DEVICE: "No camera or microphone was found. You can still see and hear others.",
  ERR_DEVICE_IN_USE:
    "Your camera or microphone is in use by another application. Close it and try again; you can still see and hear others.",
  ERR_OVERCONSTRAINED: "Your camera cannot provide the requested video. You can still see and hear others.",
  ERR_CAMERA_UNAVAILABLE: "Your camera could not be started (missing or in use): you are heard but not seen.",
  ERR_MICROPHONE_UNAVAILABLE: "Your microphone could not be started (missing or in use): you are seen but not heard.",
  ERR_INSECURE_CONTEXT: "Video calls need a secure (https) page.",
  ERR_MEDIA: "Your camera and microphone could not be started. You can still see and hear others.",
};

/**
 * Map a getUserMedia failure to a stable code.
 * @param {Error} err
 * @returns {keyof MEDIA_ERRORS}
 */
export function mediaErrorCode(err) {
  switch (err?.name) {
    case "NotAllowedError":
    case "SecurityError":
      return "ERR_PERMISSION_DENIED";
    case "NotFoundError":
      return "ERR_NO_DEVICE";
    case "NotReadableError":
    case "AbortError":
      return "ERR_DEVICE_IN_USE";
    case "OverconstrainedError":
      return "ERR_OVERCONSTRAINED";
    default:
      return "ERR_MEDIA";
  }
}

const error = (code) => ({ code, message: MEDIA_ERRORS[code] });

/**
 * Get the camera and microphone. When that fails, try the microphone alone, then
 * the camera alone (one of them may be refused, missing or busy), then give up:
 * never throws, because a person without devices can still receive.
 * @param {MediaStreamConstraints} [constraints]
 * @returns {Promise<{stream: MediaStream|null, error: {code: string, message: string}|null}>}
 */
export async function getLocalMedia(constraints = DEFAULT_CONSTRAINTS) {
  if (!navigator.mediaDevices?.getUserMedia) return { stream: null, error: error("ERR_INSECURE_CONTEXT") };
  let first;
  try {
    return { stream: await navigator.mediaDevices.getUserMedia(constraints), error: null };
  } catch (err) {
    first = mediaErrorCode(err);
  }
  const denied = first === "ERR_PERMISSION_DENIED";
  const fallbacks = [
    [{ audio: constraints.audio }, denied ? "ERR_CAMERA_DENIED" : "ERR_CAMERA_UNAVAILABLE"],
    [{ video: constraints.video }, denied ? "ERR_MICROPHONE_DENIED" : "ERR_MICROPHONE_UNAVAILABLE"],
  ];
  for (const [partial, code] of fallbacks) {
    try {
      return { stream: await navigator.mediaDevices.getUserMedia(partial), error: error(code) };
    } catch {
      // try the next one
    }
  }
  return { stream: null, error: error(first) };
}

/**
 * Stop every track of a stream. Accepts null.
 * @param {MediaStream|null} stream
 */
export function stopStream(stream) {
  for (const track of stream?.getTracks() ?? []) track.stop();
}
