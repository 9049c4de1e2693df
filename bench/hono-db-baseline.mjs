import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createLocalJWKSet, jwtVerify } from 'jose';
import postgres from 'postgres';

// The DB-read baseline: bare Hono with what GET /notes/{id} of the reference app does and nothing else. It
// verifies the bearer token with jose as shared/tokens.ts does (EdDSA, typ at+jwt, issuer, audience, maximum
// age, the same public keys), checks the session is live with the query shared/sessions.ts runs, and selects
// the note with the handler's query. No request id, log line, metrics, input validation or problem+json.
// Run as `node bench/hono-db-baseline.mjs <port>` with PG_* and BENCH_JWKS (the app's published JWKS) set.
const env = process.env;
const keys = createLocalJWKSet(JSON.parse(String(env.BENCH_JWKS)));
const sql = postgres({
  host: env.PG_HOST,
  port: Number(env.PG_PORT),
  user: env.POSTGRES_USER,
  password: env.POSTGRES_PASSWORD || undefined,
  database: env.POSTGRES_DB,
  // The runtime's pool size by default (PG_POOL_MAX), so that both sides have as many connections.
  max: 10,
});
const verify = {
  algorithms: ['EdDSA'],
  typ: 'at+jwt',
  issuer: env.JWT_ISSUER,
  audience: env.JWT_AUDIENCE,
  maxTokenAge: Number(env.ACCESS_TOKEN_TTL_SECONDS),
  clockTolerance: 60,
  requiredClaims: ['exp', 'jti', 'sub'],
};

const app = new Hono();
app.get('/notes/:id', async (c) => {
  const token = /^bearer +(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
  if (!token) return c.json({ error: 'unauthorized' }, 401);
  const claims = await jwtVerify(token, keys, verify).then(
    ({ payload }) => payload,
    () => undefined,
  );
  if (!claims) return c.json({ error: 'unauthorized' }, 401);
  const live = await sql`
    select 1 from sessions where id = ${String(claims.sid)} and user_id = ${String(claims.sub)} and revoked_at is null`;
  if (live.length !== 1) return c.json({ error: 'unauthorized' }, 401);
  const [row] = await sql`
    select id, title, body, tags, created_at, updated_at from notes
    where id = ${c.req.param('id')} and user_id = ${String(claims.sub)}`;
  if (!row) return c.json({ error: 'not found' }, 404);
  return c.json({
    id: row.id,
    title: row.title,
    body: row.body,
    tags: row.tags,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  });
});
app.get('/', (c) => c.json({ ok: true }));

serve({ fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.argv[2]) });
process.once('SIGTERM', () => sql.end({ timeout: 2 }).finally(() => process.exit(0)));
