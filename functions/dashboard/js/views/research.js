/**
 * The researcher's page (docs/research-export.md): the privacy rules in plain words, the gym's last weeks that
 * have ended as a trend (a chart, and the same numbers as a table, its text alternative), and the research
 * export of the account's gyms, run through POST /api/exports, with its manifest and download links. Every
 * number comes from the API under the export's rules (docs/architecture.md section 8); the page checks
 * nothing itself beyond the bounds the API gives (GET /api/exports/rules) and shows the API's reasons.
 */
import { ApiFailure, get, post, seg } from '../api.js';
import { weeklyTrendChart } from '../charts.js';
import { h, reconcile } from '../dom.js';
import { clock, gymName, num } from '../format.js';

const TREND_WEEKS = 8;
/** The period offered first: the last weeks of the trend. */
const DEFAULT_EXPORT_WEEKS = 4;
/** A researcher's weeks change once a week, when one more has ended. */
const REFRESH_MS = 10 * 60_000;

const DIMENSION_LABELS = {
  week: 'Week',
  gym: 'Gym',
  direction: 'Direction',
  'age-band': 'Age band',
  sex: 'Sex',
};
const FORMAT_LABELS = { csv: 'CSV', parquet: 'Parquet' };

/**
 * @typedef {{ members: number, sessions: number, movingMin: number, movingMinMedian: number | null,
 *   distanceKm: number, backwardShare: number | null } | null} ResearchCell
 * @typedef {{ week: string, weekStart: string, lastDay: string, all: ResearchCell,
 *   byDirection: { forward: ResearchCell, backward: ResearchCell, unknown: ResearchCell } }} ResearchWeek
 * @typedef {{ gymId: string, minCell: number, privacy: string, weeks: ResearchWeek[] }} ResearchUtilisation
 * @typedef {keyof typeof DIMENSION_LABELS} Dimension
 * @typedef {{ dimensions: Dimension[], formats: Array<keyof typeof FORMAT_LABELS>,
 *   minCell: { default: number, smallest: number, largest: number } }} ExportRules
 * @typedef {{ week: string, lastDay: string, state: 'running' | 'not started' }} WeekNotEnded
 * @typedef {{ id: string, rows: number, weeks: string[], weeksNotEnded: WeekNotEnded[],
 *   suppressedCells: { cells: number, total: number, primary: number, complementary: number,
 *     reasons: { primary: string, complementary: string }, summary: string, advice: string | null },
 *   summary: string[], expiresAt: number, files: Array<{ name: string, url: string }> }} ResearchExport
 */

/** @param {ExportRules} rules */
function privacyRules(rules) {
  const k = rules.minCell;
  const rule = (/** @type {string} */ title, /** @type {string} */ text) =>
    h('li', {}, h('strong', {}, title), ` ${text}`);
  return h(
    'section',
    { class: 'card', 'data-testid': 'research-privacy', 'aria-labelledby': 'research-privacy-title' },
    h('h2', { id: 'research-privacy-title' }, 'What you see, and what is left out'),
    h(
      'ul',
      { class: 'rules' },
      rule(
        'No member-level data.',
        'Every number counts a group of members. No member, session or treadmill is named or numbered, ' +
          'there are no names or emails, ages come in 10-year bands and no date is finer than the week.',
      ),
      rule(
        'Small groups are left out (k-anonymity).',
        `A group with fewer than ${k.default} distinct members is not shown (k = ${k.default}; an export ` +
          `may raise k up to ${k.largest} or lower it, never below ${k.smallest}). A left-out group has no ` +
          'row, so it cannot be told from an empty one.',
      ),
      rule(
        'Groups that would give a small one away are left out too (complementary suppression).',
        'Totals are public, and a total minus the groups shown under it must not give a left-out group ' +
          'back, so another group of that line is left out with it. With two gyms, a small gym takes the ' +
          'other one with it.',
      ),
      rule(
        'Only whole weeks that have ended.',
        'Weeks are ISO weeks, Monday to Sunday, UTC; a week can be exported from the Monday after it. ' +
          'Weeks of your period that have not ended are left out, and named.',
      ),
      rule(
        'What the rules cannot stop.',
        'Exports of different periods can be subtracted (weeks 1-13 minus weeks 1-12 is week 13). Do not ' +
          'try to recover a left-out group, and report any disclosure you notice.',
      ),
    ),
  );
}

