"""The render plan: per chunk its inputs, filter graph and ffmpeg arguments, then the audio mix, the
concat and the mux, with an estimate. ``POST /video/render/dry-run`` returns exactly what the worker
runs: both call ``build`` on the same timeline and sources, and the job stores the plan it executed.

The plan holds placeholders, not paths: ``{src:<id>}`` (a source's local copy), ``{font:<id>}``,
``{work}`` (the job's scratch directory); the worker substitutes them (render.py)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from studio.video import ducking, masks
from studio.video.timeline import MediaClip, TextClip, Timeline, duration

DEFAULT_FONT = "default"
_CODECS: dict[str, tuple[list[str], str]] = {
    "h264": (["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"], "mp4"),
    "vp9": (["-c:v", "libvpx-vp9", "-b:v", "0", "-deadline", "realtime", "-cpu-used", "8", "-row-mt", "1",
             "-pix_fmt", "yuv420p"], "webm"),
    "av1": (["-c:v", "libsvtav1", "-preset", "10", "-pix_fmt", "yuv420p"], "webm"),
}
# seconds of encoding per megapixel-frame on one core (veryfast x264 ~ 150 fps at 720p here): the estimate
_COST_S = {"h264": 0.007, "vp9": 0.02, "av1": 0.03}


@dataclass(frozen=True)
class Source:
    """What the plan needs to know of a clip's source: whether it has pictures and sound, or is a still
    image (which only a mask may be)."""
    source_id: str
    has_video: bool
    has_audio: bool
    still: bool = False


def _num(x: float) -> str:
    return f"{x:.6f}".rstrip("0").rstrip(".") or "0"


def _unsafe_windows(tl: Timeline) -> list[tuple[float, float]]:
    """Times a chunk boundary must not cut: fades, crossfades and text animations (their filters
    need the whole window in one chunk)."""
    out: list[tuple[float, float]] = []
    for track in tl.tracks:
        for clip in track.clips:
            end = clip.start + clip.length()
            if isinstance(clip, MediaClip):
                lead = max(clip.fades.fade_in, clip.transition.duration if clip.transition else 0.0)
                if lead:
                    out.append((clip.start, clip.start + lead))
                if clip.fades.fade_out:
                    out.append((end - clip.fades.fade_out, end))
            else:
                out.append((clip.start, clip.start + clip.animation_in.duration))
                out.append((end - clip.animation_out.duration, end))
    return out


def boundaries(tl: Timeline, total_frames: int) -> list[int]:
    """Chunk starts in frames: every ``chunk_seconds``, moved forward off any unsafe window."""
    fps = tl.output.fps
    step = max(1, round(tl.output.chunk_seconds * fps))
    windows = _unsafe_windows(tl)
    starts = [0]
    frame = step
    while frame < total_frames:
        t = frame / fps
        hit = [e for s, e in windows if s < t < e]
        if hit:
            frame = math.ceil(max(hit) * fps - 1e-9)
            continue
        if total_frames - frame >= max(1, fps // 2):  # no sliver of a chunk at the end
            starts.append(frame)
        frame += step
    return starts


def _visual_layers(tl: Timeline) -> list[tuple[int, MediaClip | TextClip]]:
    """Bottom to top: tracks in order, video and overlay tracks' clips, then text."""
    return [(ti, c) for ti, t in enumerate(tl.tracks) if t.kind in ("video", "overlay", "text") for c in t.clips]


def _drawtext(clip: TextClip, c0: float, w: int, h: int, text_file: str) -> str:
    a = clip.start - c0
    b = a + clip.duration
    alpha = "1"
    y = f"{_num(clip.y)}*{h}-text_h/2"
    ain, aout = clip.animation_in, clip.animation_out
    if ain.kind == "fade" and ain.duration:
        alpha = f"min(1\\,(t-{_num(a)})/{_num(ain.duration)})"
    if aout.kind == "fade" and aout.duration:
        alpha = f"min({alpha}\\,({_num(b)}-t)/{_num(aout.duration)})"
    if ain.kind == "slide_up" and ain.duration:
        y = f"{y}+{h // 10}*max(0\\,1-(t-{_num(a)})/{_num(ain.duration)})"
    font = "{font:" + (clip.font_file or DEFAULT_FONT) + "}"
    return (f"drawtext=fontfile='{font}':textfile='{text_file}':fontsize={clip.size}:"
            f"fontcolor=0x{clip.color[1:]}:x={_num(clip.x)}*{w}-text_w/2:y={y}:alpha='{alpha}':"
            f"enable='between(t\\,{_num(a)}\\,{_num(b)})'")


