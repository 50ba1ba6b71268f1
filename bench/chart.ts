/**
 * The benchmark chart: scenario results → one self-contained SVG document (no dependency, no script,
 * no external reference). One panel per scenario, a horizontal bar per series (cosign-ts, real cosign,
 * the floor measured in the same run) at its median, a min–max whisker, the value written beside it.
 * Each panel has its own scale (units differ between scenarios). Explicit white background so it reads
 * the same in GitHub's light and dark themes.
 *
 * {@link renderChart} is pure: same input, same string. Names and notes are escaped; non-finite or
 * negative figures are drawn as "n/a" instead of breaking the layout.
 */

/** The series a scenario can compare. */
export type SeriesName = 'cosign-ts' | 'cosign' | 'floor';

/** Display order and legend text of the series. */
export const SERIES: ReadonlyArray<{ name: SeriesName; label: string; color: string }> = [
  { name: 'cosign-ts', label: 'cosign-ts', color: '#2f6fdf' },
  { name: 'cosign', label: 'cosign (real, same run)', color: '#e07b14' },
  { name: 'floor', label: 'floor (raw crypto / plain client / raw API, same run)', color: '#8a8f98' },
];

/** Minimum, median and maximum of the samples of one series (all three equal for a single sample). */
export interface Stat {
  min: number;
  median: number;
  max: number;
  /** How many samples the figures come from. */
  samples: number;
}

/** The structured result of one benchmark scenario. */
export interface ScenarioResult {
  /** Section the scenario belongs to (e.g. "offline"), shown before the name. */
  section: string;
  /** What was measured, e.g. "verify 500 images, cold". */
  name: string;
  /** Unit of every figure of the scenario, e.g. "ms", "µs", "MiB", "signatures/s". */
  unit: string;
  /** True when a larger figure is better (throughput); default: smaller is better. */
  higherIsBetter?: boolean;
  /** Figures per series; a series not measured is absent. */
  series: Partial<Record<SeriesName, Stat>>;
}

/** Where and when the figures were measured, for the title. */
export interface ChartMeta {
  /** ISO date (or date-time) of the run. */
  date: string;
  /** Number of CPU cores. */
  cores: number;
  /** Node version, e.g. "v24.21.0". */
  node: string;
  /** CPU model, if known. */
  cpu?: string;
  /** The command that produced the figures. */
  command?: string;
}

/** min/median/max of samples (empty or non-finite samples are dropped). */
export function statOf(xs: readonly number[]): Stat {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return { min: NaN, median: NaN, max: NaN, samples: 0 };
  const m = s.length >> 1;
  const median = s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
  return { min: s[0] as number, median, max: s[s.length - 1] as number, samples: s.length };
}

/** Escape text for XML character data and attribute values; drops characters XML 1.0 forbids. */
export function escapeXml(s: string): string {
  return (
    s
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
      .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&#39;')
  );
}

/** Shorten to at most `max` characters (code points), with an ellipsis. */
function clip(s: string, max: number): string {
  const cps = [...s.replace(/\s+/g, ' ')];
  return cps.length <= max ? cps.join('') : `${cps.slice(0, max - 1).join('')}…`;
}

/** A figure with about three significant digits (thousands grouped with commas, whatever the locale). */
export function formatValue(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  const a = Math.abs(n);
  if (a >= 1000) return Math.round(n).toLocaleString('en-US');
  if (a >= 100 || a === 0) return n.toFixed(0);
  if (a >= 10) return n.toFixed(1);
  if (a >= 1) return n.toFixed(2);
  return n.toPrecision(2);
}

const usable = (s: Stat | undefined): s is Stat => s !== undefined && Number.isFinite(s.median) && s.median >= 0;

/** "1.06× floor, 0.03× cosign": how cosign-ts compares, from the medians. */
function ratios(r: ScenarioResult): string {
  const ours = r.series['cosign-ts'];
  if (!usable(ours)) return '';
  const parts: string[] = [];
  for (const other of ['floor', 'cosign'] as const) {
    const o = r.series[other];
    if (usable(o) && o.median > 0) parts.push(`${formatValue(ours.median / o.median)}× ${other}`);
  }
  return parts.length === 0 ? '' : `cosign-ts = ${parts.join(', ')}`;
}

const W = 960;
const PAD = 20;
const LABEL_W = 92;
const VALUE_W = 240;
const BAR_X = PAD + LABEL_W;
const BAR_W = W - BAR_X - VALUE_W - PAD;
const BAR_H = 16;
const BAR_GAP = 6;
const HEAD_H = 42;
const PANEL_GAP = 16;
const MAX_SCENARIOS = 200;

