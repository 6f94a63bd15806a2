// `npm run bench`: runs every bench/<name>.ts, one after the other, or only those named
// (`npm run bench -- auth`); prints a table for each and writes bench/results/<name>.json.
import fs from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type Benchmark,
  type BenchResult,
  formatTable,
  machine,
  rounded,
  writeResult,
} from './lib/report.ts';

const dir = import.meta.dirname;
const resultsDir = path.join(dir, 'results');

async function available(): Promise<string[]> {
  const files = await fs.readdir(dir);
  return files
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && f !== 'run.ts')
    .map((f) => f.slice(0, -'.ts'.length))
    .sort();
}

async function main(args: string[]): Promise<number> {
  const all = await available();
  const unknown = args.filter((a) => !all.includes(a));
  if (unknown.length) {
    console.error(`no benchmark named ${unknown.join(', ')}; there are: ${all.join(', ')}`);
    return 2;
  }
  let failed = 0;
  for (const name of args.length ? args : all) {
    const bench = (await import(pathToFileURL(path.join(dir, `${name}.ts`)).href)).default as Benchmark;
    const date = new Date().toISOString();
    console.error(`\n${name}: ${bench.description}`);
    try {
      const metrics = await bench.run((line) => console.error(`  ${line}`));
      for (const metric of Object.values(metrics)) metric.value = rounded(metric.value);
      const result: BenchResult = { name, date, machine: machine(), metrics };
      const file = await writeResult(resultsDir, result);
      console.log(`\n${formatTable(result)}\n(written to ${path.relative(process.cwd(), file)})`);
    } catch (err) {
      console.error(`${name} failed:`, err);
      failed++;
    }
  }
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
