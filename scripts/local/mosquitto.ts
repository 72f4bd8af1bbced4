/**
 * Debian's mosquitto (MQTT 5, on-disk persistence) as a child process on a free loopback port, for the
 * gateway's integration tests and benchmark. `.ci/run` installs it; elsewhere `apt-get install -y mosquitto`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 10_000;

/** The mosquitto binary (Debian puts it in /usr/sbin, which is not on every PATH), or undefined. */
export function findMosquitto(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  return dirs.map((dir) => join(dir, 'mosquitto')).find((path) => existsSync(path));
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

async function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.connect(port, HOST);
  });
}

export interface Mosquitto {
  readonly url: string;
  readonly port: number;
  /** SIGTERM (mosquitto saves its persistence file), then a new process on the same port and data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface MosquittoOptions {
  /** Holds the config file and the persistence database. */
  readonly dir: string;
  readonly port?: number;
  /** Lines that replace `allow_anonymous true`: authentication and ACLs (gateway-agent/broker/). */
  readonly access?: readonly string[];
}

export async function startMosquitto(options: MosquittoOptions): Promise<Mosquitto> {
  const binary = findMosquitto();
  if (binary === undefined) throw new Error('mosquitto is not installed (apt-get install -y mosquitto)');
  const port = options.port ?? (await freePort());
  await mkdir(options.dir, { recursive: true });
  const configPath = join(options.dir, 'mosquitto.conf');
  await writeFile(
    configPath,
    [
      `listener ${port} ${HOST}`,
      ...(options.access ?? ['allow_anonymous true']),
      'persistence true',
      `persistence_location ${options.dir}/`,
      // No cap on messages in flight or queued per client: the gateway bounds its own in-flight window
      // (MQTT 5 Receive Maximum), and a queue cap would drop messages while it is down.
      'max_inflight_messages 0',
      'max_queued_messages 0',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'),
  );

  let child: ChildProcess | undefined;
  const launch = async () => {
    const started = spawn(binary, ['-c', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    started.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child = started;
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await accepting(port))) {
      if (started.exitCode !== null || Date.now() > deadline)
        throw new Error(`mosquitto did not start on port ${port}: ${stderr.trim()}`);
      await sleep(25);
    }
  };
  const terminate = async () => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGTERM');
    await exited;
  };

  await launch();
  return {
    url: `mqtt://${HOST}:${port}`,
    port,
    restart: async () => {
      await terminate();
      await launch();
    },
    stop: terminate,
  };
}
