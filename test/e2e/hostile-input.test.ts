import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestApp, projectRoot } from '../support/app.ts';
import { type Answer, answerChecker, MAX_PROBLEM_BYTES } from '../support/hostile-answers.ts';
import { hostileInput, type Operation, operationsOf, requestOf } from '../support/hostile-requests.ts';
import type { Known } from '../support/hostile-values.ts';
import { createNote } from '../support/notes.ts';
import { type SignedIn, signUp } from '../support/users.ts';

// The app and its document are made before the tests are declared, so that every operation the document
// lists becomes a test of its own: a new handler is attacked without this file changing.
const t = await createTestApp({ root: projectRoot });
afterAll(() => t.close());
const document = (await (await t.request('GET', '/openapi.json')).json()) as Record<string, unknown>;
const operations = operationsOf(document);
const answerProblems = answerChecker(document);

/** The file's time for generated requests, shared out among the operations, so that more routes do not slow it. */
const BUDGET_MS = 36_000;
const budgetPerOperation = Math.floor(BUDGET_MS / operations.length);
const RUNS_PER_OPERATION = 400;
/** Fewer runs than this in an operation's share of time means the budget is too tight to prove anything. */
const MIN_RUNS = 20;

/** The account behind "a valid token"; a request that ends its sessions (logout-all, a refresh replayed) gets a new one. */
let account: SignedIn & Known = await freshAccount();

async function freshAccount(): Promise<SignedIn & Known> {
  const user = await signUp(t);
  return { ...user, noteId: (await createNote(t, user)).id };
}

async function keepSignedIn(): Promise<void> {
  const me = await t.request('GET', '/auth/me', { headers: account.headers });
  if (me.status === 401) account = await freshAccount();
}

async function send(url: string, init: RequestInit): Promise<Answer> {
  const response = await t.app.request(url, init);
  return {
    status: response.status,
    headers: response.headers,
    bytes: new Uint8Array(await response.arrayBuffer()),
  };
}

describe.each(operations)('$method $path', (operation) => {
  it(
    'answers hostile input with a small problem+json or its documented answer, never a 5xx',
    async () => {
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(hostileInput(operation), async (input) => {
          runs++;
          const { url, init } = requestOf(operation, input, account, account.accessToken);
          const answer = await send(url, init);
          const problems = answerProblems(operation, answer);
          if (problems.length > 0) {
            const start = new TextDecoder().decode(answer.bytes.subarray(0, 300));
            throw new Error(
              `${init.method} ${url.slice(0, 300)}: ${problems.join('; ')}. Body starts ${start}`,
            );
          }
          if (answer.status < 300 && operation.method !== 'GET') await keepSignedIn();
        }),
        // fast-check prints the seed and path of a failure; pass them back as { seed, path } here to replay it.
        { numRuns: RUNS_PER_OPERATION, interruptAfterTimeLimit: budgetPerOperation },
      );
      expect(runs).toBeGreaterThanOrEqual(MIN_RUNS);
    },
    budgetPerOperation + 20_000,
  );
});

describe('a path as long as Node lets through', () => {
  // Found by the property above: the 404 repeated the path in `detail` and in `instance`, 32 KB for 16 KB.
  it('gets a 404 of at most 16 KB', async () => {
    const answer = await send(`/notes/${'a/'.repeat(8_000)}`, { method: 'GET' });
    expect(answer.status).toBe(404);
    expect(answer.bytes.length).toBeLessThanOrEqual(MAX_PROBLEM_BYTES);
  });
});

describe('the answer check', () => {
  const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  const problem = (status: number, extra: object = {}) =>
    json({ status, code: 'x', requestId: 'r', ...extra });
  const headers = (type: string, more: Record<string, string> = {}) =>
    new Headers({ 'content-type': type, 'x-request-id': 'r', ...more });
  const any = operations[0] as Operation;

  it('refuses a 5xx, an oversized or untyped 4xx, and a 4xx without its fields', () => {
    const type = 'application/problem+json';
    expect(answerProblems(any, { status: 500, headers: headers(type), bytes: problem(500) })).not.toEqual([]);
    const big = problem(400, { detail: 'x'.repeat(MAX_PROBLEM_BYTES) });
    expect(answerProblems(any, { status: 400, headers: headers(type), bytes: big })).not.toEqual([]);
    expect(
      answerProblems(any, { status: 400, headers: headers('application/json'), bytes: problem(400) }),
    ).not.toEqual([]);
    expect(
      answerProblems(any, { status: 404, headers: headers(type), bytes: json({ status: 404 }) }),
    ).not.toEqual([]);
    expect(answerProblems(any, { status: 404, headers: headers(type), bytes: problem(404) })).toEqual([]);
  });

  it('lets a 503 with Retry-After through only where the handler declares it, not the runtime’s own', () => {
    // Sign-in declares its 503 (the cap on password hashes); every operation has the runtime's (a store down).
    const declared = operations.find((operation) => operation.path === '/auth/login') as Operation;
    const runtimeOnly = operations.find((operation) => operation.path === '/auth/me') as Operation;
    expect(runtimeOnly.spec.responses?.['503']).toBeDefined();
    const answer = {
      status: 503,
      headers: headers('application/problem+json', { 'retry-after': '1' }),
      bytes: problem(503),
    };
    expect(answerProblems(declared, answer)).toEqual([]);
    expect(answerProblems(runtimeOnly, answer)).not.toEqual([]);
  });

  it('refuses a 2xx body that its response schema does not allow', () => {
    const me = operations.find((operation) => operation.path === '/auth/me') as Operation;
    const answer = { status: 200, headers: headers('application/json'), bytes: json({ id: 5 }) };
    expect(answerProblems(me, answer)).not.toEqual([]);
  });
});
