/** `npm run recording`: regenerates the bundled recording from its seed (the file is committed). */
import { writeFile } from 'node:fs/promises';
import { BUNDLED_RECORDING } from './commands/demo.js';
import { formatRecording, generateRecording } from './lib/recording.js';

if (process.argv.includes('--help')) {
  console.log(
    'Usage: npm run recording\n\nRewrites test/fixtures/demo-session.jsonl from its seeded generator.',
  );
} else {
  const lines = generateRecording();
  await writeFile(BUNDLED_RECORDING, formatRecording(lines));
  console.log(`wrote ${lines.length} lines to ${BUNDLED_RECORDING.pathname}`);
}
