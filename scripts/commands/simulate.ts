/** `retrostride simulate`: a simulated gym fleet publishing to an MQTT broker. */
import { writeFile } from 'node:fs/promises';
import { type Command, numberFlag, parseCommandArgs, UsageError } from '../lib/command.js';
import { DEFAULT_SIMULATOR_OPTIONS, GymSimulator, type SimulatorOptions } from '../sim/gym-simulator.js';
import { startSimulator } from '../sim/publisher.js';

function minutesRange(name: string, value: string | undefined, fallback: [number, number]): [number, number] {
  if (value === undefined) return fallback;
  const match = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(value);
  const [min, max] = [Number(match?.[1]), Number(match?.[2])];
  if (!match || !(min > 0 && max >= min))
    throw new UsageError(`--${name} must be MIN-MAX minutes, e.g. 8-25`);
  return [min, max];
}

/** The BLE notifications of one bridged treadmill, in the gateway's --ble-replay format. */
async function writeBleReplay(file: string, options: SimulatorOptions, seconds: number): Promise<number> {
  const startTs = Date.UTC(2026, 10, 24, 9);
  const simulator = new GymSimulator({ ...options, gyms: 1, treadmillsPerGym: 1 }, startTs);
  const lines = simulator
    .advance(startTs + seconds * 1000)
    .filter((message) => message.topic.endsWith('/ftms'))
    .map(({ payload }) =>
      JSON.stringify({
        t: Number(payload.ts) - startTs,
        address: 'C0:FF:EE:00:00:01',
        char: payload.char,
        hex: payload.hex,
      }),
    );
  await writeFile(file, `${lines.join('\n')}\n`);
  return lines.length;
}

export const simulateCommand: Command = {
  name: 'simulate',
  summary: 'Simulate gyms of treadmills (forward and backward walkers, faults) publishing to MQTT',
  usage:
    'simulate [--mqtt-url URL] [--gyms N] [--treadmills N] [--seed N] [--session-minutes MIN-MAX]\n' +
    '                   [--idle-minutes MIN-MAX] [--duration SECONDS] [--ble-replay-out FILE]\n\n' +
    '  --mqtt-url        broker to publish to (default $MQTT_URL or mqtt://127.0.0.1:1883)\n' +
    '  --gyms, --treadmills  fleet size: gyms, and treadmills per gym (default 2 x 12)\n' +
    '  --seed            makes members, programs and faults reproducible (default 1)\n' +
    '  --session-minutes, --idle-minutes  session and pause lengths (default 8-25 and 0.5-4)\n' +
    '  --duration        stop after this many seconds (default: run until Ctrl-C)\n' +
    "  --ble-replay-out  write one bridged treadmill's BLE notifications as a replay file and exit",
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      'mqtt-url': { type: 'string' },
      gyms: { type: 'string' },
      treadmills: { type: 'string' },
      seed: { type: 'string' },
      'session-minutes': { type: 'string' },
      'idle-minutes': { type: 'string' },
      duration: { type: 'string' },
      'ble-replay-out': { type: 'string' },
    });
    const whole = { min: 1, max: 10_000 };
    const options: SimulatorOptions = {
      ...DEFAULT_SIMULATOR_OPTIONS,
      gyms: numberFlag('gyms', values.gyms, { min: 1, max: 100 }) ?? DEFAULT_SIMULATOR_OPTIONS.gyms,
      treadmillsPerGym:
        numberFlag('treadmills', values.treadmills, whole) ?? DEFAULT_SIMULATOR_OPTIONS.treadmillsPerGym,
      seed: numberFlag('seed', values.seed, { min: 0 }) ?? DEFAULT_SIMULATOR_OPTIONS.seed,
      sessionMinutes: minutesRange(
        'session-minutes',
        values['session-minutes'],
        DEFAULT_SIMULATOR_OPTIONS.sessionMinutes,
      ),
      idleMinutes: minutesRange(
        'idle-minutes',
        values['idle-minutes'],
        DEFAULT_SIMULATOR_OPTIONS.idleMinutes,
      ),
    };
    if (
      !Number.isInteger(options.gyms) ||
      !Number.isInteger(options.treadmillsPerGym) ||
      !Number.isInteger(options.seed)
    ) {
      throw new UsageError('--gyms, --treadmills and --seed must be whole numbers');
    }
    const durationS = numberFlag('duration', values.duration, { min: 1 });
    if (values['ble-replay-out']) {
      const count = await writeBleReplay(values['ble-replay-out'], options, durationS ?? 1200);
      console.log(`wrote ${count} BLE notifications to ${values['ble-replay-out']}`);
      return 0;
    }
    const mqttUrl = values['mqtt-url'] ?? process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';
    let sim: Awaited<ReturnType<typeof startSimulator>>;
    try {
      sim = await startSimulator(mqttUrl, options);
    } catch (error) {
      throw new UsageError(`cannot reach the MQTT broker at ${mqttUrl}: ${(error as Error).message}`);
    }
    console.log(
      `simulating ${options.gyms} gym(s) x ${options.treadmillsPerGym} treadmills -> ${mqttUrl} (Ctrl-C stops)`,
    );
    const started = Date.now();
    const progress = setInterval(() => {
      const seconds = (Date.now() - started) / 1000;
      console.log(
        `${Math.round(seconds)} s: ${sim.published()} messages (${Math.round(sim.published() / seconds)}/s)`,
      );
    }, 10_000);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
      if (durationS !== undefined) setTimeout(resolve, durationS * 1000);
    });
    clearInterval(progress);
    await sim.stop();
    console.log(`published ${sim.published()} messages`);
    return 0;
  },
};
