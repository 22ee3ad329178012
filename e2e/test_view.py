"""What the widget shows, computed by ``view.js`` from a plain state (no DOM, no
connection): imported into a page of the example site and called with the states a
person goes through, from signed out to in a room."""

from __future__ import annotations

from typing import Any

import pytest

_VIEW = "/videochat/static/js/view.js"

ADA = {"id": "u-ada", "name": "Ada"}
BOB = {"id": "u-bob", "name": "Bob"}
CY = {"id": "u-cy", "name": "Cy"}
ONLINE = [{**BOB, "status": "available"}, {**CY, "status": "in_call"}]
#: Signed in and connected, with a camera and a microphone.
READY = {
    "connection": "online",
    "self": ADA,
    "users": ONLINE,
    "media": {"hasMicrophone": True, "hasCamera": True, "settled": True},
}


@pytest.fixture
def page(blank_page):
    return blank_page


def view(page, state: dict[str, Any]) -> dict[str, Any]:
    return page.evaluate("""async ([url, state]) => {
      const { widgetView } = await import(url);
      return widgetView(state);
    }""", [_VIEW, state])


def shown(v: dict[str, Any]) -> set[str]:
    """The panels a person sees."""
    panels = {
        "incoming": v["incoming"] is not None,
        "stage": v["stage"]["shown"],
        "lobby": v["lobby"]["shown"],
        "room": v["room"]["shown"],
        "chat": v["chat"]["shown"],
        "devices": v["devices"]["shown"],
        "sign-in": v["signedOut"] is not None,
    }
    return {name for name, on in panels.items() if on}


