/**
 * One session, everything its API view holds: forward and backward side by side (time, distance, speed and
 * each direction's balance score with strides and components: an interval session has both), calories with
 * the model used and its notes in plain words, elevation gain, stumbles, safety stops, the member's token,
 * heart rate and the timeline. An unknown session says so, with the way back.
 */
import { ApiFailure, get, seg } from '../api.js';
import { CHART_COLORS, timelineCharts } from '../charts.js';
import { h, ring } from '../dom.js';
import {
  calorieModel,
  calorieReason,
  dateTime,
  distance,
  duration,
  gymName,
  label,
  minutes,
  num,
} from '../format.js';

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
 * One direction's balance: its score, strides and components (data-main marks the session's headline one).
 * @param {BalanceScore} score
 * @param {boolean} main
 */
function balanceBlock(score, main) {
  const value = score.score;
  return h(
    'div',
    {
      class: 'direction-balance',
      'data-testid': `balance-${score.direction}`,
      'data-main': main ? 'true' : 'false',
    },
    h(
      'div',
      { class: 'score-ring' },
      ring(
        value === null ? null : value / 100,
        value !== null && value < 50 ? CHART_COLORS.backward : '#14976f',
        56,
      ),
      h(
        'div',
        {},
        h(
          'div',
          { class: 'score', 'data-testid': `balance-${score.direction}-score`, 'data-value': value ?? '' },
          value === null ? '–' : num(value, 1),
          h('span', { class: 'visually-hidden' }, ' out of 100'),
        ),
        h(
          'div',
          {
            class: 'muted',
            'data-testid': `balance-${score.direction}-strides`,
            'data-value': score.strides,
          },
          `Balance · ${num(score.strides)} strides${score.baselineUsed ? ' · against personal baseline' : ''}`,
          value === null ? ' · not enough for a score' : '',
        ),
      ),
    ),
    score.components.length > 0
      ? h(
          'div',
          { class: 'components', 'data-testid': `balance-${score.direction}-components` },
          score.components.map((component) => {
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
                { class: 'track', 'aria-hidden': 'true' },
                h('div', { class: 'fill', style: { width: `${(component.subScore ?? 0) * 100}%` } }),
              ),
              h('span', { class: 'num' }, missing ? 'n/a' : num((component.subScore ?? 0) * 100)),
            );
          }),
        )
      : null,
  );
}

/**
 * @param {'forward' | 'backward'} direction
 * @param {DirectionSummary} totals
 * @param {BalanceScore} balance
 * @param {boolean} main
 */
function directionColumn(direction, totals, balance, main) {
  return h(
    'div',
    { class: `direction-column ${direction}`, 'data-testid': `split-${direction}` },
    h('h3', { class: 'label' }, `${label(direction)} walking`),
    h(
      'div',
      { class: 'value', 'data-testid': `split-${direction}-time`, 'data-value': totals.movingS },
      minutes(totals.movingS),
    ),
    h(
      'div',
      { 'data-testid': `split-${direction}-distance`, 'data-value': totals.distanceM },
      distance(totals.distanceM),
    ),
    h(
      'div',
      { 'data-testid': `split-${direction}-speed`, 'data-value': totals.meanSpeedKmh ?? '' },
      totals.meanSpeedKmh === null ? 'No mean speed' : `${num(totals.meanSpeedKmh, 1)} km/h on average`,
    ),
    balanceBlock(balance, main),
  );
}

