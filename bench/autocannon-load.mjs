import autocannon from 'autocannon';

// The load generator where wrk is not installed: autocannon in a process of its own (bench/load.mjs pins it
// away from the server), printing the same result line as bench/wrk-report.lua.
const env = process.env;
const result = await autocannon({
  url: String(env.BENCH_URL),
  method: /** @type {'GET' | 'POST'} */ (env.BENCH_METHOD || 'GET'),
  headers: {
    ...(env.BENCH_BODY ? { 'content-type': 'application/json' } : {}),
    ...(env.BENCH_AUTHORIZATION ? { authorization: env.BENCH_AUTHORIZATION } : {}),
  },
  body: env.BENCH_BODY || undefined,
  connections: Number(env.BENCH_CONNECTIONS),
  duration: Number(env.BENCH_SECONDS),
});
const line = {
  requests: result.requests.total,
  durationUs: Math.round(result.duration * 1e6),
  p50Us: Math.round(result.latency.p50 * 1000),
  p99Us: Math.round(result.latency.p99 * 1000),
  errors: result.errors + result.timeouts,
  non2xx: result.non2xx,
};
process.stdout.write(`BENCH_RESULT ${JSON.stringify(line)}\n`);
