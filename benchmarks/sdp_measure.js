
async ({kase, iceServers, gatherMs, bundlePolicy}) => {
  const out = {sdp: {}, candidates: [], gatherTimeouts: []};
  const cams = [];
  const cam = async () => {
    // The widget's DEFAULT_CONSTRAINTS (media.js).
    const s = await navigator.mediaDevices.getUserMedia({
      audio: {echoCancellation: true, noiseSuppression: true},
      video: {width: {ideal: 1280}, height: {ideal: 720}, frameRate: {ideal: 30}},
    });
    cams.push(s);
    return s;
  };
  const screen = async () => {
    let s;
    try {
      s = await navigator.mediaDevices.getDisplayMedia(
        {video: {frameRate: {ideal: 15}}, audio: false});
      out.screenSource = "getDisplayMedia";
    } catch (err) {
      const c = document.createElement("canvas");
      c.width = 1920; c.height = 1080;
      c.getContext("2d").fillRect(0, 0, 10, 10);
      s = c.captureStream(15);
      out.screenSource = "canvas (" + err.name + ")";
    }
    s.getVideoTracks()[0].contentHint = "detail";
    cams.push(s);
    return s;
  };
  const collect = (pc, side) => {
    pc.addEventListener("icecandidate", ({candidate}) => {
      if (candidate && candidate.candidate) {
        out.candidates.push({side, at: performance.now(), candidate: candidate.candidate,
          sdpMid: candidate.sdpMid,
          sdpMLineIndex: candidate.sdpMLineIndex, usernameFragment: candidate.usernameFragment});
      }
    });
  };
  // Gathering completions so far, per connection: a wait is for the next one (after
  // an ICE restart the state is still "complete" from the previous gathering).
  const watchGathering = (pc) => {
    pc.__completed = 0;
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") pc.__completed += 1;
    });
  };
  const gathered = (pc, before, label) => new Promise((resolve) => {
    const started = performance.now();
    const poll = () => {
      if (pc.__completed > before) return resolve();
      if (performance.now() - started > gatherMs) {
        out.gatherTimeouts.push(label);
        return resolve();
      }
      setTimeout(poll, 10);
    };
    poll();
  });
  // The other side gets descriptions without their candidates, and no trickled
  // candidate: ICE never connects, so that no gathering is cut short by a
  // connection (Chromium stops gathering once a pair works) and every SDP read
  // "+c" carries a complete gathering, as when the remote peer is unreachable.
  const bare = (d) => ({type: d.type, sdp: d.sdp.split("\r\n").filter(
    (l) => !l.startsWith("a=candidate:") && l !== "a=end-of-candidates").join("\r\n")});
  // Peer._addTracks: reuse an offered transceiver of the track's kind, else addTrack.
  const addTracks = (pc, stream) => {
    for (const track of stream.getTracks()) {
      const reusable = pc.getTransceivers().find(
        (t) => t.receiver.track?.kind === track.kind && !t.sender.track
          && t.direction !== "stopped");
      if (reusable) {
        reusable.sender.replaceTrack(track);
        reusable.direction = "sendrecv";
        reusable.sender.setStreams?.(stream);
      } else {
        pc.addTrack(track, stream);
      }
    }
  };
  const setUp = async (pc, offerer) => {
    if (kase === "recvonly" && offerer) {
      // Peer.start(null): nothing to send (no camera, or access refused).
      for (const kind of ["audio", "video"]) pc.addTransceiver(kind, {direction: "recvonly"});
      return;
    }
    const media = await cam();
    if (kase === "recvonly") addTracks(pc, media);  // the callee answers with its camera
    if (kase === "call") {
      if (offerer) for (const t of media.getTracks()) pc.addTrack(t, media);
      else addTracks(pc, media);
    } else if (kase === "call+screen") {
      // MediaOwner.startScreenShare -> Peer.setLocalTrack: replaceTrack on the video sender.
      if (offerer) for (const t of media.getTracks()) pc.addTrack(t, media);
      else addTracks(pc, media);
      const shared = (await screen()).getVideoTracks()[0];
      const sender = pc.getSenders().find((s) => s.track?.kind === "video");
      await sender.replaceTrack(shared);
    } else if (kase === "call+screen2") {
      const shared = await screen();
      if (offerer) {
        for (const t of media.getTracks()) pc.addTrack(t, media);
        pc.addTrack(shared.getVideoTracks()[0], shared);
      } else {
        addTracks(pc, media);
        addTracks(pc, shared);
      }
    } else if (kase === "simulcast") {
      const shared = await screen();
      if (offerer) {
        pc.addTrack(media.getAudioTracks()[0], media);
        pc.addTransceiver(media.getVideoTracks()[0], {streams: [media], sendEncodings: [
          {rid: "q", scaleResolutionDownBy: 4}, {rid: "h", scaleResolutionDownBy: 2}, {rid: "f"}]});
        pc.addTransceiver(shared.getVideoTracks()[0], {streams: [shared]});
        pc.createDataChannel("chat");
      } else {
        addTracks(pc, media);
        addTracks(pc, shared);
      }
    }
  };
  const a = new RTCPeerConnection({iceServers, bundlePolicy});
  const b = new RTCPeerConnection({iceServers, bundlePolicy});
  collect(a, "offerer");
  collect(b, "answerer");
  watchGathering(a);
  watchGathering(b);
  try {
    await setUp(a, true);
    await a.setLocalDescription();
    out.sdp["offer"] = a.localDescription.sdp;
    await gathered(a, 0, "offer");
    out.sdp["offer+c"] = a.localDescription.sdp;
    await b.setRemoteDescription(bare(a.localDescription));
    await setUp(b, false);
    await b.setLocalDescription();
    out.sdp["answer"] = b.localDescription.sdp;
    await gathered(b, 0, "answer");
    out.sdp["answer+c"] = b.localDescription.sdp;
    await a.setRemoteDescription(bare(b.localDescription));
    // A renegotiation (an audio-only peer turning its camera on would make one):
    // the bundled transport's candidates, gathered long ago, are in it.
    await a.setLocalDescription(await a.createOffer());
    out.sdp["reoffer+c"] = a.localDescription.sdp;
    await b.setRemoteDescription(bare(a.localDescription));
    await b.setLocalDescription();
    out.sdp["reanswer+c"] = b.localDescription.sdp;
    await a.setRemoteDescription(bare(b.localDescription));
    // An ICE restart (Peer.restartIce): new credentials, a new gathering.
    const [doneA, doneB] = [a.__completed, b.__completed];
    a.restartIce();
    await a.setLocalDescription();
    await gathered(a, doneA, "restart");
    out.sdp["restart+c"] = a.localDescription.sdp;
    await b.setRemoteDescription(bare(a.localDescription));
    await b.setLocalDescription();
    await gathered(b, doneB, "rrestart");
    out.sdp["rrestart+c"] = b.localDescription.sdp;
    await a.setRemoteDescription(bare(b.localDescription));
  } finally {
    a.close();
    b.close();
    for (const s of cams) for (const t of s.getTracks()) t.stop();
  }
  return out;
}