/** Render the results as an SVG document (string). */
export function renderChart(results: readonly ScenarioResult[], meta: ChartMeta): string {
  const shown = results.slice(0, MAX_SCENARIOS);
  const out: string[] = [];
  const title = `cosign-ts benchmarks — ${clip(meta.date, 40)} — ${Number.isFinite(meta.cores) ? meta.cores : '?'} cores${meta.cpu ? ` (${clip(meta.cpu, 60)})` : ''}, Node ${clip(meta.node, 20)}`;
  const sub = `median bars, min–max whiskers; each panel has its own scale${meta.command ? `; ${clip(meta.command, 90)}` : ''}`;

  let y = PAD;
  const body: string[] = [];
  body.push(`<text x="${PAD}" y="${y + 16}" class="title">${escapeXml(title)}</text>`);
  y += 26;
  body.push(`<text x="${PAD}" y="${y + 12}" class="sub">${escapeXml(sub)}</text>`);
  y += 22;
  // Legend.
  let lx = PAD;
  body.push('<g class="legend">');
  for (const s of SERIES) {
    body.push(`<rect x="${lx}" y="${y + 2}" width="14" height="12" fill="${s.color}"/>`);
    body.push(`<text x="${lx + 20}" y="${y + 12}" class="legend-text">${escapeXml(s.label)}</text>`);
    lx += 28 + s.label.length * 6.6;
  }
  body.push(`<line x1="${lx}" y1="${y + 8}" x2="${lx + 24}" y2="${y + 8}" class="whisker"/>`);
  body.push(`<line x1="${lx}" y1="${y + 3}" x2="${lx}" y2="${y + 13}" class="whisker"/>`);
  body.push(`<line x1="${lx + 24}" y1="${y + 3}" x2="${lx + 24}" y2="${y + 13}" class="whisker"/>`);
  body.push(`<text x="${lx + 30}" y="${y + 12}" class="legend-text">min–max</text>`);
  body.push('</g>');
  y += 28;

  if (shown.length === 0) {
    body.push(`<text x="${PAD}" y="${y + 14}" class="sub">no scenario ran</text>`);
    y += 24;
  }
  for (const r of shown) {
    const present = SERIES.filter((s) => r.series[s.name] !== undefined);
    const stats = present.map((s) => r.series[s.name]).filter(usable);
    const top = Math.max(0, ...stats.map((s) => (Number.isFinite(s.max) ? Math.max(s.max, s.median) : s.median)));
    const scale = (v: number): number => (top > 0 && Number.isFinite(v) ? Math.max(0, Math.min(BAR_W, (v / top) * BAR_W)) : 0);
    const unit = clip(r.unit, 20);
    const head = `${r.section ? `${clip(r.section, 20)}: ` : ''}${clip(r.name, 100)} (${unit})`;
    const ratio = ratios(r);
    const note = `${r.higherIsBetter === true ? 'higher' : 'lower'} is better${ratio === '' ? '' : ` · ${ratio}`}`;
    const h = HEAD_H + Math.max(1, present.length) * (BAR_H + BAR_GAP);
    body.push(`<g class="scenario" transform="translate(0 ${y})">`);
    body.push(`<rect x="${PAD / 2}" y="0" width="${W - PAD}" height="${h + 4}" class="panel"/>`);
    body.push(`<text x="${PAD}" y="17" class="head">${escapeXml(head)}</text>`);
    body.push(`<text x="${PAD}" y="33" class="note">${escapeXml(note)}</text>`);
    let by = HEAD_H;
    for (const s of present) {
      const st = r.series[s.name] as Stat;
      body.push(`<text x="${BAR_X - 8}" y="${by + 12}" class="label" text-anchor="end">${escapeXml(s.name)}</text>`);
      if (usable(st)) {
        const w = scale(st.median);
        body.push(`<rect x="${BAR_X}" y="${by}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${s.color}" class="bar" data-series="${s.name}"/>`);
        let end = BAR_X + w;
        if (Number.isFinite(st.min) && Number.isFinite(st.max) && st.max > st.min) {
          const x1 = BAR_X + scale(st.min);
          const x2 = BAR_X + scale(st.max);
          const mid = by + BAR_H / 2;
          body.push(`<line x1="${x1.toFixed(1)}" y1="${mid}" x2="${x2.toFixed(1)}" y2="${mid}" class="whisker"/>`);
          body.push(`<line x1="${x1.toFixed(1)}" y1="${mid - 5}" x2="${x1.toFixed(1)}" y2="${mid + 5}" class="whisker"/>`);
          body.push(`<line x1="${x2.toFixed(1)}" y1="${mid - 5}" x2="${x2.toFixed(1)}" y2="${mid + 5}" class="whisker"/>`);
          end = Math.max(end, x2);
        }
        const range =
          st.samples > 1 && Number.isFinite(st.min) && Number.isFinite(st.max) ? `(${formatValue(st.min)}–${formatValue(st.max)}, n=${st.samples})` : '';
        body.push(
          `<text x="${(end + 6).toFixed(1)}" y="${by + 12}" class="value">${escapeXml(`${formatValue(st.median)} ${unit}`)}${range === '' ? '' : `<tspan class="range" dx="6">${escapeXml(range)}</tspan>`}</text>`,
        );
      } else {
        body.push(`<text x="${BAR_X + 6}" y="${by + 12}" class="value">n/a</text>`);
      }
      by += BAR_H + BAR_GAP;
    }
    body.push('</g>');
    y += h + PANEL_GAP;
  }
  const H = y + PAD / 2;

  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeXml(title)}">`);
  out.push(`<title>${escapeXml(title)}</title>`);
  out.push(
    '<style>' +
      'text{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;fill:#1f2328}' +
      '.title{font-size:17px;font-weight:600}.sub{font-size:12px;fill:#59636e}.legend-text{font-size:12px}' +
      '.head{font-size:13px;font-weight:600}.note{font-size:12px;fill:#59636e}.label{font-size:12px}' +
      '.value{font-size:12px}.range{fill:#59636e}' +
      '.whisker{stroke:#1f2328;stroke-width:1.5}.panel{fill:#f6f8fa;stroke:#d1d9e0}' +
      '</style>',
  );
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(...body);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
