import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../support/app.ts';
import {
  type BuiltApp,
  type BundleProcess,
  installBuiltAppWithDatabase,
  runBundle,
  stopProcess,
} from '../support/processes.ts';
import { freePort } from '../support/services.ts';

type Mail = { to: string; text: string };

const mails: Mail[] = [];
let smtp: SMTPServer;
let app: BuiltApp;
let base: string;
let http: BundleProcess;
let worker: BundleProcess;

async function poll<T>(read: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await read();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms`);
}

async function call(method: string, url: string, init: { body?: unknown; token?: string } = {}) {
  const response = await fetch(`${base}${url}`, {
    method,
    headers: {
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const type = response.headers.get('content-type') ?? '';
  const body = type.includes('json') ? await response.json() : await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: body as Record<string, unknown> & string,
  };
}

beforeAll(async () => {
  const smtpPort = await freePort();
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, callback) {
      let text = '';
      stream.on('data', (chunk) => {
        text += chunk;
      });
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((rcpt) => rcpt.address).join(','), text });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(smtpPort, '127.0.0.1', resolve));

  app = await installBuiltAppWithDatabase(projectRoot, 'ref');
  const port = await freePort();
  const env = {
    ...app.env,
    AP_PORT: String(port),
    MIGRATE_ON_START: 'true',
    KEYS_DIR: path.join(app.dir, 'keys'),
    SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    WORKER_HEARTBEAT_FILE: path.join(app.dir, 'heartbeat.json'),
  };
  base = `http://127.0.0.1:${port}`;
  http = runBundle(app.dir, 'http.mjs', [], env);
  await http.waitForLog((line) => line.msg === 'listening', 30_000);
  worker = runBundle(app.dir, 'worker.mjs', [], env);
  await worker.waitForLog((line) => line.msg === 'worker started');
}, 120_000);

afterAll(async () => {
  await stopProcess(http);
  await stopProcess(worker);
  await new Promise((resolve) => smtp?.close(() => resolve(undefined)));
  await app?.cleanup();
});

describe('the reference app, built and run as processes', () => {
  it('goes from sign-up to a downloaded export and back out', async () => {
    const email = `ada-${randomBytes(3).toString('hex')}@example.test`;
    const password = 'correct horse battery staple';
    const registered = await call('POST', '/auth/register', { body: { email, password, name: 'Ada' } });
    expect(registered.status).toBe(201);

    const mail = await poll(async () => mails.find((m) => m.to === email), 'the welcome mail');
    // The welcome is a fixed text: the caller's name stays out of it (see tasks/send-welcome-email.ts).
    expect(mail.text).toContain('Subject: Welcome to handler-kit');
    expect(mail.text).not.toContain('Ada');

    const login = await call('POST', '/auth/login', { body: { email, password } });
    expect(login.status).toBe(200);
    const { accessToken, refreshToken } = login.body as unknown as {
      accessToken: string;
      refreshToken: string;
    };

    const jwks = await call('GET', '/.well-known/jwks.json');
    const verified = await jwtVerify(accessToken, createLocalJWKSet(jwks.body as never), {
      algorithms: ['EdDSA'],
      issuer: 'handler-kit',
      audience: 'handler-kit-api',
      typ: 'at+jwt',
    });
    expect(verified.payload.sub).toBe(registered.body.id);

    const created = await call('POST', '/notes', {
      token: accessToken,
      body: { title: 'First', body: 'Hello, "world"\nsecond line', tags: ['a'] },
    });
    expect(created.status).toBe(201);
    const noteId = created.body.id as string;
    expect((await call('GET', `/notes/${noteId}`, { token: accessToken })).body.title).toBe('First');
    const patched = await call('PATCH', `/notes/${noteId}`, {
      token: accessToken,
      body: { title: 'Renamed' },
    });
    expect(patched.body.title).toBe('Renamed');
    await call('POST', '/notes', { token: accessToken, body: { title: 'Second', body: 'b' } });
    const list = await call('GET', '/notes?limit=10', { token: accessToken });
    expect((list.body.items as { title: string }[]).map((note) => note.title)).toEqual(['Second', 'Renamed']);
    const third = await call('POST', '/notes', { token: accessToken, body: { title: 'Doomed', body: 'x' } });
    expect((await call('DELETE', `/notes/${third.body.id}`, { token: accessToken })).status).toBe(204);
    expect((await call('GET', `/notes/${third.body.id}`, { token: accessToken })).status).toBe(404);

    const exported = await call('POST', '/notes/exports', { token: accessToken, body: { format: 'ndjson' } });
    expect(exported.status).toBe(202);
    const jobUrl = exported.headers.get('location') as string;
    const job = await poll(async () => {
      const status = await call('GET', jobUrl, { token: accessToken });
      return status.body.status === 'succeeded' ? status.body : undefined;
    }, 'the export job');
    expect(job.progress).toBe(100);

    const file = await fetch(`${base}${(job.result as { url: string }).url}`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(file.status).toBe(200);
    expect(file.headers.get('content-disposition')).toMatch(/^attachment; filename=/);
    const lines = (await file.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((note) => note.title)).toEqual(['Second', 'Renamed']);
    expect(lines[1].body).toBe('Hello, "world"\nsecond line');

    const refreshed = await call('POST', '/auth/refresh', { body: { refreshToken } });
    expect(refreshed.status).toBe(200);
    const next = refreshed.body.refreshToken as string;
    expect((await call('POST', '/auth/logout', { body: { refreshToken: next } })).status).toBe(204);
    expect((await call('POST', '/auth/refresh', { body: { refreshToken: next } })).status).toBe(401);
  });
});
