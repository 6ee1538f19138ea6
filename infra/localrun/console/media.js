// /console/media: drop files, watch their processing on the meta channel, see variants, placeholder
// and provenance; shared parts in console.js.
"use strict";
const { $, api, say, signIn, meta, session } = window.studioConsole;
const state = { cards: new Map(), live: null };

// BlurHash decoding (the format's published algorithm): base-83 digits, a DC colour and AC
// cosine components, painted on a small canvas while the image itself loads.
const B83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";
const d83 = (s) => [...s].reduce((v, c) => v * 83 + B83.indexOf(c), 0);
const toLinear = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
const toSrgb = (v) => { v = Math.max(0, Math.min(1, v));
  return Math.round((v <= 0.0031308 ? v * 12.92 : 1.055 * Math.pow(v, 1 / 2.4) - 0.055) * 255); };
const signPow = (v, e) => Math.sign(v) * Math.pow(Math.abs(v), e);
function paintBlurhash(canvas, hash) {
  const size = d83(hash[0]), nx = (size % 9) + 1, ny = Math.floor(size / 9) + 1;
  const maxAc = (d83(hash[1]) + 1) / 166;
  const colors = [];
  const dc = d83(hash.slice(2, 6));
  colors.push([toLinear(dc >> 16), toLinear((dc >> 8) & 255), toLinear(dc & 255)]);
  for (let i = 1; i < nx * ny; i++) {
    const v = d83(hash.slice(4 + i * 2, 6 + i * 2));
    const q = [Math.floor(v / 361), Math.floor(v / 19) % 19, v % 19];
    colors.push(q.map((c) => signPow((c - 9) / 9, 2) * maxAc));
  }
  const w = canvas.width = 32, h = canvas.height = 24, ctx = canvas.getContext("2d");
  const img = ctx.createImageData(w, h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let r = 0, g = 0, b = 0;
    for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
      const basis = Math.cos(Math.PI * x * i / w) * Math.cos(Math.PI * y * j / h), c = colors[i + j * nx];
      r += c[0] * basis; g += c[1] * basis; b += c[2] * basis;
    }
    const p = 4 * (x + y * w);
    img.data[p] = toSrgb(r); img.data[p + 1] = toSrgb(g); img.data[p + 2] = toSrgb(b); img.data[p + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

function card(assetId, name) {
  let el = state.cards.get(assetId);
  if (!el) {
    el = document.createElement("article");
    el.className = "asset";
    el.dataset.asset = assetId;
    el.innerHTML = `<h2></h2><div class="stage">uploading</div><div class="row"><canvas class="placeholder" hidden></canvas>
      <div class="preview"></div></div><div class="variants"></div><div class="provenance"></div>`;
    el.querySelector("h2").textContent = name;
    $("assets").prepend(el);
    state.cards.set(assetId, el);
  }
  return el;
}

async function showReady(assetId) {
  const el = card(assetId, assetId);
  el.dataset.done = "ready";
  const asset = await api("GET", `/media-v2/assets/${assetId}`);
  el.querySelector(".stage").textContent = `ready (${asset.kind}, ${asset.sniffed_type}, sha256 ${asset.sha256.slice(0, 12)}…)`;
  if (asset.placeholder) {
    const canvas = el.querySelector("canvas.placeholder");
    paintBlurhash(canvas, asset.placeholder);
    canvas.hidden = false;
    canvas.title = "BlurHash " + asset.placeholder;
  }
  const { artifacts } = await api("GET", `/media-v2/assets/${assetId}/artifacts`);
  const preview = el.querySelector(".preview");
  if (asset.srcset) {
    preview.innerHTML = `<picture><source type="image/avif"><source type="image/webp"><img alt=""></picture>`;
    const [avif, webp] = preview.querySelectorAll("source");
    avif.srcset = asset.srcset.avif; webp.srcset = asset.srcset.webp;
    const img = preview.querySelector("img");
    img.srcset = asset.srcset.jpeg; img.sizes = "320px"; img.alt = asset.alt_text || asset.filename;
  }
  const list = el.querySelector(".variants");
  list.replaceChildren();
  for (const a of artifacts) {
    const fig = document.createElement("figure");
    fig.className = "artifact";
    fig.dataset.kind = a.kind;
    let media;
    if (a.mime.startsWith("image/")) { media = document.createElement("img"); media.className = "variant-img"; }
    else if (a.mime.startsWith("video/")) { media = document.createElement("video"); media.controls = true; }
    else if (a.mime.startsWith("audio/")) { media = document.createElement("audio"); media.controls = true; }
    if (media) { media.src = a.download_url; fig.append(media); }
    const cap = document.createElement("figcaption");
    cap.textContent = `${a.kind} ${a.params.format || a.mime}${a.width ? " " + a.width + "w" : ""} · ${a.size_bytes} B`;
    fig.append(cap);
    list.append(fig);
  }
  await showProvenance(assetId, el.querySelector(".provenance"), artifacts.length);
}

async function showProvenance(assetId, box, expected, tries = 10) {
  // The ledger appends from the same events, just after them: ask again until every artifact is in.
  try {
    const graph = await api("GET", `/provenance/lineage/${assetId}?direction=down`, undefined, { quiet: true });
    const edges = graph.edges || [];
    if (edges.length < expected && tries > 1) {
      setTimeout(() => showProvenance(assetId, box, expected, tries - 1), 500);
    }
    const check = await api("GET", "/provenance/verify");
    box.innerHTML = `<strong>Provenance</strong> (${(graph.nodes || []).length} nodes; chain
      <span class="verified"></span>)<ol class="chain"></ol>`;
    box.querySelector(".verified").textContent = check.ok ? `verified, ${check.length} entries` : `broken at ${check.first_bad}`;
    for (const edge of edges) {
      const li = document.createElement("li");
      li.textContent = `${edge.action || "derive"}: ${edge.from} → ${edge.to}`;
      box.querySelector("ol").append(li);
    }
  } catch (err) {
    box.textContent = err.status === 404 ? "Provenance: the ledger is not served by this runtime." : "Provenance: " + err.message;
  }
}

const handlers = {
  "media.progress": (event) => onMeta("media.progress", event),
  "media.ready": (event) => onMeta("media.ready", event),
  "media.failed": (event) => onMeta("media.failed", event),
};

function onMeta(kind, event) {
  const d = event.data;
  const el = state.cards.get(d.asset_id);
  if (!el) return;
  if (kind === "media.progress") {
    el.querySelector(".stage").textContent = d.total ? `${d.stage} ${d.done}/${d.total} (${d.kind})` : d.stage;
  } else if (kind === "media.ready") {
    showReady(d.asset_id).catch((err) => say("Could not load the asset: " + err.message));
  } else if (kind === "media.failed") {
    const stage = el.querySelector(".stage");
    stage.textContent = `${d.status}: ${d.reason}`;
    stage.classList.add("failed");
    el.dataset.done = d.status;
  }
}

// The meta channel replays nothing: after a drop, ask for each card still in flight where it stands.
async function resume() {
  for (const [assetId, el] of state.cards) {
    if (el.dataset.done) continue;
    const asset = await api("GET", `/media-v2/assets/${assetId}`, undefined, { quiet: true }).catch(() => null);
    if (asset && asset.status === "ready") await showReady(assetId);
    else if (asset && !["uploading", "processing"].includes(asset.status)) onMeta("media.failed", { data: { asset_id: assetId, ...asset } });
  }
}

async function upload(file) {
  const type = file.type || "application/octet-stream";
  const ticket = await api("POST", "/media-v2/uploads", { filename: file.name, content_type: type, size_bytes: file.size });
  const el = card(ticket.asset_id, file.name);
  const put = await fetch(ticket.upload_url, { method: "PUT", headers: ticket.headers, body: file });
  el.querySelector(".stage").textContent = put.ok ? "uploaded: waiting for processing" : `upload refused (${put.status})`;
}

signIn({
  onEnter: async () => {
    state.live = meta(handlers, {
      onOpen: () => say("Connected: processing shows live."),
      onDrop: () => say("Reconnecting..."),
      onOffline: (err) => say("Offline: " + err.message),
      onResume: () => resume().catch((err) => say("Could not load the asset: " + err.message)),
    });
    await state.live.ready;
    $("file").disabled = false;
  },
});

$("file").addEventListener("change", () => {
  for (const f of $("file").files) upload(f).catch((err) => say("Upload failed: " + err.message));
});
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  if (!session.token) { say("Sign in first."); return; }
  for (const f of e.dataTransfer.files) upload(f).catch((err) => say("Upload failed: " + err.message));
});
