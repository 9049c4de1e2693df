import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';
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

// Debian's chromium, which .ci/run installs; on a machine without it the test says so and is skipped.
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`docs-login: skipped, no ${CHROMIUM} (apt-get install chromium to run it)`);

let app: BuiltApp;
let http: BundleProcess;
let browser: Browser;
let base: string;

beforeAll(async () => {
  if (!hasChromium) return;
  app = await installBuiltAppWithDatabase(projectRoot, 'docs');
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  http = runBundle(app.dir, 'http.mjs', [], {
    ...app.env,
    AP_PORT: String(port),
    MIGRATE_ON_START: 'true',
    KEYS_DIR: path.join(app.dir, 'keys'),
  });
  await http.waitForLog((line) => line.msg === 'listening', 30_000);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (http) await stopProcess(http);
  await app?.cleanup();
});

describe.skipIf(!hasChromium)('the docs page', () => {
  it('signs in through Authorize with an email and a password, and then calls a bearer route', async () => {
    const email = `docs-${randomBytes(3).toString('hex')}@example.test`;
    const password = 'correct horse battery staple';
    const registered = await fetch(`${base}/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    expect(registered.status).toBe(201);

    const page = await browser.newPage();
    const blocked: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) blocked.push(message.text());
    });
    await page.goto(`${base}/docs`);
    await page.locator('.btn.authorize').first().click({ timeout: 20_000 });
    await page.locator('#oauth_username').fill(email);
    await page.locator('#oauth_password').fill(password);
    const token = page.waitForResponse((response) => response.url().endsWith('/auth/token'));
    await page.locator('.modal-btn.auth.authorize').click();
    expect((await token).status()).toBe(200);
    await page.locator('.modal-btn.auth.btn-done').click();

    const me = page.locator('#operations-auth-getAuthMe');
    await me.locator('.opblock-summary').click();
    await me.locator('.try-out__btn').click();
    const answer = page.waitForResponse((response) => response.url().endsWith('/auth/me'));
    await me.locator('.execute').click();
    const response = await answer;
    expect(response.status()).toBe(200);
    expect(((await response.json()) as { email: string }).email).toBe(email);
    expect(response.request().headers().authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(blocked).toEqual([]);
  }, 60_000);
});
