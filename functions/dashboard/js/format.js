/** Numbers and times as the dashboard shows them (one place, so tests can predict the text). */

/** @param {number | null | undefined} value @param {number} [digits] */
export function num(value, digits = 0) {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return value.toLocaleString('en-GB', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Seconds as "12.5 min" (one decimal). @param {number | null | undefined} seconds */
export const minutes = (seconds) =>
  seconds === null || seconds === undefined ? '–' : `${num(seconds / 60, 1)} min`;

/** Metres as "850 m" or "2.35 km". @param {number | null | undefined} metres */
export function distance(metres) {
  if (metres === null || metres === undefined) return '–';
  return metres >= 1000 ? `${num(metres / 1000, 2)} km` : `${num(metres)} m`;
}

/** Seconds as "1 h 05 min" or "12 min 30 s". @param {number} seconds */
export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const hours = Math.floor(s / 3600);
  const mins = Math.floor((s % 3600) / 60);
  if (hours > 0) return `${hours} h ${String(mins).padStart(2, '0')} min`;
  return `${mins} min ${String(s % 60).padStart(2, '0')} s`;
}

/** "just now", "45 s ago", "3 min ago", "2 h ago". @param {number | null} ts @param {number} now */
export function ago(ts, now) {
  if (ts === null) return 'never';
  const s = Math.max(0, Math.round((now - ts) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

/** Milliseconds as "7 min" or "1 h 12 min". @param {number} ms */
export function elapsed(ms) {
  const totalMin = Math.max(0, Math.floor(ms / 60_000));
  return totalMin < 60 ? `${totalMin} min` : `${Math.floor(totalMin / 60)} h ${totalMin % 60} min`;
}

/** "gym-a" -> "Gym A"; other ids as they are. @param {string} id */
export const gymName = (id) => (/^gym-[a-z]$/.test(id) ? `Gym ${id.slice(4).toUpperCase()}` : id);

/**
 * Times: every time the dashboard shows is the browser's local time, written by `clock` ("18:14") or
 * `dateTime` ("Sun 6 Dec, 18:14"), or relative by `ago`; never an ISO string.
 * @param {number} ts
 */
export const clock = (ts) => new Date(ts).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });

/** @param {number} ts */
export const dateTime = (ts) =>
  new Date(ts).toLocaleString('en-GB', {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
  });

/** "safety_stop" -> "Safety stop". @param {string} code */
export const label = (code) => {
  const text = code.replaceAll('_', ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
};

/** Calorie model codes as people say them. */
export const CALORIE_MODELS = {
  'acsm-walking': 'ACSM walking',
  'acsm-running': 'ACSM running',
  'acsm-walking-backward': 'ACSM walking × backward factor',
  keytel: 'Keytel (heart rate)',
};

/** @param {string} model */
export const calorieModel = (model) =>
  CALORIE_MODELS[/** @type {keyof typeof CALORIE_MODELS} */ (model)] ?? model;

export const STATUS_LABELS = { in_use: 'In use', idle: 'Idle', offline: 'Offline', fault: 'Fault' };

/**
 * An alert's message with its times in the dashboard's format: the offline alert says since when the
 * treadmill is silent from `detail.lastSeenTs` (older alerts carry a UTC ISO time in their text instead).
 * @param {{ kind: string, message: string, detail?: Record<string, string | number | boolean> }} alert
 */
export function alertMessage(alert) {
  const lastSeenTs = alert.detail?.lastSeenTs;
  if (alert.kind === 'offline' && typeof lastSeenTs === 'number')
    return `Treadmill silent since ${dateTime(lastSeenTs)} during opening hours`;
  return alert.message;
}

/** Why a calorie figure is less certain, in plain words (reason codes: shared/src/metrics/calories.ts). */
export const CALORIE_REASONS = {
  no_data: 'No belt data to estimate from',
  speed_below_validated_range: 'Speed below the range the walking equation was validated for',
  speed_above_validated_range: 'Speed above the range the walking equation was validated for',
  backward_outside_data_range: 'Backward speed or incline outside the range of the measured backward data',
  gait_assumed_walking: 'Walking assumed between walking and running speeds (no gait sensor)',
  hr_disagrees_with_workload: 'Heart rate does not match the workload',
  speed_in_walk_run_gap: 'Speed between walking and running',
  backward_multiplier: 'Backward walking estimated as forward walking times a factor',
  negative_grade: 'Downhill incline, outside what the walking equation was validated for',
  default_weight: 'Body weight unknown: a default weight was used',
  default_age: 'Age unknown: a default age was used',
  direction_unknown: 'Walking direction unknown for part of the session',
  belt_stopped: 'Belt stopped for part of the session',
  resting_floor: 'Estimate below resting level: counted at resting level',
  sex_unknown: 'Sex unknown: the heart-rate equation was not used',
  age_outside_keytel_range: 'Age outside the range of the heart-rate equation',
  weight_outside_keytel_range: 'Weight outside the range of the heart-rate equation',
  hr_outside_keytel_range: 'Heart rate outside the range of the heart-rate equation',
};

/** @param {string} code */
export const calorieReason = (code) =>
  CALORIE_REASONS[/** @type {keyof typeof CALORIE_REASONS} */ (code)] ?? label(code);