def _chunk(tl: Timeline, index: int, f0: int, f1: int, sources: dict[str, Source], ext: str) -> dict[str, Any]:
    out = tl.output
    fps, w, h = out.fps, out.width, out.height
    c0, c1 = f0 / fps, f1 / fps
    inputs: list[dict[str, Any]] = []
    graph = [f"color=c=black:s={w}x{h}:r={fps}:d={_num(c1 - c0)},format=yuv420p[base]"]
    last = "base"
    files: dict[str, str] = {}
    for n, (_ti, clip) in enumerate(_visual_layers(tl)):
        end = clip.start + clip.length()
        a, b = max(c0, clip.start), min(c1, end)
        if b - a <= 1e-9:
            continue
        label = f"v{n}"
        if isinstance(clip, TextClip):
            name = f"{{work}}/text_{clip.id}.txt"
            files[name] = clip.text
            graph.append(f"[{last}]{_drawtext(clip, c0, w, h, name)}[{label}]")
            last = label
            continue
        if not sources[clip.source].has_video:
            continue
        src_t = clip.in_ + (a - clip.start) * clip.speed
        k = len(inputs)
        inputs.append({"source": clip.source, "args": ["-ss", _num(src_t), "-t", _num((b - a) * clip.speed),
                                                       "-i", "{src:" + clip.source + "}"]})
        scaled = [f"setpts=(PTS-STARTPTS)/{_num(clip.speed)}", f"fps={fps}",
                  f"scale={w}:{h}:force_original_aspect_ratio=decrease"]
        placed = [f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2", f"setpts=PTS+{_num(a - c0)}/TB"]
        lead = max(clip.fades.fade_in, clip.transition.duration if clip.transition else 0.0)
        if lead and clip.start >= c0 - 1e-9:
            placed.append(f"fade=t=in:st={_num(clip.start - c0)}:d={_num(lead)}:alpha=1")
        if clip.fades.fade_out and end <= c1 + 1e-9:
            placed.append(f"fade=t=out:st={_num(end - clip.fades.fade_out - c0)}:d={_num(clip.fades.fade_out)}:alpha=1")
        if clip.mask is None:
            graph.append(f"[{k}:v]{','.join([*scaled, placed[0], 'format=yuva420p', *placed[1:]])}[s{n}]")
        else:  # the mask becomes the clip's alpha before it is padded and faded (masks.py)
            inputs.append(masks.mask_input(clip, sources[clip.mask], a, b, fps))
            graph.extend(masks.masked(clip, n, k, len(inputs) - 1, fps, b - a, [*scaled, "format=yuva420p"], placed))
        graph.append(f"[{last}][s{n}]overlay=eof_action=pass:format=auto[{label}]")
        last = label
    graph.append(f"[{last}]format=yuv420p[vout]")
    codec_args, _ = _CODECS[out.codec]
    output = f"{{work}}/chunk_{index:04d}.{ext}"
    args = ["-nostdin", "-y", "-v", "error"] + [a for i in inputs for a in i["args"]] + [
        "-filter_complex", ";".join(graph), "-map", "[vout]", "-an", "-r", str(fps), "-frames:v", str(f1 - f0),
        *codec_args, "-crf", str(out.quality), output]
    return {"index": index, "start_s": c0, "end_s": c1, "frames": f1 - f0, "inputs": inputs,
            "filter": ";".join(graph), "files": files, "args": args, "output": output}


def _atempo(speed: float) -> list[str]:
    """atempo takes 0.5..100 per instance: 0.25x is two halves."""
    chain: list[str] = []
    while speed < 0.5:
        chain.append("atempo=0.5")
        speed /= 0.5
    return [*chain, f"atempo={_num(speed)}"]


def _audio(tl: Timeline, total_s: float, sources: dict[str, Source], ext: str) -> dict[str, Any]:
    a = tl.output.audio
    layout = "stereo" if a.channels == 2 else "mono"
    inputs: list[dict[str, Any]] = []
    graph: list[str] = []
    tracks: dict[str, str] = {}
    for ti, track in enumerate(tl.tracks):
        if track.kind not in ("video", "audio") or track.muted:
            continue
        labels = []
        for ci, clip in enumerate(track.clips):
            if not isinstance(clip, MediaClip) or not sources[clip.source].has_audio:
                continue
            k = len(inputs)
            inputs.append({"source": clip.source, "args": ["-ss", _num(clip.in_), "-t", _num(clip.out - clip.in_),
                                                           "-i", "{src:" + clip.source + "}"]})
            chain = ["asetpts=PTS-STARTPTS", *(_atempo(clip.speed) if clip.speed != 1 else []),
                     f"volume={_num(clip.volume)}", f"aresample={a.sample_rate}",
                     f"aformat=sample_fmts=fltp:channel_layouts={layout}"]
            length = clip.length()
            if clip.fades.fade_in:
                chain.append(f"afade=t=in:st=0:d={_num(clip.fades.fade_in)}")
            if clip.fades.fade_out:
                chain.append(f"afade=t=out:st={_num(length - clip.fades.fade_out)}:d={_num(clip.fades.fade_out)}")
            chain.append(f"adelay={round(clip.start * 1000)}:all=1")
            graph.append(f"[{k}:a]{','.join(chain)}[a{ti}_{ci}]")
            labels.append(f"[a{ti}_{ci}]")
        if labels:
            graph.append(f"{''.join(labels)}amix=inputs={len(labels)}:normalize=0:duration=longest[t{ti}]")
            tracks[track.id] = f"t{ti}"
    # ducking: the ducked track is compressed by the key track's activity, exactly N dB (ducking.py)
    keyed: dict[str, list[str]] = {}
    ducks = [(t, t.ducking) for t in tl.tracks if t.ducking is not None and t.id in tracks
             and t.ducking.under in tracks]
    for track, duck in ducks:
        assert duck is not None
        keyed.setdefault(duck.under, []).append(track.id)
    for key, users in keyed.items():
        src = tracks[key]
        outs = [f"{src}_k{i}" for i in range(len(users))]
        graph.append(f"[{src}]asplit={len(users) + 1}[{src}_m]{''.join(f'[{o}]' for o in outs)}")
        tracks[key] = f"{src}_m"
        for user, k_label in zip(users, outs, strict=True):
            settings = next(t.ducking for t in tl.tracks if t.id == user)
            assert settings is not None
            graph.extend(ducking.duck(tracks[user], k_label, f"{tracks[user]}_d", settings))
            tracks[user] = f"{tracks[user]}_d"
    codec = ["-c:a", "aac", "-b:a", f"{a.bitrate_kbps}k"] if ext == "mp4" else [
        "-c:a", "libopus", "-b:a", f"{a.bitrate_kbps}k"]
    output = "{work}/audio." + ("m4a" if ext == "mp4" else "mka")
    if tracks:
        mixed = "".join(f"[{v}]" for v in tracks.values())
        graph.append(f"{mixed}amix=inputs={len(tracks)}:normalize=0:duration=longest,apad,"
                     f"atrim=0:{_num(total_s)},loudnorm=I={_num(a.loudness_lufs)}:TP=-1.5:LRA=11,"
                     f"aresample={a.sample_rate},aformat=sample_fmts=fltp:channel_layouts={layout}[aout]")
    else:  # no sound anywhere: a silent track of the right length (players expect one)
        graph.append(f"anullsrc=r={a.sample_rate}:cl={layout},atrim=0:{_num(total_s)}[aout]")
    args = ["-nostdin", "-y", "-v", "error"] + [x for i in inputs for x in i["args"]] + [
        "-filter_complex", ";".join(graph), "-map", "[aout]", "-vn", *codec, "-ar", str(a.sample_rate), output]
    return {"inputs": inputs, "filter": ";".join(graph), "args": args, "output": output}


def build(tl: Timeline, sources: dict[str, Source]) -> dict[str, Any]:
    """The whole plan for a timeline whose clip sources are ``sources``."""
    out = tl.output
    _, ext = _CODECS[out.codec]
    total_frames = max(1, round(duration(tl) * out.fps))
    total_s = total_frames / out.fps
    starts = boundaries(tl, total_frames)
    chunks = [_chunk(tl, i, f0, f1, sources, ext)
              for i, (f0, f1) in enumerate(zip(starts, [*starts[1:], total_frames], strict=True))]
    video = f"{{work}}/video.{ext}"
    audio = _audio(tl, total_s, sources, ext)
    final = f"{{work}}/output.{ext}"
    per_chunk = [c["frames"] * out.width * out.height / 1e6 * _COST_S[out.codec] for c in chunks]
    return {
        "duration_s": total_s, "fps": out.fps, "frames": total_frames, "codec": out.codec,
        "container": ext, "width": out.width, "height": out.height,
        "chunks": chunks,
        "audio": audio,
        "concat": {"list": [c["output"].removeprefix("{work}/") for c in chunks], "list_file": "{work}/chunks.txt",
                   "args": ["-nostdin", "-y", "-v", "error", "-f", "concat", "-safe", "0", "-i", "{work}/chunks.txt",
                            "-c", "copy", video], "output": video},
        "mux": {"args": ["-nostdin", "-y", "-v", "error", "-i", video, "-i", audio["output"], "-map", "0:v:0",
                         "-map", "1:a:0", "-c", "copy", *(["-movflags", "+faststart"] if ext == "mp4" else []),
                         final], "output": final},
        "estimate": {"chunks": len(chunks), "encode_s_single": round(sum(per_chunk), 2),
                     "encode_s_parallel": round(max(per_chunk, default=0.0), 2)},
    }


def sources_used(tl: Timeline) -> list[str]:
    """Every media asset or artifact a clip plays or is masked by, and every registered font a text clip uses."""
    return sorted({c.source for t in tl.tracks for c in t.clips if isinstance(c, MediaClip)}
                  | {c.mask for t in tl.tracks for c in t.clips if isinstance(c, MediaClip) and c.mask}
                  | {c.font_file for t in tl.tracks for c in t.clips if isinstance(c, TextClip) and c.font_file})
