/**
 * The whole product on one machine (DESIGN.md section 1): MQTT broker, Kinesis and DynamoDB emulators, one
 * gateway agent per gym, the event-source runner feeding the real ingest handler, the sweeper and notifier on
 * their schedules, the API with the dashboard, and the simulated gyms. The handlers are the Lambda code,
 * configured only through environment variables pointing at the emulators.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Gateway } from '../../gateway-agent/src/agent.js';
import { parseConfig } from '../../gateway-agent/src/config.js';
import { localSecret } from '../lib/local-secrets.js';
import { writeEndpoints } from '../lib/stack-connection.js';
import { gymIdOf, type SimulatorOptions } from '../sim/gym-simulator.js';
import { type RunningSimulator, startSimulator } from '../sim/publisher.js';
import { seedSimulatedMembers } from '../sim/simulated-members.js';
import { type ApiServer, DEV_USERS, startApiServer } from './api-server.js';
import { EventSourceRunner, lambdaContext } from './event-source-runner.js';
import { type EmbeddedAws, LOCAL_REGION, startEmbeddedAws } from './kit.js';

export interface DevStackOptions {
  dataDir: string;
  fresh: boolean;
  port: number;
  host: string;
  /** An external broker instead of the in-process one. */
  mqttUrl?: string;
  mqttPort: number;
  simulate: boolean;
  simulator: Partial<SimulatorOptions>;
  /** How often the sweeper and the notifier run (Lambda: every minute). */
  scheduleMs: number;
  /** The Kinesis event source's batching window; Lambda in AWS uses the infra's context value. */
  batchingWindowMs: number;
  log: (line: string) => void;
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

export async function startDevStack(options: DevStackOptions): Promise<DevStack> {
  const { dataDir, log } = options;
  if (options.fresh) await rm(dataDir, { recursive: true, force: true });
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
    const kit = await startEmbeddedAws({
      dataDir: join(dataDir, 'aws'),
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
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    const [{ handler: ingest }, { handler: sweeper }, { handler: notifier }] = await Promise.all([
      import('../../functions/ingest/handler.js'),
      import('../../functions/sweeper/handler.js'),
      import('../../functions/notifier/handler.js'),
    ]);

    const gyms = Array.from({ length: options.simulator.gyms ?? 2 }, (_, i) => gymIdOf(i + 1));
    const gateways: Gateway[] = [];
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
      gateways.push(gateway);
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

    const scheduled = (name: string, run: () => Promise<unknown>) => {
      let running = false;
      const timer = setInterval(() => {
        if (running) return;
        running = true;
        run()
          .catch((error: unknown) => log(`    ${name}: ${(error as Error).message}`))
          .finally(() => {
            running = false;
          });
      }, options.scheduleMs);
      stops.push(async () => clearInterval(timer));
    };
    scheduled('sweeper', () => sweeper({}, lambdaContext('sweeper', LOCAL_REGION, ACCOUNT)));
    scheduled('notifier', () => notifier());
    log(
      `ok  Sweeper, notifier  every ${options.scheduleMs / 1000} s; alerts to ${process.env.ALERT_OUTBOX_FILE}`,
    );

    const api = await startApiServer({
      port: options.port,
      host: options.host,
      exportsDir: join(dataDir, 'exports'),
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

    let simulator: RunningSimulator | undefined;
    if (options.simulate) {
      simulator = await startSimulator(kit.mqtt.url, options.simulator, 'retrostride-dev-simulator');
      stops.push(() => simulator?.stop() ?? Promise.resolve());
      const { gyms: gymCount = 2, treadmillsPerGym = 12 } = options.simulator;
      log(
        `ok  Simulator          ${gymCount} gyms x ${treadmillsPerGym} treadmills, seed ${options.simulator.seed ?? 1}`,
      );
    }

    log('');
    log(`Dashboard: ${api.url}`);
    for (const user of DEV_USERS) log(`  login ${user.username} / ${user.password}  (${user.description})`);
    return { kit, api, gateways, simulator, runner, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
