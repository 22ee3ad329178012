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
    "Camera and microphone access was refused. Allow it in your browser's site settings to be seen and heard; you can still see and hear others.",
  ERR_NO_DEVICE: "No camera or microphone was found. You can still see and hear others.",
  ERR_DEVICE_IN_USE: "Your camera or microphone is in use by another application. Close it and try again; you can still see and hear others.",
  ERR_OVERCONSTRAINED: "Your camera cannot provide the requested video. You can still see and hear others.",
  ERR_INSECURE_CONTEXT: "Video calls need a secure (https) page.",
  ERR_MEDIA: "Your camera and microphone could not be started. You can still see and hear others.",
  ERR_CAMERA_ONLY_AUDIO: "No camera is available: you join with audio only.",
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
    case "PermissionDeniedError":
      return "ERR_PERMISSION_DENIED";
    case "NotFoundError":
    case "DevicesNotFoundError":
      return "ERR_NO_DEVICE";
    case "NotReadableError":
    case "TrackStartError":
    case "AbortError":
      return "ERR_DEVICE_IN_USE";
    case "OverconstrainedError":
      return "ERR_OVERCONSTRAINED";
    default:
      return "ERR_MEDIA";
  }
}

/**
 * Get the camera and microphone, falling back to one of them, then to nothing.
 * Never throws: a person without devices can still receive.
 * @param {MediaStreamConstraints} [constraints]
 * @returns {Promise<{stream: MediaStream|null, error: {code: string, message: string}|null}>}
 */
export async function getLocalMedia(constraints = DEFAULT_CONSTRAINTS) {
  if (!navigator.mediaDevices?.getUserMedia) {
    return { stream: null, error: { code: "ERR_INSECURE_CONTEXT", message: MEDIA_ERRORS.ERR_INSECURE_CONTEXT } };
  }
  let first;
  try {
    return { stream: await navigator.mediaDevices.getUserMedia(constraints), error: null };
  } catch (err) {
    first = mediaErrorCode(err);
  }
  if (first === "ERR_PERMISSION_DENIED") {
    return { stream: null, error: { code: first, message: MEDIA_ERRORS[first] } };
  }
  for (const fallback of [{ audio: constraints.audio }, { video: true }]) {
    try {
      const stream = await navigator.mediaDevices.getUserMedia(fallback);
      const code = fallback.audio ? "ERR_CAMERA_ONLY_AUDIO" : first;
      return { stream, error: { code, message: MEDIA_ERRORS[code] } };
    } catch {
      // try the next fallback
    }
  }
  return { stream: null, error: { code: first, message: MEDIA_ERRORS[first] } };
}

/**
 * Stop every track of a stream. Accepts null.
 * @param {MediaStream|null} stream
 */
export function stopStream(stream) {
  for (const track of stream?.getTracks() ?? []) track.stop();
}
