// Asks GET /healthz every INTERVAL_MS for SECONDS and prints one JSON line: how many answered, p50, p99, max
// (ms), and failures. What a load balancer's probe would see.
const [url, seconds, intervalMs] = [
  String(process.env.URL),
  Number(process.env.SECONDS),
  Number(process.env.INTERVAL_MS),
];
/** @type {number[]} */
const latencies = [];
let failures = 0;
const until = Date.now() + seconds * 1000;
while (Date.now() < until) {
  const started = performance.now();
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    await response.arrayBuffer();
    if (response.ok) latencies.push(performance.now() - started);
    else failures += 1;
  } catch {
    failures += 1;
  }
  await new Promise((resolve) => setTimeout(resolve, intervalMs));
}
latencies.sort((a, b) => a - b);
const at = (/** @type {number} */ share) =>
  latencies[Math.min(latencies.length - 1, Math.floor(share * latencies.length))] ?? NaN;
const round = (/** @type {number} */ value) => Math.round(value * 10) / 10;
process.stdout.write(
  `${JSON.stringify({ answered: latencies.length, failures, p50: round(at(0.5)), p99: round(at(0.99)), max: round(at(1)) })}\n`,
);