/** @param {ResearchCell} cell @param {(cell: NonNullable<ResearchCell>) => string} show */
const cellText = (cell, show) => (cell ? show(cell) : '–');

/** @param {number | null} share */
const percent = (share) => (share === null ? '–' : `${num(share * 100)}%`);

/** @param {ResearchWeek} week */
function weekRow(week) {
  const { all } = week;
  const td = (/** @type {string} */ text, /** @type {string} */ testId = '') =>
    h(
      'td',
      testId ? { 'data-testid': testId } : {},
      text === '–'
        ? h('span', { class: 'muted', title: 'left out by the research export rules, or no data' }, '–')
        : text,
    );
  return h(
    'tr',
    { 'data-testid': 'research-week', 'data-week': week.week, 'data-key': week.week },
    h('th', { scope: 'row' }, `${week.week} (${week.weekStart})`),
    td(
      cellText(all, (c) => num(c.members)),
      'research-members',
    ),
    td(cellText(all, (c) => num(c.sessions))),
    td(cellText(all, (c) => `${num(c.movingMin / 60, 1)} h`)),
    td(cellText(all, (c) => `${num(c.movingMinMedian, 1)} min`)),
    td(cellText(all, (c) => `${num(c.distanceKm, 1)} km`)),
    td(cellText(all, (c) => percent(c.backwardShare))),
    td(cellText(week.byDirection.backward, (c) => num(c.members))),
  );
}

/**
 * The trend: chart and table of the gym's last weeks that have ended.
 * @param {string} gym
 */
