"""JavaScript the audit runs in the page: lab metrics observers and the layout collector."""
from __future__ import annotations

# Installed before any page script: buffered observers for LCP, layout shifts and long tasks.
METRICS_INIT = """
(() => {
  const a = window.__studioAudit = {lcp: null, shifts: [], longtasks: []};
  const watch = (type, fn) => { try { new PerformanceObserver(l => l.getEntries().forEach(fn))
    .observe({type, buffered: true}); } catch (e) {} };
  watch('largest-contentful-paint', e => { a.lcp = e.renderTime || e.loadTime || e.startTime; });
  watch('layout-shift', e => { if (!e.hadRecentInput) a.shifts.push([e.startTime, e.value]); });
  watch('longtask', e => a.longtasks.push([e.startTime, e.duration]));
})();
"""

READ_METRICS = """
() => {
  const a = window.__studioAudit || {lcp: null, shifts: [], longtasks: []};
  const nav = performance.getEntriesByType('navigation')[0];
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  return {lcp: a.lcp, shifts: a.shifts, longtasks: a.longtasks, fcp: fcp ? fcp.startTime : null,
          ttfb: nav ? nav.responseStart : null, load: nav ? nav.loadEventEnd : null};
}
"""

# One entry per rendered element: a stable selector as its id, its page box, what kind it is.
COLLECT_LAYOUT = """
(limit) => {
  const INTERACTIVE = 'a[href],button,input:not([type=hidden]),select,textarea,summary,' +
    '[role=button],[role=link],[role=checkbox],[role=radio],[role=tab],[role=menuitem],[role=switch],' +
    '[tabindex]:not([tabindex="-1"])';
  const idOf = (el) => {
    if (el.id) return '#' + CSS.escape(el.id);
    const parts = [];
    for (let e = el; e && e !== document.body && e.nodeType === 1; e = e.parentElement) {
      if (e.id) { parts.unshift('#' + CSS.escape(e.id)); break; }
      let i = 1; for (let s = e.previousElementSibling; s; s = s.previousElementSibling) if (s.tagName === e.tagName) i++;
      parts.unshift(e.tagName.toLowerCase() + ':nth-of-type(' + i + ')');
    }
    return parts.join(' > ');
  };
  const out = [];
  const ids = new Map();
  for (const el of document.body.querySelectorAll('*')) {
    if (out.length >= limit) break;
    if (['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'BR'].includes(el.tagName)) continue;
    const cs = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    const shown = cs.display !== 'none' && cs.visibility !== 'hidden' && r.width > 0 && r.height > 0;
    const text = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const interactive = el.matches(INTERACTIVE);
    let scroller = false;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== 'visible') { scroller = true; break; }
    }
    const clips = ['hidden', 'clip'].includes(cs.overflowX) || ['hidden', 'clip'].includes(cs.overflowY);
    const inline = interactive && cs.display === 'inline' && el.parentElement &&
      [...el.parentElement.childNodes].some(n => n !== el && n.nodeType === 3 && n.textContent.trim());
    const id = idOf(el);
    ids.set(el, id);
    out.push({id, parent: el.parentElement && ids.get(el.parentElement) || null,
      kind: interactive ? 'interactive' : (text ? 'text' : 'box'), inline: !!inline, scroller,
      box: shown ? {x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height} : null,
      content: shown && clips && text ? {w: el.scrollWidth + (el.offsetWidth - el.clientWidth),
                                         h: el.scrollHeight + (el.offsetHeight - el.clientHeight)} : null});
  }
  return out;
}
"""
