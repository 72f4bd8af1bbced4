/**
 * Paths from the project root (the directory holding cdk.json), found from the working directory rather than
 * from this file's location, which differs once the app runs from compiled output.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

function findProjectRoot(from: string): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'cdk.json'))) return dir;
    if (dirname(dir) === dir)
      throw new Error(`no cdk.json in ${from} or above: run from the Retrostride project`);
  }
}

export const PROJECT_ROOT = findProjectRoot(process.cwd());

export const projectPath = (relative: string): string => resolve(PROJECT_ROOT, relative);
