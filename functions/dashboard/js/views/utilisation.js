/**
 * Utilisation of a gym. Its operators: the last 7 days, sessions and minutes by hour of day, backward share.
 * Researchers: the last weeks that have ended, each as the research export of that week (the API's research
 * view: whole weeks, distinct members, small and complementary cells left out).
 */
import { get, seg } from '../api.js';
import { CHART_COLORS, utilisationChart } from '../charts.js';
import { h, ring } from '../dom.js';
import { gymName, num } from '../format.js';

/** Rollups change when sessions end: no need to ask every poll. */
const REFRESH_MS = 30_000;
/** A researcher's weeks change once a week, when one more has ended. */
const RESEARCH_REFRESH_MS = 10 * 60_000;
const RESEARCH_WEEKS = 8;

/**
 * @typedef {{ members: number, sessions: number, movingMin: number, movingMinMedian: number | null,
 *   distanceKm: number, backwardShare: number | null } | null} ResearchCell
 * @typedef {{ week: string, weekStart: string, lastDay: string, all: ResearchCell,
 *   byDirection: { forward: ResearchCell, backward: ResearchCell, unknown: ResearchCell } }} ResearchWeek
 * @typedef {{ gymId: string, minCell: number, privacy: string, weeks: ResearchWeek[] }} ResearchUtilisation
 */

/**
 * A card with KPIs and the hour-of-day chart.
 * @param {HTMLElement} container
 * @param {string} gym
 */
export function utilisationPanel(container, gym) {
  const kpis = h('div', { class: 'kpis' });
  const box = h('div', { class: 'chart', 'data-testid': 'utilisation-chart' });
  const chartTitle = h('div', { class: 'chart-title' });
  const card = h(
    'section',
    { class: 'card', 'data-testid': 'utilisation' },
    h('h2', {}, 'Utilisation · last 7 days'),
    kpis,
    chartTitle,
    box,
  );
  container.append(card);
  const chart = utilisationChart(box);
  chartTitle.replaceChildren(
    h('span', {}, `By hour of day (${chart.zone})`),
    h(
      'div',
      { class: 'legend' },
      h('span', { style: { '--swatch': CHART_COLORS.bars } }, 'sessions started'),
      h('span', { style: { '--swatch': CHART_COLORS.minutes } }, 'minutes walked'),
    ),
  );
  let fetchedAt = 0;

  const kpi = (
    /** @type {string} */ label,
    /** @type {Node | string} */ value,
    /** @type {string} */ testId,
    /** @type {string | null} */ note = null,
  ) =>
    h(
      'div',
      { class: 'kpi' },
      h('div', { class: 'label' }, label),
      h('div', { class: 'value', 'data-testid': testId }, value),
      note ? h('div', { class: 'note' }, note) : null,
    );

  return {
    async refresh(force = false) {
      if (!force && Date.now() - fetchedAt < REFRESH_MS) return;
      const data = await get(`/gyms/${seg(gym)}/utilisation?days=7`);
      fetchedAt = Date.now();
      const share = data.backwardShare;
      kpis.replaceChildren(
        kpi('Sessions', data.sessions === null ? '–' : num(data.sessions), 'utilisation-sessions'),
        kpi(
          'Walking',
          h('span', {}, data.movingMin === null ? '–' : num(data.movingMin / 60, 1), h('small', {}, 'h')),
          'utilisation-hours',
        ),
        h(
          'div',
          { class: 'kpi' },
          h('div', { class: 'label' }, 'Backward share'),
          h(
            'div',
            { class: 'score-ring', style: { marginBottom: '0' } },
            ring(share, CHART_COLORS.backward, 44),
            h(
              'div',
              { class: 'value', 'data-testid': 'utilisation-backward-share', 'data-value': share ?? '' },
              share === null ? '–' : `${num(share * 100)}%`,
            ),
          ),
        ),
      );
      chart.update(data.byHour);
    },
    destroy: () => chart.destroy(),
  };
}

/**
 * A researcher's table: one row per week that has ended; a cell the export leaves out shows as "–".
 * @param {HTMLElement} container
 * @param {string} gym
 */
export function researchUtilisationPanel(container, gym) {
  const rows = h('tbody', {});
  const note = h('p', { class: 'muted', 'data-testid': 'utilisation-suppressed' });
  const headers = ['Week', 'Members', 'Sessions', 'Walking', 'Median', 'Backward share', 'Walked backwards'];
  container.append(
    h(
      'section',
      { class: 'card', 'data-testid': 'utilisation' },
      h('h2', {}, `Utilisation · last ${RESEARCH_WEEKS} weeks that have ended`),
      h(
        'table',
        { class: 'list', 'data-testid': 'research-weeks' },
        h('thead', {}, h('tr', {}, ...headers.map((text) => h('th', {}, text)))),
        rows,
      ),
      note,
    ),
  );
  let fetchedAt = 0;
  const left = () => h('span', { class: 'muted', title: 'left out by the research export rules' }, '–');
  /** @param {ResearchCell} cell @param {(cell: NonNullable<ResearchCell>) => string} show */
  const value = (cell, show) => (cell ? show(cell) : left());

  return {
    async refresh(force = false) {
      if (!force && Date.now() - fetchedAt < RESEARCH_REFRESH_MS) return;
      const data = /** @type {ResearchUtilisation} */ (
        await get(`/gyms/${seg(gym)}/research/utilisation?weeks=${RESEARCH_WEEKS}`)
      );
      fetchedAt = Date.now();
      // Newest first, as the other lists.
      rows.replaceChildren(
        ...[...data.weeks].reverse().map((week) =>
          h(
            'tr',
            { 'data-testid': 'research-week', 'data-week': week.week },
            h('td', {}, `${week.week} (${week.weekStart})`),
            h(
              'td',
              {},
              value(week.all, (c) => num(c.members)),
            ),
            h(
              'td',
              {},
              value(week.all, (c) => num(c.sessions)),
            ),
            h(
              'td',
              {},
              value(week.all, (c) => `${num(c.movingMin / 60, 1)} h`),
            ),
            h(
              'td',
              {},
              value(week.all, (c) => `${num(c.movingMinMedian, 1)} min`),
            ),
            h(
              'td',
              {},
              value(week.all, (c) => (c.backwardShare === null ? '–' : `${num(c.backwardShare * 100)}%`)),
            ),
            h(
              'td',
              {},
              value(week.byDirection.backward, (c) => `${num(c.members)} members`),
            ),
          ),
        ),
      );
      note.textContent = data.privacy;
    },
  };
}

/** @type {import('../app.js').MountView} */
export async function mountUtilisation(root, { gym, me }) {
  const researcher = me.roles.includes('researcher');
  root.append(
    h(
      'div',
      { class: 'page-head' },
      h('h1', {}, `${gymName(gym)} · utilisation`),
      h(
        'span',
        { class: 'sub' },
        researcher ? 'Aggregates only, by the research export rules' : 'Last 7 days',
      ),
    ),
  );
  // An operator who opens this address gets their own gym's view; researchers never get day counts.
  if (researcher) {
    const panel = researchUtilisationPanel(root, gym);
    await panel.refresh(true);
    return { refresh: () => panel.refresh() };
  }
  const panel = utilisationPanel(root, gym);
  await panel.refresh(true);
  return { refresh: () => panel.refresh(), unmount: panel.destroy };
}
