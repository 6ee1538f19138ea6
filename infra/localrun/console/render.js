// /console/render: upload clips, build a timeline of them with a title, render it, watch the chunks on
// the meta channel, play the result; shared parts in console.js.
"use strict";
const { $, api, el, say, sleep, signIn, meta, newKey } = window.studioConsole;
const state = { job: null, ticks: 0, live: null };

// The render worker's render.progress ticks arrive on the tenant's meta channel, live.
function onProgress(frame) {
  const d = frame.data;
  if (d.job_id !== state.job) return;
  state.ticks += 1;
  $("progress").value = d.percent;
  $("percent").textContent = d.percent;
  $("eta").textContent = d.eta_s == null ? "" : `ETA ${d.eta_s} s`;
  $("chunks").replaceChildren(...d.chunks.map((c) => el("li", `chunk ${c.index}: ${c.state}`)));
}

signIn({
  legend: "Account",
  onEnter: async () => {
    state.live = meta({ "render.progress": onProgress });  // missed ticks: watch() reads the job itself
    await state.live.ready;
    await refresh();
    $("upload-btn").disabled = false;
    $("render").disabled = false;
    say("Signed in: upload or pick clips.");
  },
});

async function refresh() {
  const { assets } = await api("GET", "/media-v2/assets?kind=video&status=ready");
  $("assets").replaceChildren(...assets.map((a) => {
    const li = el("li");
    const box = el("input");
    box.type = "checkbox"; box.value = a.id; box.checked = true; box.id = "pick-" + a.id;
    const label = el("label", `${a.filename} (${a.metadata ? a.metadata.duration_s : "?"} s)`);
    label.htmlFor = box.id;
    li.append(box, label);
    return li;
  }));
}

function timeline() {
  const seconds = Number($("seconds").value);
  const picked = [...document.querySelectorAll("#assets input:checked")].map((b) => b.value);
  const clips = picked.map((id, i) => ({ id: "c" + i, source: id, in: 0, out: seconds, start: i * seconds }));
  const tracks = [{ id: "main", kind: "video", clips }];
  if ($("title").value.trim()) {
    tracks.push({ id: "titles", kind: "text", clips: [{ id: "t0", text: $("title").value, start: 0,
      duration: Math.max(seconds * clips.length, 0.5), size: 28, animation_in: { kind: "fade", duration: 0.3 } }] });
  }
  return { tracks, output: { width: 320, height: 240, fps: 25, codec: $("codec").value, chunk_seconds: 1 } };
}

async function watch(id) {
  for (;;) {
    const job = await api("GET", `/video/render/jobs/${id}`);
    if (["done", "failed", "cancelled"].includes(job.status)) return job;
    await sleep(400);
  }
}

$("upload").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = new FormData();
  form.append("file", $("file").files[0]);
  try {
    const asset = await api("POST", "/media-v2/assets", form);
    say("Processing " + asset.id + " ...");
    for (let i = 0; i < 100; i++) {
      const a = await api("GET", `/media-v2/assets/${asset.id}`);
      if (a.status !== "processing" && a.status !== "uploading") break;
      await sleep(300);
    }
    await refresh();
    say("Clip ready.");
  } catch (err) { say("Upload failed: " + err.message); }
});
$("build").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    const project = await api("POST", "/video/projects", { name: "Console cut", timeline: timeline() });
    const job = await api("POST", "/video/render", { project_id: project.id, rev: project.rev }, { idempotencyKey: newKey() });
    state.job = job.id;
    state.ticks = 0;
    say(`Rendering ${job.chunks.length} chunks ...`);
    const done = await watch(job.id);
    if (done.status !== "done") { say("Render " + done.status + ": " + (done.error || "")); return; }
    const art = await api("GET", `/media-v2/artifacts/${done.artifact_id}`);
    $("progress").value = 100;
    $("percent").textContent = "100";
    $("result").src = art.download_url;
    say("Render done.");
  } catch (err) { say("Render failed: " + err.message); }
});
