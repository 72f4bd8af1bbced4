/** `npx retrostride <command>`: one front door for every CLI of the project. */
import { type Command, UsageError, wantsHelp } from './lib/command.js';

/** Loaded lazily so `retrostride decode` never pays for the local stack's imports. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  dev: async () => (await import('./commands/dev.js')).devCommand,
  demo: async () => (await import('./commands/demo.js')).demoCommand,
  decode: async () => (await import('./commands/decode.js')).decodeCommand,
  calories: async () => (await import('./commands/calories.js')).caloriesCommand,
  gateway: async () => (await import('./commands/gateway.js')).gatewayCommand,
  simulate: async () => (await import('./commands/simulate.js')).simulateCommand,
  members: async () => (await import('./commands/members.js')).membersCommand,
  export: async () => (await import('./commands/export.js')).exportCommand,
  emails: async () => (await import('./commands/emails.js')).emailsCommand,
};

async function printOverview(): Promise<void> {
  const lines = ['Usage: retrostride <command> [options]', '', 'Commands:'];
  for (const load of Object.values(COMMANDS)) {
    const command = await load();
    lines.push(`  ${command.name.padEnd(10)} ${command.summary}`);
  }
  lines.push('', 'Run `retrostride <command> --help` for a command’s options.');
  console.log(lines.join('\n'));
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    await printOverview();
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (!load) throw new UsageError(`unknown command "${name}" (try: ${Object.keys(COMMANDS).join(', ')})`);
  const command = await load();
  if (wantsHelp(rest)) {
    console.log(`${command.summary}\n\nUsage: retrostride ${command.usage}`);
    return 0;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`retrostride: ${error.message}`);
      process.exitCode = 2;
    } else {
      console.error(error);
      process.exitCode = 1;
    }
  },
);
