// The layering and cycle rules of eslint.config.js, run through ESLint's Node API on code that imports across
// each forbidden line. The imported files are real ones: an import that does not resolve is never checked, so
// every refusal here also proves that the `.js` suffixes resolve to the `.ts` sources.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LAYERS = 'import-x/no-restricted-paths';
const CYCLE = 'retrostride/no-import-cycle';
// The first lint loads the config, the TypeScript parser and the resolver: slower than a unit test's default.
const SLOW = 30_000;

const eslint = new ESLint({ cwd: ROOT });

/** Rule ids of every message ESLint gives for `code` as if it were the file at `filePath` (repo-relative). */
async function ruleIds(filePath: string, code: string): Promise<(string | null)[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, filePath) });
  return (result?.messages ?? []).map((message) => message.ruleId);
}

const forbidden = [
  // shared/ may import only packages and itself.
  { from: 'shared/src/probe.ts', imports: '../../functions/ingest/handler.js' },
  { from: 'shared/src/probe.ts', imports: '../../gateway-agent/src/config.js' },
  { from: 'shared/src/probe.ts', imports: '../../infra/config.js' },
  { from: 'shared/src/probe.ts', imports: '../../scripts/cli.js' },
  { from: 'shared/src/email/probe.ts', imports: '../../../package.json' },
  // The gateway runs on the gym network, without the cloud side or the tools.
  { from: 'gateway-agent/src/probe.ts', imports: '../../functions/ingest/handler.js' },
  { from: 'gateway-agent/src/probe.ts', imports: '../../infra/config.js' },
  { from: 'gateway-agent/src/sources/probe.ts', imports: '../../../scripts/cli.js' },
  // Lambda code, without the gateway, infra or tools.
  { from: 'functions/lib/probe.ts', imports: '../../gateway-agent/src/config.js' },
  { from: 'functions/lib/probe.ts', imports: '../../infra/config.js' },
  { from: 'functions/api/probe.ts', imports: '../../scripts/cli.js' },
  // No library or handler imports another function's entry file.
  { from: 'functions/lib/probe.ts', imports: '../notifier/handler.js' },
  { from: 'functions/export/probe.ts', imports: '../api/handler.js' },
  { from: 'functions/export/handler.ts', imports: '../ingest/handler.js' },
  // infra/ without the local tools or the gateway.
  { from: 'infra/constructs/probe.ts', imports: '../../scripts/cli.js' },
  { from: 'infra/probe.ts', imports: '../gateway-agent/src/config.js' },
];

describe('layer rules', () => {
  it.each(forbidden)('$from must not import $imports', { timeout: SLOW }, async ({ from, imports }) => {
    expect(await ruleIds(from, `import '${imports}';\n`)).toEqual([LAYERS]);
  });

  it('refuses a forbidden re-export and a forbidden dynamic import too', { timeout: SLOW }, async () => {
    const code =
      "export { handler } from '../notifier/handler.js';\n" +
      "export const load = () => import('../api/handler.js');\n";
    expect(await ruleIds('functions/lib/probe.ts', code)).toEqual([LAYERS, LAYERS]);
  });

  it.each([
    { from: 'shared/src/probe.ts', code: `import 'zod';\nimport 'node:fs';\nimport './tables.js';\n` },
    { from: 'gateway-agent/src/probe.ts', code: `import '../../shared/src/tables.js';\n` },
    {
      from: 'functions/lib/probe.ts',
      code: `import '../../shared/src/tables.js';\nimport './software.js';\n`,
    },
    {
      from: 'infra/probe.ts',
      code: `import '../shared/src/tables.js';\nimport '../functions/lib/software.js';\n`,
    },
    // The tools and the tests drive handlers directly.
    { from: 'scripts/local/probe.ts', code: `import '../../functions/api/handler.js';\n` },
    { from: 'test/unit/probe.test.ts', code: `import '../../functions/api/handler.js';\n` },
  ])('lets $from make an allowed import', { timeout: SLOW }, async ({ from, code }) => {
    expect(await ruleIds(from, code)).toEqual([]);
  });
});

describe('import cycles', () => {
  // Temporary modules under scripts/ (a source folder the rule covers), imported by the linted text.
  let dir = '';
  const at = (name: string): string => relative(ROOT, join(dir, name));

  beforeAll(async () => {
    dir = await mkdtemp(join(ROOT, 'scripts', 'lint-cycle-'));
    const files: Record<string, string> = {
      'a.ts': 'export type A = string;\n',
      'b.ts': "import type { A } from './a.js';\nexport type B = A;\n",
      'c.ts': 'export const c = 1;\n',
      'd.ts': "import { c } from './c.js';\nexport const d = c;\n",
      'e.ts': 'export const e = 1;\n',
      'f.ts': "import './g.js';\n",
      'g.ts': "import './e.js';\n",
    };
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses a cycle of value imports, naming the chain', { timeout: SLOW }, async () => {
    const [result] = await eslint.lintText("import { d } from './d.js';\nexport const c = d;\n", {
      filePath: join(dir, 'c.ts'),
    });
    expect(result?.messages.map((m) => m.ruleId)).toEqual([CYCLE]);
    expect(result?.messages[0]?.message).toContain(`${at('c.ts')} -> ${at('d.ts')} -> ${at('c.ts')}`);
  });

  it('refuses a cycle held together by `import type` alone', { timeout: SLOW }, async () => {
    const code = "import type { B } from './b.js';\nexport type A = B | string;\n";
    expect(await ruleIds(at('a.ts'), code)).toEqual([CYCLE]);
  });

  it('refuses a longer cycle, through a dynamic import', { timeout: SLOW }, async () => {
    expect(await ruleIds(at('e.ts'), "export const load = () => import('./f.js');\n")).toEqual([CYCLE]);
  });

  it('lets an import that does not lead back through', { timeout: SLOW }, async () => {
    expect(await ruleIds(at('h.ts'), "import './d.js';\nimport './f.js';\n")).toEqual([]);
  });
});

describe('where the rules apply', () => {
  it.each(['shared/src/x.ts', 'functions/lib/x.ts', 'gateway-agent/src/x.ts', 'infra/x.ts', 'scripts/x.ts'])(
    '%s is checked for layers and cycles',
    { timeout: SLOW },
    async (file) => {
      const config = (await eslint.calculateConfigForFile(join(ROOT, file))) as {
        rules: Record<string, unknown>;
      };
      expect(config.rules[LAYERS]).toBeDefined();
      expect(config.rules[CYCLE]).toEqual([2]);
    },
  );
});
