// /console/chat: one thread, its messages streamed live (docs/realtime.md); shared parts in console.js.
"use strict";
const { $, api, say, signIn, stream, newKey } = window.studioConsole;
const state = { thread: null, live: null, bubbles: new Map() };

function bubble(seq, role, text, status) {
  let el = state.bubbles.get(seq);
  if (!el) {
    el = document.createElement("div");
    el.dataset.seq = seq;
    $("log").append(el);
    state.bubbles.set(seq, el);
  }
  el.className = `msg ${role} ${status}`;
  if (text !== undefined) el.textContent = text;
  el.scrollIntoView({ block: "end" });
  return el;
}

const handlers = {
  "message.created": (frame) => bubble(frame.seq, frame.data.role, frame.data.text, frame.data.status),
  "message.delta": (frame) => { bubble(frame.seq, "agent", undefined, "streaming").textContent += frame.data.text; },
  "message.completed": (frame) => bubble(frame.seq, "agent", frame.data.text, "complete"),
  "message.failed": (frame) => bubble(frame.seq, "agent failed", "Reply failed: " + frame.data.error, "failed"),
  "thread.epoch_changed": () => { state.live.close(); location.reload(); },  // the thread was reset: start over
};

signIn({
  onEnter: async () => {
    state.thread = (await api("POST", "/chat/threads", { title: "Console chat" })).id;
    state.live = stream("chat", `/sse/chat/${state.thread}`, state.thread, handlers, {
      resume: true,
      onOpen: () => say("Connected: replies stream live."),
      onDrop: () => say("Reconnecting..."),
      onOffline: (err) => say("Offline: " + err.message),
    });
    await state.live.ready;
    $("text").disabled = $("send").disabled = false;
    $("text").focus();
  },
});

$("composer").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = $("text").value.trim();
  if (!text) return;
  $("text").value = "";
  // One key per message: a retried post is the same message (its client_id), never a second one.
  try { await api("POST", `/chat/threads/${state.thread}/messages`, { text }, { idempotencyKey: newKey() }); }
  catch (err) { say("Not sent: " + err.message); }
});
