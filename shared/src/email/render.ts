/**
 * The weekly progress email as HTML and plain text, from a ProgressReport. HTML that email clients render:
 * tables for layout, inline styles only, no images or scripts; the chart is table cells whose widths are the
 * bars, each with its numbers beside it, and the plain-text part draws the same chart with characters.
 */
import type { BestName, PersonalBest, ProgressReport } from './progress-report.js';
import type { WeekNumbers } from './week-numbers.js';

export interface EmailLinks {
  /** The page where a member confirms unsubscribing (the List-Unsubscribe header carries the POST URL). */
  unsubscribePage: string;
}

export interface RenderedEmail {
  subject: string;
  /** The line inbox previews show after the subject. */
  preheader: string;
  html: string;
  text: string;
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

const dayParts = (day: string) => {
  const [year, month, date] = day.split('-').map(Number) as [number, number, number];
  return { year, month: MONTHS[month - 1]!, date };
};

/** `16–22 November 2026`, `30 November – 6 December 2026`, across years in full. */
export function dayRangeLabel(firstDay: string, lastDay: string): string {
  const a = dayParts(firstDay);
  const b = dayParts(lastDay);
  if (a.year !== b.year) return `${a.date} ${a.month} ${a.year} – ${b.date} ${b.month} ${b.year}`;
  if (a.month !== b.month) return `${a.date} ${a.month} – ${b.date} ${b.month} ${b.year}`;
  return `${a.date}–${b.date} ${b.month} ${b.year}`;
}

const shortDay = (day: string): string => {
  const { date, month } = dayParts(day);
  return `${date} ${month.slice(0, 3)}`;
};

const minutes = (x: number): string => `${Math.round(x)} min`;
const km = (metres: number): string => `${(metres / 1000).toFixed(1)} km`;
const kcal = (x: number): string => `${Math.round(x)} kcal`;
const score = (x: number): string => String(Math.round(x));
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `+12 min on last week`, `-0.4 km on last week`, `same as last week`. */
function change(delta: number, format: (x: number) => string): string {
  const shown = format(Math.abs(delta));
  if (format(0) === shown) return 'same as last week';
  return `${delta > 0 ? '+' : '-'}${shown} on last week`;
}

const BEST_LABELS: Record<BestName, { label: string; format: (x: number) => string }> = {
  longestSession: { label: 'Longest session', format: minutes },
  longestDistance: { label: 'Longest distance', format: km },
  balance: { label: 'Best balance score', format: score },
  forwardSpeed: { label: 'Fastest forward pace', format: (x) => `${x.toFixed(1)} km/h` },
  backwardSpeed: { label: 'Fastest backward pace', format: (x) => `${x.toFixed(1)} km/h` },
};

const bestLine = (best: PersonalBest) => {
  const { label, format } = BEST_LABELS[best.name];
  return { label, value: format(best.value), isNew: best.isNew };
};

function comparisons(report: ProgressReport): Array<{ label: string; now: string; change: string | null }> {
  const { current, previous } = report;
  const rows: Array<[string, (w: WeekNumbers) => number, (x: number) => string]> = [
    ['Sessions', (w) => w.sessions, (x) => String(Math.round(x))],
    ['Active minutes', (w) => w.movingMin, minutes],
    ['Distance', (w) => w.distanceM, km],
    ['Calories', (w) => w.kcal, kcal],
  ];
  return rows.map(([label, of, format]) => ({
    label,
    now: format(of(current)),
    change: previous ? change(of(current) - of(previous), format) : null,
  }));
}

function trendLine(report: ProgressReport): string | null {
  const { values, change } = report.balanceTrend;
  if (values.every((v) => v === null)) return null;
  const path = values.map((v) => (v === null ? '–' : score(v))).join(' → ');
  if (change === null) return path;
  const rounded = Math.round(change);
  const direction = rounded > 0 ? `up ${rounded}` : rounded < 0 ? `down ${-rounded}` : 'steady';
  return `${path} (${direction}${rounded === 0 ? '' : rounded === 1 || rounded === -1 ? ' point' : ' points'} over four weeks)`;
}

export function subjectOf(report: ProgressReport): string {
  const { current } = report;
  return `Your treadmill week, ${dayRangeLabel(report.firstDay, report.lastDay)}: ${plural(current.sessions, 'session')}, ${minutes(current.movingMin)}`;
}

// ---------------------------------------------------------------------------------------------------------
// Plain text

const TEXT_BAR_WIDTH = 24;

/** One chart row per week: `#` forward, `=` backward, scaled to the busiest week. */
function textChart(weeks: readonly WeekNumbers[]): string[] {
  const most = Math.max(1, ...weeks.map((w) => w.movingMin));
  return weeks.map((w) => {
    const forward = Math.round((w.forwardMin / most) * TEXT_BAR_WIDTH);
    const backward = Math.round((w.backwardMin / most) * TEXT_BAR_WIDTH);
    const bar = `${'#'.repeat(forward)}${'='.repeat(backward)}`.padEnd(TEXT_BAR_WIDTH, '.');
    return `  ${shortDay(w.start).padEnd(7)} ${bar} ${minutes(w.movingMin)} (${Math.round(w.forwardMin)} forward, ${Math.round(w.backwardMin)} backward)`;
  });
}

export function renderText(report: ProgressReport, links: EmailLinks): string {
  const lines: string[] = [
    `Your treadmill week: ${dayRangeLabel(report.firstDay, report.lastDay)}`,
    '',
    'THIS WEEK',
    ...comparisons(report).map((row) =>
      `  ${row.label.padEnd(15)} ${row.now.padEnd(10)}${row.change ? ` ${row.change}` : ''}`.trimEnd(),
    ),
    `  ${'Forward'.padEnd(15)} ${minutes(report.current.forwardMin)}`,
    `  ${'Backward'.padEnd(15)} ${minutes(report.current.backwardMin)}`,
  ];
  if (report.previous === null) lines.push('  (No sessions last week to compare with.)');
  lines.push('', 'ACTIVE MINUTES, LAST FOUR WEEKS (# forward, = backward)', ...textChart(report.recent));
  const trend = trendLine(report);
  lines.push('', 'BALANCE SCORE (0-100)', `  ${trend ?? 'Not enough gait data yet for a score.'}`);
  if (report.bests.length > 0) {
    lines.push('', report.firstWeek ? 'YOUR FIRST MARKS' : 'PERSONAL BESTS');
    for (const best of report.bests.map(bestLine))
      lines.push(`  ${best.label.padEnd(22)} ${best.value}${best.isNew ? '  NEW this week' : ''}`);
  }
  lines.push(
    '',
    report.insight.title.toUpperCase(),
    ...wrap(report.insight.text, 72).map((line) => `  ${line}`),
    `  Source: ${report.insight.source}`,
    '',
    '--',
    'You get this email because you agreed to weekly progress emails at your gym.',
    `Unsubscribe: ${links.unsubscribePage}`,
    '',
  );
  return lines.join('\n');
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line.length > 0 && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line.length > 0 ? `${line} ${word}` : word;
  }
  if (line.length > 0) lines.push(line);
  return lines;
}

