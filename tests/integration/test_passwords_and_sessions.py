"""Password change, password reset and sign-out-everywhere end sessions: their access and refresh
tokens stop working at once, and their open SSE and WebSocket streams end at the next upkeep
check (STUDIO_SSE_HEARTBEAT_S / STUDIO_WS_PING_S: 0.5 s and 5 s in this suite)."""
from __future__ import annotations

import time
import uuid

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.support.api import PASSWORD, User, latest_token, mails_to, new_tenant, new_user
from tests.support.platform import RunningPlatform
from tests.support.realtime_clients import SseReader, ws_connect, ws_frames

NEW_PASSWORD = "Brand-New-Pass-77"
SSE_UPKEEP_S, WS_UPKEEP_S, SLACK_S = 0.5, 5.0, 4.0  # the suite's platform settings, and scheduling slack


def _session(client: httpx.Client, email: str, password: str = PASSWORD) -> User:
    r = client.post("/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    return User(email, "", r.json()["access_token"], r.json()["refresh_token"])


def _ended(client: httpx.Client, session: User) -> bool:
    me = client.get("/auth/me", headers=session.auth)
    refresh = client.post("/auth/refresh", json={"refresh_token": session.refresh_token})
    return me.status_code == 401 and refresh.status_code == 401


def _sse(client: httpx.Client, session: User, tenant: str) -> SseReader:
    thread = client.post("/chat/threads", json={}, headers=session.in_tenant(tenant)).json()["id"]
    return SseReader(client, f"/sse/chat/{thread}", session.in_tenant(tenant))


def _revoked_within(reader: SseReader, seconds: float) -> float:
    started = time.monotonic()
    reader.wait_for(lambda evs: any(e.event == "stream.revoked" for e in evs), timeout=seconds)
    reader.close()
    assert reader.events[-1].data["code"] == "TOKEN_INVALID"
    return time.monotonic() - started


def test_change_needs_the_current_password_and_ends_the_other_sessions(client: httpx.Client) -> None:
    user = new_user(client, "change")
    other = _session(client, user.email)
    wrong = client.post("/auth/password", json={"current_password": "Not-The-Pass-1", "new_password": NEW_PASSWORD},
                        headers=user.auth)
    assert wrong.status_code == 403 and wrong.json()["code"] == "CURRENT_PASSWORD_INCORRECT"
    weak = client.post("/auth/password", json={"current_password": PASSWORD, "new_password": "short"},
                       headers=user.auth)
    assert weak.status_code == 422 and weak.json()["code"] == "WEAK_PASSWORD"
    assert not _ended(client, other)  # refused changes end nothing
    other = _session(client, user.email)  # (_ended rotated its refresh token)

    changed = client.post("/auth/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                          headers=user.auth)
    assert changed.status_code == 200 and changed.json()["sessions_ended"] == 2
    assert _ended(client, other)
    assert client.get("/auth/me", headers=user.auth).status_code == 200  # the caller's own session stays
    assert client.post("/auth/login", json={"email": user.email, "password": PASSWORD}).status_code == 401
    assert client.post("/auth/login", json={"email": user.email, "password": NEW_PASSWORD}).status_code == 200


def test_a_password_change_ends_the_other_sessions_open_streams(client: httpx.Client, platform: RunningPlatform) -> None:
    user = new_user(client, "streams")
    tenant = new_tenant(client, user)
    other = _session(client, user.email)
    thread = client.post("/chat/threads", json={}, headers=user.in_tenant(tenant)).json()["id"]
    mine = SseReader(client, f"/sse/chat/{thread}", user.in_tenant(tenant))
    theirs = SseReader(client, f"/sse/chat/{thread}", other.in_tenant(tenant))
    with ws_connect(platform.base_url, f"/ws/chat/{thread}", other.in_tenant(tenant)) as ws:
        ws_frames(ws, 1)
        assert client.post("/auth/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                           headers=user.auth).status_code == 200
        assert _revoked_within(theirs, SSE_UPKEEP_S + SLACK_S) <= SSE_UPKEEP_S + SLACK_S
        started = time.monotonic()
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=WS_UPKEEP_S + SLACK_S)
        assert time.monotonic() - started <= WS_UPKEEP_S + SLACK_S
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        assert closed.value.rcvd.reason == "TOKEN_INVALID"
    time.sleep(SSE_UPKEEP_S * 3)  # several upkeep checks later the caller's own stream still runs
    assert not any(e.event == "stream.revoked" for e in mine.events)
    mine.close()


def test_sign_out_everywhere_ends_every_session_and_its_streams(client: httpx.Client) -> None:
    user = new_user(client, "everywhere")
    tenant = new_tenant(client, user)
    other = _session(client, user.email)
    stream = _sse(client, other, tenant)
    out = client.post("/auth/logout-all", headers=user.auth)
    assert out.status_code == 200 and out.json()["sessions_ended"] == 2
    _revoked_within(stream, SSE_UPKEEP_S + SLACK_S)
    assert _ended(client, user) and _ended(client, other)
    assert client.post("/auth/login", json={"email": user.email, "password": PASSWORD}).status_code == 200


def test_reset_mails_a_code_and_ends_every_session(client: httpx.Client) -> None:
    user = new_user(client, "reset")
    tenant = new_tenant(client, user)
    stream = _sse(client, user, tenant)
    unknown = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    for_real = client.post("/auth/password/reset", json={"email": user.email})
    for_nobody = client.post("/auth/password/reset", json={"email": unknown})
    assert for_real.status_code == for_nobody.status_code == 202
    assert for_real.json() == for_nobody.json()  # no account enumeration
    assert mails_to(client, unknown) == []
    token = latest_token(client, user.email, "password_reset")
    assert client.post("/auth/password/reset/confirm",
                       json={"token": token, "new_password": "short"}).json()["code"] == "WEAK_PASSWORD"

    done = client.post("/auth/password/reset/confirm", json={"token": token, "new_password": NEW_PASSWORD})
    assert done.status_code == 200 and done.json()["sessions_ended"] == 1
    _revoked_within(stream, SSE_UPKEEP_S + SLACK_S)
    assert _ended(client, user)
    again = client.post("/auth/password/reset/confirm", json={"token": token, "new_password": "Another-Pass-88"})
    assert again.status_code == 400 and again.json()["code"] == "RESET_TOKEN_INVALID"
    assert client.post("/auth/login", json={"email": user.email, "password": PASSWORD}).status_code == 401
    assert client.post("/auth/login", json={"email": user.email, "password": NEW_PASSWORD}).status_code == 200


def test_an_older_reset_code_dies_with_a_password_change(client: httpx.Client) -> None:
    user = new_user(client, "older")
    client.post("/auth/password/reset", json={"email": user.email})
    token = latest_token(client, user.email, "password_reset")
    time.sleep(0.01)
    assert client.post("/auth/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                       headers=user.auth).status_code == 200
    stale = client.post("/auth/password/reset/confirm", json={"token": token, "new_password": "Another-Pass-88"})
    assert stale.status_code == 400 and stale.json()["code"] == "RESET_TOKEN_INVALID"


@pytest.mark.parametrize("token", ["garbage", "pr_x.y", "ev_abc.def", "pr_" + "0" * 24 + ".forged"])
def test_a_bad_reset_code_is_a_stable_400(client: httpx.Client, token: str) -> None:
    r = client.post("/auth/password/reset/confirm", json={"token": token, "new_password": NEW_PASSWORD})
    assert r.status_code == 400 and r.json()["code"] == "RESET_TOKEN_INVALID"


def test_logout_with_an_idempotency_key_is_never_replayed_for_another_session(client: httpx.Client) -> None:
    user = new_user(client, "logout-key")
    second = _session(client, user.email)
    key = uuid.uuid4().hex
    first_out = client.post("/auth/logout", headers={**user.auth, "Idempotency-Key": key})
    second_out = client.post("/auth/logout", headers={**second.auth, "Idempotency-Key": key})
    assert first_out.status_code == second_out.status_code == 204
    assert "idempotent-replayed" not in second_out.headers
    assert _ended(client, user) and _ended(client, second)  # the second logout really ran
