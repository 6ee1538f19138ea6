"""Video over real HTTP: projects with a validated timeline (pointer errors, revisions, timeline commands
that conflict exactly), and render jobs run by the worker the runtime's bus delivers to, with Debian's
ffmpeg on synthetic inputs (lavfi testsrc and sine): probed output, plan == executed plan, chunked ==
single pass (SSIM), cancel, a lease that expires, and hostile requests."""
from __future__ import annotations

import json
import re
import subprocess
import tempfile
import uuid
from typing import Any

import httpx
import pytest

from tests.support import media_samples as samples
from tests.support.api import User, add_member, new_tenant, new_user
from tests.support.bus_tap import EventTap
from tests.support.platform import RunningPlatform

pytestmark = pytest.mark.usefixtures("media_tools")


def _asset(c: httpx.Client, platform: RunningPlatform, h: dict[str, str], data: bytes, mime: str, name: str) -> str:
    r = c.post("/media-v2/assets", files={"file": (name, data, mime)}, headers=h)
    assert r.status_code in (201, 202), r.text
    platform.drain()
    asset_id = str(r.json()["id"])
    assert c.get(f"/media-v2/assets/{asset_id}", headers=h).json()["status"] == "ready"
    return asset_id


def _timeline(video: str, music: str, chunk_s: float = 1.0, codec: str = "h264") -> dict[str, Any]:
    return {
        "tracks": [
            {"id": "main", "kind": "video", "clips": [
                {"id": "a", "source": video, "in": 0, "out": 1.6, "start": 0, "fades": {"fade_in": 0.3}},
                {"id": "b", "source": video, "in": 0.4, "out": 1.4, "start": 1.2, "speed": 0.5,
                 "transition": {"duration": 0.4}, "volume": 0.7},
            ]},
            {"id": "music", "kind": "audio", "ducking": {"under": "main", "db": 12},
             "clips": [{"id": "m", "source": music, "in": 0, "out": 3.0, "start": 0, "fades": {"fade_out": 0.5}}]},
            {"id": "titles", "kind": "text", "clips": [
                {"id": "t", "text": "Hello: 100% 'video'", "start": 0.5, "duration": 1.5, "size": 32,
                 "animation_in": {"kind": "fade", "duration": 0.3}}]},
        ],
        "output": {"width": 320, "height": 240, "fps": 25, "codec": codec, "quality": 18, "chunk_seconds": chunk_s},
    }


def _project(c: httpx.Client, h: dict[str, str], tl: dict[str, Any]) -> dict[str, Any]:
    r = c.post("/video/projects", json={"name": "Teaser", "timeline": tl}, headers=h)
    assert r.status_code == 201, r.text
    return dict(r.json())


def _cmd(type_: str, project_id: str, base_rev: int, payload: dict[str, Any]) -> dict[str, Any]:
    return {"command_id": f"cmd-{uuid.uuid4().hex}", "type": type_, "target": {"kind": "video_project", "id": project_id},
            "base_rev": base_rev, "payload": payload}


def _probe(path: str) -> dict[str, Any]:
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_entries",
                          "stream=codec_type,codec_name,nb_read_frames,width,height:format=duration", "-of", "json",
                          path], capture_output=True, text=True, check=True).stdout
    return dict(json.loads(out))


def _loudness(path: str) -> float:
    err = subprocess.run(["ffmpeg", "-nostdin", "-v", "info", "-i", path, "-vn", "-af", "ebur128", "-f", "null", "-"],
                         capture_output=True, text=True, check=True).stderr
    return float(re.findall(r"I:\s+(-?[\d.]+) LUFS", err)[-1])


def _min_ssim(a: str, b: str) -> float:
    err = subprocess.run(["ffmpeg", "-nostdin", "-v", "info", "-i", a, "-i", b, "-lavfi", "[0:v][1:v]ssim=stats_file=-",
                          "-f", "null", "-"], capture_output=True, text=True, check=True)
    values = [float(v) for v in re.findall(r"All:([\d.]+)", err.stdout)]
    assert values, err.stderr[-500:]
    return min(values)


