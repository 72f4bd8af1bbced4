import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvField, parseCsv, toCsv } from '../../shared/src/csv.js';
import { buildManifest, exportReport, suppressionSummary } from '../../shared/src/export/manifest.js';
import { interquartileRange, median, quantile } from '../../shared/src/export/quantiles.js';
import {
  buildCube,
  describeNotEnded,
  EXPORT_DIMENSIONS,
  type ExportDimension,
  type ExportQuery,
  exportPeriod,
  exportQueryProblems,
  exportTable,
  exportWeeks,
  LARGEST_MIN_CELL,
} from '../../shared/src/export/research-export.js';
import { isIsoWeek, weekStart } from '../../shared/src/iso-week.js';
import { cubeCellId, type CubeKey, suppressCube } from '../../shared/src/export/suppression.js';
import type { DirectionWeek, MemberGymWeekRollup } from '../../shared/src/metrics/rollups.js';

const direction = (minutes: number, scored = 0): DirectionWeek => ({
  sessions: minutes > 0 ? 1 : 0,
  minutes,
  distanceM: minutes * 60,
  kcal: minutes * 4,
  balance: { scored, sum: scored * 80 },
});

function rollup(
  member: string,
  week: string,
  gymId: string,
  fwd: number,
  bwd: number,
  traits: { ageBand: string | null; sex: 'male' | 'female' | null } = { ageBand: '30-39', sex: 'female' },
): MemberGymWeekRollup {
  return {
    week,
    gymId,
    memberKey: member,
    sessions: 1,
    movingMin: fwd + bwd,
    distanceM: (fwd + bwd) * 60,
    kcal: (fwd + bwd) * 4,
    balance: { scored: 1, sum: 80 },
    directions: { forward: direction(fwd, fwd > 0 ? 1 : 0), backward: direction(bwd), unknown: direction(0) },
    ...traits,
  };
}

describe('CSV', () => {
  it('quotes commas, quotes, line breaks and edge spaces, and leaves plain fields bare', () => {
    expect(csvField('gym-a')).toBe('gym-a');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(' padded')).toBe('" padded"');
    expect(csvField(null)).toBe('');
    expect(csvField(12.5)).toBe('12.5');
    expect(toCsv(['a', 'b'], [[1, null]])).toBe('a,b\r\n1,\r\n');
  });

  it('reads back whatever it writes', () => {
    const text = fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', '\r', ' ', 'é', 'x') });
    fc.assert(
      fc.property(
        fc.array(fc.array(text, { minLength: 2, maxLength: 2 }), { minLength: 1, maxLength: 5 }),
        (rows) => {
          const parsed = parseCsv(toCsv(['h1', 'h2'], rows));
          // A row of two empty fields is a line of one comma: still a record.
          expect(parsed.map((r) => r.fields)).toEqual([['h1', 'h2'], ...rows]);
        },
      ),
    );
  });

  it('reports the line a record starts on, and what cannot be read', () => {
    const records = parseCsv('a,b\n"multi\nline",x\n\nlast,row\n');
    expect(records.map((r) => r.line)).toEqual([1, 2, 5]);
    expect(() => parseCsv('a,b\n"open,x\n')).toThrow(/line 2: a quoted field is never closed/);
    expect(() => parseCsv('"a"b,c\n')).toThrow(/line 1: text after a closing quote/);
  });
});

describe('quantiles (R type 7)', () => {
  it('interpolates between order statistics', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([1, 2, 3, 4])).toBe(2.5);
    expect(quantile([1, 2, 3, 4, 5], 0.25)).toBe(2);
    expect(interquartileRange([1, 2, 3, 4, 5, 6, 7, 8])).toBeCloseTo(3.5, 10);
    expect(median([])).toBeNull();
  });
});

/** Wednesday 2 December 2026, noon UTC: 2026-W49 (Monday 30 November to Sunday 6 December) is running. */
const IN_W49 = Date.UTC(2026, 11, 2, 12);
const LONG_AGO = Date.UTC(2030, 0, 1);

