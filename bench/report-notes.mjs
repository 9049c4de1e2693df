// The fixed parts of BENCHMARKS.md: what each side of each pair does, and the settings of a run.

/** What each side does, so that a reader can judge each ratio. */
export function baselines() {
  return [
    '## What each side does',
    '',
    "- **Ours, hello and POST**: `node dist/http.mjs` of `bench/fixture` (the test fixture's `GET /`, and a `POST /items` that validates its body with valibot and echoes it), at `LOG_LEVEL=info` (a JSON line a request, to a file) or `warn`: request id, logger, metrics, body limit, problem+json. Every one of our HTTP processes runs with `CHECK_RESPONSES=false`, as production does (the response check is for development and tests).",
    "- **Ours, DB read**: the reference app's `dist/http.mjs`, `GET /notes/{id}`: bearer auth of `shared/bearer-auth.ts` (jose EdDSA verification with the app's keyring, then the live-session query of `shared/sessions.ts`), then the handler's select. The user, session, note and token are made through the app's own register, login and `POST /notes`.",
    '- **Bare Hono** (`bench/hono-baseline.mjs`, bundled and minified like ours): the same `GET /`, and `POST /items` with the same valibot schema; nothing else.',
    '- **Fastify 5** (`bench/fastify-baseline.mjs`): `logger: true` (pino to stdout, to a file: two lines a request, its default), the same `GET /`, and `POST /items` with the equivalent JSON Schema.',
    "- **Bare Hono + jose + postgres.js** (`bench/hono-db-baseline.mjs`): the same token checks as `shared/tokens.ts` (EdDSA, `typ` at+jwt, issuer, audience, maximum age, the app's published keys), the same session query `select 1 from sessions where id = $sid and user_id = $sub and revoked_at is null`, and the same note select, on a pool of 10 as ours; no request id, logging, metrics, validation or problem+json.",
    "- **Worker**: ours enqueues through the composed runtime's `enqueue` and runs jobs with `startWorker` (payload validation, start counting, timeout, a log line at info and metrics a job); raw bee-queue runs `createJob().save()` and `process()` with the same queue settings (`bench/queue-raw.mjs`).",
    '- **Cores**: each server is pinned to core 0 and the load generator (its own process) to core 1 where `taskset` exists; PostgreSQL, Redis and the worker-bench processes are not pinned. Cold start is timed by the bench process itself, polling `GET /` from spawn.',
    "- **CPU µs a request**: the server process's user + system time from `/proc/<pid>/stat` over the measured window, divided by the requests answered in it.",
    '',
  ];
}

/** The BENCH_* variables of `npm run bench`. */
export function settingsHelp() {
  return [
    '## Running it',
    '',
    '`npm run bench` (`node bench/run.mjs`) on a quiet machine; `node bench/report.mjs [results.json]` renders this file and the chart again. Everything it starts stops by itself, on Ctrl-C and on error too, and the run gives up past a time limit it prints at the start.',
    '',
    '| variable | default | what it sets |',
    '|---|---|---|',
    '| `BENCH_QUICK` | `0` | `1`: a smoke run of about 2 minutes (2 s windows, 2,000 jobs, 4 s of soak), too short for conclusions. |',
    '| `BENCH_SECONDS` | `8` | Seconds of load per server, scenario and round (after a warm-up of a quarter of it). |',
    '| `BENCH_ROUNDS` | `3` | Rounds (at least 3); each figure is their median. |',
    '| `BENCH_CONNECTIONS` | `50` | Connections the load generator keeps open. |',
    '| `BENCH_LOAD` | `wrk` where installed | `wrk` or `autocannon`. |',
    '| `BENCH_JOBS`, `BENCH_CONCURRENCY`, `BENCH_IN_FLIGHT` | `20000`, `50`, `50` | Jobs enqueued and drained per side and round, worker concurrency, saves in flight while enqueuing. |',
    '| `BENCH_LATENCY_RATE`, `BENCH_LATENCY_SECONDS` | `500`, `8` | The steady enqueue rate (jobs a second) and how long the enqueue→start latency is sampled. |',
    '| `BENCH_SOAK_SECONDS`, `BENCH_COLD_STARTS` | `60`, `5` | Seconds of load before the loaded RSS is read; cold starts per side. |',
    '| `BENCH_ONLY` | all | Some of `http`, `queue`, `startup`, comma-separated. |',
    '| `BENCH_OURS` | this checkout | Another checkout (after `npm ci && npm run build` there) whose `dist/`, `bench/fixture` and `shared/runtime/` stand in for ours, for before/after figures from one machine. |',
    '| `BENCH_OUT` | `bench/results.json` | Where the results go; the markdown and chart are written beside any other path. |',
    '| `PG_HOST`, `RD_HOST`, ... | throwaway servers | The PostgreSQL and Redis to use (a scratch database and key prefix, removed afterwards), as in the tests. |',
    '',
  ];
}
