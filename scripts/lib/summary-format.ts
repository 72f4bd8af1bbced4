/** A session summary as a person reads it in a terminal. */
import type { SessionSummary } from '../../shared/src/metrics/session.js';

const minutes = (s: number) => `${(s / 60).toFixed(1)} min`;
const km = (m: number) => `${(m / 1000).toFixed(2)} km`;
const kmh = (v: number | null) => (v === null ? '-' : `${v.toFixed(2)} km/h`);

export function formatSummary(summary: SessionSummary, source?: { lines: number; events: number }): string {
  const { forward, backward, calories, heartRate, balance } = summary;
  const component = (name: string) =>
    balance[balance.direction ?? 'forward'].components.find((c) => c.name === name);
  const rows: [string, string][] = [
    [
      'Session',
      `${summary.sessionId} (member ${summary.userToken ?? 'anonymous'}, program ${summary.program ?? '-'})`,
    ],
    ['Duration', `${minutes(summary.durationS)}, moving ${minutes(summary.movingS)}`],
    ['Forward', `${minutes(forward.movingS)}, ${km(forward.distanceM)}, mean ${kmh(forward.meanSpeedKmh)}`],
    [
      'Backward',
      `${minutes(backward.movingS)}, ${km(backward.distanceM)}, mean ${kmh(backward.meanSpeedKmh)}`,
    ],
    ['Backward share', summary.backwardShare === null ? '-' : `${Math.round(summary.backwardShare * 100)} %`],
    [
      'Elevation gain',
      `${summary.elevationGainM.toFixed(1)} m (mean incline ${summary.meanInclinePct ?? 0} %)`,
    ],
    [
      'Heart rate',
      `mean ${heartRate.meanBpm ?? '-'} bpm, max ${heartRate.maxBpm ?? '-'} bpm (zones 1-5: ${heartRate.zonesS.map((s) => Math.round(s / 60)).join('/')} min)`,
    ],
    [
      'Calories',
      `${calories.kcal.toFixed(1)} kcal, ${calories.met.toFixed(2)} MET, model ${calories.model}, confidence ${calories.confidence}` +
        (calories.treadmillKcal === null ? '' : ` (treadmill says ${calories.treadmillKcal} kcal)`),
    ],
    [
      'Balance',
      balance.score === null
        ? `not scored (${balance.forward.reason ?? 'no step data'})`
        : `${balance.score}/100 (${balance.direction}, ${balance[balance.direction ?? 'forward'].strides} strides; stride-time CV ${component('stride_time_cv')?.value?.toFixed(1) ?? '-'} %)`,
    ],
    ['Safety', `${summary.stumbles} stumble(s), ${summary.safetyStops} safety stop(s)`],
  ];
  if (source)
    rows.push(['Decoded', `${source.lines} recorded notifications and messages -> ${source.events} events`]);
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}
