/**
 * A few DOM helpers: elements are built with textContent only, so data never becomes markup.
 *
 * Live views update IN PLACE, so that focus, selection and scroll survive every poll (a keyboard user who
 * tabbed to a tile or to Acknowledge stays there). A view builds its fresh elements with `h` as before and
 * hands them over:
 *
 *   reconcile(list, alerts.map((alert) => alertCard(alert)))   // each card carries `data-key` (its id)
 *   patch(headline, h('div', { class: 'page-head' }, ...))      // one element: morphed into the new one
 *
 * - `reconcile(container, elements)`: the container's children become `elements`; a child whose `data-key`
 *   matches is kept and patched, new keys are inserted, missing keys removed, order followed. Children
 *   without `data-key` are matched by position among the unkeyed ones.
 * - `patch(current, fresh)`: same tag: attributes, text and children of `current` are made those of `fresh`
 *   (recursively, the same way); another tag: `current` is replaced. Returns the element now in the page.
 * - Event listeners stay those of the first render (a DOM node's listeners cannot be read back), so a
 *   listener must only use what the key fixes (an alert's id, a treadmill's id), never data that changes.
 * - Nodes that others draw into (a uPlot chart, an iframe) are kept out of patched trees, or marked
 *   `data-keep` so patch leaves their inside alone.
 * - `announce(text)` puts one short line into the page's only live region (`#live-status`), to say what
 *   changed ("tm-03 went offline"); the views themselves are not live regions.
 */

/** @typedef {Node | string | number | null | undefined | false} Child */

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, unknown>} [attrs] `class`, `style` (object), `on<event>` (function), anything else as attribute
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') element.className = String(value);
    else if (name === 'style' && typeof value === 'object') {
      // setProperty takes custom properties (`--swatch`) too, which assigning to `style` would drop.
      for (const [property, setting] of Object.entries(value)) {
        const kebab = property.startsWith('--')
          ? property
          : property.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
        element.style.setProperty(kebab, String(setting));
      }
    } else if (name.startsWith('on') && typeof value === 'function')
      element.addEventListener(name.slice(2), /** @type {EventListener} */ (value));
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'number' ? String(child) : child);
  }
  return element;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Small stroked icons (24-unit viewBox). */
const ICONS = {
  forward: 'M12 19V5M6 11l6-6 6 6',
  backward: 'M12 5v14M6 13l6 6 6-6',
  unknown: 'M6 12h12',
  heart: 'M12 20s-7-4.4-7-10a4 4 0 0 1 7-2.6A4 4 0 0 1 19 10c0 5.6-7 10-7 10z',
  bell: 'M6 16V11a6 6 0 0 1 12 0v5l1.5 2h-15L6 16zM10 20a2 2 0 0 0 4 0',
};

/**
 * @param {keyof typeof ICONS} name
 * @param {number} [size]
 */
export function icon(name, size = 16) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', String(size));
  svg.setAttribute('height', String(size));
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(SVG_NS, 'path');
  path.setAttribute('d', ICONS[name]);
  path.setAttribute('fill', name === 'heart' ? 'currentColor' : 'none');
  path.setAttribute('stroke', 'currentColor');
  path.setAttribute('stroke-width', '2.2');
  path.setAttribute('stroke-linecap', 'round');
  path.setAttribute('stroke-linejoin', 'round');
  svg.append(path);
  return svg;
}

/**
 * A ring showing `fraction` (0-1) of a full circle.
 * @param {number | null} fraction
 * @param {string} color
 */
export function ring(fraction, color, size = 64) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 36 36');
  svg.setAttribute('width', String(size));
  svg.setAttribute('height', String(size));
  svg.setAttribute('aria-hidden', 'true');
  const circle = (/** @type {string} */ stroke, /** @type {number} */ share) => {
    const c = document.createElementNS(SVG_NS, 'circle');
    c.setAttribute('cx', '18');
    c.setAttribute('cy', '18');
    c.setAttribute('r', '15.9155');
    c.setAttribute('fill', 'none');
    c.setAttribute('stroke', stroke);
    c.setAttribute('stroke-width', '3.4');
    c.setAttribute('stroke-linecap', 'round');
    c.setAttribute('stroke-dasharray', `${Math.max(0, Math.min(1, share)) * 100} 100`);
    c.setAttribute('transform', 'rotate(-90 18 18)');
    return c;
  };
  svg.append(circle('#eef1f5', 1));
  if (fraction !== null && fraction > 0) svg.append(circle(color, fraction));
  return svg;
}

