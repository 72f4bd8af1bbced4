/** What every `retrostride` subcommand shares: --help, one-line usage errors, exit code 2 on bad input. */
import { type ParseArgsConfig, parseArgs } from 'node:util';

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  run(argv: string[]): Promise<number>;
}

/** A user mistake: printed as one line on stderr, exit 2, no stack trace. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseCommandArgs<O extends Options>(argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0] ?? 'invalid arguments');
  }
}

export function wantsHelp(argv: string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

/** A finite number from a flag, or a UsageError naming the flag. */
export function numberFlag(name: string, value: string | undefined, range?: { min?: number; max?: number }) {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed))
    throw new UsageError(`--${name} must be a number, got "${value}"`);
  if (range?.min !== undefined && parsed < range.min)
    throw new UsageError(`--${name} must be >= ${range.min}`);
  if (range?.max !== undefined && parsed > range.max)
    throw new UsageError(`--${name} must be <= ${range.max}`);
  return parsed;
}

export function requireFlag<T>(name: string, value: T | undefined): T {
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
}

/** A flag restricted to a few words, typed as them, or a UsageError listing them. */
export function oneOf<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value))
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}
