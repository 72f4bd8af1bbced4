/**
 * Utilisation of a gym for its operators: the last 7 days, sessions and minutes by hour of day, backward share.
 * Researchers have their own page (research.js): whole weeks only, under the research export's rules.
 */
import { get, seg } from '../api.js';
import { CHART_COLORS, utilisationChart } from '../charts.js';
import { h, ring } from '../dom.js';
import { gymName, num } from '../format.js';

/** Rollups change when sessions end: no need to ask every poll. */
const REFRESH_MS = 30_000;

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

/** @type {import('../app.js').MountView} */
export async function mountUtilisation(root, { gym }) {
  root.append(
    h(
      'div',
      { class: 'page-head' },
      h('h1', {}, `${gymName(gym)} · utilisation`),
      h('span', { class: 'sub' }, 'Last 7 days'),
    ),
  );
  const panel = utilisationPanel(root, gym);
  await panel.refresh(true);
  return { refresh: () => panel.refresh(), unmount: panel.destroy };
}
