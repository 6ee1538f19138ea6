// /console/nexus: add documents, watch their ingest on the meta channel, search three ways, see the
// cards as a scatter plot; shared parts in console.js.
"use strict";
const { $, api, el, say, signIn, meta } = window.studioConsole;
const state = { live: null };
const COLOURS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777"];

async function refreshRuns() {
  const { runs } = await api("GET", "/nexus/runs?limit=8");
  $("runs").replaceChildren(...runs.map((r) => el("div",
    `${r.kind} ${r.status}` + (r.counts.atoms !== undefined ? ` · ${r.counts.atoms} atoms` : "")
    + (r.error ? ` · ${r.error}` : ""), `run ${r.status}`)));
}

// Progress arrives on the tenant's meta channel (docs/realtime.md); after a drop, what was missed is re-read.
function onProgress(frame) {
  const d = frame.data;
  $("progress").value = d.percent;
  $("progress-text").textContent = `${d.status}: ${d.done}/${d.total} atoms embedded (${d.percent}%)`;
  if (d.status === "done" || d.status === "failed") { refreshRuns(); drawScene(); }
}

signIn({
  onEnter: async () => {
    for (const id of ["doc-title", "doc-format", "doc-text", "doc-file", "doc-asset", "assets-btn", "ingest", "query",
                      "search", "scene-btn"]) {
      $(id).disabled = false;
    }
    state.live = meta({ "nexus.ingest_progress": onProgress }, {
      onOpen: () => say("Connected: ingest progress is live."),
      onOffline: () => say("Offline"),
      onResume: () => Promise.all([refreshRuns(), drawScene()]).catch((err) => say("Offline: " + err.message)),
    });
    await state.live.ready;
    // the uploads list is an extra: a media failure must not keep the runs and the scene from loading
    await refreshAssets().catch((err) => say("Uploads: " + err.message));
    await refreshRuns();
    await drawScene();
  },
});

async function refreshAssets() {
  // the tenant's checked document assets (text, Markdown, HTML, PDF uploaded through /media-v2)
  const page = await api("GET", "/media-v2/assets?kind=document&limit=50");
  const usable = page.assets.filter((a) => a.status === "ready" || a.status === "processing");
  const first = $("doc-asset").options[0];
  $("doc-asset").replaceChildren(first, ...usable.map((a) => {
    const option = el("option", `${a.title || a.filename} (${a.sniffed_type})`);
    option.value = a.id;
    return option;
  }));
}
$("assets-btn").addEventListener("click", () => refreshAssets().catch((err) => say("Uploads: " + err.message)));

function fileContent(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onerror = () => reject(reader.error);
    if (file.name.toLowerCase().endsWith(".pdf")) {
      reader.onload = () => resolve({ format: "pdf", content: reader.result.split(",", 2)[1] });
      reader.readAsDataURL(file);
    } else {
      const format = /\.html?$/i.test(file.name) ? "html" : /\.(md|markdown)$/i.test(file.name) ? "markdown" : "text";
      reader.onload = () => resolve({ format, content: reader.result });
      reader.readAsText(file);
    }
  });
}

$("doc-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    const file = $("doc-file").files[0];
    const assetId = $("doc-asset").value;
    const doc = assetId  // the asset's own title by default; its format comes from its bytes
      ? await api("POST", "/nexus/raw", { asset_id: assetId, ...($("doc-title").value ? { title: $("doc-title").value } : {}) })
      : await api("POST", "/nexus/raw", { title: $("doc-title").value || (file && file.name) || "Untitled",
                                          ...(file ? await fileContent(file)
                                                   : { format: $("doc-format").value, content: $("doc-text").value }) });
    $("doc-asset").value = "";  // picked once: the next ingest is what is typed or chosen next, not this asset again
    $("progress").value = 0;
    $("progress-text").textContent = `queued: ${doc.title}`;
    await refreshRuns();
  } catch (err) { say("Not ingested: " + err.message); }
});

function showResults(mode, results) {
  $("results-" + mode).replaceChildren(...(results.length ? results.map((r) => {
    const div = el("div", undefined, "result");
    div.append(el("b", r.title), el("span", r.snippet), el("div",
      `score ${r.score.toFixed(4)}` + (r.provenance.source ? ` · from ${r.provenance.source.doc_title}` : ""), "score"));
    return div;
  }) : [el("div", "No match.")]));
}

$("search-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const q = encodeURIComponent($("query").value);
  try {
    await Promise.all(["keyword", "vector", "hybrid"].map(async (mode) =>
      showResults(mode, (await api("GET", `/nexus/search?q=${q}&k=5&mode=${mode}`)).results)));
  } catch (err) { say("Search failed: " + err.message); }
});

async function drawScene() {
  const scene = await api("GET", "/vector-explorer/scene?dims=2");
  const svg = $("scene");
  const span = Math.max(1e-6, ...scene.points.flatMap((p) => [Math.abs(p.x), Math.abs(p.y)]));
  const ns = "http://www.w3.org/2000/svg";
  svg.replaceChildren(...scene.points.map((p) => {
    const dot = document.createElementNS(ns, "circle");
    dot.setAttribute("cx", p.x / span); dot.setAttribute("cy", -p.y / span); dot.setAttribute("r", 0.025);
    dot.setAttribute("fill", COLOURS[p.cluster % COLOURS.length]);
    dot.setAttribute("class", "point");
    const title = document.createElementNS(ns, "title");
    title.textContent = p.title;
    dot.append(title);
    return dot;
  }));
  $("scene-info").textContent = `${scene.points.length} cards · ` + scene.clusters.map((c) => c.label).join(" | ");
}
$("scene-btn").addEventListener("click", () => drawScene().catch((err) => say("Scene failed: " + err.message)));

