/**
 * The SVG drawing shared by the views: the shape of each slot status (timeline and legends), a
 * legend, and horizontal bar charts (stats).
 */
import { clear, el, svg } from './dom.js';

type Shape = (x: number, y: number) => SVGElement;

/** One mark per status, told apart by shape as well as colour. */
export const SHAPES: Readonly<Record<string, Shape>> = {
  succeeded: (x, y) => svg('circle', { cx: x, cy: y, r: 6, class: 'f-succeeded' }),
  failed: (x, y) => svg('rect', { x: x - 6, y: y - 6, width: 12, height: 12, class: 'f-failed' }),
  running: (x, y) => svg('circle', { cx: x, cy: y, r: 6, class: 'f-running' }),
  pending: (x, y) => svg('circle', { cx: x, cy: y, r: 5, class: 'f-pending' }),
  cancelled: (x, y) => svg('rect', { x: x - 5, y: y - 5, width: 10, height: 10, class: 'f-cancelled' }),
  skipped: (x, y) => svg('circle', { cx: x, cy: y, r: 5, class: 'f-skipped' }),
  missed: (x, y) => svg('path', { d: `M${x} ${y - 7}L${x + 7} ${y + 6}L${x - 7} ${y + 6}Z`, class: 'f-missed' }),
  coalesced: (x, y) => svg('path', { d: `M${x} ${y - 7}L${x + 7} ${y}L${x} ${y + 7}L${x - 7} ${y}Z`, class: 'f-coalesced' }),
};

/** A legend: each key's mark (its shape, or a square of its colour) and its label. */
export function legend(list: HTMLElement, keys: readonly string[], labels: Readonly<Record<string, string>>): void {
  clear(list);
  for (const key of keys) {
    const shape = SHAPES[key];
    const icon = svg('svg', { viewBox: '-8 -8 16 16', 'aria-hidden': 'true' }, shape ? shape(0, 0) : svg('rect', { x: -7, y: -7, width: 14, height: 14, class: `f-${key}` }));
    list.appendChild(el('li', null, [icon, labels[key] ?? key]));
  }
}

/** The smallest 'nice' axis end (four steps of a round number) at or above `max`. */
function niceMax(max: number, integers: boolean): number {
  if (max <= 0) return integers ? 4 : 1;
  const step = max / 4;
  const power = Math.pow(10, Math.floor(Math.log10(step)));
  const nice = [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].map((m) => m * power).find((v) => v >= step && (!integers || v === Math.round(v)));
  return (nice || Math.ceil(step)) * 4;
}

/** One bar of a row. */
export interface BarValue {
  key: string;
  value: number | null;
}

/** One row of a bar chart. */
export interface BarRow {
  label: string;
  values: BarValue[];
}

/** How a bar chart is drawn. */
export interface BarChartOptions {
  /** Height of a row in pixels (default 26). */
  rowHeight?: number;
  /** Bars of a row stacked into one (else side by side). */
  stacked?: boolean;
  /** Axis and value text of a figure; integers are shown as they are without it. */
  tick?: (value: number | null) => string;
}

/**
 * Horizontal bars, one row per entry (`values` side by side, or stacked). Drawn at the
 * container's pixel width, so text has the same size in every chart.
 */
export function barChart(container: HTMLElement, rows: readonly BarRow[], opts: BarChartOptions): SVGSVGElement {
  const rowH = opts.rowHeight ?? 26;
  const left = 160;
  const right = 70;
  const tick = opts.tick;
  const text = (v: number | null): string => (tick ? tick(v) : String(v));
  const width = Math.max(container.clientWidth || 640, 320);
  const height = Math.max(rows.length, 1) * rowH + 26;
  let max = 0;
  for (const r of rows) {
    if (opts.stacked) max = Math.max(max, r.values.reduce((sum, v) => sum + (v.value || 0), 0));
    else for (const v of r.values) max = Math.max(max, v.value || 0);
  }
  max = niceMax(max, !tick);
  const scale = (v: number): number => (v / max) * (width - left - right);
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height });
  for (let g = 0; g <= 4; g++) {
    const gx = left + ((width - left - right) * g) / 4;
    root.appendChild(svg('line', { x1: gx, x2: gx, y1: 0, y2: height - 20, class: 'grid' }));
    root.appendChild(svg('text', { x: gx, y: height - 6, 'text-anchor': 'middle', text: text((max * g) / 4) }));
  }
  rows.forEach((r, i) => {
    const y = i * rowH + 4;
    const label = r.label.length > 22 ? `${r.label.slice(0, 21)}…` : r.label;
    root.appendChild(svg('text', { x: left - 8, y: y + rowH / 2 + 1, 'text-anchor': 'end', text: label }, svg('title', { text: r.label })));
    let x = left;
    const barH = opts.stacked ? rowH - 8 : (rowH - 8) / r.values.length;
    r.values.forEach((v, j) => {
      const w = scale(v.value || 0);
      const by = opts.stacked ? y : y + j * barH;
      const rect = svg(
        'rect',
        { x, y: by, width: Math.max(w, v.value ? 2 : 0), height: barH - (opts.stacked ? 0 : 1), class: `f-${v.key}`, 'data-key': v.key, 'data-value': v.value || 0 },
        svg('title', { text: `${r.label} — ${v.key}: ${text(v.value)}` }),
      );
      root.appendChild(rect);
      if (opts.stacked) x += w;
      else root.appendChild(svg('text', { x: left + w + 4, y: by + barH - 2, class: 'value', text: text(v.value) }));
    });
    if (opts.stacked) root.appendChild(svg('text', { x: x + 4, y: y + rowH / 2 + 1, class: 'value', text: r.values.map((v) => v.value || 0).join(' / ') }));
  });
  if (!rows.length) root.appendChild(svg('text', { x: width / 2, y: 20, 'text-anchor': 'middle', text: 'No data yet' }));
  return root;
}
