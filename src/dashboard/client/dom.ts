/**
 * The page's DOM helpers: elements and SVG built from attributes and children (record data only
 * ever as text or attribute values, never as HTML), the toast, the screen-reader announcer, table
 * cells labelled for narrow screens, and the `datetime-local` input conversions. They hold no state
 * of the app.
 */

const SVG_NS = 'http://www.w3.org/2000/svg';

/** What `el` and `svg` accept as a child: a node, text, or nothing (skipped). */
export type Child = Node | string | number | null | undefined | false;

/** Attributes: `text` becomes the text, `class` the class; `null`, `undefined` and `false` are left out, `true` is an empty attribute. */
export type Attrs = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** The element with this id; the page's shell has every id the script asks for, so a missing one is a bug worth a clear error. */
export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (node === null) throw new Error(`dashboard: no element #${id} in the page`);
  return node as T;
}

/** The `<input>` with this id. */
export function input(id: string): HTMLInputElement { return $<HTMLInputElement>(id); }
/** The `<select>` with this id. */
export function select(id: string): HTMLSelectElement { return $<HTMLSelectElement>(id); }
/** The table with this id. */
export function table(id: string): HTMLTableElement { return $<HTMLTableElement>(id); }
/** The first body of the table with this id. */
export function tbodyOf(id: string): HTMLTableSectionElement {
  const body = table(id).tBodies[0];
  if (body === undefined) throw new Error(`dashboard: table #${id} has no body`);
  return body;
}

/** Append `children` to `node` (text as text nodes, never as HTML); returns `node`. */
export function append<T extends Node>(node: T, children?: Child | readonly Child[]): T {
  if (children === undefined || children === null) return node;
  const list: readonly Child[] = Array.isArray(children) ? children : [children as Child];
  for (const child of list) {
    if (child === null || child === undefined || child === false) continue;
    node.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
  return node;
}

function setAttrs(node: Element, attrs: Attrs | null | undefined): void {
  if (!attrs) return;
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'text') node.textContent = String(value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
}

/** An HTML element. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, children?: Child | readonly Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  return append(node, children);
}

/** An SVG element. */
export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs?: Attrs | null, children?: Child | readonly Child[]): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  setAttrs(node, attrs);
  return append(node, children);
}

/** Remove every child of `node`; returns `node`. */
export function clear<T extends Node>(node: T): T {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

let toastTimer: number | undefined;

/** A short message at the bottom of the page; errors stay longer. */
export function toast(message: string, kind: 'info' | 'error' = 'info'): void {
  const node = $('toast');
  node.textContent = message;
  node.setAttribute('data-kind', kind);
  node.hidden = false;
  window.clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => { node.hidden = true; }, kind === 'error' ? 7000 : 3500);
}

let pendingAnnouncements: string[] = [];
let announceTimer: number | null = null;

/** Live updates are announced to screen readers, at most one sentence every two seconds. */
export function announce(text: string): void {
  pendingAnnouncements.push(text);
  if (announceTimer !== null) return;
  announceTimer = window.setTimeout(() => {
    const list = pendingAnnouncements;
    pendingAnnouncements = [];
    announceTimer = null;
    $('announcer').textContent = list.length === 1 ? (list[0] ?? '') : `${list.length} updates: ${list.slice(-3).join('; ')}`;
  }, 2000);
}

/**
 * Each cell of `row` gets its column's heading as `data-label`, which narrow screens show in
 * front of the value once the table is laid out as one card per row.
 */
export function labelCells(tableNode: HTMLTableElement, row: HTMLTableRowElement): HTMLTableRowElement {
  const heads = tableNode.tHead?.rows[0]?.cells;
  Array.from(row.cells).forEach((cell, i) => {
    const head = heads?.[i];
    if (head && !cell.hasAttribute('colspan')) cell.setAttribute('data-label', head.textContent ?? '');
  });
  return row;
}

/** A `datetime-local` value (the browser's zone) as an ISO instant; '' when empty or invalid. */
export function localInputToIso(value: string): string {
  if (!value) return '';
  const d = new Date(value);
  return isNaN(d.getTime()) ? '' : d.toISOString();
}

/** An ISO instant as a `datetime-local` value in the browser's zone; '' when empty or invalid. */
export function isoToLocalInput(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d.getTime())) return '';
  const p = (n: number): string => (n < 10 ? `0${n}` : String(n));
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