def _render(c: httpx.Client, platform: RunningPlatform, h: dict[str, str], project: dict[str, Any]) -> dict[str, Any]:
    r = c.post("/video/render", json={"project_id": project["id"], "rev": project["rev"]}, headers=h)
    assert r.status_code == 202, r.text
    assert r.headers["Location"] == f"/video/render/jobs/{r.json()['id']}" and r.json()["status"] == "queued"
    platform.drain()  # the bus delivers render.jobs to the render worker
    job = c.get(f"/video/render/jobs/{r.json()['id']}", headers=h)
    assert job.status_code == 200, job.text
    return dict(job.json())


def _download(c: httpx.Client, h: dict[str, str], artifact_id: str, folder: str, name: str) -> tuple[str, dict[str, Any]]:
    art = c.get(f"/media-v2/artifacts/{artifact_id}", headers=h)
    assert art.status_code == 200, art.text
    path = f"{folder}/{name}"
    with open(path, "wb") as fh:
        fh.write(httpx.get(art.json()["download_url"], timeout=30).content)
    return path, dict(art.json())


def test_timeline_errors_point_at_the_clip_and_writes_are_revisioned(client: httpx.Client, owner: User,
                                                                       tenant: str) -> None:
    h = owner.in_tenant(tenant)
    schema = client.get("/video/timeline.schema.json", headers=h).json()
    assert "tracks" in schema["properties"] and "MediaClip" in schema["$defs"]
    src = "as_" + "0" * 20
    bad = {"tracks": [{"id": "v", "kind": "video", "clips": [
        {"id": "ok", "source": src, "in": 0, "out": 2},
        {"id": "bad", "source": src, "in": 3, "out": 1, "speed": 9}]}]}
    r = client.post("/video/projects", json={"name": "x", "timeline": bad}, headers=h)
    assert r.status_code == 422 and r.json()["code"] == "TIMELINE_INVALID", r.text
    assert {e["pointer"] for e in r.json()["errors"]} == {"/tracks/0/clips/1/speed"}
    overlap = {"tracks": [{"id": "v", "kind": "video", "clips": [
        {"id": "a", "source": src, "in": 0, "out": 2}, {"id": "b", "source": src, "in": 0, "out": 2, "start": 1}]},
        {"id": "t", "kind": "text", "clips": [{"id": "c", "source": src, "in": 0, "out": 1}]}]}
    r = client.post("/video/projects", json={"name": "x", "timeline": overlap}, headers=h)
    assert [e["pointer"] for e in r.json()["errors"]] == ["/tracks/0/clips/1", "/tracks/1/clips/0"], r.text

    p = client.post("/video/projects", json={"name": "Empty"}, headers=h)
    assert p.status_code == 201 and p.json()["rev"] == 1 and p.json()["timeline"]["tracks"] == []
    pid = p.json()["id"]
    assert client.patch(f"/video/projects/{pid}", json={"name": "y"}, headers=h).status_code == 428
    ok = client.patch(f"/video/projects/{pid}", json={"name": "Renamed", "base_rev": 1}, headers=h)
    assert ok.status_code == 200 and ok.json()["rev"] == 2 and ok.json()["name"] == "Renamed"
    stale = client.patch(f"/video/projects/{pid}", json={"name": "z"}, headers={**h, "If-Match": '"1"'})
    assert stale.status_code == 412
    listed = client.get("/video/projects", headers=h).json()["projects"]
    assert [x["id"] for x in listed] == [pid]
    assert client.delete(f"/video/projects/{pid}?base_rev=2", headers=h).status_code == 204
    assert client.get(f"/video/projects/{pid}", headers=h).status_code == 404


