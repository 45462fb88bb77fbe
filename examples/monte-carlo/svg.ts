/**
 * A hand-written SVG of one or more histograms side by side, with axes and percentile markers. No
 * plotting library: a histogram is a row of rectangles, and SVG is text.
 */
import type { Histogram } from './stats.js';

/** One panel of the figure. */
export interface Panel {
  title: string;
  histogram: Histogram;
  /** Vertical marker lines, e.g. `{ label: 'p5', value: 71.2 }`. */
  markers?: ReadonlyArray<{ label: string; value: number }>;
}

const W = 460;
const H = 320;
const M = { top: 40, right: 20, bottom: 50, left: 60 };

/** The SVG document of the panels, side by side, under a title. */
export function histogramSvg(title: string, panels: readonly Panel[]): string {
  const width = W * panels.length;
  const body = panels.map((p, i) => `<g transform="translate(${i * W},30)">${panel(p)}</g>`).join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H + 30}" viewBox="0 0 ${width} ${H + 30}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`,
    body,
    '</svg>',
    '',
  ].join('\n');
}

function panel(p: Panel): string {
  const { lo, width, counts } = p.histogram;
  const hi = lo + width * counts.length;
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const max = Math.max(1, ...counts);
  const x = (v: number): number => M.left + ((v - lo) / (hi - lo)) * plotW;
  const y = (c: number): number => M.top + plotH - (c / max) * plotH;
  const bars = counts.map((c, i) => {
    const x0 = x(lo + i * width);
    return `<rect x="${f(x0)}" y="${f(y(c))}" width="${f(Math.max(0.5, x(lo + (i + 1) * width) - x0 - 1))}" height="${f(M.top + plotH - y(c))}" fill="#4c78a8"><title>${f(lo + i * width)}–${f(lo + (i + 1) * width)}: ${c}</title></rect>`;
  });
  const xTicks = ticks(lo, hi, 5).map(
    (t) =>
      `<line x1="${f(x(t))}" x2="${f(x(t))}" y1="${M.top + plotH}" y2="${M.top + plotH + 4}" stroke="black"/><text x="${f(x(t))}" y="${M.top + plotH + 16}" text-anchor="middle">${t}</text>`,
  );
  const yTicks = ticks(0, max, 4).map(
    (t) =>
      `<line x1="${M.left - 4}" x2="${M.left}" y1="${f(y(t))}" y2="${f(y(t))}" stroke="black"/><text x="${M.left - 6}" y="${f(y(t) + 4)}" text-anchor="end">${t}</text>`,
  );
  const markers = (p.markers ?? [])
    .filter((m) => m.value >= lo && m.value <= hi)
    .map(
      (m) =>
        `<line x1="${f(x(m.value))}" x2="${f(x(m.value))}" y1="${M.top}" y2="${M.top + plotH}" stroke="#e45756" stroke-dasharray="4 3"/><text x="${f(x(m.value) + 3)}" y="${M.top + 10}" fill="#e45756">${escapeXml(m.label)}</text>`,
    );
  return [
    `<text x="${M.left + plotW / 2}" y="${M.top - 12}" text-anchor="middle" font-size="13">${escapeXml(p.title)}</text>`,
    ...bars,
    `<line x1="${M.left}" x2="${M.left + plotW}" y1="${M.top + plotH}" y2="${M.top + plotH}" stroke="black"/>`,
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + plotH}" stroke="black"/>`,
    ...xTicks,
    ...yTicks,
    ...markers,
    `<text x="${M.left + plotW / 2}" y="${H - 12}" text-anchor="middle">price</text>`,
    `<text transform="translate(14,${M.top + plotH / 2}) rotate(-90)" text-anchor="middle">forecasts</text>`,
  ].join('\n');
}

/** About `n` round tick values between `lo` and `hi` (steps of 1, 2 or 5 × 10^k). */
function ticks(lo: number, hi: number, n: number): number[] {
  const raw = (hi - lo) / n;
  if (!(raw > 0)) return [lo];
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((s) => s * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

const f = (v: number): string => (Math.round(v * 10) / 10).toString();

function escapeXml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
}
