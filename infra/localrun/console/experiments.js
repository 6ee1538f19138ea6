// /console/experiments: create and start an A/B experiment, send simulated traffic, watch the results
// table and the funnel fill in; shared parts in console.js.
"use strict";
const { $, api, request, el, say, signIn } = window.studioConsole;
const state = { experiment: null, timer: null };
const pct = (x) => (x === null || x === undefined) ? "–" : (100 * x).toFixed(1) + "%";
const num = (x, d) => (x === null || x === undefined) ? "–" : x.toFixed(d);

signIn({
  tenantName: "Experiments",
  onEnter: async () => {
    $("create-btn").disabled = false;
    say("Signed in: create an experiment.");
  },
});

async function createAndStart() {
  const n = Number($("arms").value);
  const variations = Array.from({ length: n }, (_, i) => ({ key: i === 0 ? "control" : "variant-" + i, value: i }));
  const created = await request("POST", "/experiments", {
    key: $("key").value, variations, coverage: Number($("coverage").value),
    metric: { event: $("metric").value, kind: "rate" } });
  const started = await request("PATCH", `/experiments/${created.data.id}`, { status: "running" },
                                { ifMatch: created.etag });
  state.experiment = started.data;
  $("experiment").textContent = `${started.data.key} (${started.data.id}) is ${started.data.status}.`;
  $("simulate-btn").disabled = false;
  say("Experiment running: send traffic.");
  if (!state.timer) state.timer = setInterval(() => refresh().catch((err) => say("Results: " + err.message)), 1000);
  await refresh();
}

async function simulate() {
  $("simulate-btn").disabled = true;
  try {
    const sent = await api("POST", `/experiments/${state.experiment.id}/simulate`,
                           { subjects: Number($("subjects").value), seed: Date.now() % 100000 });
    $("sent").textContent = `${sent.assigned} assigned, ${sent.exposures} new exposures, ${sent.events} events sent.`;
  } finally { $("simulate-btn").disabled = false; }
  await refresh();
}

const cell = (row, text, cls) => row.append(el("td", text, cls));

function render(res) {
  const body = $("results").querySelector("tbody");
  body.replaceChildren();
  for (const v of res.variations) {
    const tr = document.createElement("tr");
    tr.dataset.variation = v.key;
    cell(tr, v.key); cell(tr, String(v.users), "users"); cell(tr, String(v.converted), "converted");
    cell(tr, pct(v.metric_value)); cell(tr, pct(v.uplift), "uplift");
    cell(tr, v.ci_low === null ? "–" : `${pct(v.ci_low)} … ${pct(v.ci_high)}`);
    cell(tr, num(v.p_value, 4), "p-value");
    cell(tr, num(v.vitals.lcp_p75, 0)); cell(tr, num(v.vitals.inp_p75, 0)); cell(tr, num(v.vitals.cls_p75, 3));
    body.append(tr);
  }
  $("summary").textContent = `${res.users} users in ${res.key}. ` +
    (res.srm ? "Sample-ratio mismatch: check the assignment." : `Split as expected (SRM p = ${num(res.srm_p_value, 3)}).`);
  $("summary").className = res.srm ? "srm" : "";
  const top = Math.max(1, ...res.variations.map((v) => v.users));
  const funnel = $("funnel");
  funnel.replaceChildren();
  for (const v of res.variations) {
    for (const [label, count, cls] of [["exposed", v.users, "bar"], ["converted", v.converted, "bar converted"]]) {
      const name = el("div", `${v.key} ${label}: ${count}`, "bar-label");
      const bar = el("div", undefined, cls);
      bar.dataset.count = count;
      bar.style.width = (100 * count / top) + "%";
      funnel.append(name, bar);
    }
  }
}

async function refresh() {
  if (!state.experiment) return;
  render(await api("GET", `/experiments/${state.experiment.id}/results`));
}

$("create").addEventListener("submit", (e) => {
  e.preventDefault();
  createAndStart().catch((err) => say("Not created: " + err.message));
});
$("traffic").addEventListener("submit", (e) => {
  e.preventDefault();
  simulate().catch((err) => say("Traffic failed: " + err.message));
});
