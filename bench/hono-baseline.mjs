import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import * as v from 'valibot';

// The baseline: bare Hono on @hono/node-server with the bench fixture's two routes and nothing else (no
// request ids, logs, metrics, body limit or problem+json). Run as `node bench/hono-baseline.mjs <port>`.
const Item = v.strictObject({
  name: v.pipe(v.string(), v.minLength(1), v.maxLength(50)),
  qty: v.pipe(v.number(), v.integer(), v.minValue(0)),
});

const app = new Hono();
app.get('/', (c) => c.json({ app: 'fixture' }));
app.post('/items', async (c) => {
  const result = v.safeParse(Item, await c.req.json().catch(() => undefined));
  if (!result.success) return c.json({ issues: v.flatten(result.issues).nested }, 400);
  return c.json(result.output, 201);
});

serve({ fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.argv[2]) });
process.once('SIGTERM', () => process.exit(0));
