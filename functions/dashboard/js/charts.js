/**
 * Charts with uPlot: a session's timeline (speed, incline, heart rate; forward and backward walking shaded
 * behind the lines) and a gym's utilisation by hour of day. Charts are made once per view and given new data
 * on every poll; they follow their container's width.
 */
import uPlot from 'uplot';
import { h } from './dom.js';

const COLORS = {
  forward: '#2f6fdf',
  forwardBand: 'rgba(47, 111, 223, 0.10)',
  backward: '#e07b24',
  backwardBand: 'rgba(224, 123, 36, 0.16)',
  speed: '#1d3b5c',
  incline: '#14976f',
  heart: '#e0565b',
  grid: '#eef1f5',
  axis: '#8c97a6',
  bars: '#5b8def',
  minutes: '#e07b24',
};

const AXIS_FONT = '12px Inter, "Segoe UI", Roboto, system-ui, sans-serif';

/** @param {string} [side] @returns {uPlot.Axis} */
const axis = (side) => ({
  stroke: COLORS.axis,
  font: AXIS_FONT,
  grid: { stroke: COLORS.grid, width: 1 },
  ticks: { show: false },
  ...(side === 'right' && { side: 1, grid: { show: false } }),
});

/** Tick spacings for session time axes, in seconds: never below a second, round numbers above. */
const TIME_STEPS_S = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];

/**
 * 24-hour clock labels: seconds only when ticks are less than a minute apart.
 * @type {uPlot.Axis.DynamicValues}
 */
const clockLabels = (_u, splits, _axis, _space, increment) =>
  splits.map((s) =>
    new Date(s * 1000).toLocaleTimeString('en-GB', {
      hour: '2-digit',
      minute: '2-digit',
      ...(increment < 60 && { second: '2-digit' }),
    }),
  );

/**
 * Shades runs of forward ('f') and backward ('b') walking behind the series.
 * @param {() => string[]} directions one code per x value
 * @returns {uPlot.Plugin}
 */
function directionBands(directions) {
  return {
    hooks: {
      drawClear: [
        (u) => {
          const xs = u.data[0];
          const codes = directions();
          const { top, height } = u.bbox;
          for (let i = 0; i < xs.length;) {
            let j = i;
            while (j + 1 < xs.length && codes[j + 1] === codes[i]) j++;
            const code = codes[i];
            const from = xs[i];
            const to = xs[Math.min(j + 1, xs.length - 1)];
            if ((code === 'f' || code === 'b') && from !== undefined && to !== undefined) {
              const x0 = u.valToPos(from, 'x', true);
              const x1 = u.valToPos(to, 'x', true);
              u.ctx.fillStyle = code === 'b' ? COLORS.backwardBand : COLORS.forwardBand;
              u.ctx.fillRect(x0, top, Math.max(1, x1 - x0), height);
            }
            i = j + 1;
          }
        },
      ],
    },
  };
}

/** Keeps a chart as wide as its container. @param {uPlot} chart @param {HTMLElement} box @param {number} height */
function followWidth(chart, box, height) {
  const observer = new ResizeObserver(() => {
    const width = Math.floor(box.clientWidth);
    if (width > 0 && width !== chart.width) chart.setSize({ width, height });
  });
  observer.observe(box);
  return () => observer.disconnect();
}

/**
 * @typedef {[number, number, number, number | null, 'f' | 'b' | 'u']} TimelinePoint
 * @typedef {{ update(points: TimelinePoint[], startTs: number): void, destroy(): void }} TimelineCharts
 */

/**
 * Speed, incline and heart rate over a session, cursors in step.
 * @param {HTMLElement} container
 * @returns {TimelineCharts}
 */
