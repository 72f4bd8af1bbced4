/**
 * The gym broker as a source: QoS 1 with a fixed client id and a persistent session, so whatever the gateway
 * has not acknowledged stays with the broker while it restarts.
 *
 * A PUBACK leaves only once the message's event is durable in the spool (rejected messages are acknowledged
 * at once: they are counted, not retried). mqtt.js would send the PUBACK as soon as `handleMessage` calls
 * back, and handles one message at a time until it does; waiting there would cap the gateway at one message
 * per fsync. So `handleMessage` calls back at once with a marker error, which makes mqtt.js skip its own
 * PUBACK, and this source sends the PUBACKs itself when the spool confirms, in arrival order as MQTT
 * requires. At most `maxInFlight` messages wait for durability; past that, reading from the broker pauses.
 */
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { MqttConfig } from '../config.js';
import type { DurableIntake } from '../intake.js';
import type { RejectLog } from '../rejects.js';
import { MAX_PAYLOAD_BYTES, MqttMessageParser } from './mqtt-message.js';
import { messageFingerprint, type RedeliveryJournal } from './redelivery.js';

/** Long enough to ride out a weekend outage of the gateway box; brokers may cap it lower. */
const SESSION_EXPIRY_S = 7 * 24 * 3600;
/**
 * MQTT 5 Maximum Packet Size: the largest payload the gateway accepts, plus room for the fixed header, a
 * topic and properties. The broker keeps larger packets from the gateway (mosquitto drops them for this
 * client and logs it), so they are never buffered here; MQTT 3.1.1 cannot say it, and the shipped broker
 * configuration caps what devices may publish (gateway-agent/broker/mosquitto.conf, max_packet_size).
 */
export const MAX_PACKET_BYTES = MAX_PAYLOAD_BYTES + 1024;

/** Passed to mqtt.js's handleMessage callback so that it does not send its own PUBACK. */
const ACK_DEFERRED = new Error('PUBACK deferred until the event is durable');

const MESSAGES_PER_YIELD = 256;

/** mqtt.js's packet writer; it is private, but public API offers no way to acknowledge later. */
interface PacketSender {
  _sendPacket(
    packet: { cmd: 'puback'; messageId: number },
    cb?: () => void,
    cbStorePut?: undefined,
    noStore?: boolean,
  ): void;
}

type AckState = 'waiting' | 'ack' | 'drop';
interface AckSlot {
  readonly messageId: number;
  /** The connection the message came on: a PUBACK is only meaningful there. */
  readonly stream: unknown;
  state: AckState;
}

export type MqttOutcome = 'event' | 'absorbed' | 'rejected' | 'redelivered';

export interface MqttSourceStats {
  readonly connected: boolean;
  readonly connects: number;
  readonly bytesIn: number;
  readonly messages: Readonly<Record<MqttOutcome, number>>;
  /** Messages waiting for their event to be durable before their PUBACK. */
  readonly pendingAcks: number;
  /** Appends the spool refused (reject-new and full): those messages stay with the broker. */
  readonly spoolRefusals: number;
}

export interface MqttSourceOptions {
  readonly config: MqttConfig;
  readonly gymId: string;
  readonly clientId: string;
  readonly intake: DurableIntake;
  readonly rejects: RejectLog;
  readonly journal?: RedeliveryJournal;
  readonly tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  readonly log: (line: string) => void;
  readonly now?: () => number;
}

export class MqttSource {
  readonly #client: MqttClient;
  readonly #parser: MqttMessageParser;
  /** Slots in arrival order; those before #ackHead are settled. */
  readonly #acks: AckSlot[] = [];
  #ackHead = 0;
  #sinceYield = 0;
  /** The latest promise handed out by the intake and the slots waiting on it. */
  #group: { readonly work: Promise<void>; readonly slots: AckSlot[] } | undefined;
  readonly #messages: Record<MqttOutcome, number> = { event: 0, absorbed: 0, rejected: 0, redelivered: 0 };
  #connects = 0;
  #bytesIn = 0;
  #spoolRefusals = 0;
  #stopping = false;
  /** handleMessage's callback held back while too many messages wait for durability. */
  #paused: (() => void) | undefined;
  #idle: (() => void) | undefined;
  #lastError = '';

