import { describe, expect, it } from 'vitest';
import { escapeXml, formatValue, renderChart, statOf, type ChartMeta, type ScenarioResult } from '../../bench/chart.js';

const meta: ChartMeta = { date: '2026-12-01 10:00 UTC', cores: 2, node: 'v24.21.0', cpu: 'Test CPU @ 2.0GHz', command: 'npm run bench -- offline' };

const NAME = /^[A-Za-z_][\w.:-]*$/;
const ENTITY = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;

/** Text or attribute value: no raw `<`, every `&` starts an entity. */
function checkText(s: string, where: string): void {
  if (s.includes('<')) throw new Error(`raw < in ${where}: ${s}`);
  if (s.replace(ENTITY, '').includes('&')) throw new Error(`raw & in ${where}: ${s}`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/.test(s)) throw new Error(`control character in ${where}`);
}

/**
 * A tiny well-formedness check: one XML declaration, then elements whose tags balance, attributes
 * double-quoted and unique, text and attribute values escaped, exactly one root element. Returns the
 * element names in document order and the decoded-free text content.
 */
function checkXml(doc: string): { elements: Array<{ name: string; attrs: Record<string, string> }>; text: string } {
  let s = doc;
  const decl = /^<\?xml version="1\.0" encoding="UTF-8"\?>\n/.exec(s);
  if (decl === null) throw new Error('no XML declaration');
  s = s.slice(decl[0].length);
  const stack: string[] = [];
  const elements: Array<{ name: string; attrs: Record<string, string> }> = [];
  let text = '';
  let roots = 0;
  let i = 0;
  while (i < s.length) {
    const lt = s.indexOf('<', i);
    const chunk = lt === -1 ? s.slice(i) : s.slice(i, lt);
    checkText(chunk, 'text');
    if (stack.length === 0 && chunk.trim() !== '') throw new Error(`text outside the root: ${chunk}`);
    text += chunk;
    if (lt === -1) break;
    const gt = s.indexOf('>', lt);
    if (gt === -1) throw new Error('unterminated tag');
    const tag = s.slice(lt + 1, gt);
    i = gt + 1;
    if (tag.startsWith('/')) {
      const name = tag.slice(1);
      if (stack.pop() !== name) throw new Error(`unbalanced </${name}>`);
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const m = /^([^\s/]+)((?:\s+[^\s=]+="[^"]*")*)\s*\/?$/.exec(tag);
    if (m === null) throw new Error(`malformed tag <${tag}>`);
    const name = m[1] as string;
    if (!NAME.test(name)) throw new Error(`bad element name ${name}`);
    const attrs: Record<string, string> = {};
    for (const a of (m[2] as string).matchAll(/([^\s=]+)="([^"]*)"/g)) {
      const [, k, v] = a as unknown as [string, string, string];
      if (!NAME.test(k)) throw new Error(`bad attribute name ${k}`);
      if (k in attrs) throw new Error(`duplicate attribute ${k}`);
      checkText(v, `attribute ${k}`);
      attrs[k] = v;
    }
    if (stack.length === 0) roots++;
    elements.push({ name, attrs });
    if (!selfClosing) stack.push(name);
  }
  if (stack.length !== 0) throw new Error(`unclosed ${stack.join(' > ')}`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
  return { elements, text };
}

const sample: ScenarioResult[] = [
  {
    section: 'offline',
    name: 'verify an in-memory .sig, ECDSA P-256',
    unit: 'µs',
    series: { 'cosign-ts': statOf([61.7, 60.2, 70.1]), floor: statOf([54.5, 53.9, 58.0]) },
  },
  {
    section: 'registry',
    name: 'verify 500 images, cold',
    unit: 'ms',
    series: { 'cosign-ts': statOf([1795, 1750, 1830]), cosign: statOf([60570, 58000, 64000]), floor: statOf([1686, 1650, 1700]) },
  },
  { section: 'kms', name: 'sign 200 images', unit: 'signatures/s', higherIsBetter: true, series: { 'cosign-ts': statOf([250]), floor: statOf([515]) } },
];

describe('renderChart', () => {
  it('writes a well-formed SVG: one bar group per scenario, a bar per series present, values labelled', () => {
    const svg = renderChart(sample, meta);
    const { elements, text } = checkXml(svg);
    expect(elements[0]?.name).toBe('svg');
    expect(elements[0]?.attrs['xmlns']).toBe('http://www.w3.org/2000/svg');
    const groups = elements.filter((e) => e.name === 'g' && e.attrs['class'] === 'scenario');
    expect(groups).toHaveLength(3);
    const bars = elements.filter((e) => e.name === 'rect' && e.attrs['class'] === 'bar');
    expect(bars.map((b) => b.attrs['data-series'])).toEqual(['cosign-ts', 'floor', 'cosign-ts', 'cosign', 'floor', 'cosign-ts', 'floor']);
    for (const v of ['61.7 µs', '54.5 µs', '1,795 ms', '60,570 ms', '1,686 ms', '250 signatures/s', '515 signatures/s']) expect(text).toContain(v);
    expect(svg).toContain('61.7 µs<tspan class="range" dx="6">(60.2–70.1, n=3)</tspan>');
    expect(text).toContain('higher is better');
    expect(text).toContain('cosign-ts = 1.06× floor, 0.030× cosign');
    // Title: date, cores, CPU, Node version; legend names every series; explicit background.
    expect(text).toContain('2026-12-01 10:00 UTC — 2 cores (Test CPU @ 2.0GHz), Node v24.21.0');
    for (const l of ['cosign-ts', 'cosign (real, same run)', 'floor (raw crypto', 'min–max']) expect(text).toContain(l);
    expect(svg).toMatch(/<rect x="0" y="0" width="\d+" height="\d+" fill="#ffffff"\/>/);
    // Bars within a scenario share its scale: the largest median of the registry panel is the longest bar.
    const w = bars.map((b) => Number(b.attrs['width']));
    expect(w[3]).toBeGreaterThan(w[2] as number);
    expect(Math.max(...w)).toBeLessThanOrEqual(960);
  });

  it('escapes hostile scenario names, units, sections and metadata', () => {
    const hostile = `</text><script>alert(1)</script> & "q" 'a' ]]> <!-- \u0000\u0007 \uD800`;
    const svg = renderChart([{ section: '<g>', name: hostile, unit: '<&>', series: { 'cosign-ts': statOf([1]), cosign: statOf([2]) } }], {
      ...meta,
      cpu: '"><svg onload=x>',
      command: '<x & y>',
      node: '&',
    });
    const { elements, text } = checkXml(svg);
    expect(elements.some((e) => e.name === 'script')).toBe(false);
    expect(svg).not.toContain('<script');
    expect(svg).not.toContain('onload=x>');
    expect(text).toContain('&lt;/text&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot; &#39;a&#39; ]]&gt; &lt;!--');
    expect(text).toContain('1.00 &lt;&amp;&gt;');
    expect(elements.filter((e) => e.name === 'g' && e.attrs['class'] === 'scenario')).toHaveLength(1);
  });

  it('stays well-formed with no scenario, missing figures, NaN, infinities, negatives and zeros', () => {
    expect(checkXml(renderChart([], meta)).text).toContain('no scenario ran');
    const odd: ScenarioResult[] = [
      { section: '', name: 'nothing measured', unit: 'ms', series: {} },
      { section: 'x', name: 'not finite', unit: 'ms', series: { 'cosign-ts': statOf([]), cosign: { min: -Infinity, median: NaN, max: Infinity, samples: 3 } } },
      { section: 'x', name: 'negative and zero', unit: 'ms', series: { 'cosign-ts': { min: -5, median: -1, max: 0, samples: 2 }, floor: statOf([0, 0]) } },
      { section: 'x', name: 'infinite max', unit: 'ms', series: { 'cosign-ts': { min: 1, median: 2, max: Infinity, samples: 2 }, floor: statOf([1]) } },
    ];
    const svg = renderChart(odd, { ...meta, cores: NaN, cpu: undefined, command: undefined });
    const { elements, text } = checkXml(svg);
    expect(elements.filter((e) => e.name === 'g' && e.attrs['class'] === 'scenario')).toHaveLength(4);
    expect(text).toContain('n/a');
    for (const e of elements) for (const v of Object.values(e.attrs)) expect(v).not.toMatch(/NaN|Infinity/);
  });

  it('is pure and bounded: same input, same output; very long names are clipped', () => {
    expect(renderChart(sample, meta)).toBe(renderChart(sample, meta));
    const long = renderChart([{ section: 'x', name: 'n'.repeat(100_000), unit: 'ms', series: { 'cosign-ts': statOf([1]) } }], meta);
    expect(long.length).toBeLessThan(10_000);
    checkXml(long);
  });
});

describe('chart helpers', () => {
  it('statOf: min, median, max of the finite samples', () => {
    expect(statOf([3, 1, 2])).toEqual({ min: 1, median: 2, max: 3, samples: 3 });
    expect(statOf([4, 1, NaN, 2, 3])).toEqual({ min: 1, median: 2.5, max: 4, samples: 4 });
    expect(statOf([]).samples).toBe(0);
  });
  it('formatValue: about three significant digits', () => {
    expect([formatValue(60570.4), formatValue(61.74), formatValue(1.234), formatValue(0.0304), formatValue(0), formatValue(NaN)]).toEqual([
      '60,570',
      '61.7',
      '1.23',
      '0.030',
      '0',
      'n/a',
    ]);
  });
  it('escapeXml: the five XML specials, forbidden characters dropped', () => {
    expect(escapeXml(`<a href="x">&'\u0001`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&#39;');
  });
});
