import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

/**
 * The dev loop's child processes (dist/http.mjs, dist/worker.mjs) and their logs, pretty-printed with the
 * process's label so that the two streams can be told apart. Nothing here goes into a bundle.
 */

// On a terminal, unless NO_COLOR says otherwise (the dev loop reads the environment once and says so here).
let color = Boolean(process.stdout.isTTY);
/** @param {boolean} enabled */
export function useColor(enabled) {
  color = enabled && Boolean(process.stdout.isTTY);
}
/** @type {(code: number, text: string) => string} */
const paint = (code, text) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
/** @type {Record<string, number>} */
const LEVEL_COLORS = { trace: 90, debug: 90, info: 32, warn: 33, error: 31, fatal: 35 };
const LABEL_COLORS = { http: 36, worker: 35, dev: 34 };
/** Fields every line has, which the pretty line shows in its own place or leaves out as noise. */
const SHOWN_APART = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'err']);

/**
 * Prints one line of the dev loop itself.
 * @param {string} text
 */
export function devLog(text) {
  process.stdout.write(`${prefix('dev')}${text}\n`);
}

/** @param {'http' | 'worker' | 'dev'} label */
function prefix(label) {
  return `${paint(LABEL_COLORS[label], label.padEnd(6))} `;
}

/**
 * One pino JSON line as `12:00:01.234 INFO  message key=value`, with an error's stack below it; any other
 * line as it came.
 * @param {'http' | 'worker'} label
 * @param {string} line
 */
export function prettyLine(label, line) {
  /** @type {Record<string, unknown> | undefined} */
  let record;
  try {
    record = line.startsWith('{') ? JSON.parse(line) : undefined;
  } catch {
    record = undefined;
  }
  if (!record || typeof record !== 'object') return `${prefix(label)}${line}`;
  const level = String(record.level ?? 'info');
  const time = typeof record.time === 'string' ? record.time.slice(11, 23) : '';
  const fields = Object.entries(record)
    .filter(([key]) => !SHOWN_APART.has(key))
    .map(
      ([key, value]) => `${paint(90, `${key}=`)}${typeof value === 'string' ? value : JSON.stringify(value)}`,
    );
  const head = `${prefix(label)}${paint(90, time)} ${paint(LEVEL_COLORS[level] ?? 0, level.toUpperCase().padEnd(5))} ${record.msg ?? ''}`;
  const err = /** @type {{ stack?: string } | undefined} */ (record.err);
  const stack = err?.stack ? `\n${err.stack.replace(/^/gm, `${prefix(label)}    `)}` : '';
  return `${[head, ...fields].join(' ')}${stack}`;
}

/**
 * Starts `node dist/<name>.mjs` in `root` with `env`; its stdout and stderr are printed pretty. Source maps
 * are on, so stack traces name the source files.
 * @param {'http' | 'worker'} name
 * @param {{ root: string, outdir: string, env: NodeJS.ProcessEnv }} options
 */
export function startProcess(name, { root, outdir, env }) {
  const child = spawn(process.execPath, ['--enable-source-maps', path.join(outdir, `${name}.mjs`)], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) =>
      process.stdout.write(`${prettyLine(name, line)}\n`),
    );
  }
  let stopping = false;
  /** @type {Promise<void>} */
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      if (!stopping) {
        devLog(
          `${name} exited (${signal ?? `code ${code}`}); it starts again at the next successful build (save a file).`,
        );
      }
      resolve();
    });
  });
  return {
    name,
    get running() {
      return child.exitCode === null && child.signalCode === null;
    },
    /**
     * SIGTERM, then SIGKILL past `graceMs`: the process drains as in production, and a stuck one cannot hold
     * the port the next one needs.
     * @param {number} graceMs
     */
    async stop(graceMs) {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