describe('export period and query', () => {
  it('covers the ISO weeks whose Thursday falls in the range', () => {
    const weeks = exportWeeks('2026-01-01', '2026-03-31');
    expect(weeks[0]).toBe('2026-W01'); // Thursday 1 January
    expect(weeks.at(-1)).toBe('2026-W13'); // W14's Thursday is 2 April
    expect(weeks).toHaveLength(13);
    expect(exportWeeks('2026-01-05', '2026-01-07')).toEqual([]); // Monday to Wednesday: no Thursday
    expect(weekStart('2026-W01')).toBe('2025-12-29');
    expect(isIsoWeek('2026-W53')).toBe(true); // 2026 has 53 weeks
    expect(isIsoWeek('2025-W53')).toBe(false);
  });

  it('explains what is wrong with a query', () => {
    expect(
      exportQueryProblems(
        {
          from: '2026-02-30',
          to: '2026-01-01',
          by: ['gym', 'hour' as ExportDimension],
          minCell: 2,
        },
        LONG_AGO,
      ),
    ).toEqual([
      'from must be a day yyyy-mm-dd or an ISO week yyyy-Www, got "2026-02-30"',
      'by: unknown hour (choose from week, gym, direction, age-band, sex)',
      'min-cell must be a whole number from 5 to 1000',
    ]);
    expect(
      exportQueryProblems({ from: '2026-01-01', to: '2026-03-31', by: ['gym'], minCell: 11 }, LONG_AGO),
    ).toEqual([]);
  });

  it('bounds k on both sides', () => {
    const withK = (minCell: number): ExportQuery => ({
      from: '2026-01-01',
      to: '2026-03-31',
      by: [],
      minCell,
    });
    expect(exportQueryProblems(withK(LARGEST_MIN_CELL), LONG_AGO)).toEqual([]);
    expect(exportQueryProblems(withK(LARGEST_MIN_CELL + 1), LONG_AGO)).toEqual([
      'min-cell must be a whole number from 5 to 1000',
    ]);
  });

  it('takes an ISO week for either end of the range: from its Monday, to its Sunday', () => {
    expect(exportWeeks('2026-W10', '2026-W11')).toEqual(['2026-W10', '2026-W11']);
    expect(exportWeeks('2026-W53', '2027-W01')).toEqual(['2026-W53', '2027-W01']);
    // Weeks and days mix: a week ends the range on its Sunday.
    expect(exportWeeks('2026-03-02', '2026-W10')).toEqual(['2026-W10']);
    expect(exportPeriod('2026-W48', '2026-W50', IN_W49)).toEqual({
      weeks: ['2026-W48'],
      notEnded: [
        { week: '2026-W49', lastDay: '2026-12-06', state: 'running' },
        { week: '2026-W50', lastDay: '2026-12-13', state: 'not started' },
      ],
    });
    expect(exportQueryProblems({ from: '2025-W53', to: '2026-W1', by: [], minCell: 11 }, LONG_AGO)).toEqual([
      'from must be a day yyyy-mm-dd or an ISO week yyyy-Www, got "2025-W53"',
      'to must be a day yyyy-mm-dd or an ISO week yyyy-Www, got "2026-W1"',
    ]);
  });

  it('exports only the weeks that have ended, and says when the others will be exportable', () => {
    const period = exportPeriod('2026-11-01', '2026-12-31', IN_W49);
    expect(period.weeks).toEqual(['2026-W45', '2026-W46', '2026-W47', '2026-W48']);
    expect(period.notEnded).toEqual([
      { week: '2026-W49', lastDay: '2026-12-06', state: 'running' },
      { week: '2026-W50', lastDay: '2026-12-13', state: 'not started' },
      { week: '2026-W51', lastDay: '2026-12-20', state: 'not started' },
      { week: '2026-W52', lastDay: '2026-12-27', state: 'not started' },
      { week: '2026-W53', lastDay: '2027-01-03', state: 'not started' },
    ]);
    expect(describeNotEnded(period.notEnded)).toBe(
      '2026-W49 is still running; it will be exportable after Sunday 2026-12-06; ' +
        '2026-W50 to 2026-W53 have not started yet',
    );
    expect(describeNotEnded(exportPeriod('2026-12-07', '2026-12-13', IN_W49).notEnded)).toBe(
      '2026-W50 has not started yet; it will be exportable after Sunday 2026-12-13',
    );
    expect(describeNotEnded([])).toBeNull();
  });

  it('counts a week as ended from the Monday after it, 00:00 UTC', () => {
    const sundayLate = Date.UTC(2026, 11, 6, 23, 59, 59, 999);
    expect(exportPeriod('2026-11-30', '2026-12-06', sundayLate)).toMatchObject({
      weeks: [],
      notEnded: [{ week: '2026-W49', state: 'running' }],
    });
    expect(exportPeriod('2026-11-30', '2026-12-06', sundayLate + 1)).toEqual({
      weeks: ['2026-W49'],
      notEnded: [],
    });
  });

  it('refuses a range in which no week has ended yet, in one line', () => {
    const query = (from: string, to: string): ExportQuery => ({ from, to, by: ['week'], minCell: 11 });
    expect(exportQueryProblems(query('2026-12-01', '2026-12-06'), IN_W49)).toEqual([
      'no week from 2026-12-01 to 2026-12-06 has ended yet: 2026-W49 is still running; it will be exportable after Sunday 2026-12-06',
    ]);
    expect(exportQueryProblems(query('2027-01-04', '2027-01-31'), IN_W49)).toEqual([
      'no week from 2027-01-04 to 2027-01-31 has ended yet: 2027-W01 to 2027-W04 have not started yet; the first will be exportable after Sunday 2027-01-10',
    ]);
    // Some weeks have ended: those are exported, the rest is reported, not refused.
    expect(exportQueryProblems(query('2026-11-01', '2026-12-31'), IN_W49)).toEqual([]);
    // No Thursday in the range: no week at all, an empty export as before.
    expect(exportQueryProblems(query('2026-11-30', '2026-12-02'), IN_W49)).toEqual([]);
  });
});

