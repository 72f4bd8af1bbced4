/**
 * `npx tsx scripts/energy/fit-backward-model.ts`: fits the backward-walking equation to the published data
 * set, prints the tables of docs/energy-model.md and draws its plot (docs/energy-model.png, through the headless
 * Chromium the browser tests use). Exit 1 when the fit differs from BACKWARD_WALKING_FIT in shared code.
 */
import { readFile } from 'node:fs/promises';
import {
  acsmWalkingVo2,
  BACKWARD_WALKING_DATA_RANGE,
  BACKWARD_WALKING_FIT,
  type BackwardWalkingFactors,
  backwardWalkingVo2,
} from '../../shared/src/metrics/calories.js';
import {
  dataRange,
  type EnergyRow,
  errorTable,
  type FitPoint,
  fitBackwardWalking,
  fitPoints,
  keytelTable,
  mixTable,
  parseEnergyCsv,
  type ProfileBracket,
  ratioTable,
} from '../../shared/src/metrics/energy-validation.js';
import { launchChromium } from '../../test/support/dashboard-driver.js';
import { parseCommandArgs, UsageError, wantsHelp } from '../lib/command.js';

const HELP = `Usage: npx tsx scripts/energy/fit-backward-model.ts [--csv FILE] [--png FILE | --no-png]

Reads the backward-walking data set (default docs/data/backward-walking-energy.csv), fits the two factors of the
backward equation (docs/energy-model.md 3), and prints as Markdown: the coefficients, the error on every measured
point with its leave-one-source-out error, the backward/forward ratio check, the Keytel and mixed checks.
Draws model against measurements to --png (default docs/energy-model.png) with headless Chromium.
Exit 0 when the fit equals BACKWARD_WALKING_FIT in shared/src/metrics/calories.ts, 1 when it does not,
2 on a usage error or a data set with rejected rows.`;

const OPTIONS = { csv: { type: 'string' }, png: { type: 'string' }, 'no-png': { type: 'boolean' } } as const;
const DEFAULT_CSV = 'docs/data/backward-walking-energy.csv';
const DEFAULT_PNG = 'docs/energy-model.png';
/** Mass and age where the heart-rate sources give neither: young adult men (docs/energy-model.md 5) [D]. */
const BRACKET: ProfileBracket = { weightKg: { min: 60, max: 90 }, ageYears: { min: 18, max: 30 } };

