/** `retrostride gateway --config gateway.yaml [--ble-replay file.jsonl]`: the gym gateway agent. */
import { DEFAULT_FLUSH_MS, Gateway } from '../../gateway-agent/src/agent.js';
import { ConfigError, loadConfig } from '../../gateway-agent/src/config.js';
import { type Command, parseCommandArgs, requireFlag, UsageError } from '../lib/command.js';

export const gatewayCommand: Command = {
  name: 'gateway',
  summary: 'Run the gym gateway: treadmills over MQTT and BLE into Kinesis, through a durable spool',
  usage: [
    'gateway --config gateway.yaml [--ble-replay file.jsonl]',
    '',
    '  --config      the YAML configuration (see gateway-agent/gateway.example.yaml)',
    '  --ble-replay  play recorded BLE notifications instead of using BlueZ',
    '',
    'Serves /healthz, /metrics and /rejects on http.host:http.port (127.0.0.1:9464 by default).',
    `SIGTERM or SIGINT: stop intake, flush to Kinesis for up to ${DEFAULT_FLUSH_MS / 1000} s, leave the rest`,
    'in the spool, exit 0. A bad configuration exits 2 naming the key.',
  ].join('\n'),

  async run(argv: string[]): Promise<number> {
    const { values } = parseCommandArgs(argv, {
      config: { type: 'string' },
      'ble-replay': { type: 'string' },
    });
    let gateway: Gateway;
    try {
      const config = await loadConfig(requireFlag('config', values.config));
      gateway = await Gateway.start({
        config,
        ...(values['ble-replay'] === undefined ? {} : { bleReplay: values['ble-replay'] }),
      });
    } catch (error) {
      if (error instanceof ConfigError) throw new UsageError(`config: ${error.message}`);
      throw error;
    }
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    });
    console.error(`gateway: ${signal}: stopping intake, flushing for up to ${DEFAULT_FLUSH_MS / 1000} s`);
    await gateway.stop(DEFAULT_FLUSH_MS);
    console.error('gateway: stopped; anything not shipped stays in the spool');
    return 0;
  },
};
