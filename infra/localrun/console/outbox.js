// /console/outbox: the local mailer's outbox (loopback only); shared parts in console.js.
"use strict";
const { $, api, say } = window.studioConsole;

async function verify(token, out) {
  try {  // a refusal is this mail's own answer (a used or expired code), shown beside its button
    const data = await api("POST", "/auth/verify", { token }, { quiet: true });
    out.textContent = `Verified: ${data.email}`;
    out.className = "result verified";
  } catch (err) {
    out.textContent = `Refused: ${err.code}`;
    out.className = "result refused";
  }
}

function render(mail) {
  const el = document.createElement("article");
  el.className = `mail ${mail.kind}`;
  el.dataset.to = mail.to;
  const head = document.createElement("h2");
  head.textContent = mail.subject;
  const meta = document.createElement("div");
  meta.className = "meta";
  meta.textContent = `to ${mail.to} · ${mail.sent_at} · ${mail.kind}`;
  const body = document.createElement("pre");
  body.textContent = mail.text;  // text, never HTML: mail content includes caller input
  el.append(head, meta, body);
  if (mail.kind === "verify_email" && mail.token) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "verify";
    button.textContent = "Verify this address";
    const out = document.createElement("span");
    out.className = "result";
    button.addEventListener("click", () => verify(mail.token, out));
    el.append(button, " ", out);
  }
  return el;
}

async function load() {
  const data = await api("GET", "/console/outbox.json");
  $("mails").replaceChildren(...data.mails.map(render));
  say(data.mails.length ? `${data.mails.length} mail(s)` : "No mail yet.");
}

const reload = () => load().catch((err) => say("Cannot read the outbox: " + err.message));
$("reload").addEventListener("click", reload);
reload();
