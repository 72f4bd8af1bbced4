/**
 * The whole product on one machine (docs/architecture.md section 1): MQTT broker, Kinesis and DynamoDB emulators, one
 * gateway agent per gym, the event-source runner feeding the real ingest handler, the sweeper and notifier on
 * their schedules, the API with the dashboard, and the simulated gyms. The handlers are the Lambda code,
 * configured only through environment variables pointing at the emulators.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Gateway } from '../../gateway-agent/src/agent.js';
import { INGEST_MAX_RECORD_AGE_HOURS, replayWindowProblem } from '../../infra/stream-retention.js';
import { nextRunAfter, parseWeeklySchedule } from '../../shared/src/email/schedule.js';
import { parseConfig } from '../../gateway-agent/src/config.js';
import { localSecret } from '../lib/local-secrets.js';
import type { ProgressBar } from '../lib/progress-bar.js';
import { LOCAL_EMAIL_FROM, writeEndpoints } from '../lib/stack-connection.js';
import { type GymSimulator, gymIdOf, type SimulatorOptions } from '../sim/gym-simulator.js';
import { type RunningSimulator, startSimulator } from '../sim/publisher.js';
import { seedSimulatedMembers } from '../sim/simulated-members.js';
import { type ApiServer, DEV_USERS, startApiServer } from './api-server.js';
import { EventSourceRunner } from './event-source-runner.js';
import { backfillHistory } from './history.js';
import { type EmbeddedAws, LOCAL_REGION, startEmbeddedAws } from './kit.js';
import { lambdaContext } from './lambda-shapes.js';

export interface DevStackOptions {
  dataDir: string;
  fresh: boolean;
  port: number;
  host: string;
  /** Host names the dashboard answers besides loopback and `host`. */
  allowedHosts?: readonly string[];
  /** An external broker instead of the in-process one. */
  mqttUrl?: string;
  mqttPort: number;
  simulate: boolean;
  simulator: Partial<SimulatorOptions>;
  /** How often the sweeper and the notifier run (Lambda: every minute). */
  scheduleMs: number;
  /** The Kinesis event source's batching window; Lambda in AWS uses the infra's context value. */
  batchingWindowMs: number;
  /** Weeks of the simulated gyms' past to send through the pipeline on a first start (0: none). */
  historyWeeks: number;
  /**
   * Records older than this are given up to `.data/ingest-failures.jsonl`, as Lambda's maximum record age does
   * (default 24 h); -1 delivers them however old, for a replay (docs/architecture.md section 5.5).
   */
  maximumRecordAgeMs?: number;
  log: (line: string) => void;
  /** A progress bar for long start-up work (the history); none by default. */
  progress?: (label: string) => ProgressBar;
  /** Aborting it during start-up stops what has started and rejects. */
  signal?: AbortSignal;
}

export interface DevStack {
  readonly kit: EmbeddedAws;
  readonly api: ApiServer;
  readonly gateways: readonly Gateway[];
  readonly simulator: RunningSimulator | undefined;
  readonly runner: EventSourceRunner;
  /** Stops everything, newest first; safe to call twice. */
  stop(): Promise<void>;
}

const ACCOUNT = '000000000000';
const HOUR_MS = 3_600_000;
const NO_PROGRESS: ProgressBar = { update: () => undefined, done: () => undefined };