// ---------------------------------------------------------------------------------------------------------
// HTML

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

const COLORS = {
  page: '#eef2f6',
  card: '#ffffff',
  ink: '#1c2733',
  muted: '#5b6b7c',
  line: '#dde3ea',
  forward: '#2f6fb3',
  backward: '#e0892f',
  track: '#edf1f5',
  accent: '#1d3b5c',
  highlight: '#fff4e5',
};
const FONT = "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;";

function statCell(label: string, value: string, note: string | null): string {
  return (
    `<td width="25%" valign="top" style="padding:12px 8px;${FONT}">` +
    `<div style="font-size:12px;color:${COLORS.muted};">${escapeHtml(label)}</div>` +
    `<div style="font-size:22px;font-weight:bold;color:${COLORS.ink};padding-top:2px;">${escapeHtml(value)}</div>` +
    (note
      ? `<div style="font-size:12px;color:${COLORS.muted};padding-top:2px;">${escapeHtml(note)}</div>`
      : '') +
    '</td>'
  );
}

/** A bar as a one-row table: forward and backward cells with percentage widths, the rest as track. */
function barCells(week: WeekNumbers, most: number): string {
  const forward = Math.round((week.forwardMin / most) * 100);
  const backward = Math.round((week.backwardMin / most) * 100);
  const rest = Math.max(0, 100 - forward - backward);
  const cell = (width: number, color: string) =>
    width > 0
      ? `<td width="${width}%" height="14" bgcolor="${color}" style="background:${color};font-size:0;line-height:0;">&nbsp;</td>`
      : '';
  return (
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"><tr>' +
    cell(forward, COLORS.forward) +
    cell(backward, COLORS.backward) +
    cell(rest, COLORS.track) +
    '</tr></table>'
  );
}

function htmlChart(weeks: readonly WeekNumbers[]): string {
  const most = Math.max(1, ...weeks.map((w) => w.movingMin));
  const summary = weeks
    .map(
      (w) =>
        `${shortDay(w.start)}: ${Math.round(w.forwardMin)} forward, ${Math.round(w.backwardMin)} backward`,
    )
    .join('; ');
  const rows = weeks
    .map(
      (w) =>
        `<tr><td width="64" style="padding:4px 8px 4px 0;font-size:13px;color:${COLORS.muted};${FONT}white-space:nowrap;">${escapeHtml(shortDay(w.start))}</td>` +
        `<td style="padding:4px 0;">${barCells(w, most)}</td>` +
        `<td width="120" align="right" style="padding:4px 0 4px 8px;font-size:13px;color:${COLORS.ink};${FONT}white-space:nowrap;">${escapeHtml(minutes(w.movingMin))}` +
        `<span style="color:${COLORS.muted};"> (${Math.round(w.backwardMin)} back)</span></td></tr>`,
    )
    .join('');
  return (
    `<table role="img" aria-label="${escapeHtml(`Active minutes per week, ${summary}`)}" width="100%" cellpadding="0" cellspacing="0" border="0">${rows}</table>` +
    `<div style="padding-top:6px;font-size:12px;color:${COLORS.muted};${FONT}">` +
    `<span style="color:${COLORS.forward};font-weight:bold;">&#9632;</span> forward &nbsp; ` +
    `<span style="color:${COLORS.backward};font-weight:bold;">&#9632;</span> backward</div>`
  );
}