function trendCard(gym) {
  const rows = h('tbody', {});
  const box = h('div', { class: 'chart', 'data-testid': 'research-trend-chart' });
  const note = h('p', { class: 'muted', 'data-testid': 'research-trend-note' });
  const headers = [
    'Week',
    'Members',
    'Sessions',
    'Walking',
    'Median per member',
    'Distance',
    'Backward share',
    'Walked backwards (members)',
  ];
  const card = h(
    'section',
    { class: 'card', 'data-testid': 'research-trend', 'aria-labelledby': 'research-trend-title' },
    h(
      'h2',
      { id: 'research-trend-title' },
      `${gymName(gym)} by week · last ${TREND_WEEKS} weeks that have ended`,
    ),
    box,
    h(
      'div',
      { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': 'The weeks as a table' },
      h(
        'table',
        { class: 'trend-table', 'data-testid': 'research-weeks' },
        h(
          'caption',
          { class: 'visually-hidden' },
          'Aggregates by week, newest first; – means left out by the rules, or no data',
        ),
        h('thead', {}, h('tr', {}, ...headers.map((text) => h('th', { scope: 'col' }, text)))),
        rows,
      ),
    ),
    note,
  );
  return { card, box, rows, note };
}

/**
 * The export form: period in whole weeks, grouping, format, k; the answer as a manifest with links.
 * @param {ExportRules} rules
 * @param {{ from: string, to: string }} period
 */
function exportCard(rules, period) {
  const status = h('p', { class: 'muted', role: 'status', 'data-testid': 'export-status' });
  const outcome = h('div', { 'data-testid': 'export-outcome' });
  const field = (/** @type {string} */ text, /** @type {HTMLElement} */ control) =>
    h('label', { class: 'field' }, h('span', {}, text), control);
  const from = h('input', {
    type: 'week',
    name: 'from',
    required: true,
    value: period.from,
    'data-testid': 'export-from',
  });
  const to = h('input', {
    type: 'week',
    name: 'to',
    required: true,
    value: period.to,
    'data-testid': 'export-to',
  });
  const k = h('input', {
    type: 'number',
    name: 'minCell',
    required: true,
    step: '1',
    min: String(rules.minCell.smallest),
    max: String(rules.minCell.largest),
    value: String(rules.minCell.default),
    'data-testid': 'export-k',
  });
  const dimensions = rules.dimensions.map((dimension) =>
    h('input', {
      type: 'checkbox',
      name: 'by',
      value: dimension,
      checked: true,
      'data-testid': `export-by-${dimension}`,
    }),
  );
  const formats = rules.formats.map((format, index) =>
    h('input', {
      type: 'radio',
      name: 'format',
      value: format,
      checked: index === 0,
      'data-testid': `export-format-${format}`,
    }),
  );
  const run = h('button', { type: 'submit', 'data-testid': 'export-run' }, 'Export');
  const form = h(
    'form',
    { class: 'export-form', 'data-testid': 'export-form' },
    h(
      'fieldset',
      {},
      h('legend', {}, 'Period, in whole ISO weeks'),
      field('From week', from),
      field('To week', to),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Grouping (a dimension left out is summed over)'),
      ...dimensions.map((box) =>
        h('label', { class: 'choice' }, box, DIMENSION_LABELS[/** @type {Dimension} */ (box.value)]),
      ),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Format'),
      ...formats.map((radio) =>
        h(
          'label',
          { class: 'choice' },
          radio,
          FORMAT_LABELS[/** @type {keyof typeof FORMAT_LABELS} */ (radio.value)],
        ),
      ),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Smallest group shown'),
      field(`k, distinct members (${rules.minCell.smallest} to ${rules.minCell.largest})`, k),
    ),
    run,
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const query = new URLSearchParams({
      from: from.value,
      to: to.value,
      by: dimensions
        .filter((box) => box.checked)
        .map((box) => box.value)
        .join(','),
      format: formats.find((radio) => radio.checked)?.value ?? rules.formats[0] ?? 'csv',
      minCell: k.value,
    });
    run.disabled = true;
    status.textContent = 'Exporting…';
    try {
      const answer = /** @type {ResearchExport} */ (await post(`/exports?${query}`));
      outcome.replaceChildren(manifestView(answer));
      status.textContent = `Export ready: ${answer.summary[0] ?? ''}`;
    } catch (error) {
      outcome.replaceChildren(exportError(error));
      status.textContent = 'The export did not run.';
    } finally {
      run.disabled = false;
    }
  });

  return h(
    'section',
    { class: 'card', 'data-testid': 'research-export', 'aria-labelledby': 'research-export-title' },
    h('h2', { id: 'research-export-title' }, 'Export (all gyms of your account)'),
    form,
    status,
    outcome,
  );
}

/** @param {unknown} error */
function exportError(error) {
  const reasons = error instanceof ApiFailure && error.reasons.length > 0 ? error.reasons : null;
  return h(
    'div',
    { class: 'error-banner', 'data-testid': 'export-error' },
    error instanceof Error ? error.message : String(error),
    reasons ? h('ul', {}, ...reasons.map((reason) => h('li', {}, reason))) : null,
  );
}

