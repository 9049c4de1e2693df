import { spawn } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from './support.mjs';

// Drives one server for a window of time from a process of its own, pinned to the load core where taskset
// exists, so that the load generator never shares a core with what it measures.

/**
 * @typedef {{ method: 'GET' | 'POST', path: string, body?: string, authorization?: string }} Request
 * @typedef {{ requests: number, seconds: number, p50Ms: number, p99Ms: number }} Window
 */

/** @type {Set<import('node:child_process').ChildProcess>} */
const running = new Set();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Runs the load generator against `base` + request.path and returns what it measured. Fails on any socket
 * error, timeout or non-2xx answer, since those would make the figures meaningless.
 * @param {{ generator: 'wrk' | 'autocannon', cpu: number | undefined, connections: number, seconds: number }} load
 * @param {string} base
 * @param {Request} request
 * @returns {Promise<Window>}
 */
export async function drive(load, base, request) {
  const url = `${base}${request.path}`;
  const env = {
    PATH: process.env.PATH ?? '',
    BENCH_URL: url,
    BENCH_METHOD: request.method,
    BENCH_BODY: request.body ?? '',
    BENCH_AUTHORIZATION: request.authorization ?? '',
    BENCH_CONNECTIONS: String(load.connections),
    BENCH_SECONDS: String(load.seconds),
  };
  const command =
    load.generator === 'wrk'
      ? [
          'wrk',
          '-t1',
          `-c${load.connections}`,
          `-d${load.seconds}s`,
          '--timeout',
          '10s',
          '-s',
          path.join(projectRoot, 'bench/wrk-report.lua'),
          url,
        ]
      : [process.execPath, path.join(projectRoot, 'bench/autocannon-load.mjs')];
  const output = await run(
    load.cpu === undefined ? command : ['taskset', '-c', String(load.cpu), ...command],
    {
      env,
      limitMs: (load.seconds + 30) * 1000,
    },
  );
  const line = output.split('\n').find((text) => text.startsWith('BENCH_RESULT '));
  if (!line) throw new Error(`${load.generator} printed no result for ${request.method} ${url}:\n${output}`);
  const result = JSON.parse(line.slice('BENCH_RESULT '.length));
  if (result.errors > 0 || result.non2xx > 0 || result.requests === 0) {
    throw new Error(
      `${request.method} ${url}: ${result.requests} requests, ${result.errors} socket errors or timeouts, ${result.non2xx} answers that were not 2xx (${load.generator})`,
    );
  }
  return {
    requests: result.requests,
    seconds: result.durationUs / 1e6,
    p50Ms: result.p50Us / 1000,
    p99Ms: result.p99Us / 1000,
  };
}

/**
 * Runs a command to its end, or kills it at `limitMs`; resolves with its stdout and stderr together.
 * @param {string[]} command
 * @param {{ env: Record<string, string>, limitMs: number }} options
 * @returns {Promise<string>}
 */
function run([file = '', ...args], { env, limitMs }) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      running.delete(child);
      reject(new Error(`could not run ${file}: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      if (code === 0) resolve(output);
      else reject(new Error(`${file} ${args.join(' ')} ended with ${signal ?? `exit ${code}`}:\n${output}`));
    });
  });
}
