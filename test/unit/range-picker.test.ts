/**
 * The dashboard's time range (functions/dashboard/js/range-picker.js): what a route's query asks for, bounded,
 * and the query that names it again (deep links). Local dates, as the picker shows them.
 */
import { describe, expect, it } from 'vitest';

interface TimeRange {
  preset: 'today' | '7d' | '30d' | 'custom';
  from: number;
  to: number;
  fromDay: string;
  toDay: string;
  note: string | null;
}
/** The module's contract as this test uses it (it is plain JavaScript, typed by JSDoc for the browser). */
interface RangePicker {
  MAX_RANGE_DAYS: number;
  localDay(ts: number): string;
  rangeOf(query: { get(name: string): string | null }, now: number): TimeRange;
  rangeEntries(range: TimeRange): string[][];
}
// A path in a variable: the project's TypeScript (no DOM, no allowJs) does not check the browser's modules.
const MODULE = '../../functions/dashboard/js/range-picker.js';
const { localDay, MAX_RANGE_DAYS, rangeEntries, rangeOf } = (await import(MODULE)) as RangePicker;

/** Local time, so that the test holds in any time zone. */
const local = (y: number, m: number, d: number, hh = 0, mm = 0) => new Date(y, m - 1, d, hh, mm).getTime();
const NOW = local(2026, 12, 6, 14, 30);
const query = (text: string) => new URLSearchParams(text);

describe('rangeOf', () => {
  it('reads the presets as whole local days ending now', () => {
    expect(rangeOf(query('range=today'), NOW)).toMatchObject({
      preset: 'today',
      from: local(2026, 12, 6),
      to: NOW,
    });
    expect(rangeOf(query('range=7d'), NOW)).toMatchObject({ from: local(2026, 11, 30), to: NOW });
    expect(rangeOf(query('range=30d'), NOW)).toMatchObject({
      from: local(2026, 11, 7),
      fromDay: '2026-11-07',
      toDay: '2026-12-06',
    });
  });

  it('gives the last 7 days for no range, an unknown one, or dates it cannot read', () => {
    for (const text of ['', 'range=forever', 'range=custom&from=2026-02-31&to=2026-03-01', 'range=custom']) {
      expect(rangeOf(query(text), NOW), text).toMatchObject({ preset: '7d', from: local(2026, 11, 30) });
    }
    expect(rangeOf(query('range=custom&from=x&to=y'), NOW).note).toMatch(/not readable/);
  });

  it('reads a custom range from the start of its first day to the end of its last', () => {
    expect(rangeOf(query('range=custom&from=2026-11-01&to=2026-11-30'), NOW)).toEqual({
      preset: 'custom',
      from: local(2026, 11, 1),
      to: local(2026, 12, 1) - 1,
      fromDay: '2026-11-01',
      toDay: '2026-11-30',
      note: null,
    });
  });

  it(`bounds a custom range: ends by now, from not after to, at most ${MAX_RANGE_DAYS} days`, () => {
    const future = rangeOf(query('range=custom&from=2026-12-01&to=2027-01-10'), NOW);
    expect(future).toMatchObject({ to: NOW, toDay: '2026-12-06', note: 'The range ends today.' });
    const swapped = rangeOf(query('range=custom&from=2026-11-20&to=2026-11-10'), NOW);
    expect(swapped).toMatchObject({ from: local(2026, 11, 10), toDay: '2026-11-10' });
    expect(swapped.note).toMatch(/after to/);
    const long = rangeOf(query('range=custom&from=2025-01-01&to=2026-11-30'), NOW);
    // Within the API's 92 days of 24 h in every time zone (a local day across a clock change lasts 25 h).
    expect(long.to - long.from).toBeLessThan(92 * 86_400_000);
    expect(long).toMatchObject({ fromDay: localDay(local(2026, 11, 30 - (MAX_RANGE_DAYS - 1))) });
    expect(long.note).toBe(`At most ${MAX_RANGE_DAYS} days.`);
  });
});

describe('rangeEntries', () => {
  it('names a range so that rangeOf reads it back the same', () => {
    for (const text of [
      'range=today',
      'range=7d',
      'range=30d',
      'range=custom&from=2026-10-01&to=2026-10-31',
    ]) {
      const range = rangeOf(query(text), NOW);
      const again = rangeOf(new URLSearchParams(rangeEntries(range) as Array<[string, string]>), NOW);
      expect(again).toEqual(range);
      expect(new URLSearchParams(rangeEntries(range) as Array<[string, string]>).toString()).toBe(text);
    }
  });
});
