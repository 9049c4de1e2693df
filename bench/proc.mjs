import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

// What the kernel counts for a process: its own CPU time and its resident memory, read from /proc, so that a
// server's cost is measured from outside it, the same way for every server whatever it runs on.

const ticksPerSecond = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/** User plus system CPU time of `pid` so far, in microseconds (at the kernel's clock-tick resolution). */
export function cpuMicros(/** @type {number | undefined} */ pid) {
  // The command name (field 2) may hold spaces: fields are counted after its closing parenthesis.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const [utime, stime] = [Number(fields[11]), Number(fields[12])];
  return ((utime + stime) / ticksPerSecond) * 1e6;
}

/** Resident set size of `pid` now, in bytes (VmRSS). */
export function rssBytes(/** @type {number | undefined} */ pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  if (!kib) throw new Error(`/proc/${pid}/status has no VmRSS line`);
  return Number(kib) * 1024;
}

/** The median of some figures (the mean of the middle two for an even count). */
export function median(/** @type {number[]} */ values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? NaN)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}
