import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** `retrostride decode ...` in a child process: exit code, stdout, stderr. */
async function decode(...args: string[]) {
  try {
    const { stdout, stderr } = await run('node_modules/.bin/tsx', ['scripts/cli.ts', 'decode', ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('retrostride decode', () => {
  it('prints the docs/domain.md 1.7 Treadmill Data frame as one pretty JSON object', async () => {
    const { code, stdout } = await decode('ftms', '0e 05 e8 03 b6 03 d2 04 00 14 00 0b 00 8c 58 02');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^\{\n {2}"kind": "ftms",\n/);
    expect(JSON.parse(stdout)).toEqual({
      kind: 'ftms',
      flags: 0x050e,
      moreData: false,
      speedKmh: 10,
      avgSpeedKmh: 9.5,
      distanceM: 1234,
      inclinePct: 2,
      rampDeg: 1.1,
      hrBpm: 140,
      elapsedS: 600,
      partial: false,
      warnings: [],
    });
  });

  it('merges several HEX arguments as the fragments of one record, by UUID with colons', async () => {
    const { code, stdout } = await decode('2acd', '05:00:d2:04:00', '00:00:e8:03');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ speedKmh: 10, distanceM: 1234, partial: false });
  });

  it('exits 0 for a partial frame, naming the field where the bytes ran out', async () => {
    const { code, stdout } = await decode('ftms', '9e 1f e8 03 b6');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ speedKmh: 10, partial: true, error: /inside avgSpeedKmh/ });
  });

  it.each([
    [['ftms', '0e'], 'shorter than its 2-byte header'],
    [['hrs', '0g'], 'invalid hex digit "g"'],
    [['cross-trainer', '00'], 'unknown kind "cross-trainer"'],
    [['ftms-status', '05', 'e8'], 'ftms-status takes one HEX argument'],
  ])('rejects %j with one line on stderr and exit 2', async (args, message) => {
    const { code, stdout, stderr } = await decode(...args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toEqual([expect.stringContaining(message)]);
  });
});