const fixed = (value: number, decimals = 1) => value.toFixed(decimals);
const signed = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(1)} %`;
const kmh = (mPerMin: number) => (mPerMin * 0.06).toFixed(2);

function markdown(rows: EnergyRow[], points: FitPoint[], fit: BackwardWalkingFactors): string {
  const range = dataRange(points);
  const lines = [
    `Fit: horizontal x${fixed(fit.horizontal, 3)}, vertical x${fixed(fit.vertical, 3)} on ${points.length} points`,
    `Data range: ${range.speedMPerMin.min}-${range.speedMPerMin.max} m/min, ${range.gradePct.min}-${range.gradePct.max} % grade`,
    '',
    '| point | km/h | grade % | measured | ACSM forward | measured / ACSM | model | error | leave source out | error |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...errorTable(points, fit).map(
      (r) =>
        `| ${r.sourceId} | ${kmh(r.speedMPerMin)} | ${r.gradePct} | ${fixed(r.measuredVo2)} | ${fixed(r.acsmForwardVo2)} | ${fixed(r.impliedFactor, 2)} | ${fixed(r.predictedVo2)} | ${signed(r.errorPct)} | ${fixed(r.leaveSourceOutVo2)} | ${signed(r.leaveSourceOutErrorPct)} |`,
    ),
    '',
    '| ratio source | km/h | grade % | measured backward/forward | model backward/ACSM forward | outside by |',
    '|---|---|---|---|---|---|',
    ...ratioTable(rows, fit).map(
      (r) =>
        `| ${r.sourceId} | ${kmh(r.speedMPerMin)} | ${r.gradeMinPct}-${r.gradeMaxPct} | ${fixed(r.measuredMin, 2)}-${fixed(r.measuredMax, 2)} | ${fixed(r.modelMin, 2)}-${fixed(r.modelMax, 2)} | ${signed(r.errorPct)} |`,
    ),
    '',
    `Keytel (men), mass ${BRACKET.weightKg.min}-${BRACKET.weightKg.max} kg, age ${BRACKET.ageYears.min}-${BRACKET.ageYears.max} y:`,
    '| source | direction | HR | measured | Keytel | error |',
    '|---|---|---|---|---|---|',
    ...keytelTable(rows, BRACKET).map(
      (r) =>
        `| ${r.sourceId} | ${r.direction} | ${r.hrBpm} | ${fixed(r.measured, 2)} ${r.unit} | ${fixed(r.keytelMin, 2)}-${fixed(r.keytelMax, 2)} | ${signed(r.errorMinPct)} to ${signed(r.errorMaxPct)} |`,
    ),
    '',
    'Mixed session (equal forward and backward bouts; forward Keytel, backward the fitted equation):',
    '| source | measured (ml/kg/min, summed) | summary | error |',
    '|---|---|---|---|',
    ...mixTable(rows, BRACKET, fit).map(
      (r) =>
        `| ${r.sourceId} | ${fixed(r.measured)} | ${fixed(r.mixedMin)}-${fixed(r.mixedMax)} | ${signed(r.errorMinPct)} to ${signed(r.errorMaxPct)} |`,
    ),
  ];
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// The plot: VO2 against speed, the model at the graded conditions of the data, ACSM forward, the measurements.

const PLOT = { width: 900, height: 560, left: 70, right: 230, top: 40, bottom: 60 } as const;
const AXES = { kmh: { min: 1.5, max: 7 }, vo2: { min: 0, max: 40 } } as const;
const GRADE_COLOURS: Record<number, string> = { 0: '#1f6feb', 5: '#d1242f' };

function plotSvg(points: FitPoint[], fit: BackwardWalkingFactors): string {
  const plotWidth = PLOT.width - PLOT.left - PLOT.right;
  const plotHeight = PLOT.height - PLOT.top - PLOT.bottom;
  const x = (kmhValue: number) =>
    PLOT.left + ((kmhValue - AXES.kmh.min) / (AXES.kmh.max - AXES.kmh.min)) * plotWidth;
  const y = (vo2: number) =>
    PLOT.top + (1 - (vo2 - AXES.vo2.min) / (AXES.vo2.max - AXES.vo2.min)) * plotHeight;
  const curve = (vo2At: (mPerMin: number) => number, style: string) => {
    const steps = Array.from(
      { length: 56 },
      (_, i) => AXES.kmh.min + (i * (AXES.kmh.max - AXES.kmh.min)) / 55,
    );
    const d = steps
      .map((k, i) => `${i === 0 ? 'M' : 'L'}${x(k).toFixed(1)},${y(vo2At(k / 0.06)).toFixed(1)}`)
      .join(' ');
    return `<path d="${d}" fill="none" ${style}/>`;
  };
  const range = BACKWARD_WALKING_DATA_RANGE.speedMPerMin;
  const parts: string[] = [
    `<rect width="${PLOT.width}" height="${PLOT.height}" fill="#fff"/>`,
    `<rect x="${x(range.min * 0.06)}" y="${PLOT.top}" width="${x(range.max * 0.06) - x(range.min * 0.06)}" height="${plotHeight}" fill="#eef6ee"/>`,
    `<text x="${x(range.min * 0.06) + 4}" y="${PLOT.top + 14}" font-size="11" fill="#2d6a2d">measured range</text>`,
  ];
  for (let v = AXES.vo2.min; v <= AXES.vo2.max; v += 5)
    parts.push(
      `<line x1="${PLOT.left}" x2="${PLOT.left + plotWidth}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`,
      `<text x="${PLOT.left - 8}" y="${y(v) + 4}" font-size="12" text-anchor="end">${v}</text>`,
    );
  for (let k = 2; k <= AXES.kmh.max; k += 1)
    parts.push(
      `<line x1="${x(k)}" x2="${x(k)}" y1="${PLOT.top}" y2="${PLOT.top + plotHeight}" stroke="#eee"/>`,
      `<text x="${x(k)}" y="${PLOT.top + plotHeight + 18}" font-size="12" text-anchor="middle">${k}</text>`,
    );
  for (const [gradePct, colour] of Object.entries(GRADE_COLOURS)) {
    const grade = Number(gradePct) / 100;
    parts.push(
      curve((s) => backwardWalkingVo2(s, grade, fit), `stroke="${colour}" stroke-width="2.5"`),
      curve((s) => acsmWalkingVo2(s, grade), `stroke="${colour}" stroke-width="1.5" stroke-dasharray="6 4"`),
    );
  }
  for (const p of points) {
    const colour = GRADE_COLOURS[Math.round(p.grade * 100)] ?? '#555';
    const cx = x(p.speedMPerMin * 0.06);
    const cy = y(p.measuredVo2);
    parts.push(
      `<circle cx="${cx}" cy="${cy}" r="6" fill="${colour}" stroke="#000"/>`,
      `<text x="${cx + 9}" y="${cy - 8}" font-size="11">${p.sourceId}</text>`,
    );
  }
  const legendX = PLOT.left + plotWidth + 20;
  const legend = [
    ['line', GRADE_COLOURS[0], '', 'backward fit, 0 %'],
    ['line', GRADE_COLOURS[5], '', 'backward fit, 5 %'],
    ['line', GRADE_COLOURS[0], '6 4', 'ACSM forward, 0 %'],
    ['line', GRADE_COLOURS[5], '6 4', 'ACSM forward, 5 %'],
    ['dot', '#555', '', 'measured (colour = grade)'],
  ] as const;
  legend.forEach(([kind, colour, dash, label], i) => {
    const ly = PLOT.top + 20 + i * 24;
    parts.push(
      kind === 'line'
        ? `<line x1="${legendX}" x2="${legendX + 30}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="2.5" stroke-dasharray="${dash}"/>`
        : `<circle cx="${legendX + 15}" cy="${ly}" r="6" fill="${colour}" stroke="#000"/>`,
      `<text x="${legendX + 38}" y="${ly + 4}" font-size="12">${label}</text>`,
    );
  });
  parts.push(
    `<text x="${PLOT.left + plotWidth / 2}" y="${PLOT.height - 18}" font-size="13" text-anchor="middle">treadmill speed (km/h)</text>`,
    `<text transform="translate(20 ${PLOT.top + plotHeight / 2}) rotate(-90)" font-size="13" text-anchor="middle">gross VO2 (ml/kg/min)</text>`,
    `<text x="${PLOT.left}" y="24" font-size="15" font-weight="bold">Backward walking: fitted equation against published measurements</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${PLOT.width}" height="${PLOT.height}" font-family="sans-serif">${parts.join('')}</svg>`;
}

