/**
 * The dashboard page's script, as a string (it runs in the browser, so it is plain ES2020 written
 * without template literals). It polls `/api/job` every second and `/api/jobs` every three, keeps the
 * selected job in the URL hash (`#job=<executor>/<job>`), and re-fetches the timeline SVG only when a
 * status record changed.
 */
export const PAGE_SCRIPT = String.raw`
'use strict';
var state = { jobs: [], selected: null, version: null, rendered: null, timelineKey: null, call: null, tick: 0, detail: null };

function h(tag, props, children) {
  var node = document.createElement(tag);
  if (props) for (var k in props) {
    if (k === 'text') node.textContent = props[k];
    else if (k === 'class') node.className = props[k];
    else if (k.slice(0, 2) === 'on') node.addEventListener(k.slice(2), props[k]);
    else node.setAttribute(k, props[k]);
  }
  (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
  return node;
}

function ms(v) {
  if (v === undefined || v === null) return '–';
  if (v < 10) return (Math.round(v * 10) / 10) + ' ms';
  if (v < 1000) return Math.round(v) + ' ms';
  if (v < 60000) return (v / 1000).toFixed(v < 10000 ? 2 : 1) + ' s';
  return Math.floor(v / 60000) + ' min ' + Math.round((v % 60000) / 1000) + ' s';
}

function when(t) { return t ? new Date(t).toLocaleString() : 'unknown time'; }

function getJson(path) {
  return fetch(path, { cache: 'no-store' }).then(function (r) {
    // internal: browser code of the dashboard page; the message is shown on the page.
    return r.json().then(function (body) { if (!r.ok) throw new Error(body.error || r.statusText); return body; });
  });
}

function bar(counts, big) {
  var total = Math.max(1, counts.calls);
  return h('div', { class: big ? 'bar big' : 'bar', title: counts.success + ' succeeded, ' + counts.error + ' failed, ' + counts.pending + ' pending' }, [
    h('div', { class: 'ok', style: 'width:' + (100 * counts.success / total) + '%' }),
    h('div', { class: 'err', style: 'width:' + (100 * counts.error / total) + '%' })
  ]);
}

function showError(message) {
  var b = document.getElementById('banner');
  b.textContent = message || '';
  b.style.display = message ? 'block' : 'none';
}

function renderJobs() {
  var nav = document.getElementById('jobs');
  nav.textContent = '';
  if (state.jobs.length === 0) { nav.appendChild(h('div', { class: 'empty', style: 'padding:16px', text: 'No jobs yet.' })); return; }
  var lastExecutor = null;
  state.jobs.forEach(function (j) {
    if (j.executorId !== lastExecutor) { nav.appendChild(h('h2', { text: 'executor ' + j.executorId })); lastExecutor = j.executorId; }
    var done = j.success + j.error;
    var counts = done + '/' + j.calls + (j.error ? ' · ' + j.error + ' failed' : '') + (j.pending ? ' · ' + (j.state === 'abandoned' ? 'abandoned' : 'running') : '');
    nav.appendChild(h('button', { class: 'job' + (j.key === state.selected ? ' selected' : ''), 'data-job': j.key, onclick: function () { select(j.key); } }, [
      h('div', { class: 'title' }, [h('span', { text: j.jobId }), h('span', { class: 'counts', text: counts })]),
      h('div', { class: 'fn', text: j.function || 'no manifest' }),
      bar(j, false)
    ]));
  });
}

function card(k, v) { return h('div', { class: 'card' }, [h('div', { class: 'k', text: k }), h('div', { class: 'v', text: v })]); }

function renderDetail(d) {
  var main = document.getElementById('detail');
  var c = d.counts, s = d.summary;
  var done = c.success + c.error;
  var pct = c.calls ? Math.floor(100 * done / c.calls) : 0;
  var timeline = document.getElementById('timeline');
  main.textContent = '';
  main.appendChild(h('h2', { id: 'job-title', text: 'Job ' + d.key }));
  main.appendChild(h('div', { class: 'sub', text: (d.function || 'no manifest') + ' · created ' + when(d.createdAt) }));
  main.appendChild(h('div', { class: 'chips', id: 'chips' }, [
    h('span', { class: 'chip', text: c.calls + ' calls' }),
    h('span', { class: 'chip ok', text: c.success + ' succeeded' }),
    h('span', { class: 'chip err', text: c.error + ' failed' }),
    h('span', { class: 'chip pending', text: c.pending + ' pending' }),
    h('span', { class: d.state === 'abandoned' ? 'chip err' : c.pending ? 'chip live' : 'chip done', id: 'job-state', text: d.state === 'abandoned' ? 'abandoned: its client is gone' : c.pending ? 'running' : 'finished' })
  ]));
  main.appendChild(bar(c, true));
  main.appendChild(h('div', { class: 'progress-label', id: 'progress', text: done + ' of ' + c.calls + ' calls finished (' + pct + '%)' }));
  var run = s.run || {};
  main.appendChild(h('div', { class: 'cards' }, [
    card('wall time', ms(s.wallTime)), card('median run', ms(run.median)), card('p95 run', ms(run.p95)),
    card('max run', ms(run.max)), card('cold starts', s.coldStarts + ' of ' + s.calls),
    card('cached', s.cachedCalls + ' of ' + s.calls), card('backups', s.backups + ' (' + s.backupsWon + ' won)'),
    card('workers', s.workerProcesses + ' on ' + s.hosts.length + ' host' + (s.hosts.length === 1 ? '' : 's'))
  ]));
  var tl = h('section', {}, [h('h3', { text: 'Timeline' })]);
  if (timeline && state.timelineKey === d.key) tl.appendChild(timeline); else tl.appendChild(h('div', { id: 'timeline', class: 'muted', text: 'rendering…' }));
  main.appendChild(tl);
  main.appendChild(callsSection(d));
  main.appendChild(failuresSection(d));
}

function callsSection(d) {
  var grid = h('div', { class: 'grid', id: 'calls' });
  d.calls.forEach(function (call) {
    var tip = 'call ' + call.id + ': ' + call.state + (call.attempt > 1 ? ', attempt ' + call.attempt : '') + (call.host ? ' on ' + call.host + ' pid ' + call.pid : '') + (call.error ? ' — ' + call.error.name + ': ' + call.error.message : '');
    grid.appendChild(h('button', { class: 'cell ' + call.state + (state.call === call.id ? ' selected' : ''), title: tip, 'aria-label': tip, onclick: function () { state.call = call.id; showCall(); renderDetail(state.detail); } }));
  });
  var legend = h('div', { class: 'legend' }, ['Click a call for its output.', h('i', { style: 'background:var(--ok)' }), 'succeeded', h('i', { style: 'background:var(--err)' }), 'failed', h('i', { style: 'background:var(--wait)' }), 'pending']);
  var sec = h('section', {}, [h('h3', { text: 'Calls' }), grid, legend, h('div', { id: 'call-output' })]);
  return sec;
}

function failuresSection(d) {
  var sec = h('section', { id: 'failures' }, [h('h3', { text: d.failures.length ? 'Failed calls (' + d.failures.length + ')' : 'Failed calls' })]);
  if (d.failures.length === 0) sec.appendChild(h('div', { class: 'muted', text: 'None so far.' }));
  d.failures.slice(0, 50).forEach(function (f) {
    var children = [
      h('div', { class: 'what', text: 'call ' + f.id + ': ' + f.error.name + ': ' + f.error.message }),
      h('div', { class: 'meta', text: 'attempt ' + f.attempt + (f.host ? ' · ' + f.host : '') })
    ];
    if (f.logs) children.push(h('pre', { class: 'logs', text: f.logs }));
    if (f.error.stack) children.push(h('details', {}, [h('summary', { text: 'stack' }), h('pre', { text: f.error.stack })]));
    sec.appendChild(h('div', { class: 'failure' }, children));
  });
  return sec;
}

function showCall() {
  if (state.call === null || !state.selected) return;
  var id = state.call;
  getJson('/api/logs?job=' + encodeURIComponent(state.selected) + '&call=' + id).then(function (r) {
    var box = document.getElementById('call-output');
    if (!box) return;
    box.textContent = '';
    box.appendChild(h('h3', { style: 'margin-top:12px', text: 'Output of call ' + id + (r.ok ? ' (succeeded' : ' (failed') + ', attempt ' + r.attempt + ')' }));
    box.appendChild(h('pre', { text: r.logs || '(the call printed nothing)' }));
    if (r.error) box.appendChild(h('div', { class: 'what', style: 'color:#a52a22', text: r.error.name + ': ' + r.error.message }));
  }).catch(function (e) {
    var box = document.getElementById('call-output');
    if (box) box.textContent = 'call ' + id + ': ' + e.message;
  });
}

function loadTimeline(d) {
  var width = Math.max(300, Math.min(1400, document.getElementById('detail').clientWidth - 80));
  fetch('/api/timeline?job=' + encodeURIComponent(d.key) + '&width=' + width, { cache: 'no-store' }).then(function (r) { return r.text(); }).then(function (svg) {
    var box = document.getElementById('timeline');
    if (!box || state.selected !== d.key) return;
    box.className = '';
    box.innerHTML = svg;
    state.timelineKey = d.key;
  });
}

function loadJob() {
  if (!state.selected) return Promise.resolve();
  var key = state.selected;
  return getJson('/api/job?job=' + encodeURIComponent(key)).then(function (d) {
    if (state.selected !== key) return;
    state.detail = d;
    var changed = state.version !== d.version || state.rendered !== key;
    state.version = d.version;
    state.rendered = key;
    if (changed) renderDetail(d);
    var item = state.jobs.filter(function (j) { return j.key === d.key; })[0];
    if (item && (item.success !== d.counts.success || item.error !== d.counts.error || item.calls !== d.counts.calls)) {
      item.calls = d.counts.calls; item.success = d.counts.success; item.error = d.counts.error; item.pending = d.counts.pending;
      renderJobs();
    }
    if (changed || d.counts.pending > 0) loadTimeline(d);
    if (changed) showCall();
    showError('');
  });
}

function loadJobs() {
  return getJson('/api/jobs').then(function (data) {
    document.getElementById('where').textContent = data.storage + ' · bucket "' + data.bucket + '"';
    state.jobs = data.jobs;
    if (!state.selected && data.jobs.length) {
      var newest = data.jobs.reduce(function (a, b) { return (b.createdAt || 0) > (a.createdAt || 0) ? b : a; });
      state.selected = newest.key;
    }
    renderJobs();
    if (data.jobs.length === 0) {
      var main = document.getElementById('detail');
      main.textContent = '';
      main.appendChild(h('div', { class: 'empty', text: 'No jobs in storage yet. Run ' }, [h('code', { text: 'burst hello' }), ' to make one; it will show up here.']));
    }
  });
}

function select(key) {
  if (state.selected !== key) { state.version = null; state.call = null; state.rendered = null; }
  state.selected = key;
  history.replaceState(null, '', '#job=' + encodeURIComponent(key));
  renderJobs();
  loadJob().catch(function (e) { showError(e.message); });
}

function tick() {
  var jobs = state.tick % 3 === 0 ? loadJobs() : Promise.resolve();
  state.tick++;
  jobs.then(loadJob).then(function () {
    document.getElementById('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
  }).catch(function (e) { showError('cannot reach the dashboard server: ' + e.message); });
}

var fromHash = /job=([^&]+)/.exec(location.hash);
if (fromHash) state.selected = decodeURIComponent(fromHash[1]);
tick();
setInterval(tick, 1000);
`;
