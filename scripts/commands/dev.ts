/** `retrostride dev` (what `npm start` runs): the whole product on this machine with a simulated gym. */
import { resolve } from 'node:path';
import { type Command, numberFlag, parseCommandArgs, UsageError } from '../lib/command.js';
import { progressBar } from '../lib/progress-bar.js';
import { startDevStack } from '../local/dev-stack.js';

export const devCommand: Command = {
  name: 'dev',
  summary: 'Run the whole pipeline locally: broker, emulators, gateways, ingest, API, dashboard, simulator',
  usage:
    'dev [--port 8080] [--host 127.0.0.1] [--allow-host NAME] [--mqtt-port 1883] [--no-sim] [--seed N] [--gyms N] [--treadmills N]\n' +
    '               [--session-minutes MIN-MAX] [--history-weeks 6] [--data-dir .data] [--fresh] [--no-max-record-age]\n\n' +
    '  --port, --host    where the dashboard and API listen (default http://127.0.0.1:8080)\n' +
    '  --allow-host NAME a host name the dashboard answers besides loopback and --host (repeatable); other\n' +
    '                    names get 421, so that a DNS-rebinding page cannot reach the dev logins\n' +
    "  --mqtt-port       the in-process broker's port (default 1883; $MQTT_URL uses an external broker)\n" +
    '  --no-sim          no simulated gym: publish your own data to the broker\n' +
    '  --seed, --gyms, --treadmills, --session-minutes  the simulated fleet (default seed 1, 2 x 12, 8-25 min)\n' +
    "  --history-weeks   weeks of the simulated gyms' past sent through the pipeline on a first start or with\n" +
    '                    --fresh (default 6; 0 for none): sessions, utilisation, exports and emails to look at\n' +
    '  --data-dir        where data survives restarts (default .data); --fresh wipes it first\n' +
    '  --no-max-record-age  deliver stream records however old (normally those over 24 h are given up to\n' +
    '                    .data/ingest-failures.jsonl, as in AWS): to replay them (docs/architecture.md 5.5)',
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      port: { type: 'string' },
      host: { type: 'string' },
      'mqtt-port': { type: 'string' },
      'no-sim': { type: 'boolean' },
      seed: { type: 'string' },
      gyms: { type: 'string' },
      treadmills: { type: 'string' },
      'session-minutes': { type: 'string' },
      'data-dir': { type: 'string' },
      fresh: { type: 'boolean' },
      'history-weeks': { type: 'string' },
      'allow-host': { type: 'string', multiple: true },
      'no-max-record-age': { type: 'boolean' },
    });
    const port = numberFlag('port', values.port, { min: 0, max: 65_535 }) ?? 8080;
    const mqttPort = numberFlag('mqtt-port', values['mqtt-port'], { min: 0, max: 65_535 }) ?? 1883;
    const sessionMinutes = values['session-minutes']?.split('-').map(Number);
    if (sessionMinutes && !(sessionMinutes.length === 2 && sessionMinutes.every((m) => m > 0))) {
      throw new UsageError('--session-minutes must be MIN-MAX minutes, e.g. 8-25');
    }
    const whole = (name: string, value: string | undefined, max: number) => {
      const parsed = numberFlag(name, value, { min: 1, max });
      if (parsed !== undefined && !Number.isInteger(parsed))
        throw new UsageError(`--${name} must be a whole number`);
      return parsed;
    };
    const historyWeeks = numberFlag('history-weeks', values['history-weeks'], { min: 0, max: 52 }) ?? 6;
    if (!Number.isInteger(historyWeeks)) throw new UsageError('--history-weeks must be a whole number');
    const started = Date.now();
    // Ctrl-C stops everything, during start-up (the history takes a while) as well as after it.
    const interrupted = new AbortController();
    const interrupt = () => interrupted.abort();
    process.once('SIGINT', interrupt);
    process.once('SIGTERM', interrupt);
    const stack = await startDevStack({
      dataDir: resolve(values['data-dir'] ?? '.data'),
      fresh: values.fresh ?? false,
      port,
      host: values.host ?? '127.0.0.1',
      allowedHosts: values['allow-host'] ?? [],
      ...(process.env.MQTT_URL ? { mqttUrl: process.env.MQTT_URL } : {}),
      mqttPort,
      simulate: !values['no-sim'],
      simulator: {
        seed: whole('seed', values.seed, 2 ** 31) ?? 1,
        gyms: whole('gyms', values.gyms, 26) ?? 2,
        treadmillsPerGym: whole('treadmills', values.treadmills, 1000) ?? 12,
        ...(sessionMinutes && { sessionMinutes: [sessionMinutes[0] ?? 8, sessionMinutes[1] ?? 25] }),
      },
      scheduleMs: 60_000,
      batchingWindowMs: 1_000,
      historyWeeks,
      ...(values['no-max-record-age'] && { maximumRecordAgeMs: -1 }),
      log: (line) => console.log(line),
      progress: (label) => progressBar(label),
      signal: interrupted.signal,
    }).catch((error: NodeJS.ErrnoException) => {
      if (interrupted.signal.aborted) return undefined;
      if (error.code !== 'EADDRINUSE') throw error;
      throw new UsageError(
        `${error.message.replace(/^listen /, '')}: choose another with --port or --mqtt-port`,
      );
    });
    if (!stack) {
      console.log('stopped during start-up; --fresh starts over');
      return 130;
    }
    console.log(`\nRunning (started in ${Date.now() - started} ms). Ctrl-C stops everything.`);
    const simulator = stack.simulator;
    const progress =
      simulator &&
      setInterval(() => {
        console.log(`status: ${simulator.published()} messages published by the simulator`);
      }, 30_000);
    if (!interrupted.signal.aborted)
      await new Promise((done) => interrupted.signal.addEventListener('abort', done, { once: true }));
    clearInterval(progress);
    console.log('stopping...');
    await stack.stop();
    console.log('stopped; data kept in', resolve(values['data-dir'] ?? '.data'));
    return 0;
  },
};
