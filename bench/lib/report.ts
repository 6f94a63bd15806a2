// What every benchmark answers, and the one results shape (bench/results/<name>.json) with its table.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface Metric {
  value: number;
  unit: string;
  /** The target for this metric, as `<= 2` or `>= 100`. */
  target?: string;
}

export type Metrics = Record<string, Metric>;

export interface Benchmark {
  /** One line on what it measures and against which baseline. */
  description: string;
  /** Runs the measurement; `progress` takes lines worth seeing while it runs. */
  run(progress: (line: string) => void): Promise<Metrics>;
}

export interface BenchResult {
  name: string;
  date: string;
  machine: string;
  metrics: Metrics;
}

/** The processor's model too: results from machines of one size but another speed can be told apart. */
export function machine(): string {
  const model = os.cpus()[0]?.model.replace(/\s+/g, ' ').trim() || 'unknown CPU';
  return `${model}, ${os.availableParallelism()} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB`;
}

/** Three significant digits below 100, whole numbers above: more would only show noise. */
export function rounded(value: number): number {
  return Math.abs(value) >= 100 ? Math.round(value) : Number(value.toPrecision(3));
}

/** Whether a value meets a target like `<= 2`; undefined when there is no target. */
export function meets(value: number, target: string | undefined): boolean | undefined {
  if (!target) return undefined;
  const match = /^\s*(<=|>=|<|>)\s*(-?[\d.]+)\s*$/.exec(target);
  if (!match) throw new Error(`target "${target}" is not like "<= 2" or ">= 100"`);
  const bound = Number(match[2]);
  switch (match[1]) {
    case '<=':
      return value <= bound;
    case '>=':
      return value >= bound;
    case '<':
      return value < bound;
    default:
      return value > bound;
  }
}

export function formatTable(result: BenchResult): string {
  const rows = Object.entries(result.metrics).map(([name, m]) => {
    const ok = meets(m.value, m.target);
    return [name, String(m.value), m.unit, m.target ?? '', ok === undefined ? '' : ok ? 'ok' : 'MISSED'];
  });
  const header = ['metric', 'value', 'unit', 'target', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [
    `${result.name} — ${result.date} — ${result.machine}`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ].join('\n');
}

export async function writeResult(dir: string, result: BenchResult): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, `${result.name}.json`);
  await fs.writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}
