// The docker and compose calls of the replica rehearsal. They run asynchronously: the load keeps flowing while a
// replica restarts, which a blocking spawnSync would stall. Every call has a time limit.
import { execFile, spawnSync } from 'node:child_process';

const FILES = ['-f', 'docker-compose.yml', '-f', 'deploy/replicas/docker-compose.replicas.yml'];

/**
 * Docker for one compose project: `compose(args)` runs `docker compose -p <project> -f … -f … <args>`,
 * `docker(args)` the plain CLI; both resolve to stdout, trimmed, and reject naming the command on a non-zero exit
 * (unless `allowFail`). `cleanUp()` is synchronous, so that the hard time limit can call it and exit.
 */
export function dockerFor({ root, env, project }) {
  const running = new Set();
  const run = (args, { timeoutMs = 120_000, allowFail = false } = {}) =>
    new Promise((resolve, reject) => {
      const child = execFile(
        'docker',
        args,
        {
          cwd: root,
          env,
          encoding: 'utf8',
          maxBuffer: 256 * 1024 * 1024,
          timeout: timeoutMs,
          killSignal: 'SIGKILL',
        },
        (error, stdout, stderr) => {
          running.delete(child);
          if (error && !allowFail) {
            const why = error.killed ? `timed out after ${timeoutMs / 1000} s` : `exit ${error.code}`;
            reject(
              new Error(`docker ${args.join(' ')} failed (${why}):\n${(stderr || stdout).slice(-2000)}`),
            );
          } else resolve(stdout.trim());
        },
      );
      running.add(child);
    });
  const composeArgs = (args) => ['compose', '-p', project, ...FILES, ...args];
  return {
    docker: run,
    compose: (args, options) => run(composeArgs(args), options),
    /** Removes the containers, networks, volumes and the image tag the project made; never throws. */
    cleanUp(image) {
      // A call still running (the hard limit struck) would fight the clean-up: it goes first.
      for (const child of running) child.kill('SIGKILL');
      const quiet = { cwd: root, env, stdio: 'ignore', timeout: 120_000 };
      spawnSync('docker', composeArgs(['down', '-v', '--remove-orphans', '--timeout', '5']), quiet);
      spawnSync('docker', ['image', 'rm', '-f', image], quiet);
    },
  };
}

/** The ids of a service's containers, in replica order (…-app-1, …-app-2, …). */
export async function containersOf(compose, service) {
  const lines = await compose(['ps', '-a', '--format', '{{.Name}} {{.ID}}', service]);
  return lines
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' '))
    .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
    .map(([name, id]) => ({ name, id }));
}

/**
 * Restarts one container (SIGTERM, then SIGKILL after `graceSeconds`) and waits until its healthcheck passes
 * again. Resolves to the seconds it took.
 */
export async function restartUntilHealthy(docker, container, { graceSeconds, timeoutMs = 120_000 }) {
  const started = Date.now();
  await docker(['restart', '-t', String(graceSeconds), container.id], {
    timeoutMs: (graceSeconds + 30) * 1000,
  });
  for (;;) {
    const status = await docker(['inspect', '--format', '{{.State.Health.Status}}', container.id]);
    if (status === 'healthy') return (Date.now() - started) / 1000;
    if (Date.now() - started > timeoutMs) {
      throw new Error(`${container.name} is ${status}, not healthy, ${timeoutMs / 1000} s after its restart`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
