/**
 * Charts with uPlot: a session's timeline (speed, incline, heart rate; forward and backward walking shaded
 * behind the lines) and a gym's utilisation by hour of day. Charts are made once per view and given new data
 * on every poll; they follow their container's width. uPlot chooses the ticks (its own spacing, so labels
 * never overlap) and shows the values under the cursor in its legend; each chart also has a one-line text
 * summary, its text alternative (the canvas itself is hidden from screen readers).
 */
import uPlot from 'uplot';
import { h } from './dom.js';
import { clock, num } from './format.js';

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

/**
 * Time-axis labels in the dashboard's 24-hour clock (format.js `clock`), seconds only when uPlot's chosen
 * tick step is under a minute. uPlot picks the step from its own increments so that ticks are at least
 * TIME_TICK_SPACE pixels apart.
 * @type {uPlot.Axis.DynamicValues}
 */
const clockValues = (_u, splits, _axis, _space, increment) =>
  splits.map((s) =>
    new Date(s * 1000).toLocaleTimeString('en-GB', {
      hour: '2-digit',
      minute: '2-digit',
      ...(increment < 60 && { second: '2-digit' }),
    }),
  );

/** Pixels between time ticks: room for "18:14:45" and a gap, so labels never run together. */
const TIME_TICK_SPACE = 72;

/**
 * Value-axis labels with as many decimals as uPlot's tick step needs (0.5 -> one), never "0" alone.
 * @type {uPlot.Axis.DynamicValues}
 */
const stepValues = (_u, splits, _axis, _space, increment) =>
  splits.map((v) => num(v, increment >= 1 ? 0 : increment >= 0.1 ? 1 : 2));

/**
 * Axis label functions that also write, after every draw, each axis's labels and their pixel positions on
 * the chart's box (`data-ticks`), so that what the chart shows can be read without reading the canvas.
 * @param {HTMLElement} box
 * @param {uPlot.Axis.DynamicValues[]} formats one per axis
 * @returns {{ values: uPlot.Axis.DynamicValues[], plugin: uPlot.Plugin }}
 */
function recordedTicks(box, formats) {
  /** @type {Array<{ splits: number[], labels: string[] }>} */
  const shown = [];
  return {
    values: formats.map((format, index) => (u, splits, axis, space, increment) => {
      const labels = /** @type {string[]} */ (format(u, splits, axis, space, increment));
      shown[index] = { splits, labels };
      return labels;
    }),
    plugin: {
      hooks: {
        draw: [
          (u) => {
            box.dataset.ticks = JSON.stringify(
              shown.map(({ splits, labels }, index) =>
                splits.map((split, at) => ({
                  label: labels[at] ?? '',
                  px: Math.round(u.valToPos(split, u.axes[index]?.scale ?? 'x')),
                })),
              ),
            );
          },
        ],
      },
    },
  };
}

/** The cursor's time in the legend, to the second. @param {uPlot} _u @param {number | null} s */
const cursorTime = (_u, s) =>
  s === null
    ? '–'
    : new Date(s * 1000).toLocaleTimeString('en-GB', {
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });

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
 * @typedef {{ id: string, title: string, unit: string, digits: number, color: string, height: number }} SeriesSpec
 */

/**
 * A chart's text alternative: its range, mean and time span ("Speed 2.5 to 5.0 km/h, mean 3.7 km/h,
 * 18:10 to 18:15.").
 * @param {SeriesSpec} spec
 * @param {number[]} xs seconds
 * @param {Array<number | null>} values
 */