  constructor(private readonly options: MqttSourceOptions) {
    const { config } = options;
    this.#parser = new MqttMessageParser({
      gymId: options.gymId,
      ...(config.treadmillAllowlist ? { treadmillAllowlist: config.treadmillAllowlist } : {}),
    });
    const clientOptions: IClientOptions = {
      clientId: options.clientId,
      clean: false,
      protocolVersion: config.protocolVersion,
      reconnectPeriod: config.reconnectMs,
      connectTimeout: 10_000,
      resubscribe: false,
      // mqtt-packet would otherwise pre-build a 2-byte Buffer for each of the 65,536 packet ids: 6 MB of heap
      // for a lookup that saves a 2-byte allocation per PUBACK (docs/architecture.md section 4.1).
      writeCache: false,
      ...options.tls,
      ...(config.username === undefined ? {} : { username: config.username }),
      ...(config.password === undefined ? {} : { password: config.password }),
      ...(config.protocolVersion === 5
        ? {
            properties: {
              sessionExpiryInterval: SESSION_EXPIRY_S,
              receiveMaximum: config.maxInFlight,
              maximumPacketSize: MAX_PACKET_BYTES,
            },
          }
        : {}),
    };
    this.#client = mqtt.connect(config.url, clientOptions);
    this.#client.handleMessage = (packet, callback) => this.#onPublish(packet, callback);
    this.#client.on('connect', () => {
      this.#connects++;
      this.#lastError = '';
      options.log(`mqtt: connected to ${config.url} as ${options.clientId}`);
      this.#client.subscribe(config.topicFilter, { qos: 1 }, (error, granted) => {
        if (error || granted?.some((grant) => grant.qos !== 1))
          options.log(
            `mqtt: subscription to ${config.topicFilter} refused: ${error?.message ?? 'not granted QoS 1'}`,
          );
      });
    });
    this.#client.on('close', () => {
      if (!this.#stopping && this.#lastError === '') options.log('mqtt: connection closed; reconnecting');
    });
    // Without a listener an 'error' event would crash the process; mqtt.js reconnects by itself.
    this.#client.on('error', (error) => {
      if (error.message !== this.#lastError) options.log(`mqtt: ${error.message}`);
      this.#lastError = error.message;
    });
  }

  stats(): MqttSourceStats {
    return {
      connected: this.#client.connected,
      connects: this.#connects,
      bytesIn: this.#bytesIn,
      messages: { ...this.#messages },
      pendingAcks: this.#pendingAcks(),
      spoolRefusals: this.#spoolRefusals,
    };
  }

  /**
   * Stops intake: new messages are left with the broker, messages already taken are made durable and
   * acknowledged, then the client disconnects (the session stays).
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#resume();
    if (this.#pendingAcks() > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
    await this.#client.endAsync();
  }

  #onPublish(packet: IPublishPacket, callback: (error?: Error) => void): void {
    if (this.#stopping) return callback(ACK_DEFERRED);
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    this.#bytesIn += payload.length;
    const slot: AckSlot | undefined =
      packet.qos > 0 && packet.messageId !== undefined
        ? { messageId: packet.messageId, stream: this.#client.stream, state: 'waiting' }
        : undefined;
    if (slot) this.#acks.push(slot);
    let work: Promise<void> | undefined;
    try {
      work = this.#process(packet, payload);
    } catch (error) {
      // The parser never throws; this is a last guard so that nothing a broker sends can stop the gateway.
      this.#reject('internal_error', packet.topic, payload, (error as Error).message);
    }
    if (slot) {
      if (work === undefined) this.#settle([slot], 'ack');
      else if (work === this.#group?.work) this.#group.slots.push(slot);
      else {
        // Readings appended together share one promise: one reaction per batch, not per message.
        const group = { work, slots: [slot] };
        this.#group = group;
        work.then(
          () => this.#settle(group.slots, 'ack'),
          (error: unknown) => this.#refused(group.slots, error),
        );
      }
    }
    if (this.#pendingAcks() >= this.options.config.maxInFlight) this.#paused = () => callback(ACK_DEFERRED);
    // mqtt.js goes on to the next buffered packet in a nextTick, which never lets I/O in: yield now and
    // then, so that spool completions (and their PUBACKs) interleave with a long burst of messages.
    else if (++this.#sinceYield >= MESSAGES_PER_YIELD) {
      this.#sinceYield = 0;
      setImmediate(() => callback(ACK_DEFERRED));
    } else callback(ACK_DEFERRED);
  }

  /** undefined when handled at once; a promise when the event is on its way to the spool. */
  #process(packet: IPublishPacket, payload: Buffer): Promise<void> | undefined {
    const { journal } = this.options;
    const fingerprint =
      journal && packet.qos > 0 ? messageFingerprint(packet.topic, packet.messageId, payload) : undefined;
    if (journal && fingerprint && packet.dup) {
      const spooled = journal.isSpooled(fingerprint);
      if (spooled === true) {
        this.#messages.redelivered++;
        return undefined;
      }
      if (spooled !== false)
        return spooled.then((already) => {
          if (!already) return this.#accept(packet.topic, payload, fingerprint);
          this.#messages.redelivered++;
        });
    }
    return this.#accept(packet.topic, payload, fingerprint);
  }

  #accept(topic: string, payload: Buffer, fingerprint: string | undefined): Promise<void> | undefined {
    const rxTs = (this.options.now ?? Date.now)();
    const outcome = this.#parser.parse(topic, payload, rxTs);
    switch (outcome.outcome) {
      case 'rejected':
        this.#reject(outcome.reason, topic, payload, outcome.detail);
        return undefined;
      case 'absorbed':
        this.#messages.absorbed++;
        return undefined;
      case 'event':
        this.#messages.event++;
        return this.options.intake.submit('mqtt', outcome.reading, fingerprint);
    }
  }

  #reject(reason: string, topic: string, payload: Buffer, detail: string): void {
    this.#messages.rejected++;
    this.options.rejects.record({
      at: (this.options.now ?? Date.now)(),
      source: 'mqtt',
      reason,
      detail,
      origin: topic,
      preview: payload.subarray(0, 200).toString('utf8'),
    });
  }

  /** The spool refused the events: no PUBACK, and a new connection so that the broker re-delivers them. */
  #refused(slots: readonly AckSlot[], error: unknown): void {
    this.#spoolRefusals += slots.length;
    this.#settle(slots, 'drop');
    if (slots.some((slot) => slot.stream === this.#client.stream) && !this.#stopping) {
      this.options.log(
        `mqtt: spool refused an event (${(error as Error).message}); reconnecting to retry later`,
      );
      this.#client.stream.destroy();
    }
  }

  #pendingAcks(): number {
    return this.#acks.length - this.#ackHead;
  }

  /** Marks slots settled, then sends the PUBACKs now due: those at the head of the queue, in arrival order. */
  #settle(slots: readonly AckSlot[], state: AckState): void {
    for (const slot of slots) slot.state = state;
    const sender = this.#client as unknown as PacketSender;
    const { stream } = this.#client;
    let corked = false;
    for (
      let head = this.#acks[this.#ackHead];
      head !== undefined && head.state !== 'waiting';
      head = this.#acks[this.#ackHead]
    ) {
      this.#ackHead++;
      if (head.state !== 'ack' || head.stream !== stream || !this.#client.connected) continue;
      if (!corked) {
        // The PUBACKs of a batch leave in one write, not one syscall each.
        stream.cork();
        process.nextTick(() => stream.uncork());
        corked = true;
      }
      sender._sendPacket({ cmd: 'puback', messageId: head.messageId }, undefined, undefined, true);
    }
    // Drop the settled prefix now and then rather than shifting per message.
    if (this.#ackHead > 1_024 && this.#ackHead * 2 > this.#acks.length) {
      this.#acks.splice(0, this.#ackHead);
      this.#ackHead = 0;
    }
    if (this.#pendingAcks() < this.options.config.maxInFlight) this.#resume();
    if (this.#pendingAcks() === 0) this.#idle?.();
  }

  #resume(): void {
    const paused = this.#paused;
    this.#paused = undefined;
    paused?.();
  }
}
