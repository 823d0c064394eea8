/**
 * Browser script (vanilla ES2020, no modules): `IBDom`, the page's DOM helpers — elements and SVG
 * built from attributes and children (record data only ever as text or attribute values, never as
 * HTML), the toast, the screen-reader announcer, table cells labelled for narrow screens, and the
 * `datetime-local` input conversions. They hold no state of the app, which uses them through
 * short aliases.
 *
 * Written inside `String.raw` so backslashes reach the browser unchanged; the text must contain no
 * backtick and no dollar-brace pair.
 */
export const DOM_JS = String.raw`
var IBDom = (function () {
  'use strict';
  var SVG_NS = 'http://www.w3.org/2000/svg';

  function $(id) { return document.getElementById(id); }

  function append(node, children) {
    if (children === undefined || children === null) return node;
    if (!Array.isArray(children)) children = [children];
    children.forEach(function (child) {
      if (child === null || child === undefined || child === false) return;
      node.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
    });
    return node;
  }

  /** An element; 'attrs.text' becomes its text, 'attrs.class' its class, the rest attributes. */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    setAttrs(node, attrs);
    return append(node, children);
  }

  function svg(tag, attrs, children) {
    var node = document.createElementNS(SVG_NS, tag);
    setAttrs(node, attrs);
    return append(node, children);
  }

  function setAttrs(node, attrs) {
    if (!attrs) return;
    Object.keys(attrs).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key === 'text') node.textContent = String(value);
      else if (key === 'class') node.setAttribute('class', value);
      else node.setAttribute(key, value === true ? '' : String(value));
    });
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

  function toast(message, kind) {
    var node = $('toast');
    node.textContent = message;
    node.setAttribute('data-kind', kind || 'info');
    node.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { node.hidden = true; }, kind === 'error' ? 7000 : 3500);
  }

  /** Live updates are announced to screen readers, at most one sentence every two seconds. */
  var pendingAnnouncements = [];
  function announce(text) {
    pendingAnnouncements.push(text);
    if (announce.timer) return;
    announce.timer = setTimeout(function () {
      var list = pendingAnnouncements;
      pendingAnnouncements = [];
      announce.timer = null;
      $('announcer').textContent = list.length === 1 ? list[0] : list.length + ' updates: ' + list.slice(-3).join('; ');
    }, 2000);
  }

  /**
   * Each cell of 'row' gets its column's heading as 'data-label', which narrow screens show in
   * front of the value once the table is laid out as one card per row.
   */
  function labelCells(table, row) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(row.cells, function (cell, i) {
      if (heads[i] && !cell.hasAttribute('colspan')) cell.setAttribute('data-label', heads[i].textContent);
    });
    return row;
  }

  function localInputToIso(value) {
    if (!value) return '';
    var d = new Date(value);
    return isNaN(d.getTime()) ? '' : d.toISOString();
  }

  function isoToLocalInput(iso) {
    if (!iso) return '';
    var d = new Date(iso);
    if (isNaN(d.getTime())) return '';
    var p = function (n) { return n < 10 ? '0' + n : String(n); };
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes());
  }

  return {
    $: $, append: append, el: el, svg: svg, setAttrs: setAttrs, clear: clear, toast: toast, announce: announce,
    labelCells: labelCells, localInputToIso: localInputToIso, isoToLocalInput: isoToLocalInput
  };
})();
`;
