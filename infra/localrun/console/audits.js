// /console/audits: audit a URL or pasted HTML, watch its stages on the meta channel, read the findings
// and the screenshots with the offending boxes outlined; shared parts in console.js.
"use strict";
const { $, api, el, say, sleep, signIn, meta, newKey } = window.studioConsole;
const state = { audit: null, live: null };

// The worker's audit.progress ticks arrive on the tenant's meta channel, live.
function onProgress(frame) {
  const d = frame.data;
  if (d.audit_id !== state.audit) return;
  $("progress").value = d.progress;
  $("stage").textContent = d.stage;
  $("stages").append(el("li", d.stage));
}

signIn({
  legend: "Account",
  onEnter: async () => {
    state.live = meta({ "audit.progress": onProgress });  // missed ticks: watch() reads the audit itself
    await state.live.ready;
    $("start").disabled = false;
    say("Signed in: enter a URL or paste HTML.");
  },
});

const item = (text, cls) => $("findings").append(el("li", text, "finding " + cls));

async function showShots(audit) {
  $("shots").replaceChildren();
  const layout = audit.layout ? audit.layout.findings : [];
  for (const bp of audit.breakpoints) {
    let shot;
    try { shot = await api("GET", `/audits/${audit.id}/screenshots/${bp}`, undefined, { quiet: true }); } catch (e) { continue; }
    const width = Math.min(bp, 360), scale = width / bp;
    const fig = document.createElement("figure");
    const box = document.createElement("div");
    box.className = "shot";
    box.style.width = width + "px";
    const img = document.createElement("img");
    img.src = shot.data_url;
    img.alt = `The page at ${bp} px`;
    box.append(img);
    for (const f of layout.filter((f) => f.breakpoint === bp)) {
      for (const b of f.boxes || []) {
        if (!b) continue;
        const mark = document.createElement("div");
        mark.className = "highlight";
        mark.title = f.detail;
        Object.assign(mark.style, { left: b.x * scale + "px", top: b.y * scale + "px",
                                    width: b.w * scale + "px", height: b.h * scale + "px" });
        box.append(mark);
      }
    }
    const cap = document.createElement("figcaption");
    cap.textContent = `${bp} px`;
    fig.append(box, cap);
    $("shots").append(fig);
  }
}

function showFindings(audit) {
  $("findings").replaceChildren();
  if (audit.error) item("Failed: " + audit.error, "violation");
  const a = audit.accessibility;
  if (a) {
    for (const r of a.violations) item(`${r.rule} (${r.impact}): ${r.help} [WCAG ${r.sc.join(", ")}]`, "violation");
    for (const r of a.incomplete) item(`Check by hand: ${r.help}`, "manual");
  }
  const p = audit.performance;
  if (p) {
    item(`LCP ${p.lab.lcp_ms} ms, FCP ${p.lab.fcp_ms} ms, TBT ${p.lab.tbt_ms} ms, CLS ${p.lab.cls}`, "metric");
    for (const l of p.budget) item(`${l.what}: ${l.measured} / ${l.budget} ${l.unit}${l.over ? " (over)" : ""}`,
                                   l.over ? "violation" : "budget");
  }
  if (audit.layout) for (const f of audit.layout.findings) item(`${f.check}: ${f.detail}`, "violation layout");
  $("summary").textContent = JSON.stringify(audit.summary);
}

async function watch(id) {
  for (;;) {  // progress ticks come over the meta channel; the audit itself is read until it ends
    const audit = await api("GET", `/audits/${id}`);
    if (audit.status === "done" || audit.status === "failed") {
      $("progress").value = audit.progress;
      $("stage").textContent = audit.stage;
      showFindings(audit);
      await showShots(audit);
      say(audit.status === "done" ? "Audit done." : "Audit failed.");
      return;
    }
    await sleep(500);
  }
}

$("run").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = { device: $("device").value };
  if ($("html").value.trim()) body.html = $("html").value; else body.url = $("url").value;
  try {
    const job = await api("POST", "/audits", body, { idempotencyKey: newKey() });
    state.audit = job.id;
    $("stages").replaceChildren();
    say("Audit queued: " + job.id);
    await watch(job.id);
  } catch (err) { say("Audit failed: " + err.message); }
});
