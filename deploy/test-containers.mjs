// `npm run test:containers`: proves the Dockerfile and docker-compose.yml on a real Docker engine with compose v2.
// It builds the image, brings the stack up, drives the API over the published port, checks what runs and what
// the image holds, restarts the stack to show the data survives, and always removes what it made.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const project = `hk-test-${randomBytes(3).toString('hex')}`;
const started = Date.now();
const steps = [];

function compose(args, options = {}) {
  return docker(['compose', '-p', project, ...args], options);
}

function docker(args, { quiet = false, allowFail = false } = {}) {
  const result = spawnSync('docker', args, { cwd: root, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0 && !allowFail) {
    throw new Error(`docker ${args.join(' ')} failed (${result.status}):\n${result.stderr || result.stdout}`);
  }
  if (!quiet && result.stderr) process.stderr.write(result.stderr.split('\n').slice(-5).join('\n'));
  return result.stdout.trim();
}

async function step(name, run) {
  const at = Date.now();
  const value = await run();
  steps.push({ step: name, seconds: (Date.now() - at) / 1000 });
  console.log(`ok  ${name} (${((Date.now() - at) / 1000).toFixed(1)} s)`);
  return value;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

const [appPort, pgPort, rdPort] = await Promise.all([freePort(), freePort(), freePort()]);
const env = {
  ...process.env,
  AP_PUBLISHED_PORT: String(appPort),
  PG_PUBLISHED_PORT: String(pgPort),
  RD_PUBLISHED_PORT: String(rdPort),
  IMAGE_TAG: project,
  LOG_LEVEL: 'info',
};
const base = `http://127.0.0.1:${appPort}`;

async function api(method, path, { body, token } = {}) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  return {
    status: response.status,
    headers: response.headers,
    body: type.includes('json') ? JSON.parse(text) : text,
  };
}

async function poll(read, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await read();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what} did not happen within ${timeoutMs / 1000} s`);
}

// Healthy inside does not yet mean reachable through the published port: wait for that too.
async function up() {
  compose(['up', '-d', '--wait', '--wait-timeout', '180']);
  await poll(async () => {
    const response = await fetch(`${base}/readyz`).catch(() => undefined);
    return response?.ok ? true : undefined;
  }, 'readiness through the published port');
}
let failed = false;
try {
  await step('compose config -q', () => compose(['config', '-q']));
  await step('build the image', () => compose(['build', '--quiet']));
  await step('up --wait', up);

  const email = `ops-${randomBytes(3).toString('hex')}@example.test`;
  const password = 'correct horse battery staple';
  const token = await step('register, login and notes', async () => {
    const registered = await api('POST', '/auth/register', { body: { email, password, name: 'Ops' } });
    check(
      registered.status === 201,
      `register answered ${registered.status}: ${JSON.stringify(registered.body)}`,
    );
    const login = await api('POST', '/auth/login', { body: { email, password } });
    check(login.status === 200, `login answered ${login.status}`);
    const { accessToken } = login.body;
    const note = await api('POST', '/notes', {
      token: accessToken,
      body: { title: 'Kept', body: 'across restarts' },
    });
    check(note.status === 201, `POST /notes answered ${note.status}`);
    const list = await api('GET', '/notes', { token: accessToken });
    check(list.body.items?.length === 1, 'GET /notes did not list the new note');
    return accessToken;
  });

  await step('export, job status and download', async () => {
    const exported = await api('POST', '/notes/exports', { token, body: { format: 'csv' } });
    check(exported.status === 202, `POST /notes/exports answered ${exported.status}`);
    const job = await poll(async () => {
      const status = await api('GET', exported.headers.get('location'), { token });
      return status.body.status === 'succeeded' ? status.body : undefined;
    }, 'the export job');
    const file = await api('GET', job.result.url, { token });
    check(file.status === 200 && file.body.includes('Kept'), 'the export file does not hold the note');
  });

  await step("the worker's metrics answer on the compose network as worker:9464", () => {
    const scrape =
      "fetch('http://worker:9464/metrics').then(async (r) => { process.stdout.write(await r.text()); process.exitCode = r.ok ? 0 : 1; })";
    const text = compose(['exec', '-T', 'app', 'node', '-e', scrape], { quiet: true });
    check(
      /^jobs_total\{task="export-notes",outcome="succeeded"\} 1$/m.test(text),
      `worker:9464/metrics did not count the export job:\n${text.slice(0, 1000)}`,
    );
  });

  await step("the API's metrics answer on their own port as app:9465, not on the API's", async () => {
    const scrape =
      "fetch('http://app:9465/metrics').then(async (r) => { process.stdout.write(await r.text()); process.exitCode = r.ok ? 0 : 1; })";
    const text = compose(['exec', '-T', 'worker', 'node', '-e', scrape], { quiet: true });
    check(
      /^http_requests_total\{method="POST",route="\/notes",status="201"\} \d+$/m.test(text),
      `app:9465/metrics did not count POST /notes:\n${text.slice(0, 1000)}`,
    );
    const onApi = await fetch(`${base}/metrics`);
    check(onApi.status === 404, `GET /metrics on the API answered ${onApi.status}, not 404`);
  });

  await step('app and worker connect as a role that may not change the schema', () => {
    const asApp = (sql) =>
      compose(['exec', '-T', 'postgres', 'psql', '-U', 'app_rw', '-d', 'app', '-Atc', sql], {
        allowFail: true,
      });
    check(
      asApp('select rolsuper from pg_roles where rolname = current_user') === 'f',
      'app_rw is a superuser',
    );
    check(asApp('select count(*) from notes') !== '', 'app_rw cannot read notes');
    const ddl = spawnSync(
      'docker',
      [
        'compose',
        '-p',
        project,
        'exec',
        '-T',
        'postgres',
        'psql',
        '-U',
        'app_rw',
        '-d',
        'app',
        '-c',
        'drop table notes',
      ],
      { cwd: root, env, encoding: 'utf8' },
    );
    check(
      ddl.status !== 0 && /must be owner|permission denied/.test(ddl.stderr),
      'app_rw could drop a table',
    );
    const redisCommand = docker(['inspect', '--format', '{{json .Config.Cmd}}', `${project}-redis-1`], {
      quiet: true,
    });
    check(
      !redisCommand.includes('local-only-password'),
      `the Redis password is on its command line: ${redisCommand}`,
    );
  });

  await step('app and worker run as non-root', () => {
    for (const service of ['app', 'worker']) {
      const uid = compose(['exec', '-T', service, 'id', '-u']);
      check(uid !== '0' && uid !== '', `${service} runs as uid ${uid}`);
    }
  });

  const image = `handler-kit:${project}`;
  await step('the runtime image holds no node_modules, sources or private keys', () => {
    const files = docker(['run', '--rm', '--entrypoint', 'find', image, '/app']).split('\n');
    const bad = files.filter((file) =>
      /node_modules|\.ts$|\.private\.pem$|\/handlers\/|\/shared\//.test(file),
    );
    check(bad.length === 0, `unexpected files in the image:\n${bad.join('\n')}`);
    check(
      files.includes('/app/dist/http.mjs') && files.includes('/app/dist/worker.mjs'),
      'the bundles are missing',
    );
    console.log(`    the image's /app:\n${files.map((file) => `      ${file}`).join('\n')}`);
  });

  await step('down, then up: the data is still there', async () => {
    compose(['down']);
    await up();
    const login = await api('POST', '/auth/login', { body: { email, password } });
    check(login.status === 200, `login after restart answered ${login.status}`);
    const list = await api('GET', '/notes', { token: login.body.accessToken });
    check(list.body.items?.[0]?.title === 'Kept', 'the note did not survive the restart');
  });

  const bytes = Number(docker(['image', 'inspect', '--format', '{{.Size}}', image]));
  console.log(`image ${image}: ${(bytes / 1024 / 1024).toFixed(1)} MiB (${bytes} bytes)`);
} catch (error) {
  failed = true;
  console.error(`FAILED: ${error.message}`);
  console.error(compose(['logs', '--no-color', '--tail', '80'], { quiet: true, allowFail: true }));
} finally {
  compose(['down', '-v', '--remove-orphans'], { quiet: true, allowFail: true });
  docker(['image', 'rm', '-f', `handler-kit:${project}`], { quiet: true, allowFail: true });
  console.log(
    JSON.stringify({
      containerTest: failed ? 'failed' : 'passed',
      seconds: (Date.now() - started) / 1000,
      steps,
    }),
  );
}
process.exit(failed ? 1 : 0);
