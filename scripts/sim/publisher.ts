/** Runs a GymSimulator on the wall clock and publishes its messages to an MQTT broker. */
import mqtt from 'mqtt';
import { GymSimulator, type SimulatorOptions } from './gym-simulator.js';

export interface RunningSimulator {
  readonly published: () => number;
  stop(): Promise<void>;
}

const TICK_MS = 100;

/** `fleet`: options for a new fleet starting now, or a fleet that already ran (the dev stack's history). */
export async function startSimulator(
  mqttUrl: string,
  fleet: Partial<SimulatorOptions> | GymSimulator,
  clientId = `retrostride-sim-${process.pid}`,
): Promise<RunningSimulator> {
  const client = await mqtt.connectAsync(mqttUrl, { clientId, protocolVersion: 4, reconnectPeriod: 1000 });
  const simulator = fleet instanceof GymSimulator ? fleet : new GymSimulator(fleet, Date.now());
  let published = 0;
  const timer = setInterval(() => {
    for (const message of simulator.advance(Date.now())) {
      // QoS 1: the broker holds a message for the gateway's persistent session while it restarts.
      client.publish(message.topic, JSON.stringify(message.payload), { qos: 1 });
      published++;
    }
  }, TICK_MS);
  return {
    published: () => published,
    async stop() {
      clearInterval(timer);
      await client.endAsync();
    },
  };
}