export function seriesSummary(spec, xs, values) {
  const present = values.filter(/** @returns {v is number} */ (v) => v !== null && Number.isFinite(v));
  const first = xs[0];
  const last = xs.at(-1);
  if (present.length === 0 || first === undefined || last === undefined)
    return `${spec.title}: no readings yet.`;
  const value = (/** @type {number} */ v) => `${num(v, spec.digits)} ${spec.unit}`;
  const mean = present.reduce((sum, v) => sum + v, 0) / present.length;
  return `${spec.title} ${value(Math.min(...present))} to ${value(Math.max(...present))}, mean ${value(mean)}, ${clock(first * 1000)} to ${clock(last * 1000)}.`;
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
    { id: 'speed', title: 'Speed', unit: 'km/h', digits: 1, color: COLORS.speed, height: 190 },
    { id: 'incline', title: 'Incline', unit: '%', digits: 1, color: COLORS.incline, height: 150 },
    { id: 'hr', title: 'Heart rate', unit: 'bpm', digits: 0, color: COLORS.heart, height: 160 },
  ];
  const legend = h(
    'div',
    { class: 'legend' },
    h('span', { style: { '--swatch': COLORS.forward } }, 'forward'),
    h('span', { style: { '--swatch': COLORS.backward } }, 'backward'),
  );
  /** @type {Array<{ chart: uPlot, summary: HTMLElement, spec: SeriesSpec, stop: () => void }>} */
  const charts = [];
  specs.forEach((spec, index) => {
    const box = h('div', { class: 'chart', 'data-testid': `chart-${spec.id}`, 'aria-hidden': 'true' });
    const summary = h('p', { class: 'chart-summary', 'data-testid': `chart-${spec.id}-summary` });
    container.append(
      h(
        'div',
        { class: 'chart-title' },
        h('span', {}, `${spec.title} (${spec.unit})`),
        index === 0 ? legend : null,
      ),
      box,
      summary,
    );
    const ticks = recordedTicks(box, [clockValues, stepValues]);
    /** @type {uPlot.Options} */
    const options = {
      width: Math.max(280, box.clientWidth || container.clientWidth),
      height: spec.height,
      legend: { show: true, live: true },
      cursor: { sync: { key: sync.key }, drag: { x: false, y: false } },
      scales: {
        x: { time: true },
        // From zero, so that a 3-8 % incline is read against level; uPlot picks the ticks in between.
        y: { range: (_u, min, max) => [Math.min(0, min), Math.max(max * 1.15, 1)] },
      },
      axes: [
        { ...axis(), values: ticks.values[0], space: TIME_TICK_SPACE },
        { ...axis(), size: 44, space: 24, values: ticks.values[1] },
      ],
      series: [
        { label: 'Time', value: cursorTime },
        {
          label: spec.title,
          stroke: spec.color,
          width: 2,
          points: { show: false },
          value: (_u, v) => (v === null ? '–' : `${num(v, spec.digits)} ${spec.unit}`),
        },
      ],
      plugins: [directionBands(() => codes), ticks.plugin],
    };
    const chart = new uPlot(options, [[], []], box);
    sync.sub(chart);
    charts.push({ chart, summary, spec, stop: followWidth(chart, box, spec.height) });
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
      for (const [index, { chart, summary, spec }] of charts.entries()) {
        const values = columns[index] ?? [];
        chart.setData([xs, values]);
        summary.textContent = seriesSummary(spec, xs, values);
      }
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

/** @param {number} hour */
const hourLabel = (hour) => `${String(hour).padStart(2, '0')}:00`;

/**
 * The hour chart's text alternative: sessions counted and the busiest hour.
 * @param {Array<number | null>} sessionsByHour index = hour shown
 * @param {string} zone
 */
export function hourSummary(sessionsByHour, zone) {
  const counts = sessionsByHour.map((count) => count ?? 0);
  const total = counts.reduce((sum, count) => sum + count, 0);
  if (total === 0) return `No sessions by hour of day (${zone}) to show.`;
  const most = Math.max(...counts);
  return `${num(total)} sessions by hour of day (${zone}); busiest ${hourLabel(counts.indexOf(most))} with ${num(most)}.`;
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
    legend: { show: true, live: true },
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
        values: (_u, splits) => splits.map(hourLabel),
      },
      { ...axis(), scale: 'sessions', size: 40 },
      { ...axis('right'), scale: 'minutes', size: 44 },
    ],
    series: [
      { label: 'Hour', value: (_u, hour) => (hour === null ? '–' : hourLabel(hour)) },
      {
        label: 'Sessions',
        value: (_u, v) => (v === null ? '–' : num(v)),
        scale: 'sessions',
        fill: COLORS.bars,
        stroke: COLORS.bars,
        points: { show: false },
        ...(bars && { paths: bars }),
      },
      {
        label: 'Minutes walked',
        value: (_u, v) => (v === null ? '–' : num(v)),
        scale: 'minutes',
        stroke: COLORS.minutes,
        width: 2.5,
        points: { show: false },
      },
    ],
  };
  box.setAttribute('aria-hidden', 'true');
  const chart = new uPlot(options, [[], [], []], box);
  const summary = h('p', { class: 'chart-summary', 'data-testid': 'utilisation-chart-summary' });
  box.after(summary);
  const stop = followWidth(chart, box, height);
  return {
    zone,
    update(byHour) {
      const shown = Array.from({ length: 24 }, (_, hour) => byHour[(((hour - shift) % 24) + 24) % 24]);
      const sessions = shown.map((cell) => cell?.sessions ?? null);
      chart.setData([shown.map((_, hour) => hour), sessions, shown.map((cell) => cell?.minutes ?? null)]);
      summary.textContent = hourSummary(sessions, zone);
    },
    destroy() {
      stop();
      chart.destroy();
    },
  };
}

/**
 * @typedef {{ week: string, members: number | null, sessions: number | null, backwardSharePct: number | null }} WeekPoint
 * @typedef {{ update(weeks: WeekPoint[]): void, destroy(): void }} WeeklyTrendChart
 */

/**
 * A researcher's trend by ISO week: members (bars) and sessions (line) on the left axis, the backward share
 * (line, %) on the right. A week the research rules leave out (or without data: the two look alike) is a gap
 * and "–", never a zero. Its text alternative is the table beside it (views/research.js), so the canvas is
 * hidden from screen readers.
 * @param {HTMLElement} box
 * @returns {WeeklyTrendChart}
 */
