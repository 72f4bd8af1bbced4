// Lint rules for the whole repository; formatting is Prettier's job (eslint-config-prettier turns clashing rules off).
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import globals from 'globals';
import ts from 'typescript';
import tseslint from 'typescript-eslint';

// Zones resolve against this folder, not the shell's cwd, so a run from a subfolder or the Node API agrees.
const root = import.meta.dirname;

// Which layer may import which. Every import is resolved to a file first: one that does not resolve is not
// checked, so the resolver below must map the `.js` suffixes of the sources to their `.ts` files.
const layerZones = [
  {
    // shared/ runs everywhere (Lambda, the gateway, the tools), so it may depend on packages and itself only.
    target: 'shared',
    from: '.',
    except: ['./shared', './node_modules'],
    message: 'shared/ may import only external packages and shared/ itself.',
  },
  {
    target: 'gateway-agent',
    from: ['functions', 'infra', 'scripts', 'test'],
    message:
      'gateway-agent/ runs on the gym network: it may import shared/ and itself, not the cloud side or tools.',
  },
  {
    target: 'functions',
    from: ['gateway-agent', 'infra', 'scripts', 'test'],
    message:
      'functions/ is bundled into Lambda: it may import shared/ and functions/, not the gateway, infra or tools.',
  },
  {
    // An entry file wires clients and middleware at load time: importing it drags them into another Lambda.
    target: 'functions',
    from: 'functions/*/handler.ts',
    message: "Import the library the handler uses (functions/lib/...), not another function's handler.",
  },
  {
    target: 'infra',
    from: ['scripts', 'gateway-agent', 'test'],
    message: 'infra/ may import shared/ and functions/ (to bundle them), not the local tools or the gateway.',
  },
];

// Import cycles, type-only imports included. import-x/no-cycle skips every `import type` (no option turns
// that off), so it misses a cycle held together by types; this rule reads imports with TypeScript's scanner.
const resolution = {
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  allowJs: true,
  allowImportingTsExtensions: true,
  resolveJsonModule: true,
  noEmit: true,
};

/** The repository file a specifier names, or undefined for packages, built-ins and misses. */
function resolveImport(specifier, fromFile) {
  const resolved = ts.resolveModuleName(specifier, fromFile, resolution, ts.sys).resolvedModule;
  if (!resolved || resolved.isExternalLibraryImport) return undefined;
  const file = path.resolve(resolved.resolvedFileName);
  return file.startsWith(root + path.sep) && !file.includes(`${path.sep}node_modules${path.sep}`)
    ? file
    : undefined;
}

// Per file, keyed by mtime and size: a lint run reads each file once, an editor's long-lived ESLint re-reads
// what changed.
const importsCache = new Map();

/** The repository files one file on disk imports: static, `import type`, re-exports and `import()` alike. */
function importsOnDisk(file) {
  let stat;
  try {
    stat = statSync(file);
  } catch {
    return [];
  }
  const key = `${stat.mtimeMs}:${stat.size}`;
  const cached = importsCache.get(file);
  if (cached?.key === key) return cached.targets;
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const targets = [...new Set(importedFiles.map((f) => resolveImport(f.fileName, file)).filter(Boolean))];
  importsCache.set(file, { key, targets });
  return targets;
}

/** The shortest import chain from `start` to `goal` (both included), or undefined when there is none. */
function importChain(start, goal) {
  const previous = new Map([[start, undefined]]);
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const file = queue[i];
    if (file === goal) {
      const chain = [];
      for (let at = file; at !== undefined; at = previous.get(at)) chain.unshift(at);
      return chain;
    }
    for (const next of importsOnDisk(file)) {
      if (!previous.has(next)) {
        previous.set(next, file);
        queue.push(next);
      }
    }
  }
  return undefined;
}

const noImportCycle = {
  meta: {
    type: 'problem',
    docs: {
      description: 'Forbid an import whose module imports this file back, directly or through others.',
    },
    schema: [],
    messages: {
      cycle: 'Import cycle: {{chain}}. Move what both sides need into a module that imports neither.',
    },
  },
  create(context) {
    const file = context.physicalFilename;
    if (!path.isAbsolute(file)) return {};
    // This file's imports come from the text being linted (it may differ from disk); the others' from disk.
    const check = (source) => {
      if (source?.type !== 'Literal' || typeof source.value !== 'string') return;
      const target = resolveImport(source.value, file);
      const chain = target && importChain(target, file);
      if (!chain) return;
      const shown = [file, ...chain].map((f) => path.relative(root, f).split(path.sep).join('/'));
      context.report({ node: source, messageId: 'cycle', data: { chain: shown.join(' -> ') } });
    };
    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
      TSImportEqualsDeclaration: (node) => {
        if (node.moduleReference.type === 'TSExternalModuleReference') check(node.moduleReference.expression);
      },
    };
  },
};

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', 'cdk.out/', 'coverage/', 'gateway-agent/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Layering and cycles, on the sources only: tests may import across layers. A test file still counts in a
    // cycle when a source file imports it: the walk follows every import.
    files: ['shared/**', 'functions/**', 'gateway-agent/**', 'infra/**', 'scripts/**'],
    plugins: { 'import-x': importX, retrostride: { rules: { 'no-import-cycle': noImportCycle } } },
    settings: {
      'import-x/resolver-next': [
        createNodeResolver({
          extensions: ['.ts', '.js', '.json', '.node'],
          extensionAlias: { '.js': ['.ts', '.js'] },
        }),
      ],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { basePath: root, zones: layerZones }],
      'retrostride/no-import-cycle': 'error',
    },
  },
  { files: ['functions/dashboard/**/*.js'], languageOptions: { globals: { ...globals.browser } } },
  prettier,
);