/** @param {any} summary */
function splitCard(summary) {
  const { forward, backward, unknownDirection, balance } = summary;
  const total = forward.movingS + backward.movingS + unknownDirection.movingS;
  const width = (/** @type {number} */ s) => `${total > 0 ? (s / total) * 100 : 0}%`;
  return card(
    'Forward and backward',
    h(
      'div',
      { class: 'split-bar', 'data-testid': 'split-bar', 'aria-hidden': 'true' },
      h('div', { class: 'forward', style: { width: width(forward.movingS) } }),
      h('div', { class: 'backward', style: { width: width(backward.movingS) } }),
      h('div', { class: 'unknown', style: { width: width(unknownDirection.movingS) } }),
    ),
    h(
      'div',
      { class: 'split-legend' },
      directionColumn('forward', forward, balance.forward, balance.direction === 'forward'),
      directionColumn('backward', backward, balance.backward, balance.direction === 'backward'),
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
          'div',
          { class: 'notes' },
          h('h3', {}, 'Notes on this estimate'),
          h(
            'ul',
            { 'data-testid': 'calorie-notes' },
            calories.reasons.map((/** @type {string} */ code) =>
              h('li', { 'data-reason': code }, calorieReason(code)),
            ),
          ),
        )
      : null,
    calories.treadmillKcal === null
      ? null
      : h('p', { class: 'note' }, `The treadmill itself counted ${num(calories.treadmillKcal)} kcal.`),
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

/** @param {string} gym @param {string} sessionId */
const notFound = (gym, sessionId) =>
  h(
    'div',
    { class: 'stack', 'data-testid': 'session-not-found' },
    h('div', { class: 'page-head' }, h('h1', {}, 'Session not found')),
    h(
      'section',
      { class: 'card' },
      h(
        'p',
        {},
        `${gymName(gym)} has no session “${sessionId}”. The link may be mistyped or from another gym.`,
      ),
      h(
        'a',
        { class: 'button-link', href: `#/g/${seg(gym)}/sessions`, 'data-testid': 'session-back' },
        '← Back to sessions',
      ),
    ),
  );

/**
 * @param {string} name
 * @param {Node | string} value
 * @param {string} [unit] shown small after the value
 */
const kpi = (name, value, unit) =>
  h(
    'div',
    { class: 'card kpi' },
    h('div', { class: 'label' }, name),
    h('div', { class: 'value' }, value, unit ? h('small', {}, unit) : null),
  );

/** @param {any} summary */
const kpis = (summary) =>
  h(
    'div',
    { class: 'kpis compact', 'data-testid': 'session-kpis' },
    kpi('Duration', duration(summary.durationS)),
    kpi('Moving', minutes(summary.movingS)),
    kpi('Distance', distance(summary.distanceM)),
    kpi('Backward share', summary.backwardShare === null ? '–' : `${num(summary.backwardShare * 100)}%`),
    kpi(
      'Balance score',
      h(
        'span',
        { 'data-testid': 'balance-score', 'data-value': summary.balance.score ?? '' },
        summary.balance.score === null ? '–' : num(summary.balance.score),
      ),
      summary.balance.direction ? `/100 ${summary.balance.direction}` : undefined,
    ),
    kpi(
      'Elevation gain',
      h(
        'span',
        { 'data-testid': 'elevation-gain', 'data-value': summary.elevationGainM },
        num(summary.elevationGainM, 1),
      ),
      'm',
    ),
    kpi(
      'Stumbles',
      h('span', { 'data-testid': 'stumbles', 'data-value': summary.stumbles }, num(summary.stumbles)),
    ),
    kpi(
      'Safety stops',
      h(
        'span',
        { 'data-testid': 'safety-stops', 'data-value': summary.safetyStops },
        num(summary.safetyStops),
      ),
    ),
  );

/** @type {import('../app.js').MountView} */
export async function mountSession(root, { gym }, { sessionId = '' }) {
  let data;
  try {
    data = await get(`/gyms/${seg(gym)}/sessions/${seg(sessionId)}`);
  } catch (error) {
    if (!(error instanceof ApiFailure && error.status === 404)) throw error;
    root.append(notFound(gym, sessionId));
    return {};
  }
  const { session, summary } = data;
  const member = summary?.userToken ?? session.userToken ?? null;
  const chartsBox = h('div', {});
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
            h(
              'span',
              { 'data-testid': 'session-member', 'data-value': member ?? '' },
              member ? `Member ${member}` : 'No member signed in',
            ),
            [
              session.program ? `${label(session.program)} program` : null,
              session.endReason ? `ended: ${label(session.endReason)}` : 'in progress',
            ]
              .filter(Boolean)
              .map((part) => ` · ${part}`)
              .join(''),
          ),
        ),
      ),
      summary
        ? kpis(summary)
        : h('div', { class: 'card empty' }, 'This session is still going: its summary comes when it ends.'),
      summary ? splitCard(summary) : null,
      summary
        ? h('div', { class: 'grid-2' }, caloriesCard(summary.calories), heartCard(summary.heartRate))
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