export function timelineCharts(container) {
  /** @type {string[]} */
  let codes = [];
  const sync = uPlot.sync(`timeline-${Math.random()}`);
  const specs = [
    { id: 'speed', title: 'Speed', unit: 'km/h', color: COLORS.speed, height: 190 },
    { id: 'incline', title: 'Incline', unit: '%', color: COLORS.incline, height: 110 },
    { id: 'hr', title: 'Heart rate', unit: 'bpm', color: COLORS.heart, height: 150 },
  ];
  const legend = h(
    'div',
    { class: 'legend' },
    h('span', { style: { '--swatch': COLORS.forward } }, 'forward'),
    h('span', { style: { '--swatch': COLORS.backward } }, 'backward'),
  );
  /** @type {Array<{ chart: uPlot, stop: () => void }>} */
  const charts = [];
  specs.forEach((spec, index) => {
    const box = h('div', { class: 'chart', 'data-testid': `chart-${spec.id}` });
    container.append(
      h(
        'div',
        { class: 'chart-title' },
        h('span', {}, `${spec.title} (${spec.unit})`),
        index === 0 ? legend : null,
      ),
      box,
    );
    /** @type {uPlot.Options} */
    const options = {
      width: Math.max(280, box.clientWidth || container.clientWidth),
      height: spec.height,
      legend: { show: false },
      cursor: { sync: { key: sync.key }, drag: { x: false, y: false } },
      scales: {
        x: { time: true },
        y: { range: (_u, min, max) => [Math.min(0, min), Math.max(max * 1.1, 1)] },
      },
      axes: [
        { ...axis(), values: clockLabels, incrs: TIME_STEPS_S },
        { ...axis(), size: 44 },
      ],
      series: [{}, { label: spec.title, stroke: spec.color, width: 2, points: { show: false } }],
      plugins: [directionBands(() => codes)],
    };
    const chart = new uPlot(options, [[], []], box);
    sync.sub(chart);
    charts.push({ chart, stop: followWidth(chart, box, spec.height) });
  });

  return {
    update(points, startTs) {
      codes = points.map((point) => point[4]);
      const xs = points.map((point) => startTs / 1000 + point[0]);
      const columns = [
        points.map((point) => point[1]),
        points.map((point) => point[2]),
        points.map((point) => point[3]),
      ];
      for (const [index, { chart }] of charts.entries()) chart.setData([xs, columns[index] ?? []]);
    },
    destroy() {
      for (const { chart, stop } of charts) {
        stop();
        sync.unsub(chart);
        chart.destroy();
      }
    },
  };
}

/**
 * Hours in the browser's time zone when it is a whole number of hours from UTC (rollups count in UTC hours).
 * @returns {{ shift: number, zone: string }}
 */
function hourShift() {
  const offsetMin = -new Date().getTimezoneOffset();
  return offsetMin % 60 === 0 ? { shift: offsetMin / 60, zone: 'local time' } : { shift: 0, zone: 'UTC' };
}

/**
 * @typedef {{ hour: number, sessions: number | null, minutes: number | null }} HourCell
 * @typedef {{ update(byHour: HourCell[]): void, destroy(): void, zone: string }} UtilisationChart
 */

/**
 * Sessions (bars) and walking minutes (line, right axis) by hour of day.
 * @param {HTMLElement} box
 * @returns {UtilisationChart}
 */
export function utilisationChart(box) {
  const { shift, zone } = hourShift();
  const height = 220;
  const bars = uPlot.paths.bars?.({ size: [0.62, 28], radius: 0.2 });
  /** @type {uPlot.Options} */
  const options = {
    width: Math.max(280, box.clientWidth),
    height,
    legend: { show: false },
    cursor: { drag: { x: false, y: false }, points: { show: false } },
    scales: {
      x: { time: false, range: [-0.6, 23.6] },
      sessions: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.15))] },
      minutes: { range: (_u, _min, max) => [0, Math.max(10, Math.ceil(max * 1.15))] },
    },
    axes: [
      {
        ...axis(),
        grid: { show: false },
        splits: (u) => (u.width < 560 ? [0, 6, 12, 18] : [0, 3, 6, 9, 12, 15, 18, 21]),
        values: (_u, splits) => splits.map((hour) => `${String(hour).padStart(2, '0')}:00`),
      },
      { ...axis(), scale: 'sessions', size: 40 },
      { ...axis('right'), scale: 'minutes', size: 44 },
    ],
    series: [
      {},
      {
        label: 'Sessions',
        scale: 'sessions',
        fill: COLORS.bars,
        stroke: COLORS.bars,
        points: { show: false },
        ...(bars && { paths: bars }),
      },
      {
        label: 'Minutes walked',
        scale: 'minutes',
        stroke: COLORS.minutes,
        width: 2.5,
        points: { show: false },
      },
    ],
  };
  const chart = new uPlot(options, [[], [], []], box);
  const stop = followWidth(chart, box, height);
  return {
    zone,
    update(byHour) {
      const shown = Array.from({ length: 24 }, (_, hour) => byHour[(((hour - shift) % 24) + 24) % 24]);
      chart.setData([
        shown.map((_, hour) => hour),
        shown.map((cell) => cell?.sessions ?? null),
        shown.map((cell) => cell?.minutes ?? null),
      ]);
    },
    destroy() {
      stop();
      chart.destroy();
    },
  };
}

export const CHART_COLORS = COLORS;