async function writePng(svg: string, path: string): Promise<void> {
  const chromium = await launchChromium();
  try {
    const page = await chromium.page({ width: PLOT.width, height: PLOT.height });
    await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
    await page.locator('svg').screenshot({ path });
  } finally {
    await chromium.close();
  }
}

async function main(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    console.log(HELP);
    return 0;
  }
  const { values } = parseCommandArgs(argv, OPTIONS);
  if (values.png !== undefined && values['no-png'])
    throw new UsageError('--png and --no-png exclude each other');
  const csvPath = values.csv ?? DEFAULT_CSV;
  const text = await readFile(csvPath, 'utf8').catch(() => {
    throw new UsageError(`cannot read --csv ${csvPath}`);
  });
  const { rows, rejected } = parseEnergyCsv(text);
  if (rejected.length > 0)
    throw new UsageError(
      `${csvPath}: ${rejected.length} row(s) rejected: ${rejected.map((r) => `line ${r.line}: ${r.reason}`).join('; ')}`,
    );
  const points = fitPoints(rows);
  const fit = fitBackwardWalking(points);
  console.log(markdown(rows, points, fit));
  if (!values['no-png']) {
    const png = values.png ?? DEFAULT_PNG;
    await writePng(plotSvg(points, fit), png);
    console.log(`Plot: ${png}`);
  }
  const same =
    fit.horizontal === BACKWARD_WALKING_FIT.horizontal && fit.vertical === BACKWARD_WALKING_FIT.vertical;
  if (!same)
    console.error(
      `BACKWARD_WALKING_FIT in shared/src/metrics/calories.ts is ${JSON.stringify(BACKWARD_WALKING_FIT)}; the data give ${JSON.stringify(fit)}`,
    );
  return same ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`fit-backward-model: ${error.message}`);
      process.exit(2);
    }
    throw error;
  },
);
