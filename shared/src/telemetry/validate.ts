/** Validation that never throws: a rejected input yields readable reasons (field path and message). */
import type { z } from 'zod';
import { eventSchema, type TelemetryEvent } from './events.js';

export type Validated<T> = { ok: true; value: T } | { ok: false; reason: string };

/** One reason per issue, field path first: "speedKmh: Too big: expected number to be <=40". */
export function issueReasons(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    return path ? `${path}: ${issue.message}` : issue.message;
  });
}

/** "speedKmh: Too big: expected number to be <=40; hrBpm: ..." — one line. */
export const describeIssues = (error: z.ZodError): string => issueReasons(error).join('; ');

export function validateWith<S extends z.ZodType>(schema: S, input: unknown): Validated<z.infer<S>> {
  const parsed = schema.safeParse(input);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : { ok: false, reason: describeIssues(parsed.error) };
}

export const validateEvent = (input: unknown): Validated<TelemetryEvent> => validateWith(eventSchema, input);