describe('export table', () => {
  const members = (prefix: string, n: number, gymId: string, fwd: number, bwd: number) =>
    Array.from({ length: n }, (_, i) => rollup(`${prefix}${i}`, '2026-W10', gymId, fwd + i, bwd));

  it('counts distinct members and takes medians over their own totals', () => {
    const table = exportTable(buildCube(members('a', 12, 'gym-a', 10, 5)), ['gym'], 11);
    expect(table.columns.map((c) => c.name)).toEqual([
      'gym',
      'members',
      'sessions',
      'minutes_total',
      'minutes_median',
      'distance_km',
      'kcal_median',
      'kcal_iqr',
      'balance_median',
      'balance_iqr',
      'balance_members',
      'balance_scored_sessions',
      'backward_share',
    ]);
    const [row] = table.rows;
    // Members walked 15..26 minutes: sum 246, median 20.5; 4 kcal a minute.
    expect(row).toEqual(['gym-a', 12, 12, 246, 20.5, 14.76, 82, 22, 80, 0, 12, 12, 0.244]);
  });

  it('splits by direction with a session counted in each direction it walked', () => {
    const table = exportTable(buildCube(members('a', 12, 'gym-a', 10, 5)), ['week', 'direction'], 11);
    expect(table.columns.slice(0, 3).map((c) => c.name)).toEqual(['week', 'week_start', 'direction']);
    expect(table.rows.map((r) => [r[2], r[3], r[4], r[5]])).toEqual([
      ['forward', 12, 12, 186],
      ['backward', 12, 12, 60],
    ]);
  });

  it('suppresses a small cell and, so that the total cannot give it back, its smallest neighbour', () => {
    const rollups = [
      ...members('f', 20, 'gym-a', 10, 0).map((r) => ({ ...r, sex: 'female' as const })),
      ...members('m', 14, 'gym-a', 10, 0).map((r) => ({ ...r, sex: 'male' as const })),
      ...members('u', 3, 'gym-a', 10, 0).map((r) => ({ ...r, sex: null })),
    ];
    const table = exportTable(buildCube(rollups), ['sex'], 11);
    expect(table.rows.map((r) => r[0])).toEqual(['female']);
    expect(table.suppressed).toEqual({ primary: 1, complementary: 1 });
    const total = exportTable(buildCube(rollups), [], 11);
    expect(total.rows[0]![0]).toBe(37);
  });

  it('publishes no balance median when fewer than k members have a score', () => {
    const rollups = members('a', 12, 'gym-a', 10, 0).map((r, i) =>
      i < 5 ? r : { ...r, balance: { scored: 0, sum: 0 } },
    );
    const [row] = exportTable(buildCube(rollups), [], 11).rows;
    expect(row!.slice(7, 11)).toEqual([null, null, 5, 5]);
  });

  it('is empty, with its header, for a period without data', () => {
    const table = exportTable(buildCube([]), ['week', 'gym'], 11);
    expect(table.rows).toEqual([]);
    expect(
      parseCsv(
        toCsv(
          table.columns.map((c) => c.name),
          table.rows,
        ),
      ),
    ).toHaveLength(1);
  });

  it('holds no member key or session id', () => {
    const table = exportTable(
      buildCube(members('secret-token-', 12, 'gym-a', 10, 5)),
      [...EXPORT_DIMENSIONS],
      11,
    );
    expect(JSON.stringify(table)).not.toMatch(/secret-token|W10-/);
  });
});