/** What the export says about itself, as its manifest does, and its files. @param {ResearchExport} answer */
function manifestView(answer) {
  const cells = answer.suppressedCells;
  const first = answer.weeks[0];
  const last = answer.weeks.at(-1);
  /** @param {string} term @param {Node | string} description @param {string} testId @param {number | null} [value] */
  const entry = (term, description, testId, value = null) => [
    h('dt', {}, term),
    h('dd', { 'data-testid': testId, ...(value !== null && { 'data-value': value }) }, description),
  ];
  return h(
    'div',
    { class: 'export-result', 'data-testid': 'export-result', 'data-export-id': answer.id },
    h('h3', {}, 'Manifest'),
    h(
      'div',
      { class: 'export-summary', 'data-testid': 'export-summary' },
      ...answer.summary.map((line) => h('p', {}, line)),
    ),
    h(
      'dl',
      { class: 'manifest' },
      ...entry('Rows', num(answer.rows), 'export-rows', answer.rows),
      ...entry(
        'Weeks exported',
        first && last
          ? `${first === last ? first : `${first} to ${last}`} (${answer.weeks.length} weeks)`
          : 'none',
        'export-weeks',
      ),
      ...(answer.weeksNotEnded.length > 0
        ? entry(
            'Left out, not ended yet',
            h(
              'ul',
              {},
              ...answer.weeksNotEnded.map((week) =>
                h(
                  'li',
                  {},
                  `${week.week} ${week.state === 'running' ? 'is still running' : 'has not started'}; ` +
                    `exportable after Sunday ${week.lastDay}`,
                ),
              ),
            ),
            'export-not-ended',
          )
        : []),
      ...entry('Groups with data', num(cells.cells), 'suppressed-cells', cells.cells),
      ...entry(
        'Left out: too small',
        `${num(cells.primary)} (${cells.reasons.primary})`,
        'suppressed-primary',
        cells.primary,
      ),
      ...entry(
        'Left out: to protect another',
        `${num(cells.complementary)} (${cells.reasons.complementary})`,
        'suppressed-complementary',
        cells.complementary,
      ),
      ...(cells.advice === null ? [] : entry('What would publish something', cells.advice, 'export-advice')),
    ),
    h('h3', {}, 'Files'),
    h(
      'ul',
      { class: 'export-files' },
      ...answer.files.map((file) =>
        h('li', {}, h('a', { href: file.url, download: file.name, 'data-testid': 'export-file' }, file.name)),
      ),
    ),
    h(
      'p',
      { class: 'muted' },
      `The links work until ${clock(answer.expiresAt)}; export again for new ones. Keep the manifest with the data.`,
    ),
  );
}

/** @type {import('../app.js').MountView} */
export async function mountResearch(root, { gym }) {
  const [rules, first] = await Promise.all([
    /** @type {Promise<ExportRules>} */ (get('/exports/rules')),
    /** @type {Promise<ResearchUtilisation>} */ (
      get(`/gyms/${seg(gym)}/research/utilisation?weeks=${TREND_WEEKS}`)
    ),
  ]);
  const trend = trendCard(gym);
  const weeks = first.weeks;
  const period = {
    from: weeks[Math.max(0, weeks.length - DEFAULT_EXPORT_WEEKS)]?.week ?? '',
    to: weeks.at(-1)?.week ?? '',
  };
  root.append(
    h(
      'div',
      { class: 'research', 'data-testid': 'research-view' },
      h(
        'div',
        { class: 'page-head' },
        h('h1', {}, 'Research'),
        h('span', { class: 'sub' }, 'Aggregates only, by the research export rules'),
      ),
      trend.card,
      // The rules next to the export they govern.
      privacyRules(rules),
      exportCard(rules, period),
    ),
  );
  const chart = weeklyTrendChart(trend.box);

  /** @param {ResearchUtilisation} data */
  const show = (data) => {
    chart.update(
      data.weeks.map((week) => ({
        week: week.week,
        members: week.all?.members ?? null,
        sessions: week.all?.sessions ?? null,
        backwardSharePct: week.all?.backwardShare === null || !week.all ? null : week.all.backwardShare * 100,
      })),
    );
    // Newest first, as the other lists.
    reconcile(trend.rows, [...data.weeks].reverse().map(weekRow));
    trend.note.textContent = data.privacy;
  };
  show(first);
  let fetchedAt = Date.now();

  return {
    async refresh() {
      if (Date.now() - fetchedAt < REFRESH_MS) return;
      show(await get(`/gyms/${seg(gym)}/research/utilisation?weeks=${TREND_WEEKS}`));
      fetchedAt = Date.now();
    },
    unmount: () => chart.destroy(),
  };
}
