import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RollupsRepo } from '../../functions/lib/rollups-repo.js';
import { parseCsv } from '../../shared/src/csv.js';
import type { ExportManifest } from '../../shared/src/export/manifest.js';
import { weekStart } from '../../shared/src/iso-week.js';
import { ageBand } from '../../shared/src/metrics/rollups.js';
import { type ApiServer, startApiServer } from '../../scripts/local/api-server.js';
import { type EmbeddedAws, startEmbeddedAws } from '../../scripts/local/kit.js';
import { walkedSession } from '../support/rollup-fixtures.js';

const run = promisify(execFile);
const W10_MONDAY = Date.UTC(2026, 2, 2, 8);
const DAY_MS = 86_400_000;

/** Members per gym: gym-b is below k = 11, gym-c just above. */
const GYMS = { 'gym-a': 24, 'gym-b': 8, 'gym-c': 12 } as const;

describe('research export from the rollups', () => {
  let kit: EmbeddedAws;
  let out: string;
  let connection: string[];

  async function exportCli(...args: string[]) {
    try {
      const { stdout, stderr } = await run('node_modules/.bin/tsx', [
        'scripts/cli.ts',
        'export',
        ...args,
        ...connection,
      ]);
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  }

  beforeAll(async () => {
    kit = await startEmbeddedAws();
    out = await mkdtemp(join(tmpdir(), 'retrostride-export-'));
    connection = ['--endpoint', kit.dynamo.endpoint, '--table-prefix', kit.tablePrefix];
    const rollups = new RollupsRepo(kit.dynamo.doc, kit.tables.rollups);
    for (const [gymId, count] of Object.entries(GYMS)) {
      for (let n = 1; n <= count; n++) {
        const userToken = `${gymId}-member-${n}`;
        const birthYear = 1950 + ((n * 7) % 50);
        const traits = {
          ageBand: ageBand(birthYear, W10_MONDAY),
          sex: n % 2 === 0 ? ('female' as const) : ('male' as const),
        };
        for (const week of [0, 1]) {
          const startTs = W10_MONDAY + week * 7 * DAY_MS + n * 600_000;
          const session = walkedSession({
            gymId,
            userToken,
            startTs,
            forwardS: 60 + n,
            backwardS: n % 3 === 0 ? 0 : 40,
          });
          await rollups.addSession(session, traits);
        }
      }
    }
  });

  afterAll(async () => {
    await kit?.stop();
    await rm(out, { recursive: true, force: true });
  });

  it('writes CSV and a manifest: no cell under k, the small gym and its complement left out', async () => {
    const dir = join(out, 'csv');
    const result = await exportCli(
      '--from',
      '2026-03-02',
      '--to',
      '2026-03-15',
      '--by',
      'week,gym,direction',
      '--out',
      dir,
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(''); // not a terminal: no progress bar
    // After the export, in plain words: how many cells were left out, and why.
    expect(result.stdout).toMatch(
      /^\d+ of \d+ cells suppressed: [1-9]\d* below k \(fewer than 11 distinct members\), [1-9]\d* by complementary suppression \(to protect another cell\)$/m,
    );
    const [header, ...rows] = parseCsv(await readFile(join(dir, 'research-export.csv'), 'utf8')).map(
      (r) => r.fields,
    );
    expect(header!.slice(0, 5)).toEqual(['week', 'week_start', 'gym', 'direction', 'members']);
    const members = header!.indexOf('members');
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(Number(row[members])).toBeGreaterThanOrEqual(11);
    expect(new Set(rows.map((r) => r[2]))).toEqual(new Set(['gym-a']));
    expect(rows.find((r) => r[0] === '2026-W10' && r[3] === 'forward')).toEqual(
      expect.arrayContaining(['2026-W10', '2026-03-02', 'gym-a', 'forward', '24', '24']),
    );

    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as ExportManifest;
    expect(manifest.query).toEqual({
      from: '2026-03-02',
      to: '2026-03-15',
      by: ['week', 'gym', 'direction'],
      minCell: 11,
      format: 'csv',
    });
    expect(manifest.period).toMatchObject({
      weeks: ['2026-W10', '2026-W11'],
      firstDay: '2026-03-02',
      lastDay: '2026-03-15',
    });
    expect(manifest.privacy.k).toBe(11);
    const suppressed = manifest.privacy.suppressedCells;
    expect(suppressed.primary).toBeGreaterThan(0);
    expect(suppressed.complementary).toBeGreaterThan(0);
    expect(suppressed.total).toBe(suppressed.primary + suppressed.complementary);
    expect(suppressed.cells).toBe(rows.length + suppressed.total);
    expect(suppressed.reasons.primary).toBe('fewer than k = 11 distinct members');
    expect(result.stdout).toContain(suppressed.summary);
    expect(suppressed.advice).toBeNull();
    expect(manifest.period.notEnded).toEqual([]);
    expect(manifest.rows).toBe(rows.length);
    expect(manifest.columns.find((c) => c.name === 'distance_km')).toMatchObject({
      unit: 'km',
      type: 'number',
    });
    expect(manifest.software).toEqual({
      name: 'retrostride',
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
    expect(Date.parse(manifest.generatedAt)).not.toBeNaN();
    expect(manifest.files[0]).toMatchObject({ name: 'research-export.csv', format: 'csv' });
    expect(manifest.files[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    // No ids and no member tokens anywhere.
    const all = `${await readFile(join(dir, 'research-export.csv'), 'utf8')}${JSON.stringify(manifest)}`;
    expect(all).not.toMatch(/member-\d|tm-01|:\d{13}/);
  });

  it('writes Parquet that DuckDB reads back as the same table', async () => {
    const args = ['--from', '2026-03-02', '--to', '2026-03-15', '--by', 'gym,sex,age-band'];
    const csv = await exportCli(...args, '--out', join(out, 'same-csv'));
    const parquet = await exportCli(...args, '--format', 'parquet', '--out', join(out, 'parquet'));
    expect([csv.code, parquet.code]).toEqual([0, 0]);
    const [header, ...rows] = parseCsv(
      await readFile(join(out, 'same-csv', 'research-export.csv'), 'utf8'),
    ).map((r) => r.fields);
    const db = await DuckDBInstance.create(':memory:');
    const duck = await db.connect();
    const result = await duck.runAndReadAll(
      `SELECT * FROM read_parquet('${join(out, 'parquet', 'research-export.parquet')}')`,
    );
    expect(result.columnNames()).toEqual(header);
    const fromParquet = result
      .getRowObjectsJS()
      .map((row) => header!.map((name) => (row[name] === null ? '' : String(row[name]))));
    expect(fromParquet).toEqual(rows);
    const types = await duck.runAndReadAll(
      `SELECT name, type FROM parquet_schema('${join(out, 'parquet', 'research-export.parquet')}') WHERE name IN ('members', 'minutes_total')`,
    );
    expect(types.getRowObjectsJS()).toEqual([
      { name: 'members', type: 'INT32' },
      { name: 'minutes_total', type: 'DOUBLE' },
    ]);
    duck.closeSync();
  });

  it('writes an empty table, header and schema kept, for weeks without data', async () => {
    const csv = await exportCli('--from', '2025-01-06', '--to', '2025-01-19', '--out', join(out, 'empty'));
    const parquet = await exportCli(
      '--from',
      '2025-01-06',
      '--to',
      '2025-01-19',
      '--format',
      'parquet',
      '--out',
      join(out, 'empty-parquet'),
    );
    expect([csv.code, parquet.code]).toEqual([0, 0]);
    expect(csv.stdout).toMatch(/^0 rows over 2 weeks/);
    const records = parseCsv(await readFile(join(out, 'empty', 'research-export.csv'), 'utf8'));
    expect(records).toHaveLength(1);
    const db = await DuckDBInstance.create(':memory:');
    const duck = await db.connect();
    const result = await duck.runAndReadAll(
      `SELECT * FROM read_parquet('${join(out, 'empty-parquet', 'research-export.parquet')}')`,
    );
    expect(result.columnNames()).toEqual(records[0]!.fields);
    expect(result.getRows()).toEqual([]);
    duck.closeSync();
  });

  it('never lists a week that has not ended, and says which were left out and when they can be exported', async () => {
    const day = (ts: number) => new Date(ts).toISOString().slice(0, 10);
    const from = day(Date.now() - 21 * DAY_MS);
    const to = day(Date.now() + 60 * DAY_MS);
    const dir = join(out, 'not-ended');
    const result = await exportCli('--from', from, '--to', to, '--by', 'week', '--out', dir);
    const finished = Date.now();
    expect(result.code).toBe(0);
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as ExportManifest;
    expect(manifest.period.weeks.length).toBeGreaterThanOrEqual(2);
    for (const week of manifest.period.weeks) {
      // Ended: its Monday a week later had come when the export finished.
      expect(Date.parse(`${weekStart(week)}T00:00:00Z`) + 7 * DAY_MS).toBeLessThanOrEqual(finished);
    }
    expect(manifest.period.notEnded.length).toBeGreaterThanOrEqual(8);
    expect(manifest.period.notEnded.map((w) => w.week)).not.toContain(manifest.period.weeks.at(-1));
    expect(Date.parse(`${manifest.period.lastDay!}T00:00:00Z`)).toBeLessThan(finished);
    expect(result.stdout).toMatch(
      /^Not exported, not ended yet: \d{4}-W\d{2} is still running; it will be exportable after Sunday \d{4}-\d{2}-\d{2}; \d{4}-W\d{2} to \d{4}-W\d{2} have not started yet$/m,
    );
  });

  it('refuses, in one line, a range in which no week has ended', async () => {
    const result = await exportCli(
      '--from',
      '2099-01-05',
      '--to',
      '2099-02-01',
      '--out',
      join(out, 'future'),
    );
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      'retrostride: no week from 2099-01-05 to 2099-02-01 has ended yet: 2099-W02 to 2099-W05 have not started yet; the first will be exportable after Sunday 2099-01-11',
    ]);
  });

  it('says when every cell is suppressed, and what to change', async () => {
    const dir = join(out, 'all-suppressed');
    const result = await exportCli(
      ...['--from', '2026-03-02', '--to', '2026-03-15', '--by', 'week,gym,sex', '--min-cell', '30'],
      ...['--out', dir],
    );
    expect(result.code).toBe(0);
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as ExportManifest;
    expect(manifest.rows).toBe(0);
    const { total, cells, advice } = manifest.privacy.suppressedCells;
    expect(total).toBe(cells);
    expect(advice).toBe(
      'To publish something: lower k (min-cell, not below 5) or cover a longer period; dropping one dimension from the grouping would still publish nothing for these weeks',
    );
    expect(result.stdout).toMatch(
      new RegExp(`^All ${cells} cells suppressed: .*; nothing is published$`, 'm'),
    );
    expect(result.stdout).toContain(`\n${advice}\n`);
  });

  it('reports a bad query in one line with exit code 2', async () => {
    const result = await exportCli(
      '--from',
      '2026-03-02',
      '--to',
      '2026-03-15',
      '--by',
      'week,hour',
      '--out',
      out,
    );
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      'retrostride: by: unknown hour (choose from week, gym, direction, age-band, sex)',
    ]);
  });

  describe('through the API, for researchers', () => {
    let api: ApiServer;
    const token = async (username: string, password: string) => {
      const response = await fetch(`${api.url}/auth/dev-login`, {
        method: 'POST',
        body: JSON.stringify({ username, password }),
      });
      return ((await response.json()) as { token: string }).token;
    };

    beforeAll(async () => {
      api = await startApiServer({
        port: 0,
        dynamo: { doc: kit.dynamo.doc, tablePrefix: kit.tablePrefix },
        exportsDir: join(out, 'api'),
      });
    });
    afterAll(async () => api?.stop());

    it('exports the caller’s gyms and answers with short-lived signed URLs', async () => {
      const bearer = { authorization: `Bearer ${await token('researcher', 'retro-r')}` };
      const response = await fetch(`${api.url}/api/exports?from=2026-03-02&to=2026-03-15&by=week,sex`, {
        method: 'POST',
        headers: bearer,
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        rows: number;
        weeks: string[];
        weeksNotEnded: unknown[];
        suppressedCells: ExportManifest['privacy']['suppressedCells'];
        summary: string[];
        expiresAt: number;
        files: Array<{ name: string; url: string }>;
      };
      expect(body.weeks).toEqual(['2026-W10', '2026-W11']);
      expect(body.weeksNotEnded).toEqual([]);
      // The same account of suppression as the manifest and the command line.
      expect(body.suppressedCells.total).toBe(
        body.suppressedCells.primary + body.suppressedCells.complementary,
      );
      expect(body.summary).toEqual([
        `${body.rows} rows over 2 weeks (2026-03-02 to 2026-03-15)`,
        body.suppressedCells.summary,
      ]);
      expect(body.files.map((f) => f.name)).toEqual(['research-export.csv', 'manifest.json']);
      expect(body.expiresAt - Date.now()).toBeLessThanOrEqual(900_000);

      const csv = await fetch(body.files[0]!.url);
      expect(csv.status).toBe(200);
      const [, ...rows] = parseCsv(await csv.text()).map((r) => r.fields);
      expect(rows).toHaveLength(body.rows);
      // The researcher's gyms are gym-a and gym-b: 16 + 4 women a week.
      expect(rows.find((r) => r[0] === '2026-W10' && r[2] === 'female')?.[3]).toBe('16');

      const tampered = new URL(body.files[1]!.url);
      tampered.searchParams.set('expires', String(Number(tampered.searchParams.get('expires')) + 3600));
      expect((await fetch(tampered)).status).toBe(403);
    });

    it('refuses operators and explains a bad query', async () => {
      const operator = { authorization: `Bearer ${await token('operator-a', 'retro-a')}` };
      const forbidden = await fetch(`${api.url}/api/exports?from=2026-03-02&to=2026-03-15`, {
        method: 'POST',
        headers: operator,
      });
      expect(forbidden.status).toBe(403);
      const researcher = { authorization: `Bearer ${await token('researcher', 'retro-r')}` };
      const bad = await fetch(`${api.url}/api/exports?from=2026-03-15&to=2026-03-02&minCell=3`, {
        method: 'POST',
        headers: researcher,
      });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { reasons: string[] } }).error.reasons).toEqual([
        'from must not be after to',
        'min-cell must be a whole number from 5 to 1000',
      ]);
      const future = await fetch(`${api.url}/api/exports?from=2099-01-05&to=2099-02-01`, {
        method: 'POST',
        headers: researcher,
      });
      expect(future.status).toBe(400);
      expect(((await future.json()) as { error: { reasons: string[] } }).error.reasons).toEqual([
        'no week from 2099-01-05 to 2099-02-01 has ended yet: 2099-W02 to 2099-W05 have not started yet; the first will be exportable after Sunday 2099-01-11',
      ]);
    });

    it('tells researchers what an export may ask for, from the export’s own rules', async () => {
      const researcher = { authorization: `Bearer ${await token('researcher', 'retro-r')}` };
      const response = await fetch(`${api.url}/api/exports/rules`, { headers: researcher });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        dimensions: ['week', 'gym', 'direction', 'age-band', 'sex'],
        formats: ['csv', 'parquet'],
        minCell: { default: 11, smallest: 5, largest: 1000 },
      });
      const operator = { authorization: `Bearer ${await token('operator-a', 'retro-a')}` };
      expect((await fetch(`${api.url}/api/exports/rules`, { headers: operator })).status).toBe(403);
    });

    it('takes whole ISO weeks as the period, and refuses a k above the bound', async () => {
      const researcher = { authorization: `Bearer ${await token('researcher', 'retro-r')}` };
      const weeks = await fetch(`${api.url}/api/exports?from=2026-W10&to=2026-W11&by=week`, {
        method: 'POST',
        headers: researcher,
      });
      expect(weeks.status).toBe(200);
      expect(((await weeks.json()) as { weeks: string[] }).weeks).toEqual(['2026-W10', '2026-W11']);
      const tooLarge = await fetch(`${api.url}/api/exports?from=2026-W10&to=2026-W11&minCell=1001`, {
        method: 'POST',
        headers: researcher,
      });
      expect(tooLarge.status).toBe(400);
      expect(((await tooLarge.json()) as { error: { reasons: string[] } }).error.reasons).toEqual([
        'min-cell must be a whole number from 5 to 1000',
      ]);
    });

    it('gives links on the host name the caller used, so that they download wherever the page is open', async () => {
      const bearer = `Bearer ${await token('researcher', 'retro-r')}`;
      const { port } = new URL(api.url);
      // fetch() cannot set Host; the dashboard opened as http://localhost:PORT must get localhost links.
      const body = await new Promise<string>((resolve, reject) => {
        const call = request(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/api/exports?from=2026-W10&to=2026-W10&by=week',
            headers: { host: `localhost:${port}`, authorization: bearer },
          },
          (response) => {
            let text = '';
            response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
            response.on('end', () => resolve(text));
          },
        );
        call.on('error', reject);
        call.end();
      });
      const { files } = JSON.parse(body) as { files: Array<{ url: string }> };
      expect(files.map((file) => new URL(file.url).origin)).toEqual([
        `http://localhost:${port}`,
        `http://localhost:${port}`,
      ]);
      expect((await fetch(files[0]!.url)).status).toBe(200);
    });

    it('answers with the advice when every cell is suppressed', async () => {
      const researcher = { authorization: `Bearer ${await token('researcher', 'retro-r')}` };
      const response = await fetch(
        `${api.url}/api/exports?from=2026-03-02&to=2026-03-15&by=week,sex&minCell=40`,
        {
          method: 'POST',
          headers: researcher,
        },
      );
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        rows: number;
        suppressedCells: ExportManifest['privacy']['suppressedCells'];
        summary: string[];
      };
      expect(body.rows).toBe(0);
      expect(body.suppressedCells.summary).toMatch(/^All \d+ cells suppressed: .*; nothing is published$/);
      expect(body.summary.at(-1)).toBe(
        'To publish something: lower k (min-cell, not below 5) or cover a longer period; dropping one dimension from the grouping would still publish nothing for these weeks',
      );
    });
  });
});
