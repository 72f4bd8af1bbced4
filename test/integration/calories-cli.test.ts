import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** `retrostride calories ...` in a child process: exit code, stdout, stderr. */
async function calories(...args: string[]) {
  try {
    const { stdout, stderr } = await run('node_modules/.bin/tsx', ['scripts/cli.ts', 'calories', ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const bout = ['--speed-kmh', '3', '--grade-pct', '0', '--weight-kg', '70', '--minutes', '20'];

describe('retrostride calories', () => {
  it('prints worked example D (backward 3 km/h, 70 kg, 20 min) as rounded JSON with its equation', async () => {
    const { code, stdout } = await calories(...bout, '--direction', 'backward');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      kcal: 95.4,
      kcalPerMin: 4.77,
      met: 3.9,
      vo2: 13.64,
      model: 'acsm-walking-backward',
      equation: {
        formula: 'VO2 = resting + horizontalFactor*horizontal*S + verticalFactor*vertical*S*G',
        coefficients: {
          resting: 3.5,
          horizontal: 0.1,
          vertical: 1.8,
          horizontalFactor: 2.027,
          verticalFactor: 1,
        },
        source: 'docs/energy-model.md 3',
      },
      confidence: 'low',
      reasons: ['backward_outside_data_range', 'backward_multiplier'],
    });
  });

  it('uses Keytel with heart rate, age and sex, and accepts a negative grade', async () => {
    const keytel = await calories(
      ...['--speed-kmh', '5', '--grade-pct', '-1', '--weight-kg', '80', '--minutes', '30'],
      ...['--hr-bpm', '130', '--age', '40', '--sex', 'male'],
    );
    expect(keytel.code).toBe(0);
    expect(JSON.parse(keytel.stdout)).toMatchObject({
      kcal: 364.9,
      model: 'keytel',
      equation: { coefficients: { intercept: -55.0969, hrBpm: 0.6309 }, source: 'docs/domain.md 2.3' },
      confidence: 'high',
    });
  });

  it('prices backward with a given constant multiplier instead, and says so (--json accepted)', async () => {
    const { code, stdout } = await calories(
      ...bout,
      ...['--direction', 'backward', '--backward-multiplier', '1.4', '--json'],
    );
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      kcal: 83.3,
      vo2: 11.9,
      equation: { formula: 'VO2 = k * (resting + horizontal*S + vertical*S*G)', coefficients: { k: 1.4 } },
    });
  });

  it.each([
    [['--speed-kmh', '3', '--weight-kg', '70', '--minutes', '20'], '--grade-pct is required'],
    [[...bout, '--speed-kmh', 'fast'], '--speed-kmh must be a number'],
    [[...bout, '--minutes', '0'], '--minutes must be > 0'],
    [[...bout, '--weight-kg', '5'], '--weight-kg must be >= 20'],
    [[...bout, '--hr-bpm', '120'], '--hr-bpm needs --age'],
    [[...bout, '--direction', 'sideways'], '--direction must be one of forward, backward'],
    [[...bout, '--hr-bpm', '120', '--age', '30', '--sex', 'x'], '--sex must be one of male, female'],
    [
      [...bout, '--direction', 'backward', '--backward-multiplier', '1.7'],
      '--backward-multiplier must be <= 1.6',
    ],
  ])('rejects %j with one line and exit 2', async (args, message) => {
    const { code, stdout, stderr } = await calories(...args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toEqual([expect.stringContaining(message)]);
  });
});