/** Keyed children (`data-key`) by key; unkeyed ones in order. @param {Element} parent */
function childrenByKey(parent) {
  /** @type {Map<string, Element>} */
  const keyed = new Map();
  /** @type {Element[]} */
  const unkeyed = [];
  for (const child of parent.children) {
    const key = child.getAttribute('data-key');
    if (key === null) unkeyed.push(child);
    else keyed.set(key, child);
  }
  return { keyed, unkeyed };
}

/** @param {Element} current @param {Element} fresh */
function syncAttributes(current, fresh) {
  for (const { name } of [...current.attributes])
    if (!fresh.hasAttribute(name)) current.removeAttribute(name);
  for (const { name, value } of fresh.attributes) {
    if (current.getAttribute(name) === value) continue;
    // Through the CSSOM: the CSP (no inline styles) refuses a style set as an attribute.
    if (name === 'style' && current instanceof HTMLElement && fresh instanceof HTMLElement)
      current.style.cssText = fresh.style.cssText;
    else current.setAttribute(name, value);
  }
}

/**
 * Makes `current` look like `fresh`, keeping `current` (and so focus) where the tag is the same.
 * @template {Element} E
 * @param {E} current
 * @param {Element} fresh
 * @returns {Element} the element now in the page
 */
export function patch(current, fresh) {
  if (current.tagName !== fresh.tagName || current.namespaceURI !== fresh.namespaceURI) {
    current.replaceWith(fresh);
    return fresh;
  }
  syncAttributes(current, fresh);
  if (current.hasAttribute('data-keep')) return current;
  const freshNodes = [...fresh.childNodes];
  const currentNodes = [...current.childNodes];
  const elementsOnly = (/** @type {ChildNode[]} */ nodes) =>
    nodes.every((node) => node.nodeType === Node.ELEMENT_NODE);
  if (elementsOnly(freshNodes) && elementsOnly(currentNodes)) reconcile(current, [...fresh.children]);
  else if (
    freshNodes.length !== currentNodes.length ||
    freshNodes.some((node, index) => node.nodeType !== currentNodes[index]?.nodeType)
  )
    current.replaceChildren(...freshNodes);
  else
    // Text mixed with elements, node for node the same kinds: text set, elements patched.
    freshNodes.forEach((node, index) => {
      const old = currentNodes[index];
      if (old instanceof Element && node instanceof Element) patch(old, node);
      else if (old && old.textContent !== node.textContent) old.textContent = node.textContent;
    });
  return current;
}

/**
 * The container's element children become `elements`, matched by `data-key` (else by position), patched in
 * place; nothing else in the container changes.
 * @param {Element} container
 * @param {Element[]} elements
 */
export function reconcile(container, elements) {
  for (const node of [...container.childNodes]) if (node.nodeType !== Node.ELEMENT_NODE) node.remove();
  const { keyed, unkeyed } = childrenByKey(container);
  let unkeyedIndex = 0;
  /** @type {Set<Element>} */
  const kept = new Set();
  const placed = elements.map((fresh) => {
    const key = fresh.getAttribute('data-key');
    const current = key === null ? unkeyed[unkeyedIndex++] : keyed.get(key);
    const shown = current && !kept.has(current) ? patch(current, fresh) : fresh;
    kept.add(shown);
    return shown;
  });
  for (const child of [...container.children]) if (!kept.has(child)) child.remove();
  // Move only what is out of place: moving a focused node would blur it.
  placed.forEach((element, index) => {
    if (container.children[index] !== element)
      container.insertBefore(element, container.children[index] ?? null);
  });
}

/** Says `text` once in the page's live region (a short status line, never a whole view). @param {string} text */
export function announce(text) {
  const region = document.getElementById('live-status');
  if (region && text) region.textContent = text;
}
