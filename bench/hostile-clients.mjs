// The hostile side of `npm run bench:hostile`: CLIENTS loops, each sending the requests of issue items 1 to 3
// over and over for SECONDS: huge arrays with and without a token, sign-ups and logins with a new email each
// time, the largest list pages, exports and their downloads. Prints one JSON line of answers by status.
const [base, token, clients, seconds] = [
  process.env.BASE,
  process.env.TOKEN,
  Number(process.env.CLIENTS),
  Number(process.env.SECONDS),
];
const json = { 'content-type': 'application/json' };
const auth = { ...json, authorization: `Bearer ${token}` };
const zeros = `{"title":"t","body":"b","tags":[${new Array(330_000).fill('0').join(',')}]}`;
const wrongTags = JSON.stringify({ title: 't', body: 'b', tags: Array.from({ length: 9_999 }, (_, i) => i) });
let unique = 0;

/** @type {Array<() => Promise<Response>>} */
const requests = [
  () => fetch(`${base}/notes`, { method: 'POST', headers: json, body: zeros }),
  () => fetch(`${base}/notes`, { method: 'POST', headers: auth, body: zeros }),
  () => fetch(`${base}/notes`, { method: 'POST', headers: auth, body: wrongTags }),
  () =>
    fetch(`${base}/auth/register`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({
        email: `flood-${process.pid}-${unique++}@example.test`,
        password: 'a long enough password',
      }),
    }),
  () =>
    fetch(`${base}/auth/login`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({
        email: `guess-${process.pid}-${unique++}@example.test`,
        password: 'wrong password',
      }),
    }),
  () => fetch(`${base}/notes?limit=100`, { headers: auth }),
  () => fetch(`${base}/notes/exports`, { method: 'POST', headers: auth, body: '{"format":"ndjson"}' }),
  () => fetch(`${base}${process.env.DOWNLOAD}`, { headers: auth }),
];

/** @type {Record<string, number>} */
const statuses = {};
// BENCH_ONLY=3,5 sends only those of the requests above (by index), to see what each one costs.
const only = process.env.ONLY ? process.env.ONLY.split(',').map(Number) : undefined;
const chosen = only ? requests.filter((_, index) => only.includes(index)) : requests;
const until = Date.now() + seconds * 1000;
await Promise.all(
  Array.from({ length: clients }, async (_, client) => {
    for (let turn = client; Date.now() < until; turn++) {
      const send = /** @type {() => Promise<Response>} */ (chosen[turn % chosen.length]);
      try {
        const response = await send();
        // Read the whole answer, as a client would: a streamed download costs the server only as it is read.
        await response.arrayBuffer();
        statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      } catch (error) {
        const { cause, name } = /** @type {Error & { cause?: { code?: string } }} */ (error);
        const kind = cause?.code ?? name;
        statuses[kind] = (statuses[kind] ?? 0) + 1;
      }
    }
  }),
);
process.stdout.write(`${JSON.stringify(statuses)}\n`);
