// What every /console page shares: the session and its sign-in form, the authenticated fetch with the
// one problem+json error area, and the realtime streams with reconnect and resume (docs/realtime.md).
// A classic script: it defines window.studioConsole only; each page destructures what it uses.
"use strict";
window.studioConsole = (() => {
  const $ = (id) => document.getElementById(id);
  const session = { token: null, tenant: null };
  const say = (text) => { const s = $("status"); if (s) s.textContent = text; };
  const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  // A key for Idempotency-Key: crypto.randomUUID needs a secure context, getRandomValues does not.
  function newKey() {
    const b = crypto.getRandomValues(new Uint8Array(16));
    return "c-" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  // The one place a refusal is shown: the problem's title, detail and stable code, until dismissed.
  function problemArea() {
    let box = $("problem");
    if (!box) {
      box = el("div", undefined, "problem");
      box.id = "problem";
      box.setAttribute("role", "alert");
      box.hidden = true;
      // Inside the page's header (it may be a grid row of its own), else after the sign-in form.
      const header = document.querySelector("header");
      if (header) header.append(box); else if ($("signin")) $("signin").after(box); else document.body.prepend(box);
    }
    return box;
  }

  function showProblem(problem) {
    const box = problemArea();
    const dismiss = el("button", "Dismiss", "problem-dismiss");
    dismiss.type = "button";
    dismiss.addEventListener("click", clearProblem);
    box.replaceChildren(el("strong", problem.title || "Request failed", "problem-title"), " ",
                        el("span", problem.detail && problem.detail !== problem.title ? problem.detail : "", "problem-detail"), " ",
                        el("code", problem.code || String(problem.status || ""), "problem-code"), " ", dismiss);
    box.hidden = false;
  }

  function clearProblem() { const box = $("problem"); if (box) { box.hidden = true; box.replaceChildren(); } }

  class ApiError extends Error {
    constructor(status, body) {
      super((body && (body.detail || body.code)) || String(status));
      this.status = status;
      this.code = body && body.code;
      this.title = body && body.title;
      this.detail = body && body.detail;
      this.body = body;
    }
  }

  async function parse(r) {
    if (r.status === 204) return null;
    const text = await r.text();
    try { return text ? JSON.parse(text) : null; } catch (e) { return r.ok ? text : { detail: text.slice(0, 200) }; }
  }

  // The whole answer: {data, etag, status}. Options: idempotencyKey, ifMatch, headers, quiet (no error area).
  async function request(method, path, body, opts = {}) {
    const raw = body instanceof FormData || body instanceof Blob;
    const headers = raw || body === undefined ? {} : { "Content-Type": "application/json" };
    if (session.token) headers.Authorization = "Bearer " + session.token;
    if (session.tenant) { headers["X-Tenant-Id"] = session.tenant; headers["X-Env"] = "dev"; }
    if (opts.idempotencyKey) headers["Idempotency-Key"] = opts.idempotencyKey;
    if (opts.ifMatch) headers["If-Match"] = opts.ifMatch;
    Object.assign(headers, opts.headers || {});
    const r = await fetch(path, { method, headers, body: raw ? body : (body === undefined ? undefined : JSON.stringify(body)) });
    const data = await parse(r);
    if (!r.ok) {
      const err = new ApiError(r.status, data);
      if (!opts.quiet) showProblem({ ...(data || {}), status: r.status });
      throw err;
    }
    return { data, etag: r.headers.get("ETag"), status: r.status };
  }

  const api = async (method, path, body, opts) => (await request(method, path, body, opts)).data;

  // Sign-in: the standard fields go into the page's <form id="signin">; a sign-in (or a sign-up, then a
  // sign-in) picks the first tenant the user belongs to, or makes one, then hands over to the page.
  function signIn({ tenantName = "Console", onEnter, legend } = {}) {
    const form = $("signin");
    const fields = [
      label("Email ", "email", "email", "username"), " ",
      label("Password ", "password", "password", "current-password"), " ",
      button("Sign in", "signin-btn", "submit"), " ", button("Sign up", "signup-btn", "button"), " "];
    if (legend) {
      const set = el("fieldset");
      set.append(el("legend", legend), ...fields);
      form.prepend(set);
    } else form.prepend(...fields);

    async function enter(email, password) {
      const tokens = await api("POST", "/auth/login", { email, password });
      session.token = tokens.access_token;
      const me = await api("GET", "/auth/me");
      session.tenant = me.memberships.length ? me.memberships[0].tenant_id
        : (await api("POST", "/auth/bootstrap", { tenant_name: tenantName })).tenant_id;
      clearProblem();
      if (onEnter) await onEnter(me);
    }
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      enter($("email").value, $("password").value).catch((err) => say("Sign-in failed: " + err.message));
    });
    $("signup-btn").addEventListener("click", async () => {
      try {
        await api("POST", "/auth/signup", { email: $("email").value, password: $("password").value });
        await enter($("email").value, $("password").value);
      } catch (err) { say("Sign-up failed: " + err.message); }
    });
  }

  function label(text, id, type, autocomplete) {
    const l = el("label", text);
    const input = el("input");
    Object.assign(input, { id, type, autocomplete, required: true });
    l.append(input);
    return l;
  }

  function button(text, id, type) { const b = el("button", text); b.id = id; b.type = type; return b; }

  // A realtime stream over SSE (docs/realtime.md, "The reconnect algorithm"): a ticket works once, so
  // every (re)connect asks for a new one; a thread resumes from the last cursor it saw; the meta channel
  // replays nothing, so after a drop the page's onResume re-reads what it shows. Its state is on <html>
  // as data-realtime-<name> (connecting, open, reconnecting, revoked, closed) for anyone waiting on it.
  function stream(name, path, threadId, handlers, opts = {}) {
    const s = { cursor: null, source: null, closed: false, delay: 1000, opens: 0 };
    const key = "realtime" + name[0].toUpperCase() + name.slice(1);
    const mark = (what) => { if (document.documentElement.dataset[key] !== what) document.documentElement.dataset[key] = what; };
    let opened;
    const firstOpen = new Promise((ok) => { opened = ok; });

    async function connect() {
      mark(s.opens ? "reconnecting" : "connecting");
      const { ticket } = await api("POST", "/realtime/tickets", { thread_id: threadId });
      if (s.closed) return;
      let url = `${path}?ticket=${encodeURIComponent(ticket)}`;
      if (opts.resume) url += s.cursor ? "&cursor=" + encodeURIComponent(s.cursor) : "&since=0";
      const source = new EventSource(url);
      s.source = source;
      for (const [kind, handle] of Object.entries(handlers)) {
        source.addEventListener(kind, (e) => {
          const frame = JSON.parse(e.data);
          handle(frame, kind);
          if (frame.cursor) s.cursor = frame.cursor;
        });
      }
      source.addEventListener("stream.revoked", (e) => {  // the session or membership ended: no retry
        source.close();
        s.closed = true;
        mark("revoked");
        const d = JSON.parse(e.data);
        showProblem({ title: "The live stream ended", ...(d.data || d) });
      });
      source.onopen = () => {
        const again = s.opens > 0;
        s.opens += 1;
        s.delay = 1000;
        mark("open");
        if (opts.onOpen) opts.onOpen();
        if (again && opts.onResume) opts.onResume();
        opened();
      };
      source.onerror = () => {
        source.close();
        if (s.closed) return;
        mark("reconnecting");
        if (opts.onDrop) opts.onDrop();
        retry();
      };
    }

    function retry() {
      const wait = s.delay * (0.8 + 0.4 * Math.random());  // 1 s doubling to 30 s, with jitter
      s.delay = Math.min(s.delay * 2, 30_000);
      setTimeout(() => connect().catch((err) => {
        if (err.status === 401 || err.status === 403) { s.closed = true; mark("closed"); }
        else retry();
        if (opts.onOffline) opts.onOffline(err);
      }), wait);
    }

    s.close = () => { s.closed = true; if (s.source) s.source.close(); mark("closed"); };
    s.ready = connect().then(() => firstOpen);  // a refused first ticket rejects: the caller says why
    return s;
  }

  // The tenant's meta channel: cross-service events (progress of ingests, renders, audits ...).
  const meta = (handlers, opts) => stream("meta", "/sse/meta", "meta", handlers, opts);

  return { $, el, say, sleep, session, api, request, ApiError, newKey, showProblem, clearProblem, signIn, stream, meta };
})();