const section = (title: string, body: string): string =>
  `<tr><td style="padding:20px 24px 4px;${FONT}"><div style="font-size:15px;font-weight:bold;color:${COLORS.accent};padding-bottom:8px;">${escapeHtml(title)}</div>${body}</td></tr>`;

export function renderHtml(report: ProgressReport, links: EmailLinks, preheader: string): string {
  const { current } = report;
  const stats = comparisons(report);
  const statRow = stats.map((s) => statCell(s.label, s.now, s.change)).join('');
  const split = `Forward ${minutes(current.forwardMin)} · Backward ${minutes(current.backwardMin)}`;
  const trend = trendLine(report);
  const bests = report.bests
    .map(bestLine)
    .map(
      (b) =>
        `<tr><td style="padding:6px 0;border-top:1px solid ${COLORS.line};font-size:14px;color:${COLORS.ink};${FONT}">${escapeHtml(b.label)}</td>` +
        `<td align="right" style="padding:6px 0;border-top:1px solid ${COLORS.line};font-size:14px;font-weight:bold;color:${COLORS.ink};${FONT}">${escapeHtml(b.value)}` +
        (b.isNew
          ? ` <span style="display:inline-block;margin-left:6px;padding:1px 6px;border-radius:8px;background:${COLORS.backward};color:#ffffff;font-size:11px;">NEW</span>`
          : '') +
        '</td></tr>',
    )
    .join('');
  const title = `Your treadmill week: ${dayRangeLabel(report.firstDay, report.lastDay)}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>${escapeHtml(title)}</title>
</head>
<body style="margin:0;padding:0;background:${COLORS.page};">
<div style="display:none;max-height:0;overflow:hidden;">${escapeHtml(preheader)}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" bgcolor="${COLORS.page}" style="background:${COLORS.page};">
<tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" bgcolor="${COLORS.card}" style="width:100%;max-width:600px;background:${COLORS.card};border-radius:10px;">
<tr><td style="padding:20px 24px 0;${FONT}"><div style="font-size:13px;font-weight:bold;letter-spacing:0.04em;color:${COLORS.backward};">RETROSTRIDE</div>
<h1 style="margin:6px 0 0;font-size:22px;line-height:1.3;color:${COLORS.ink};${FONT}">${escapeHtml(title)}</h1>
<div style="padding-top:4px;font-size:14px;color:${COLORS.muted};">${escapeHtml(split)}${report.previous ? '' : ' · no sessions last week to compare with'}</div></td></tr>
<tr><td style="padding:8px 16px 0;"><table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"><tr>${statRow}</tr></table></td></tr>
${section('Active minutes, last four weeks', htmlChart(report.recent))}
${section('Balance score', `<div style="font-size:14px;color:${COLORS.ink};">${escapeHtml(trend ?? 'Not enough gait data yet for a score.')}</div><div style="font-size:12px;color:${COLORS.muted};padding-top:4px;">0 to 100, from how even and steady your steps are.</div>`)}
${report.bests.length > 0 ? section(report.firstWeek ? 'Your first marks' : 'Personal bests', `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">${bests}</table>`) : ''}
<tr><td style="padding:20px 24px 4px;${FONT}"><table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" bgcolor="${COLORS.highlight}" style="background:${COLORS.highlight};border-radius:8px;"><tr><td style="padding:14px 16px;${FONT}">
<div style="font-size:15px;font-weight:bold;color:${COLORS.ink};">${escapeHtml(report.insight.title)}</div>
<div style="font-size:14px;line-height:1.5;color:${COLORS.ink};padding-top:6px;">${escapeHtml(report.insight.text)}</div>
<div style="font-size:12px;color:${COLORS.muted};padding-top:6px;">Source: ${escapeHtml(report.insight.source)}</div>
</td></tr></table></td></tr>
<tr><td style="padding:20px 24px 24px;font-size:12px;line-height:1.5;color:${COLORS.muted};${FONT}">You get this email because you agreed to weekly progress emails at your gym.
<a href="${escapeHtml(links.unsubscribePage)}" style="color:${COLORS.muted};text-decoration:underline;">Unsubscribe</a></td></tr>
</table>
</td></tr>
</table>
</body>
</html>
`;
}

export function renderProgressEmail(report: ProgressReport, links: EmailLinks): RenderedEmail {
  const { current } = report;
  const preheader = `${plural(current.sessions, 'session')}, ${minutes(current.movingMin)} (${minutes(current.backwardMin)} backwards), ${km(current.distanceM)}. ${report.insight.title}.`;
  return {
    subject: subjectOf(report),
    preheader,
    html: renderHtml(report, links, preheader),
    text: renderText(report, links),
  };
}
