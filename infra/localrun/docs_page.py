"""A /docs page that works offline: renders /openapi.json with a few lines of JS
(Swagger UI would need a CDN this machine cannot reach)."""

DOCS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Studio API</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem;max-width:70rem}
.op{border:1px solid #ddd;border-radius:6px;margin:.5rem 0;padding:.5rem 1rem}
.m{display:inline-block;min-width:4.5rem;font-weight:700}.pub{color:#080}.t{color:#666}
pre{background:#f6f6f6;padding:.5rem;overflow:auto;max-height:20rem}</style></head>
<body><h1>Studio platform API</h1>
<p>Machine-readable contract: <a href="/openapi.json">/openapi.json</a>. Errors are
<code>application/problem+json</code> with a stable <code>code</code>.</p>
<div id="ops">loading...</div><h2>Error codes</h2><div id="codes"></div>
<script>
fetch('/openapi.json').then(r => r.json()).then(doc => {
  const ops = document.getElementById('ops'); ops.textContent = '';
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const d = document.createElement('details'); d.className = 'op';
      const s = document.createElement('summary');
      const access = (op.security && op.security.length === 0) ? ' (public)' : '';
      s.innerHTML = '<span class="m"></span><code></code> <span class="t"></span><span class="pub"></span>';
      s.children[0].textContent = method.toUpperCase(); s.children[1].textContent = path;
      s.children[2].textContent = op.summary || ''; s.children[3].textContent = access;
      const pre = document.createElement('pre'); pre.textContent = JSON.stringify(op, null, 2);
      d.append(s, pre); ops.append(d);
    }
  }
  const codes = document.getElementById('codes');
  for (const c of doc['x-error-codes']) {
    const p = document.createElement('div'); p.textContent = c.status + ' ' + c.code + ': ' + c.title; codes.append(p);
  }
});
</script></body></html>
"""
