/** One session: forward/backward split, calories with the model used, balance score with its components. */
import { get, seg } from '../api.js';
import { CHART_COLORS, timelineCharts } from '../charts.js';
import { h, ring } from '../dom.js';
import { calorieModel, dateTime, distance, duration, label, minutes, num } from '../format.js';

/**
 * @typedef {{ movingS: number, distanceM: number, meanSpeedKmh: number | null }} DirectionSummary
 * @typedef {{ name: string, value: number | null, subScore: number | null, weight: number, anchor: string }} Component
 * @typedef {{ score: number | null, direction: string, strides: number, components: Component[], missing: string[], baselineUsed: boolean }} BalanceScore
 */

const COMPONENT_LABELS = {
  stride_time_cv: 'Stride rhythm',
  step_width_cv: 'Step width',
  symmetry: 'Left/right symmetry',
  cop_sway: 'Sideways sway',
  handrail: 'Hands free',
  stumbles: 'No stumbles',
};

const ZONE_COLORS = ['#9fc5e8', '#6fb3a6', '#f2c94c', '#f2994a', '#e0565b'];

/** @param {string} title @param {...(Node | string | null)} children */
const card = (title, ...children) => h('section', { class: 'card' }, h('h2', {}, title), ...children);

/**
 * @param {'forward' | 'backward'} direction
 * @param {DirectionSummary} totals
 */
function directionColumn(direction, totals) {
  return h(
    'div',
    { class: direction, 'data-testid': `split-${direction}` },
    h('div', { class: 'label' }, label(direction)),
    h(
      'div',
      { class: 'value', 'data-testid': `split-${direction}-time`, 'data-value': totals.movingS },
      minutes(totals.movingS),
    ),
    h(
      'div',
      { class: 'muted', 'data-testid': `split-${direction}-distance`, 'data-value': totals.distanceM },
      distance(totals.distanceM),
    ),
    h(
      'div',
      { class: 'muted' },
      totals.meanSpeedKmh === null ? '' : `${num(totals.meanSpeedKmh, 1)} km/h on average`,
    ),
  );
}

/** @param {any} summary */
function splitCard(summary) {
  const { forward, backward, unknownDirection } = summary;
  const total = forward.movingS + backward.movingS + unknownDirection.movingS;
  const width = (/** @type {number} */ s) => `${total > 0 ? (s / total) * 100 : 0}%`;
  return card(
    'Forward / backward',
    h(
      'div',
      { class: 'split-bar', 'data-testid': 'split-bar' },
      h('div', { class: 'forward', style: { width: width(forward.movingS) } }),
      h('div', { class: 'backward', style: { width: width(backward.movingS) } }),
      h('div', { class: 'unknown', style: { width: width(unknownDirection.movingS) } }),
    ),
    h(
      'div',
      { class: 'split-legend' },
      directionColumn('forward', forward),
      directionColumn('backward', backward),
    ),
    // Below 0.1 min it would read "0.0 min".
    unknownDirection.movingS >= 6
      ? h('p', { class: 'muted' }, `${minutes(unknownDirection.movingS)} in an unknown direction`)
      : null,
  );
}

/** @param {any} calories */
function caloriesCard(calories) {
  const seconds = /** @type {Record<string, number>} */ (calories.modelSeconds);
  const total = Object.values(seconds).reduce((sum, s) => sum + s, 0);
  return card(
    'Calories',
    h(
      'div',
      { class: 'kpi' },
      h(
        'div',
        { class: 'value' },
        h('span', { 'data-testid': 'calories-kcal', 'data-value': calories.kcal }, num(calories.kcal)),
        h('small', {}, 'kcal'),
      ),
      h(
        'div',
        { class: 'note' },
        'Model: ',
        h(
          'strong',
          { 'data-testid': 'calories-model', 'data-value': calories.model },
          calorieModel(calories.model),
        ),
        ` · ${label(calories.confidence)} confidence · ${num(calories.met, 1)} MET`,
      ),
    ),
    total > 0 && Object.keys(seconds).length > 1
      ? h(
          'div',
          { class: 'components', style: { marginTop: '14px' } },
          Object.entries(seconds).map(([model, s]) =>
            h(
              'div',
              { class: 'component' },
              h('span', {}, calorieModel(model)),
              h(
                'div',
                { class: 'track' },
                h('div', { class: 'fill', style: { width: `${(s / total) * 100}%` } }),
              ),
              h('span', { class: 'num' }, `${num((s / total) * 100)}%`),
            ),
          ),
        )
      : null,
    calories.reasons.length > 0
      ? h(
          'p',
          { class: 'muted', style: { fontSize: '13px' } },
          `Notes: ${calories.reasons.map(label).join(', ')}`,
        )
      : null,
    calories.treadmillKcal === null
      ? null
      : h(
          'p',
          { class: 'muted', style: { fontSize: '13px' } },
          `The treadmill itself counted ${num(calories.treadmillKcal)} kcal.`,
        ),
  );
}

