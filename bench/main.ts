/**
 * `npm run bench [-- NAME...]`: benchmarks that print ratios against a
 * baseline timed side by side in the same run (never pass/fail on absolute
 * times). Each module under bench/ registers one entry in BENCHES.
 */
import { BENCHES } from './registry';
import './boundary';
import './complete';
import './syntax';
import './editor';
import './tokenize';
import './ensemble';

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  if (process.argv.includes('--help')) {
    console.log(`Usage: npm run bench [-- NAME...]\n\nBenchmarks:\n${BENCHES.map((b) => `  ${b.name.padEnd(10)} ${b.summary}`).join('\n')}`);
    return;
  }
  const unknown = wanted.filter((w) => !BENCHES.some((b) => b.name === w));
  if (unknown.length) throw new Error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${BENCHES.map((b) => b.name).join(', ')}`);
  const selected = wanted.length ? BENCHES.filter((b) => wanted.includes(b.name)) : BENCHES;
  if (!selected.length) console.log('No benchmarks registered yet.');
  for (const bench of selected) {
    console.log(`\n## ${bench.name}: ${bench.summary}\n`);
    await bench.run();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
