/**
 * One insight per email: the member's own numbers set beside a fact about backward walking (docs/domain.md section 4:
 * speeds, published training rhythms, how the gait differs). Facts about walking, never health claims: no
 * promise of an effect on a condition, no advice beyond how gyms usually progress.
 */
import type { WeekNumbers } from './week-numbers.js';

export type InsightId =
  'backward-rhythm' | 'balance-rising' | 'backward-speed' | 'try-backward' | 'backward-share';

export interface Insight {
  id: InsightId;
  title: string;
  text: string;
  /** Where the fact comes from, shown under the insight. */
  source: string;
}

export interface InsightInput {
  current: WeekNumbers;
  previous: WeekNumbers | null;
  balanceTrend: { values: (number | null)[]; change: number | null };
  bestBackwardSpeedKmh: number | null;
}

/** The published programme's dose: 10 minutes, three days a week (docs/domain.md 4.2, Alghadir et al. 2019). */
const RHYTHM_SESSIONS = 3;
const RHYTHM_MINUTES = 30;
/** A rise of the four-week balance trend worth pointing out, in score points. */
const BALANCE_RISE = 3;
/** Backward walk-to-run transition of healthy young adults (docs/domain.md 4.1, Hreljac 2005). */
const BACKWARD_TRANSITION_KMH = 5.9;

const whole = (x: number): string => String(Math.round(x));
const oneDecimal = (x: number): string => x.toFixed(1);
const percent = (part: number, total: number): string => `${Math.round((part / total) * 100)} %`;

/** The first insight that the member's numbers support, in a fixed order. */
export function chooseInsight(input: InsightInput): Insight {
  const { current, previous, balanceTrend } = input;
  const knownMin = current.forwardMin + current.backwardMin;

  if (current.sessions >= RHYTHM_SESSIONS && current.backwardMin >= RHYTHM_MINUTES) {
    return {
      id: 'backward-rhythm',
      title: 'A steady backward rhythm',
      text:
        `You walked backwards for ${whole(current.backwardMin)} minutes over ${current.sessions} sessions this week. ` +
        'A published retro-walking programme used the same kind of rhythm: 10 minutes of backward walking, ' +
        'three days a week, kept up for six weeks.',
      source: 'Alghadir et al., BMC Musculoskeletal Disorders 20:159, 2019',
    };
  }
  const { values, change } = balanceTrend;
  if (change !== null && change >= BALANCE_RISE) {
    const known = values.filter((v): v is number => v !== null);
    return {
      id: 'balance-rising',
      title: 'Your balance score is climbing',
      text:
        `Your balance score went from ${whole(known[0]!)} to ${whole(known.at(-1)!)} over the last four weeks. ` +
        'The score follows how even and steady your steps are. Walking backwards asks more of this: the front ' +
        'of the foot touches down first and the ankle does most of the pushing off.',
      source: 'Lee et al., Gait & Posture 38:674, 2013',
    };
  }
  if (
    input.bestBackwardSpeedKmh !== null &&
    previous !== null &&
    previous.backwardMin > 0 &&
    current.backwardMin > previous.backwardMin
  ) {
    return {
      id: 'backward-speed',
      title: 'More time going backwards',
      text:
        `Your backward minutes rose from ${whole(previous.backwardMin)} to ${whole(current.backwardMin)}, at up to ` +
        `${oneDecimal(input.bestBackwardSpeedKmh)} km/h. For comparison, young adults switch from walking to running ` +
        `backwards at about ${oneDecimal(BACKWARD_TRANSITION_KMH)} km/h. Gyms usually raise backward speed in small ` +
        'steps of 0.2 to 0.5 km/h.',
      source: 'Hreljac et al., Journal of Sports Science and Medicine 4:446, 2005',
    };
  }
  if (current.backwardMin === 0) {
    return {
      id: 'try-backward',
      title: 'Backward walking works differently',
      text:
        'All your minutes this week were forwards. Walking backwards turns the step around: the front of the ' +
        'foot lands first, and the ankle takes over pushing off and cushioning the landing. Gyms usually start ' +
        'it at 1 to 2 km/h, with the safety key clipped on.',
      source: 'Lee et al., Gait & Posture 38:674, 2013',
    };
  }
  return {
    id: 'backward-share',
    title: 'Your backward share',
    text:
      `${knownMin > 0 ? percent(current.backwardMin, knownMin) : 'Some'} of your walking this week was backwards ` +
      `(${whole(current.backwardMin)} minutes). At the same speed, a backward minute takes more energy than a ` +
      'forward one, so short backward stretches count for more than their length suggests.',
    source:
      'Compendium of Physical Activities 2011: walking backwards at 3.5 mph, 6.0 MET, against 4.3 forwards',
  };
}