/** @param {any} balance */
function balanceCard(balance) {
  /** @type {BalanceScore} */
  const main = balance.direction === 'backward' ? balance.backward : balance.forward;
  const score = balance.score;
  return card(
    'Balance score',
    h(
      'div',
      { class: 'score-ring' },
      ring(
        score === null ? null : score / 100,
        score !== null && score < 50 ? CHART_COLORS.backward : '#14976f',
        72,
      ),
      h(
        'div',
        {},
        h(
          'div',
          { class: 'score', 'data-testid': 'balance-score', 'data-value': score ?? '' },
          score === null ? '–' : num(score),
        ),
        h(
          'div',
          { class: 'muted' },
          score === null
            ? 'Not enough strides for a score'
            : `${label(main.direction)} walking · ${num(main.strides)} strides${main.baselineUsed ? ' · against personal baseline' : ''}`,
        ),
      ),
    ),
    h(
      'div',
      { class: 'components', 'data-testid': 'balance-components' },
      main.components.map((component) => {
        const missing = component.subScore === null;
        return h(
          'div',
          {
            class: `component ${missing ? 'missing' : ''}`,
            'data-testid': 'balance-component',
            'data-name': component.name,
            'data-sub-score': component.subScore ?? '',
            'data-weight': component.weight,
            title: `${component.anchor}; weight ${num(component.weight * 100)}%`,
          },
          h(
            'span',
            {},
            COMPONENT_LABELS[/** @type {keyof typeof COMPONENT_LABELS} */ (component.name)] ??
              label(component.name),
          ),
          h(
            'div',
            { class: 'track' },
            h('div', { class: 'fill', style: { width: `${(component.subScore ?? 0) * 100}%` } }),
          ),
          h('span', { class: 'num' }, missing ? 'n/a' : num((component.subScore ?? 0) * 100)),
        );
      }),
    ),
  );
}

/** @param {any} heartRate */
function heartCard(heartRate) {
  /** @type {number[]} */
  const zones = heartRate.zonesS;
  const total = zones.reduce((sum, s) => sum + s, 0);
  return card(
    'Heart rate',
    h(
      'div',
      { class: 'kpi', style: { marginBottom: '12px' } },
      h(
        'div',
        { class: 'value' },
        num(heartRate.meanBpm),
        h('small', {}, `bpm mean · ${num(heartRate.maxBpm)} max`),
      ),
    ),
    total > 0
      ? h(
          'div',
          { class: 'components' },
          zones.map((s, index) =>
            h(
              'div',
              { class: 'component' },
              h('span', {}, `Zone ${index + 1}`),
              h(
                'div',
                { class: 'track' },
                h('div', {
                  class: 'fill',
                  style: { width: `${(s / total) * 100}%`, background: ZONE_COLORS[index] },
                }),
              ),
              h('span', { class: 'num' }, `${num(s / 60, s < 600 ? 1 : 0)}′`),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'No heart rate was recorded.'),
  );
}

/** @type {import('../app.js').MountView} */
export async function mountSession(root, { gym }, { sessionId = '' }) {
  const data = await get(`/gyms/${seg(gym)}/sessions/${seg(sessionId)}`);
  const { session, summary } = data;
  const chartsBox = h('div', {});
  const kpi = (/** @type {string} */ name, /** @type {string} */ value) =>
    h('div', { class: 'card kpi' }, h('div', { class: 'label' }, name), h('div', { class: 'value' }, value));
  root.append(
    h(
      'div',
      { class: 'stack', 'data-testid': 'session-view', 'data-session-id': session.sessionId },
      h(
        'div',
        {},
        h('a', { class: 'back', href: `#/g/${seg(gym)}/sessions` }, '← Sessions'),
        h(
          'div',
          { class: 'page-head' },
          h('h1', {}, `${session.treadmillId} · ${dateTime(session.startTs)}`),
          h(
            'span',
            { class: 'sub' },
            [
              session.program ? `${label(session.program)} program` : null,
              session.endReason ? `ended: ${label(session.endReason)}` : 'in progress',
            ]
              .filter(Boolean)
              .join(' · '),
          ),
        ),
      ),
      summary
        ? h(
            'div',
            { class: 'kpis', style: { marginBottom: '0' } },
            kpi('Duration', duration(summary.durationS)),
            kpi('Moving', minutes(summary.movingS)),
            kpi('Distance', distance(summary.distanceM)),
            kpi(
              'Backward share',
              summary.backwardShare === null ? '–' : `${num(summary.backwardShare * 100)}%`,
            ),
          )
        : h('div', { class: 'card empty' }, 'This session is still going: its summary comes when it ends.'),
      summary ? h('div', { class: 'grid-2' }, splitCard(summary), caloriesCard(summary.calories)) : null,
      summary
        ? h('div', { class: 'grid-2' }, balanceCard(summary.balance), heartCard(summary.heartRate))
        : null,
      h('section', { class: 'card' }, h('h2', {}, 'Timeline'), chartsBox),
    ),
  );
  const charts = timelineCharts(chartsBox);
  charts.update(data.timeline, session.startTs);

  return {
    // Only a session still going changes.
    refresh:
      session.status === 'active'
        ? async () => {
            const next = await get(`/gyms/${seg(gym)}/sessions/${seg(sessionId)}`);
            charts.update(next.timeline, session.startTs);
          }
        : undefined,
    unmount: charts.destroy,
  };
}