export function weeklyTrendChart(box) {
  const height = 220;
  /** @type {string[]} */
  let weeks = [];
  /** @param {uPlot} _u @param {number | null} v */
  const count = (_u, v) => (v === null ? '–' : num(v));
  const bars = uPlot.paths.bars?.({ size: [0.6, 40], radius: 0.2 });
  const dots = { show: true, size: 6 };
  /** @type {uPlot.Options} */
  const options = {
    width: Math.max(280, box.clientWidth),
    height,
    legend: { show: true, live: true },
    cursor: { drag: { x: false, y: false }, points: { show: false } },
    scales: {
      x: { time: false, range: (_u, min, max) => [(min ?? 0) - 0.6, (max ?? 0) + 0.6] },
      count: { range: (_u, _min, max) => [0, Math.max(10, Math.ceil((max ?? 0) * 1.15))] },
      share: { range: [0, 100] },
    },
    axes: [
      {
        ...axis(),
        grid: { show: false },
        // Whole weeks only; uPlot thins the labels (every 2nd, 4th week) to keep them apart.
        incrs: [1, 2, 4, 8],
        space: 48,
        values: (_u, splits) => splits.map((index) => weeks[index]?.slice(5) ?? ''),
      },
      { ...axis(), scale: 'count', size: 44 },
      { ...axis('right'), scale: 'share', size: 48, values: (_u, splits) => splits.map((v) => `${v}%`) },
    ],
    series: [
      { label: 'Week', value: (_u, index) => (index === null ? '–' : (weeks[index] ?? '')) },
      {
        label: 'Members',
        scale: 'count',
        fill: COLORS.bars,
        stroke: COLORS.bars,
        points: { show: false },
        value: count,
        ...(bars && { paths: bars }),
      },
      { label: 'Sessions', scale: 'count', stroke: COLORS.speed, width: 2, points: dots, value: count },
      {
        label: 'Backward share',
        scale: 'share',
        stroke: COLORS.backward,
        width: 2.5,
        points: dots,
        value: (_u, v) => (v === null ? '–' : `${num(v)}%`),
      },
    ],
  };
  box.setAttribute('aria-hidden', 'true');
  const chart = new uPlot(options, [[], [], [], []], box);
  const stop = followWidth(chart, box, height);
  return {
    update(points) {
      weeks = points.map((point) => point.week);
      chart.setData([
        points.map((_, index) => index),
        points.map((point) => point.members),
        points.map((point) => point.sessions),
        points.map((point) => point.backwardSharePct),
      ]);
    },
    destroy() {
      stop();
      chart.destroy();
    },
  };
}

/**
 * Date-axis labels for trends over days, in the dashboard's 24-hour, day-month style ("6 Dec", "14:00"), the
 * day (and year) under the first tick of each. Columns as in CLOCK_STAMPS.
 * @type {uPlot.Axis.Values}
 */
const DAY_STAMPS = [
  [86400, '{D} {MMM}', '\n{YYYY}', null, null, null, null, null, 1],
  [3600, '{HH}:{mm}', '\n{D} {MMM} {YYYY}', null, '\n{D} {MMM}', null, null, null, 1],
  [60, '{HH}:{mm}', '\n{D} {MMM} {YYYY}', null, '\n{D} {MMM}', null, null, null, 1],
];

/**
 * @typedef {{
 *   update(tsMs: number[], values: Array<number | null>, range: { from: number, to: number }): void,
 *   destroy(): void,
 * }} TrendChart
 */

/**
 * One value over days (a treadmill's motor temperature, belt hours): a line with dots, uPlot's date ticks, the
 * value under the cursor, the x axis spanning the range asked for (a single reading would otherwise be drawn
 * over years). The view writes its text alternative, so the canvas is hidden from screen readers.
 * @param {HTMLElement} box
 * @param {SeriesSpec} spec
 * @returns {TrendChart}
 */
export function trendChart(box, spec) {
  /** The range shown, in seconds. */
  let span = { from: 0, to: 1 };
  /** @type {uPlot.Options} */
  const options = {
    width: Math.max(280, box.clientWidth),
    height: spec.height,
    legend: { show: true, live: true },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true, range: () => [span.from, span.to] } },
    axes: [
      { ...axis(), space: TIME_TICK_SPACE, values: DAY_STAMPS },
      { ...axis(), size: 52 },
    ],
    series: [
      {
        label: 'Hour',
        value: (_u, s) =>
          s === null
            ? '–'
            : new Date(s * 1000).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' }),
      },
      {
        label: spec.title,
        stroke: spec.color,
        width: 2,
        points: { show: true, size: 4 },
        spanGaps: false,
        value: (_u, v) => (v === null ? '–' : `${num(v, spec.digits)} ${spec.unit}`),
      },
    ],
  };
  box.setAttribute('aria-hidden', 'true');
  const chart = new uPlot(options, [[], []], box);
  const stop = followWidth(chart, box, spec.height);
  return {
    update(tsMs, values, range) {
      span = { from: range.from / 1000, to: range.to / 1000 };
      chart.setData([tsMs.map((ts) => ts / 1000), values]);
    },
    destroy() {
      stop();
      chart.destroy();
    },
  };
}

export const CHART_COLORS = COLORS;
