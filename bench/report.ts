import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { round } from './stats';

/** One line of the table: our figure, the baseline's from the same run, their ratio and the target. */
export interface Figure {
  name: string;
  unit: string;
  ours: number;
  baseline: number;
  /** ours / baseline. */
  ratio: number;
  /** Omitted for figures that are reported, not judged. */
  target?: { atLeast?: number; atMost?: number };
}

export interface BenchmarkReport {
  id: string;
  title: string;
  figures: Figure[];
  /** Printed under the table: what else was seen, and where the time went. */
  notes: string[];
  /** The raw numbers, for results.json. */
  details: Record<string, unknown>;
  error?: string;
}

export const ratioOf = (ours: number, baseline: number): number => (baseline > 0 ? ours / baseline : Number.NaN);

export function verdict(f: Figure): 'ok' | 'MISSED' | 'info' {
  if (!f.target) return 'info';
  if (!Number.isFinite(f.ratio)) return 'MISSED';
  if (f.target.atLeast !== undefined && f.ratio < f.target.atLeast) return 'MISSED';
  if (f.target.atMost !== undefined && f.ratio > f.target.atMost) return 'MISSED';
  return 'ok';
}

const targetText = (f: Figure): string =>
  !f.target ? '-' : f.target.atLeast !== undefined ? `>= ${f.target.atLeast}` : `<= ${f.target.atMost}`;

const num = (v: number, unit: string): string => {
  if (!Number.isFinite(v)) return 'n/a';
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return `${v.toFixed(digits)} ${unit}`;
};

export function table(reports: BenchmarkReport[]): string {
  const header = ['benchmark', 'ours', 'baseline', 'ratio', 'target', 'result'];
  const rows: string[][] = [];
  for (const r of reports) {
    if (r.error) rows.push([r.title, 'ERROR', '', '', '', 'MISSED']);
    for (const f of r.figures) {
      rows.push([f.name, num(f.ours, f.unit), num(f.baseline, f.unit), Number.isFinite(f.ratio) ? f.ratio.toFixed(2) : 'n/a', targetText(f), verdict(f)]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function machine(startLoad: number[]) {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverageAtStart: startLoad.map((l) => round(l, 2)),
    loadAverageAtEnd: os.loadavg().map((l) => round(l, 2)),
  };
}

/** Writes results.json next to this module's source (bench/), NaN as null. */
export function writeResults(file: string, content: Record<string, unknown>): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(content, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
}

/** A figure with a verdict, as results.json stores it. */
export const judged = (f: Figure) => ({ ...f, ratio: round(f.ratio, 3), result: verdict(f) });