def calls(v: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each online person's Call button, by name."""
    return {u["name"]: u["call"] for u in v["presence"]["users"]}


def test_signed_out_shows_only_the_sign_in_message(page):
    v = view(page, {"signedOut": True, "signInUrl": "/login"})
    assert shown(v) == {"sign-in"}
    assert v["signedOut"] == {"signInUrl": "/login"}
    assert v["status"] == "Sign in to make video calls."


def test_before_the_connection_it_says_connecting_and_hides_the_lobby(page):
    v = view(page, {"roomAttribute": "standup"})
    assert v["status"] == "Connecting…"
    assert v["header"] == {"me": None, "online": False, "title": "Connecting…"}
    assert shown(v) == set()


def test_idle_with_people_online(page):
    v = view(page, READY)
    assert v["state"] == "idle"
    assert shown(v) == set()
    assert v["status"] == "Ready. Pick someone to call."
    assert v["header"] == {"me": "Ada", "online": True, "title": "Connected"}
    assert [(u["name"], u["statusWords"]) for u in v["presence"]["users"]] == [
        ("Bob", "Available"), ("Cy", "In a call")]
    assert calls(v)["Bob"] == {"label": "Call Bob", "text": "Call", "title": "", "reason": "",
                               "disabled": False}
    assert calls(v)["Cy"]["disabled"], "Cy is in a call"
    assert v["presence"]["empty"] is False
    assert view(page, {**READY, "users": []})["presence"]["empty"] is True
    # What ended the last call stays said while nothing else happens.
    assert view(page, {**READY, "lastMessage": "Call ended."})["status"] == "Call ended."


def test_a_call_ringing_in(page):
    v = view(page, {**READY, "call": {"state": "incoming", "peer": BOB}})
    assert shown(v) == {"incoming", "stage", "devices"}
    assert v["incoming"] == {"caller": BOB, "words": " is calling…"}
    assert v["ring"] == {"title": "Bob is calling…"}
    assert v["status"] == "Bob is calling…"
    assert v["stage"]["previewLabel"] is True and v["stage"]["hangup"] is False
    assert v["devices"]["beforeJoining"] is True, "send no camera / no microphone is offered"
    assert v["clearError"] is True
    assert all(c["disabled"] for c in calls(v).values())


def test_calling_out(page):
    v = view(page, {**READY, "lastMessage": "Call ended.",
                    "call": {"state": "calling", "peer": BOB}})
    assert shown(v) == {"stage"}
    assert v["status"] == "Calling Bob…"
    assert v["stage"]["hangup"] is True and v["controls"]["hangup"] is True
    assert v["ring"] is None and v["incoming"] is None
    assert v["lastMessage"] == "", "the last call's message is forgotten"
    assert v["clearError"] is True
    assert v["size"] is None, "nothing to make bigger before the call is up"
    ringing = view(page, {**READY, "call": {"state": "ringing", "peer": BOB}})
    assert ringing["status"] == "Ringing Bob…"


def test_in_a_call(page):
    in_call = {"state": "in-call", "peer": BOB, "remoteVideo": True,
               "peerMedia": {"mic": False, "cam": True, "screen": False}}
    v = view(page, {**READY, "call": in_call})
    assert shown(v) == {"stage", "chat"}
    assert v["status"] == "In call with Bob"
    assert v["layout"] == "stage"
    stage = v["stage"]
    assert stage["showingVideo"] is True
    assert stage["peerMuted"] is True and stage["peerNameShown"] is True
    controls = v["controls"]
    assert controls["hangup"] is True and controls["leave"] is False
    assert controls["screen"]["shown"] and controls["devices"]["shown"] and controls["add"]["shown"]
    assert controls["mute"] == {"pressed": False, "label": "Mute microphone", "text": "Mute",
                                "disabled": False, "icon": "mic", "tip": "Mute microphone"}
    assert v["quality"] is True
    assert v["size"] == {"target": "stage"}, "enlarge, full screen, picture-in-picture"
    assert v["clearError"] is False

    # Their camera off: their avatar and "Camera off", not a frozen frame.
    off = view(page, {**READY, "call": {**in_call, "peerMedia": {"mic": True, "cam": False}}})
    assert off["stage"]["showingVideo"] is False
    assert off["stage"]["placeholder"] == {"peer": BOB, "cameraOff": True}
    # Presenting.
    presenting = {"mic": True, "cam": True, "screen": True}
    screen = view(page, {**READY, "call": {**in_call, "peerMedia": presenting}})
    assert screen["stage"]["peerName"] == "Bob (presenting)"
    # The Devices control opens the device check (without "send no camera").
    devices = view(page, {**READY, "call": in_call, "devicesOpen": True})
    assert devices["devices"] == {"shown": True, "beforeJoining": False, "open": True}
    assert devices["controls"]["devices"]["expanded"] is True
    # The Add control lists who is available and not in the call.
    add = view(page, {**READY, "call": in_call, "addOpen": True,
                      "users": [*ONLINE, {"id": "u-dan", "name": "Dan", "status": "available"}]})
    assert add["add"]["open"] is True
    assert [u["name"] for u in add["add"]["candidates"]] == ["Bob", "Dan"]


def test_your_own_controls(page):
    muted = view(page, {**READY, "call": {"state": "in-call", "peer": BOB},
                        "media": {**READY["media"], "muted": True, "cameraOff": True}})
    controls = muted["controls"]
    assert controls["mute"] == {"pressed": True, "label": "Unmute microphone", "text": "Unmute",
                                "disabled": False, "icon": "mic-off", "tip": "Unmute microphone"}
    assert controls["camera"]["text"] == "Camera on"
    assert (controls["camera"]["icon"], controls["camera"]["tip"]) == ("video-off", "Turn camera on")
    assert controls["localOff"] is True, "your preview says the camera is off"
    none = view(page, {**READY, "media": {"hasMicrophone": False, "hasCamera": False}})["controls"]
    assert (none["mute"]["text"], none["mute"]["disabled"]) == ("No mic", True)
    assert (none["camera"]["text"], none["camera"]["disabled"]) == ("No camera", True)
    # Without the device: the "off" icon, and the tooltip says why it is disabled.
    assert (none["mute"]["icon"], none["mute"]["tip"]) == ("mic-off", "No microphone found")
    assert (none["camera"]["icon"], none["camera"]["tip"]) == ("video-off", "No camera found")
    sharing = view(page, {**READY, "media": {**READY["media"], "sharing": True}})["controls"]
    assert sharing["screen"]["text"] == "Stop sharing" and sharing["camera"]["disabled"] is True
    assert (sharing["screen"]["icon"], sharing["screen"]["tip"]) == ("monitor-x", "Stop sharing your screen")
    assert sharing["camera"]["tip"] == "Your camera is off while you share your screen"


def test_rate_limited_call_buttons_say_how_long_to_wait(page):
    v = view(page, {**READY, "callWait": 40})
    assert calls(v)["Bob"] == {"label": "Call Bob", "text": "Call in 40 s",
                               "title": "You can call again in 40 seconds.", "reason": "",
                               "disabled": True}
    assert view(page, {**READY, "callWait": 0})["presence"]["users"][0]["call"]["disabled"] is False


def test_a_room_lobby(page):
    v = view(page, {**READY, "roomAttribute": "standup"})
    assert shown(v) == {"lobby", "devices"}
    assert v["lobby"] == {"shown": True, "title": "standup", "joinEnabled": True}
    assert v["layout"] == "lobby"
    assert v["devices"]["beforeJoining"] is True
    assert v["status"] == "Ready to join? Check your camera, then join."
    # Connected, but the server has not said who you are yet: Join waits.
    unknown = view(page, {**READY, "self": None, "roomAttribute": "standup"})
    assert unknown["lobby"]["joinEnabled"] is False
    # A call in progress hides the lobby.
    assert not view(page, {**READY, "roomAttribute": "standup",
                           "call": {"state": "in-call", "peer": BOB}})["lobby"]["shown"]


def test_joining_and_in_a_room(page):
    joining = view(page, {**READY, "roomAttribute": "standup",
                          "room": {"state": "joining", "name": "standup"}})
    assert joining["state"] == "joining"
    assert joining["status"] == "Joining standup…"
    assert shown(joining) == {"room"}
    assert joining["clearError"] is True

    members = [{**BOB, "mic": True, "cam": True}, {**CY, "mic": False, "cam": True}]
    room = {"state": "joined", "name": "standup", "members": members, "mic": True, "cam": False}
    v = view(page, {**READY, "roomAttribute": "standup", "room": room, "roomNote": "Ringing Dan…"})
    assert v["state"] == "in-room"
    assert shown(v) == {"room", "chat"}
    assert v["layout"] == "room"
    assert v["status"] == "In standup with Bob and Cy · Ringing Dan…"
    assert v["room"]["title"] == "standup"
    assert v["room"]["members"] == members
    assert v["room"]["me"] == {"self": ADA, "mic": True, "cam": False}
    assert v["controls"]["leave"] is True and v["controls"]["hangup"] is False
    assert v["controls"]["add"]["shown"] is True
    assert v["size"] == {"target": "room"}
    assert joining["size"] is None, "nothing to make bigger before you are in"
    alone = view(page, {**READY, "room": {"state": "joined", "name": "call-1f2e"}})
    assert alone["status"] == "Waiting for others to join the group call…"


def test_an_invitation_into_a_room(page):
    invite = {"room": "call-1f2e", "from": CY, "members": 2}
    v = view(page, {**READY, "room": {"invite": invite}})
    assert shown(v) == {"incoming", "stage", "devices"}
    assert v["incoming"]["words"] == " invites you to a call with 2 people…"
    assert v["status"] == "Cy invites you to a call…"
    assert v["stage"]["state"] == "incoming"


def test_a_dropped_connection_is_said_while_idle_only(page):
    idle = view(page, {**READY, "connection": "offline", "reconnecting": True})
    assert idle["status"] == "Reconnecting…"
    assert idle["header"] == {"me": "Ada", "online": False, "title": "Reconnecting…"}
    busy = view(page, {**READY, "connection": "offline", "reconnecting": True,
                       "call": {"state": "in-call", "peer": BOB}})
    assert busy["status"] == "In call with Bob"


def test_the_view_is_a_pure_function_that_needs_no_dom(page):
    """Same state, same view; the state is left as it was; and the module runs in a
    worker, where there is no document."""
    result = page.evaluate("""async (url) => {
      const { widgetView } = await import(url);
      const bob = { id: "b", name: "Bob" };
      const state = { connection: "online", call: { state: "incoming", peer: bob } };
      const before = JSON.stringify(state);
      const same = JSON.stringify(widgetView(state)) === JSON.stringify(widgetView(state));
      const source = `import { widgetView } from "${new URL(url, location.href)}";
        postMessage(widgetView({ signedOut: true }).status);`;
      const blob = new Blob([source], { type: "text/javascript" });
      const worker = new Worker(URL.createObjectURL(blob), { type: "module" });
      const inWorker = await new Promise((resolve, reject) => {
        worker.onmessage = (e) => resolve(e.data);
        worker.onerror = (e) => reject(new Error(e.message));
      });
      worker.terminate();
      return { same, untouched: JSON.stringify(state) === before, inWorker };
    }""", _VIEW)
    assert result == {"same": True, "untouched": True, "inWorker": "Sign in to make video calls."}


def test_whom_the_host_does_not_let_you_call_is_disabled_with_its_reason(page):
    users = [{**BOB, "status": "available", "callable": False}, {**CY, "status": "ringing", "callable": True}]
    v = view(page, {**READY, "users": users})
    assert calls(v)["Bob"] == {"label": "Call Bob", "text": "Call", "title": "You are not allowed to call Bob.",
                               "reason": "You are not allowed to call Bob.", "disabled": True}
    assert calls(v)["Cy"]["reason"] == "" and calls(v)["Cy"]["disabled"] is True
    assert [u["statusWords"] for u in v["presence"]["users"]] == ["Available", "Ringing…"]
    in_room = view(page, {**READY, "users": [{**BOB, "status": "in_room"}]})["presence"]["users"][0]
    assert in_room["statusWords"] == "In a room" and in_room["call"]["disabled"] is True
    # Nor are they offered in the add panel.
    in_call = view(page, {**READY, "users": users, "addOpen": True, "call": {"state": "in-call", "peer": CY}})
    assert in_call["add"]["candidates"] == []
    # The forbidden reason wins over a rate limit's countdown.
    assert calls(view(page, {**READY, "users": users, "callWait": 5}))["Bob"]["text"] == "Call"


def test_a_room_leaves_its_members_out_of_the_online_list(page):
    room = {"state": "joined", "name": "standup", "members": [{**BOB, "mic": True, "cam": True}]}
    v = view(page, {**READY, "roomAttribute": "standup", "room": room})
    assert [u["name"] for u in v["presence"]["users"]] == ["Cy"]
    alone = view(page, {**READY, "users": [{**BOB, "status": "in_call"}], "room": room})
    assert alone["presence"]["empty"] is True
    assert [u["name"] for u in view(page, READY)["presence"]["users"]] == ["Bob", "Cy"]