describe('what the export says about itself', () => {
  const members = (prefix: string, n: number, traits: Parameters<typeof rollup>[5]) =>
    Array.from({ length: n }, (_, i) => rollup(`${prefix}${i}`, '2026-W10', 'gym-a', 10 + i, 0, traits));
  const bySex = [
    ...members('f', 20, { ageBand: '30-39', sex: 'female' }),
    ...members('m', 14, { ageBand: '30-39', sex: 'male' }),
    ...members('u', 3, { ageBand: '30-39', sex: null }),
  ];
  const manifestOf = (
    query: ExportQuery,
    rollups: MemberGymWeekRollup[],
    notEnded = exportPeriod('2026-03-02', '2026-03-08', LONG_AGO).notEnded,
  ) =>
    buildManifest({
      query,
      format: 'csv',
      weeks: ['2026-W10'],
      notEnded,
      table: exportTable(buildCube(rollups), query.by, query.minCell),
      files: [],
      software: { name: 'retrostride', version: '0.0.0' },
      generatedAt: '2026-12-02T12:00:00.000Z',
    });

  it('counts the suppressed cells by reason, in numbers and in words', () => {
    const query: ExportQuery = { from: '2026-03-02', to: '2026-03-08', by: ['sex'], minCell: 11 };
    const table = exportTable(buildCube(bySex), query.by, query.minCell);
    expect(suppressionSummary(table, query)).toEqual({
      cells: 3,
      total: 2,
      primary: 1,
      complementary: 1,
      reasons: {
        primary: 'fewer than k = 11 distinct members',
        complementary:
          'complementary suppression: left out to protect another suppressed cell, so that no total minus the published cells gives it back',
      },
      summary:
        '2 of 3 cells suppressed: 1 below k (fewer than 11 distinct members), 1 by complementary suppression (to protect another cell)',
      advice: null,
    });
    const manifest = manifestOf(query, bySex);
    expect(manifest.privacy.suppressedCells).toEqual(suppressionSummary(table, query));
    expect(exportReport(manifest)).toEqual([
      '1 row over 1 week (2026-03-02 to 2026-03-08)',
      '2 of 3 cells suppressed: 1 below k (fewer than 11 distinct members), 1 by complementary suppression (to protect another cell)',
    ]);
  });

  it('says so when every cell is suppressed, and what to change', () => {
    const query: ExportQuery = { from: '2026-03-02', to: '2026-03-08', by: ['sex', 'age-band'], minCell: 25 };
    const summary = manifestOf(query, bySex).privacy.suppressedCells;
    expect(summary).toMatchObject({ cells: 3, total: 3, primary: 3, complementary: 0 });
    expect(summary.summary).toBe(
      'All 3 cells suppressed: 3 below k (fewer than 25 distinct members), 0 by complementary suppression (to protect another cell); nothing is published',
    );
    expect(summary.advice).toBe(
      'To publish something: drop sex from the grouping, lower k (min-cell, not below 5), or cover a longer period',
    );
    // At the smallest k already, and grouped by nothing: only a longer period is left to suggest.
    const atFloor = manifestOf({ ...query, by: [], minCell: 5 }, bySex.slice(0, 4)).privacy.suppressedCells;
    expect(atFloor.advice).toBe('To publish something: cover a longer period');
  });

  it('advises from the data: with one small gym of two, only dropping gym publishes anything', () => {
    const twoGyms = [
      ...Array.from({ length: 24 }, (_, i) => rollup(`a${i}`, '2026-W10', 'gym-a', 10, 5)),
      ...Array.from({ length: 8 }, (_, i) => rollup(`b${i}`, '2026-W10', 'gym-b', 10, 5)),
    ];
    const query: ExportQuery = {
      from: '2026-03-02',
      to: '2026-03-08',
      by: ['week', 'gym', 'direction'],
      minCell: 11,
    };
    const table = exportTable(buildCube(twoGyms), query.by, query.minCell);
    // gym-b is below k, so gym-a goes too: the week's total minus gym-a would give gym-b back.
    expect(table.rows).toEqual([]);
    expect(table.remedies).toEqual({ withoutDimension: ['gym'], smallestK: true });
    expect(suppressionSummary(table, query).advice).toBe(
      'To publish something: drop gym from the grouping, lower k (min-cell, not below 5), or cover a longer period',
    );
    const tiny = exportTable(buildCube(twoGyms.slice(24, 27)), query.by, query.minCell);
    expect(suppressionSummary(tiny, query).advice).toBe(
      'To publish something: cover a longer period; dropping one dimension from the grouping or k = 5 would still publish nothing for these weeks',
    );
  });

  it('says when nothing was suppressed, and when there was no data at all', () => {
    const query: ExportQuery = { from: '2026-03-02', to: '2026-03-08', by: [], minCell: 11 };
    expect(manifestOf(query, bySex).privacy.suppressedCells.summary).toBe(
      'No cell suppressed: the 1 cell has at least 11 distinct members',
    );
    expect(manifestOf(query, []).privacy.suppressedCells.summary).toBe(
      'No cell to publish or suppress: no data in these weeks',
    );
  });

  it('records the weeks left out because they have not ended', () => {
    const query: ExportQuery = { from: '2026-11-01', to: '2026-12-31', by: ['week'], minCell: 11 };
    const period = exportPeriod(query.from, query.to, IN_W49);
    const manifest = buildManifest({
      query,
      format: 'csv',
      weeks: period.weeks,
      notEnded: period.notEnded,
      table: exportTable(buildCube([]), query.by, query.minCell),
      files: [],
      software: { name: 'retrostride', version: '0.0.0' },
      generatedAt: new Date(IN_W49).toISOString(),
    });
    expect(manifest.period).toMatchObject({
      weeks: ['2026-W45', '2026-W46', '2026-W47', '2026-W48'],
      firstDay: '2026-11-02',
      lastDay: '2026-11-29',
      notEnded: period.notEnded,
    });
    expect(exportReport(manifest)).toEqual([
      '0 rows over 4 weeks (2026-11-02 to 2026-11-29)',
      'Not exported, not ended yet: 2026-W49 is still running; it will be exportable after Sunday 2026-12-06; 2026-W50 to 2026-W53 have not started yet',
      'No cell to publish or suppress: no data in these weeks',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Privacy properties over random data

const rollupArbitrary = fc.record({
  member: fc.integer({ min: 1, max: 60 }),
  week: fc.constantFrom('2026-W10', '2026-W11', '2026-W12'),
  gymId: fc.constantFrom('gym-a', 'gym-b'),
  fwd: fc.constantFrom(0, 5, 12, 30),
  bwd: fc.constantFrom(0, 4, 10),
  ageBand: fc.constantFrom('20-29', '30-39', '60-69', null),
  sex: fc.constantFrom('female' as const, 'male' as const, null),
});

type RollupDraft = typeof rollupArbitrary extends fc.Arbitrary<infer T> ? T : never;

/** Unique per member, week and gym (as the rollups are); a member keeps one age band and sex. */
function rollupsOf(drafts: Array<RollupDraft>): MemberGymWeekRollup[] {
  const byKey = new Map<string, MemberGymWeekRollup>();
  const traits = new Map<number, { ageBand: string | null; sex: 'male' | 'female' | null }>();
  for (const d of drafts) {
    if (d.fwd + d.bwd === 0) continue;
    if (!traits.has(d.member)) traits.set(d.member, { ageBand: d.ageBand, sex: d.sex });
    byKey.set(
      `${d.member}|${d.week}|${d.gymId}`,
      rollup(`m${d.member}`, d.week, d.gymId, d.fwd, d.bwd, traits.get(d.member)),
    );
  }
  return [...byKey.values()];
}

/** Every total of the cube with the cells one dimension below it (a line), by the test's own reckoning. */
function linesOf(keys: readonly CubeKey[]): Array<{ parent: string; children: string[] }> {
  const lines = new Map<string, { parent: string; children: string[] }>();
  for (const key of keys) {
    key.forEach((value, d) => {
      if (value === null) return;
      const parent = cubeCellId(key.map((v, i) => (i === d ? null : v)));
      const id = `${d}|${parent}`;
      const line = lines.get(id) ?? { parent, children: [] };
      line.children.push(cubeCellId(key));
      lines.set(id, line);
    });
  }
  return [...lines.values()];
}

describe('small-cell suppression (property)', () => {
  const k = fc.integer({ min: 5, max: 15 });
  const data = fc.array(rollupArbitrary, { minLength: 0, maxLength: 250 });

  it('never publishes a cell with fewer than k members, and no total minus published cells isolates a suppressed one', () => {
    fc.assert(
      fc.property(data, k, (drafts, minCell) => {
        const cube = buildCube(rollupsOf(drafts));
        const cells = [...cube.values()].map((c) => ({ key: c.key, members: c.members.size }));
        const suppressed = suppressCube(cells, minCell);
        for (const cell of cells)
          if (cell.members < minCell) expect(suppressed.get(cubeCellId(cell.key))).toBe('primary');
        for (const line of linesOf(cells.map((c) => c.key))) {
          const hidden = [line.parent, ...line.children].filter((id) => suppressed.has(id));
          // One hidden cell in a line is recovered by subtraction (or, the total, by addition).
          expect(hidden.length).not.toBe(1);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('holds across exports of the same weeks grouped differently: a coarser total never reveals a finer cell', () => {
    const grouping = fc.subarray([...EXPORT_DIMENSIONS], { minLength: 1 });
    fc.assert(
      fc.property(data, k, grouping, fc.nat(4), (drafts, minCell, fine, pick) => {
        const cube = buildCube(rollupsOf(drafts));
        const fineTable = exportTable(cube, fine, minCell);
        const dropped = fine[pick % fine.length]!;
        const coarse = fine.filter((d) => d !== dropped);
        const coarseTable = exportTable(cube, coarse, minCell);
        const members = fineTable.columns.findIndex((c) => c.name === 'members');
        for (const row of fineTable.rows) expect(row[members]).toBeGreaterThanOrEqual(minCell);

        // Cells of the fine grouping that exist, keyed by their coarse key; which of them were published.
        const positions = (by: readonly ExportDimension[]) => by.map((d) => EXPORT_DIMENSIONS.indexOf(d));
        const coarseKeyOf = (key: CubeKey) => JSON.stringify(positions(coarse).map((p) => key[p]));
        const atFine = [...cube.values()].filter((c) =>
          c.key.every((v, d) => (v !== null) === positions(fine).includes(d)),
        );
        const keyColumns = (by: readonly ExportDimension[], row: readonly unknown[]) => {
          const values: unknown[] = [];
          let column = 0;
          for (const d of by) {
            values.push(row[column]);
            column += d === 'week' ? 2 : 1;
          }
          return values;
        };
        const publishedFine = new Set(fineTable.rows.map((row) => JSON.stringify(keyColumns(fine, row))));
        const publishedCoarse = new Set(
          coarseTable.rows.map((row) => JSON.stringify(keyColumns(coarse, row))),
        );
        const under = new Map<string, { hidden: number; all: number }>();
        for (const cell of atFine) {
          const own = JSON.stringify(positions(fine).map((p) => cell.key[p]));
          const group = under.get(coarseKeyOf(cell.key)) ?? { hidden: 0, all: 0 };
          group.all++;
          if (!publishedFine.has(own)) group.hidden++;
          under.set(coarseKeyOf(cell.key), group);
        }
        for (const [coarseKey, { hidden }] of under) {
          const totalHidden = publishedCoarse.has(coarseKey) ? 0 : 1;
          // Published total minus published cells = exactly one hidden cell; or a hidden total = sum of cells.
          expect(hidden + totalHidden).not.toBe(1);
        }
      }),
      { numRuns: 300 },
    );
  });
});
