/** Milliseconds since `started` (a performance.now() reading), to two decimals, as logs and metrics carry it. */
export function elapsedMs(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}
