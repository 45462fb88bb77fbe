/**
 * The dashboard page: one HTML document with its style and script inline (no build step, no files to
 * serve). The script polls the JSON API and builds the DOM with `textContent` only, so job names,
 * errors and logs are never interpreted as HTML; the one exception is the timeline SVG, which the
 * server renders with Vega (which escapes its text).
 */
import { PAGE_SCRIPT } from './page-script.js';

const STYLE = `
:root { --ok: #2e9d57; --err: #d6453d; --wait: #b8c2cf; --run: #3a78d4; --ink: #1d232b; --muted: #5d6875; --line: #dfe3e8; --bg: #f5f7fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, "DejaVu Sans", Helvetica, Arial, sans-serif; color: var(--ink); background: var(--bg); }
header { display: flex; align-items: baseline; gap: 16px; padding: 12px 20px; background: #1d2733; color: #fff; }
header h1 { margin: 0; font-size: 20px; letter-spacing: .5px; }
header .where { color: #c9d3df; font-size: 14px; }
header .updated { margin-left: auto; color: #c9d3df; font-size: 13px; }
.layout { display: grid; grid-template-columns: 300px 1fr; min-height: calc(100vh - 50px); }
nav { border-right: 1px solid var(--line); background: #fff; padding: 12px 0; overflow-y: auto; }
nav h2 { font-size: 12px; text-transform: uppercase; color: var(--muted); margin: 14px 16px 6px; letter-spacing: .6px; }
.job { display: block; width: 100%; text-align: left; border: 0; background: none; padding: 8px 16px; cursor: pointer; font: inherit; color: inherit; border-left: 4px solid transparent; }
.job:hover { background: #eef2f7; }
.job.selected { background: #e3ecf9; border-left-color: var(--run); }
.job .title { display: flex; justify-content: space-between; gap: 8px; font-weight: 600; }
.job .fn { color: var(--muted); font-size: 13px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.job .counts { font-size: 13px; color: var(--muted); font-weight: 400; }
.bar { display: flex; height: 8px; border-radius: 4px; overflow: hidden; background: var(--wait); margin-top: 4px; }
.bar .ok { background: var(--ok); } .bar .err { background: var(--err); }
.bar.big { height: 14px; border-radius: 7px; }
main { padding: 20px 28px; overflow-x: hidden; }
main h2 { margin: 0 0 2px; font-size: 22px; }
.sub { color: var(--muted); margin-bottom: 14px; }
.chips { display: flex; flex-wrap: wrap; gap: 8px; margin: 10px 0; }
.chip { padding: 3px 12px; border-radius: 999px; font-weight: 600; font-size: 14px; background: #e6eaef; }
.chip.ok { background: #dff2e6; color: #1e6e3c; } .chip.err { background: #fbe3e1; color: #a52a22; }
.chip.pending { background: #e6eaef; color: #3f4954; } .chip.live { background: #dce8fb; color: #1f4f99; }
.chip.done { background: #1d2733; color: #fff; }
.progress-label { font-size: 14px; color: var(--muted); margin-top: 4px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; margin: 16px 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.card .k { font-size: 12px; text-transform: uppercase; color: var(--muted); letter-spacing: .5px; }
.card .v { font-size: 20px; font-weight: 600; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; margin: 16px 0; }
section h3 { margin: 0 0 10px; font-size: 16px; }
#timeline svg { max-width: 100%; height: auto; }
.grid { display: flex; flex-wrap: wrap; gap: 3px; }
.cell { width: 16px; height: 16px; border-radius: 3px; background: var(--wait); border: 0; padding: 0; cursor: pointer; }
.cell.success { background: var(--ok); } .cell.error { background: var(--err); }
.cell.selected { outline: 2px solid var(--ink); outline-offset: 1px; }
.legend { font-size: 13px; color: var(--muted); margin-top: 8px; }
.legend i { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin: 0 4px 0 12px; vertical-align: -1px; }
.failure { border-top: 1px solid var(--line); padding: 10px 0; }
.failure:first-of-type { border-top: 0; }
.failure .what { color: #a52a22; font-weight: 600; word-break: break-word; }
.failure .meta { color: var(--muted); font-size: 13px; }
pre { background: #141a21; color: #e4e9ef; padding: 10px 12px; border-radius: 6px; font: 13px/1.45 "DejaVu Sans Mono", Menlo, monospace; white-space: pre-wrap; word-break: break-word; max-height: 320px; overflow: auto; margin: 6px 0; }
.empty { color: var(--muted); padding: 30px 0; font-size: 16px; }
.banner { background: #fbe3e1; color: #a52a22; padding: 8px 20px; display: none; }
.muted { color: var(--muted); }
`;

/** The whole page. */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Burst dashboard</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>Burst</h1><span class="where" id="where">loading…</span><span class="updated" id="updated"></span></header>
<div class="banner" id="banner"></div>
<div class="layout">
  <nav id="jobs" aria-label="jobs"></nav>
  <main id="detail"><div class="empty">Loading jobs…</div></main>
</div>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