/** The dev stage's defaults in cdk.json that the local stack keeps too. */
async function devStageDefaults(): Promise<{ progressEmailSchedule: string; streamRetentionHours: number }> {
  const cdk = JSON.parse(await readFile(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: { retrostride: { defaults: { progressEmailSchedule: string; streamRetentionHours: number } } };
  };
  return cdk.context.retrostride.defaults;
}

/** The deployment's schedule of the weekly email (the dev stage's, from cdk.json), kept by the local stack. */
async function progressEmailSchedule(): Promise<string> {
  return (await devStageDefaults()).progressEmailSchedule;
}

/**
 * The local stream keeps records as long as the dev stage's does, and the runner gives up on records as old as
 * Lambda does (to `.data/ingest-failures.jsonl`): a record given up for age can still be replayed from the stream
 * (docs/architecture.md section 5.5). Refuses a retention that leaves no replay window after the runner's age.
 */
async function localStreamRetentionHours(maximumRecordAgeMs: number): Promise<number> {
  const hours = (await devStageDefaults()).streamRetentionHours;
  const problem =
    maximumRecordAgeMs < 0 ? undefined : replayWindowProblem(hours, maximumRecordAgeMs / HOUR_MS);
  if (problem) throw new Error(`cdk.json streamRetentionHours (the local stream's retention): ${problem}`);
  return hours;
}

export async function startDevStack(options: DevStackOptions): Promise<DevStack> {
  const { dataDir, log } = options;
  if (options.fresh) await rm(dataDir, { recursive: true, force: true });
  const firstStart = !existsSync(join(dataDir, 'aws'));
  await mkdir(join(dataDir, 'outbox'), { recursive: true });
  const stops: Array<() => Promise<void>> = [];
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      for (const close of stops.reverse())
        await close().catch((error: unknown) => log(`stop: ${String(error)}`));
    })();
    return stopping;
  };

  try {
    const maximumRecordAgeMs = options.maximumRecordAgeMs ?? INGEST_MAX_RECORD_AGE_HOURS * HOUR_MS;
    const kit = await startEmbeddedAws({
      dataDir: join(dataDir, 'aws'),
      streamRetentionHours: await localStreamRetentionHours(maximumRecordAgeMs),
      ...(options.mqttUrl ? { mqttUrl: options.mqttUrl } : { mqttPort: options.mqttPort }),
    });
    stops.push(() => kit.stop());
    log(`ok  MQTT broker        ${kit.mqtt.url}${options.mqttUrl ? '' : ' (aedes, in-process)'}`);
    log(`ok  Kinesis emulator   ${kit.kinesis.endpoint} (kinesalite), stream ${kit.streamName}`);
    log(`ok  DynamoDB emulator  ${kit.dynamo.endpoint} (dynalite), tables ${kit.tablePrefix}-*`);
    if (options.simulate) {
      const seeded = await seedSimulatedMembers(
        kit.dynamo.doc,
        kit.tables.members,
        options.simulator,
        Date.now(),
      );
      log(
        `ok  Members            ${seeded.imported} simulated members (${seeded.created} new), via members import`,
      );
    }

    // The handlers read their configuration from the environment, exactly as on Lambda.
    Object.assign(process.env, kit.env, {
      ALERT_OUTBOX_FILE: join(dataDir, 'outbox', 'alerts.jsonl'),
      EMAIL_OUTBOX_DIR: join(dataDir, 'outbox'),
      UNSUBSCRIBE_SECRET: await localSecret(dataDir, 'unsubscribe'),
      EMAIL_FROM: process.env.EMAIL_FROM ?? LOCAL_EMAIL_FROM,
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    const [{ handler: ingest }, { handler: sweeper }, { handler: notifier }] = await Promise.all([
      import('../../functions/ingest/handler.js'),
      import('../../functions/sweeper/handler.js'),
      import('../../functions/notifier/handler.js'),
    ]);

    const gyms = Array.from({ length: options.simulator.gyms ?? 2 }, (_, i) => gymIdOf(i + 1));
    const gateways = new Map<string, Gateway>();
    for (const gymId of gyms) {
      const config = parseConfig({
        gymId,
        // aedes speaks MQTT 3.1.1 only.
        mqtt: {
          url: kit.mqtt.url,
          protocolVersion: options.mqttUrl ? 5 : 4,
          topicFilter: `gyms/${gymId}/treadmills/+/+`,
        },
        spool: { dir: join(dataDir, `gateway-${gymId}`), maxBytes: '256MiB', segmentBytes: '8MiB' },
        kinesis: { streamName: kit.streamName, endpoint: kit.kinesis.endpoint, region: LOCAL_REGION },
        http: { port: 0 },
      });
      const gateway = await Gateway.start({ config, log: (line) => log(`    gateway ${gymId}: ${line}`) });
      gateways.set(gymId, gateway);
      stops.push(() => gateway.stop(2_000));
      log(`ok  Gateway ${gymId.padEnd(10)} ${gateway.httpUrl}/metrics, spool ${config.spool.dir}`);
    }

    const runner = new EventSourceRunner({
      kinesis: kit.kinesis.client,
      streamName: kit.streamName,
      handler: ingest,
      batchSize: 500,
      batchingWindowMs: options.batchingWindowMs,
      reportBatchItemFailures: true,
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: 10,
      maximumRecordAgeMs,
      checkpointFile: join(dataDir, 'runner-checkpoints.json'),
      onFailureFile: join(dataDir, 'ingest-failures.jsonl'),
      functionName: 'ingest',
      region: LOCAL_REGION,
      accountId: ACCOUNT,
      log: (message) => log(`    runner: ${message}`),
    });
    await runner.start();
    stops.push(() => runner.stop());
    log(`ok  Ingest             Kinesis -> ingest handler, batching window ${options.batchingWindowMs} ms`);

    /** Runs `run` at the times `next` gives, one run at a time, until the stack stops. */
    const scheduled = (name: string, next: (after: number) => number, run: () => Promise<unknown>) => {
      let timer: NodeJS.Timeout | undefined;
      let stopped = false;
      const arm = () => {
        if (stopped) return;
        // setTimeout's delay is a 32-bit count of ms (~24.8 days); a weekly run is well within it.
        timer = setTimeout(
          () => {
            run()
              .catch((error: unknown) => log(`    ${name}: ${(error as Error).message}`))
              .finally(arm);
          },
          next(Date.now()) - Date.now(),
        );
      };
      arm();
      stops.push(async () => {
        stopped = true;
        clearTimeout(timer);
      });
    };
    const every = (ms: number) => (after: number) => after + ms;
    scheduled('sweeper', every(options.scheduleMs), () =>
      sweeper({}, lambdaContext('sweeper', LOCAL_REGION, ACCOUNT)),
    );
    scheduled('notifier', every(options.scheduleMs), () =>
      notifier({}, lambdaContext('notifier', LOCAL_REGION, ACCOUNT)),
    );
    log(
      `ok  Sweeper, notifier  every ${options.scheduleMs / 1000} s; alerts to ${process.env.ALERT_OUTBOX_FILE}`,
    );

    const api = await startApiServer({
      port: options.port,
      host: options.host,
      exportsDir: join(dataDir, 'exports'),
      ...(options.allowedHosts && { allowedHosts: options.allowedHosts }),
    });
    stops.push(() => api.stop());
    // How `retrostride export`, `members` and `emails` find this stack while it runs.
    stops.push(
      await writeEndpoints(dataDir, {
        dynamoEndpoint: kit.dynamo.endpoint,
        tablePrefix: kit.tablePrefix,
        region: LOCAL_REGION,
        apiUrl: api.url,
        pid: process.pid,
      }),
    );
    log(`ok  API and dashboard  ${api.url}`);
    // Open it now: the history below fills it while you look.
    for (const user of DEV_USERS)
      log(`      login ${user.username} / ${user.password}  (${user.description})`);

    let fleet: GymSimulator | undefined;
    if (options.simulate && options.historyWeeks > 0 && !firstStart) {
      log(`ok  History            kept from an earlier start (--fresh rebuilds it)`);
    } else if (options.simulate && options.historyWeeks > 0) {
      const started = Date.now();
      const history = await backfillHistory({
        weeks: options.historyWeeks,
        now: started,
        simulator: options.simulator,
        gateways,
        runner,
        progress: options.progress ?? (() => NO_PROGRESS),
        ...(options.signal && { signal: options.signal }),
      });
      fleet = history.simulator;
      log(
        `ok  History            ${options.historyWeeks} weeks from ${new Date(history.fromTs).toISOString().slice(0, 10)}: ` +
          `${history.events} events through gateways, Kinesis and ingest in ${((Date.now() - started) / 1000).toFixed(0)} s`,
      );
    }

    // The weekly progress email keeps the deployment's schedule, and runs once now for the last finished week.
    process.env.PUBLIC_BASE_URL = api.url;
    const { handler: progressEmail } = await import('../../functions/progress-email/handler.js');
    const emailSchedule = await progressEmailSchedule();
    const weekly = parseWeeklySchedule(emailSchedule);
    const emailContext = () => lambdaContext('progress-email', LOCAL_REGION, ACCOUNT);
    const emails = await progressEmail({}, emailContext());
    scheduled(
      'progress email',
      (after) => nextRunAfter(weekly, after),
      () => progressEmail({}, emailContext()),
    );
    log(
      `ok  Progress email     ${emailSchedule} UTC; ${emails.week}: ${emails.sent.length} sent now, ` +
        `${emails.alreadySent.length} sent before, to .data/outbox`,
    );

    let simulator: RunningSimulator | undefined;
    if (options.simulate) {
      simulator = await startSimulator(kit.mqtt.url, fleet ?? options.simulator, 'retrostride-dev-simulator');
      stops.push(() => simulator?.stop() ?? Promise.resolve());
      const { gyms: gymCount = 2, treadmillsPerGym = 12 } = options.simulator;
      log(
        `ok  Simulator          ${gymCount} gyms x ${treadmillsPerGym} treadmills, seed ${options.simulator.seed ?? 1}`,
      );
    }

    log('');
    log(`Dashboard: ${api.url}  (logins above)`);
    return { kit, api, gateways: [...gateways.values()], simulator, runner, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
