// The rehearsal's traffic, through the load balancer: note reads and writes, sign-ups (each enqueues a welcome
// mail) and exports (each a job the client polls). Every answer other than the one expected, and every
// connection error or timeout, is a failed request.

const PASSWORD = 'correct horse battery staple';
const FAILURES_KEPT = 20;

/** Counts every request made through `call`, and keeps the first failures for the report. */
export function createClient(base) {
  const counts = { total: 0, failed: 0 };
  const failures = [];
  const fail = (what) => {
    counts.failed++;
    if (failures.length < FAILURES_KEPT) failures.push({ at: new Date().toISOString(), ...what });
  };
  /** One request; resolves to `{ status, headers, body }` (undefined after a connection error). */
  async function call(method, path, { body, token, expect }) {
    counts.total++;
    try {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await response.text();
      const json = (response.headers.get('content-type') ?? '').includes('json');
      const answer = {
        status: response.status,
        headers: response.headers,
        body: json ? JSON.parse(text) : text,
      };
      if (response.status !== expect)
        fail({ method, path, status: response.status, body: text.slice(0, 300) });
      return answer;
    } catch (error) {
      fail({ method, path, error: `${error.name}: ${error.cause?.code ?? error.message}` });
      return undefined;
    }
  }
  return { call, counts, failures };
}

/** Registers and signs in `count` accounts before the load starts; throws if any step fails. */
export async function signUpUsers(client, count, tag) {
  const users = [];
  for (let n = 1; n <= count; n++) {
    const email = `load-${n}-${tag}@example.test`;
    const registered = await client.call('POST', '/auth/register', {
      body: { email, password: PASSWORD },
      expect: 201,
    });
    const login = await client.call('POST', '/auth/login', {
      body: { email, password: PASSWORD },
      expect: 200,
    });
    if (registered?.status !== 201 || login?.status !== 200) {
      throw new Error(`could not set up ${email}: register ${registered?.status}, login ${login?.status}`);
    }
    users.push({ email, token: login.body.accessToken });
  }
  return users;
}

/** Creates, reads and lists notes until `stop` fires. */
export async function notesLoop(client, user, stop) {
  const { token } = user;
  for (let n = 1; !stop.aborted; n++) {
    const created = await client.call('POST', '/notes', {
      token,
      body: { title: `note ${n}`, body: 'written during the replica rehearsal', tags: ['rehearsal'] },
      expect: 201,
    });
    if (created?.status === 201)
      await client.call('GET', `/notes/${created.body.id}`, { token, expect: 200 });
    await client.call('GET', '/notes?limit=5', { token, expect: 200 });
    await sleep(100);
  }
}

/** Registers a new account every `everyMs` until `stop` fires; `accepted` gets each address answered 201. */
export async function signUpLoop(client, stop, { tag, everyMs, accepted }) {
  for (let n = 1; !stop.aborted; n++) {
    const email = `signup-${n}-${tag}@example.test`;
    const answer = await client.call('POST', '/auth/register', {
      body: { email, password: PASSWORD },
      expect: 201,
    });
    if (answer?.status === 201) accepted.push(email);
    await sleep(everyMs);
  }
}

/**
 * Exports one user's notes, one export at a time (the app allows one in flight per account), polling each job
 * until it ends, until `stop` fires; `accepted` gets each job id answered 202. A job still running at the stop
 * is polled on, for up to `pollForMs`.
 */
export async function exportLoop(client, user, stop, { accepted, pollForMs }) {
  const { token } = user;
  while (!stop.aborted) {
    const answer = await client.call('POST', '/notes/exports', {
      token,
      body: { format: 'ndjson' },
      expect: 202,
    });
    const location = answer?.status === 202 ? answer.headers.get('location') : undefined;
    if (location) {
      accepted.push(location.split('/').pop());
      const deadline = Date.now() + pollForMs;
      while (Date.now() < deadline) {
        const job = await client.call('GET', location, { token, expect: 200 });
        if (['succeeded', 'failed'].includes(job?.body?.status)) break;
        await sleep(300);
      }
    }
    await sleep(500);
  }
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
