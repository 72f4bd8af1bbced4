import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const cli = (...args: string[]) => run('node_modules/.bin/tsx', ['scripts/cli.ts', ...args]);

describe('retrostride demo', () => {
  it('prints the session summary of the bundled recording', async () => {
    const { stdout } = await cli('demo');
    expect(stdout).toMatch(/Forward\s+10\.0 min, 0\.83 km/);
    expect(stdout).toMatch(/Backward\s+\d+\.\d min, 0\.4\d km, mean 2\.50 km\/h/);
    expect(stdout).toMatch(/Calories\s+\d+\.\d kcal/);
  });

  it('prints JSON with --json and refuses a bad flag in one line', async () => {
    const { stdout } = await cli('demo', '--json', '--weight-kg', '90');
    expect(JSON.parse(stdout).calories.kcal).toBeGreaterThan(90);
    const failure = await cli('demo', '--sex', 'robot').catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr.trim().split('\n')).toHaveLength(1);
  });
});
