/** A few DOM helpers: elements are built with textContent only, so data never becomes markup. */

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