def test_concurrent_timeline_commands_conflict_exactly(client: httpx.Client, owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    src = "as_" + "1" * 20
    p = _project(client, h, {"tracks": [{"id": "v", "kind": "video", "clips": [
        {"id": "a", "source": src, "in": 0, "out": 2}]}]})
    pid = p["id"]
    first = client.post("/commands", json=_cmd("timeline.move_clip", pid, 1, {"clip_id": "a", "start": 1.0}), headers=h)
    assert first.status_code == 200 and first.json()["new_rev"] == 2, first.text
    assert [e["type"] for e in first.json()["events"]] == ["video.timeline_edited"]
    # the second editor also saw rev 1: a precise conflict, not a silent overwrite
    second = client.post("/commands", json=_cmd("timeline.trim_clip", pid, 1, {"clip_id": "a", "out": 1.5}), headers=h)
    assert second.status_code == 409 and second.json()["current_rev"] == 2, second.text
    added = client.post("/commands", json=_cmd("timeline.add_clip", pid, 2, {
        "track_id": "v", "clip": {"id": "b", "source": src, "in": 0, "out": 1, "start": 3}}), headers=h)
    assert added.status_code == 200, added.text
    invalid = client.post("/commands", json=_cmd("timeline.add_clip", pid, 3, {
        "track_id": "v", "clip": {"id": "c", "source": src, "in": 0, "out": 1, "start": 3.5}}), headers=h)
    assert invalid.status_code == 422 and invalid.json()["errors"][0]["pointer"] == "/tracks/0/clips/2", invalid.text
    missing = client.post("/commands", json=_cmd("timeline.remove_clip", pid, 3, {"clip_id": "nope"}), headers=h)
    assert missing.status_code == 404 and missing.json()["code"] == "CLIP_NOT_FOUND"
    trimmed = client.post("/commands", json=_cmd("timeline.trim_clip", pid, 3, {"clip_id": "a", "in": 0.5}), headers=h)
    assert trimmed.status_code == 200
    removed = client.post("/commands", json=_cmd("timeline.remove_clip", pid, 4, {"clip_id": "b"}), headers=h)
    assert removed.status_code == 200
    tl = client.get(f"/video/projects/{pid}", headers=h).json()
    assert tl["rev"] == 5 and tl["timeline"]["tracks"][0]["clips"] == [
        {**tl["timeline"]["tracks"][0]["clips"][0], "id": "a", "in": 0.5, "out": 2.0, "start": 1.0}]
    assert tl["duration_s"] == 2.5


def test_render_end_to_end_matches_plan_and_single_pass(client: httpx.Client, platform: RunningPlatform,
                                                         owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    video = _asset(client, platform, h, samples.clip(2.0, 640, 480), "video/mp4", "clip.mp4")
    music = _asset(client, platform, h, samples.voice_note(3.0, -20.0), "audio/wav", "music.wav")
    project = _project(client, h, _timeline(video, music, chunk_s=1.0))
    assert project["duration_s"] == 3.2  # clip b: 1 s of source at half speed from 1.2 s
    plan = client.post("/video/render/dry-run", json={"project_id": project["id"], "rev": project["rev"]}, headers=h)
    assert plan.status_code == 200, plan.text
    dry = plan.json()
    assert dry["frames"] == 80 and len(dry["chunks"]) >= 3 and dry["estimate"]["chunks"] == len(dry["chunks"])
    assert "sidechaincompress" in dry["audio"]["filter"] and "loudnorm=I=-16" in dry["audio"]["filter"]
    assert dry["concat"]["args"][-2:] == ["copy", "{work}/video.mp4"] and "drawtext" in dry["chunks"][0]["filter"]
    # no chunk boundary cuts a fade or the crossfade (1.2-1.6 s)
    assert all(not (1.2 < c["start_s"] < 1.6) and not (0 < c["start_s"] < 0.3) for c in dry["chunks"])

    meta = EventTap(platform, "realtime.meta")
    job = _render(client, platform, h, project)
    assert job["status"] == "done", job
    assert job["plan"] == dry  # the plan the worker ran is the dry run's
    steps = [c["args"] for c in dry["chunks"]] + [dry["audio"]["args"], dry["concat"]["args"], dry["mux"]["args"]]
    assert sorted(map(json.dumps, job["executed"])) == sorted(map(json.dumps, steps))
    assert all(c["state"] == "done" and c["attempts"] == 1 for c in job["chunks"])
    events = meta.events(tenant)
    progress = [e["data"] for e in events if e["type"] == "render.progress" and e["data"]["job_id"] == job["id"]]
    assert progress and progress[-1]["percent"] == 90.0 and progress[-1]["eta_s"] == 0.0
    assert {"index", "state", "attempts"} <= set(progress[0]["chunks"][0])
    assert any(e["type"] == "render.result" and e["data"]["artifact_id"] == job["artifact_id"] for e in events)

    with tempfile.TemporaryDirectory() as tmp:
        out, art = _download(client, h, job["artifact_id"], tmp, "chunked.mp4")
        assert art["kind"] == "render" and art["mime"] == "video/mp4"
        probe = _probe(out)
        streams = {s["codec_type"]: s for s in probe["streams"]}
        assert streams["video"]["codec_name"] == "h264" and streams["audio"]["codec_name"] == "aac"
        assert int(streams["video"]["nb_read_frames"]) == 80
        assert (streams["video"]["width"], streams["video"]["height"]) == (320, 240)
        assert abs(float(probe["format"]["duration"]) - 3.2) <= 1 / 25 + 0.03  # a frame (and an AAC priming frame)
        assert abs(_loudness(out) - (-16.0)) <= 2.0
        # the same timeline in one pass: every sampled frame alike
        single = _project(client, h, _timeline(video, music, chunk_s=600))
        one = _render(client, platform, h, single)
        assert one["status"] == "done" and len(one["plan"]["chunks"]) == 1
        whole, _ = _download(client, h, one["artifact_id"], tmp, "single.mp4")
        assert _min_ssim(out, whole) >= 0.99

    # the ledger (provenance_writer consumes domain.media) links the render to every clip's source
    platform.drain()
    lineage = client.get(f"/provenance/lineage/{job['artifact_id']}?direction=up", headers=h)
    assert lineage.status_code == 200, lineage.text
    assert {video, music} <= {n["id"] for n in lineage.json()["nodes"]}, lineage.json()


def test_cancel_lease_and_hostile_requests(client: httpx.Client, platform: RunningPlatform, owner: User,
                                           tenant: str) -> None:
    h = owner.in_tenant(tenant)
    video = _asset(client, platform, h, samples.clip(1.0, 320, 240), "video/mp4", "c.mp4")
    tl = {"tracks": [{"id": "v", "kind": "video", "clips": [{"id": "a", "source": video, "in": 0, "out": 1}]}],
          "output": {"width": 320, "height": 240}}
    project = _project(client, h, tl)
    body = {"project_id": project["id"], "rev": project["rev"]}
    # cancel before the worker gets it: the job ends cancelled and the delivery renders nothing
    r = client.post("/video/render", json=body, headers=h)
    job_id = r.json()["id"]
    cancelled = client.post(f"/video/render/jobs/{job_id}/cancel", headers=h)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    platform.drain()
    after = client.get(f"/video/render/jobs/{job_id}", headers=h).json()
    assert after["status"] == "cancelled" and "artifact_id" not in after
    again = client.post(f"/video/render/jobs/{job_id}/cancel", headers=h)
    assert again.status_code == 409 and again.json()["code"] == "RENDER_NOT_CANCELLABLE"

    # a worker killed mid-job: its lease runs out and the job ends failed with the reason
    r = client.post("/video/render", json=body, headers=h)
    crashed = r.json()["id"]
    store = platform.deps.store
    path = f"tenants/{tenant}/envs/dev/render_jobs/{crashed}"
    doc = store.get(path)
    assert doc is not None
    store.put(path, dict(doc.data, status="running", lease_until="2000-01-01T00:00:00Z"), expected_rev=doc.rev)
    platform.drain()  # the delivery finds it past queued: a no-op
    dead = client.get(f"/video/render/jobs/{crashed}", headers=h).json()
    assert dead["status"] == "failed" and "lease expired" in dead["error"]

    listed = client.get("/video/render/jobs?status=failed", headers=h).json()["jobs"]
    assert [j["id"] for j in listed] == [crashed]
    by_project = client.get(f"/video/render/jobs?project_id={project['id']}&created_after=2000-01-01T00:00:00Z",
                            headers=h).json()["jobs"]
    assert {j["id"] for j in by_project} == {job_id, crashed}

    stale = client.post("/video/render/dry-run", json={**body, "rev": 7}, headers=h)
    assert stale.status_code == 409 and stale.json()["code"] == "PROJECT_REV_MISSING"
    # another tenant sees nothing of this one
    other = new_user(client, "other")
    elsewhere = new_tenant(client, other)
    oh = other.in_tenant(elsewhere)
    assert client.get(f"/video/projects/{project['id']}", headers=oh).status_code == 404
    assert client.get(f"/video/render/jobs/{job_id}", headers=oh).status_code == 404
    assert client.post(f"/video/render/jobs/{job_id}/cancel", headers=oh).status_code == 404
    theirs = client.post("/video/projects", json={"name": "steal", "timeline": tl}, headers=oh).json()
    refused = client.post("/video/render", json={"project_id": theirs["id"], "rev": 1}, headers=oh)
    assert refused.status_code == 422 and refused.json()["code"] == "RENDER_SOURCE_MISSING"
    # a viewer reads but does not write
    viewer = new_user(client, "viewer")
    add_member(client, owner, tenant, viewer, "viewer")
    vh = viewer.in_tenant(tenant)
    assert client.get("/video/projects", headers=vh).status_code == 200
    assert client.post("/video/projects", json={"name": "v"}, headers=vh).status_code == 403
    assert client.post("/video/render", json=body, headers=vh).status_code == 403
    # hostile numbers and ids
    nan = client.post("/video/projects", content=b'{"name":"n","timeline":{"output":{"fps":NaN}}}',
                      headers={**h, "Content-Type": "application/json"})
    assert nan.status_code in (400, 422)
    huge = client.post("/video/render/dry-run", json={"project_id": project["id"], "rev": 10**30}, headers=h)
    assert huge.status_code in (400, 422)
    assert client.get("/video/render/jobs/rj_../../x", headers=h).status_code == 404
    deep: Any = {}
    for _ in range(200):
        deep = {"a": deep}
    assert client.post("/video/projects", json={"name": "d", "timeline": deep}, headers=h).status_code in (400, 422)


def test_the_render_tool_queues_the_same_job(client: httpx.Client, platform: RunningPlatform, owner: User,
                                             tenant: str) -> None:
    h = owner.in_tenant(tenant)
    video = _asset(client, platform, h, samples.clip(1.0, 320, 240), "video/mp4", "c.mp4")
    project = _project(client, h, {"tracks": [{"id": "v", "kind": "video", "clips": [
        {"id": "a", "source": video, "in": 0, "out": 1}]}], "output": {"width": 320, "height": 240}})
    r = client.post("/tools/video.render/invoke", json={"input": {"project_id": project["id"], "rev": project["rev"]}},
                    headers={**h, "Idempotency-Key": uuid.uuid4().hex})
    assert r.status_code == 200, r.text
    out = r.json()["output"]
    assert out["status"] == "queued" and out["chunks"] == 1
    platform.drain()
    job = client.get(f"/video/render/jobs/{out['job_id']}", headers=h).json()
    assert job["status"] == "done" and job["artifact_id"].startswith("ar_")


def test_origin_snippets_link_audio_windows_to_their_video(client: httpx.Client, platform: RunningPlatform,
                                                           owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    video = _asset(client, platform, h, samples.clip(2.0, 320, 240), "video/mp4", "c.mp4")
    voice = _asset(client, platform, h, samples.voice_note(2.0), "audio/wav", "v.wav")
    audio_art = client.get(f"/media-v2/assets/{voice}/artifacts", headers=h).json()["artifacts"][0]["id"]
    windows = [{"audio_in": 0, "audio_out": 1, "video_source": video, "video_in": 0.5, "video_out": 1.5}]
    r = client.post("/origin-snippets/from-audio", json={"audio_artifact_id": audio_art, "windows": windows},
                    headers=h)
    assert r.status_code == 201, r.text
    platform.drain()  # provenance_writer_video appends the link to the ledger
    lineage = client.get(f"/provenance/lineage/{audio_art}?direction=up", headers=h).json()
    assert video in {n["id"] for n in lineage["nodes"]}, lineage
    got = client.get(f"/origin-snippets?artifact={audio_art}", headers=h).json()["snippets"]
    assert [s["id"] for s in got] == [r.json()["id"]] and got[0]["windows"][0]["video_in"] == 0.5
    wrong = client.post("/origin-snippets/from-audio", json={"audio_artifact_id": audio_art, "windows": [
        {**windows[0], "video_source": voice}]}, headers=h)
    assert wrong.status_code in (400, 422) and wrong.json()["errors"], wrong.text
    missing = client.post("/origin-snippets/from-audio", json={"audio_artifact_id": "ar_" + "0" * 20,
                                                               "windows": windows}, headers=h)
    assert missing.status_code == 422 and missing.json()["code"] == "RENDER_SOURCE_MISSING"
