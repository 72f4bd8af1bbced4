/**
 * The benchmark's other processes (scripts/bench/gateway.ts starts them):
 *   publish URL GYM TREADMILLS RATE SECONDS  simulated treadmills, RATE readings/s each, QoS 1;
 *                                            prints {"published":N}
 *   subscribe URL GYM                        a bare QoS 1 subscriber that does nothing; prints "count N"
 *                                            every 250 ms
 */
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt from 'mqtt';

const TICK_MS = 10;
/** Unacknowledged publishes allowed before the publisher waits (it must not outrun the broker unboundedly). */
const MAX_UNACKED = 5_000;

async function publish(
  url: string,
  gym: string,
  treadmills: number,
  rate: number,
  seconds: number,
): Promise<void> {
  const client = await mqtt.connectAsync(url, {
    protocolVersion: 5,
    clientId: `bench-publisher-${process.pid}`,
  });
  const topics = Array.from(
    { length: treadmills },
    (_, t) => `gyms/${gym}/treadmills/tm-${String(t).padStart(5, '0')}/telemetry`,
  );
  const perSecond = treadmills * rate;
  const started = Date.now();
  let published = 0;
  let unacked = 0;
  let next = 0;
  while (Date.now() - started < seconds * 1000) {
    // Whatever is due by now, spread round-robin over the treadmills (each gets one reading per round).
    const due = Math.floor(((Date.now() - started) / 1000) * perSecond);
    while (published < due && unacked < MAX_UNACKED) {
      const topic = topics[next] as string;
      next = (next + 1) % treadmills;
      const payload = JSON.stringify({
        type: 'belt',
        speedKmh: 5.5,
        inclinePct: 1,
        distanceM: published,
        ts: Date.now(),
      });
      unacked++;
      client.publish(topic, payload, { qos: 1 }, () => {
        unacked--;
      });
      published++;
    }
    await sleep(TICK_MS);
  }
  while (unacked > 0) await sleep(TICK_MS);
  await client.endAsync();
  process.stdout.write(`${JSON.stringify({ published })}\n`);
}

async function subscribe(url: string, gym: string): Promise<void> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: `bench-bare-${process.pid}` });
  let count = 0;
  client.on('message', () => {
    count++;
  });
  await client.subscribeAsync(`gyms/${gym}/treadmills/+/+`, { qos: 1 });
  process.stdout.write('ready\n');
  setInterval(() => process.stdout.write(`count ${count}\n`), 250);
}

const [mode, url, gym, ...rest] = process.argv.slice(2);
if (mode === 'publish' && url && gym)
  await publish(url, gym, Number(rest[0]), Number(rest[1]), Number(rest[2]));
else if (mode === 'subscribe' && url && gym) await subscribe(url, gym);
else {
  console.error('usage: gateway-peers.ts publish URL GYM TREADMILLS RATE SECONDS | subscribe URL GYM');
  process.exit(2);
}
