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

/** @param {number} ts */
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
