/**
 * Seeded synthetic `step` events of known variability, for tests and demo recordings. Not a biomechanical
 * model: just enough structure that each balance component can be dialled independently.
 */
import type { z } from 'zod';
import type { stepBodySchema } from '../../shared/src/telemetry/events.js';
import { createRandom } from './random.js';

export type SyntheticStep = z.infer<typeof stepBodySchema> & { ts: number };

export interface SyntheticGaitOptions {
  seed: number;
  /** Epoch ms of the first contact (a positive integer, as event `ts` must be). */
  startTs: number;
  /** Gait cycles: each foot gets strides + 1 contacts, so exactly `strides` stride intervals. */
  strides: number;
  direction: 'forward' | 'backward';
  strideTimeMs?: number;
  strideTimeCvPct?: number;
  /** Symmetry index of step and contact times, percent (the left foot's are the longer). */
  asymmetryPct?: number;
  stepWidthMm?: number;
  stepWidthCvPct?: number;
  /** SD of lateral COP around each foot's own line; null leaves copLateralMm out (no pressure plate). */
  copSdMm?: number | null;
  /** Probability that a step is on the handrail, 0-1. */
  handrailShare?: number;
  /** Number of steps flagged as stumbles, placed at random. */
  stumbles?: number;
}

/** Stance as a share of the stride: backward walking has longer double support (docs/domain.md 3.3). */
const STANCE_SHARE = { forward: 0.6, backward: 0.65 } as const;
const CONTACT_CV = 0.03;

const roundTo = (x: number, decimals: number) => Math.round(x * 10 ** decimals) / 10 ** decimals;

export function syntheticSteps(options: SyntheticGaitOptions): SyntheticStep[] {
  const {
    seed,
    startTs,
    strides,
    direction,
    strideTimeMs = 1100,
    strideTimeCvPct = 2,
    asymmetryPct = 0,
    stepWidthMm = 100,
    stepWidthCvPct = 15,
    copSdMm = 8,
    handrailShare = 0,
    stumbles = 0,
  } = options;
  const stepCount = 2 * (strides + 1);
  if (!Number.isSafeInteger(startTs) || startTs <= 0)
    throw new RangeError('startTs must be a positive integer');
  if (!Number.isSafeInteger(strides) || strides < 0) throw new RangeError('strides must be a whole number');
  if (!(handrailShare >= 0 && handrailShare <= 1)) throw new RangeError('handrailShare must be in 0-1');
  if (!Number.isSafeInteger(stumbles) || stumbles < 0 || stumbles > stepCount) {
    throw new RangeError(`stumbles must be a whole number up to ${stepCount}`);
  }

  const random = createRandom(seed);
  const halfAsymmetry = asymmetryPct / 200;
  // A stride is two steps; independent step times with SD/sqrt(2) give the stride the requested CV.
  const stepSdMs = (strideTimeMs * strideTimeCvPct) / 100 / Math.SQRT2;
  const stumbleAt = new Set<number>();
  while (stumbleAt.size < stumbles) stumbleAt.add(random.int(0, stepCount - 1));

  const steps: SyntheticStep[] = [];
  let contactTs = startTs;
  for (let i = 0; i < stepCount; i++) {
    const foot = i % 2 === 0 ? 'L' : 'R';
    const share = foot === 'L' ? 1 + halfAsymmetry : 1 - halfAsymmetry;
    if (i > 0) {
      const meanStepMs = (strideTimeMs / 2) * share;
      contactTs += Math.max(meanStepMs * 0.2, random.normal(meanStepMs, stepSdMs));
    }
    const meanContactMs = STANCE_SHARE[direction] * strideTimeMs * share;
    const width = Math.max(0, random.normal(stepWidthMm, (stepWidthMm * stepWidthCvPct) / 100));
    const step: SyntheticStep = {
      type: 'step',
      ts: Math.round(contactTs),
      foot,
      contactMs: Math.round(Math.max(0, random.normal(meanContactMs, meanContactMs * CONTACT_CV))),
      strike: direction === 'backward' ? 'toe' : 'heel',
      stepWidthMm: roundTo(Math.min(1000, width), 1),
      handrail: random.next() < handrailShare,
    };
    // Drawn even without a plate, so switching COP off leaves every other field of the same seed unchanged.
    const cop = (foot === 'L' ? -1 : 1) * (stepWidthMm / 2) + random.normal(0, copSdMm ?? 0);
    if (copSdMm !== null) step.copLateralMm = roundTo(Math.max(-500, Math.min(500, cop)), 1);
    if (stumbleAt.has(i)) step.stumble = true;
    steps.push(step);
  }
  return steps;
}
