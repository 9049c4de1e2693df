import { createHash } from 'node:crypto';
import type { Sql } from 'postgres';
import * as v from 'valibot';
import type { Queryable } from '../db.ts';
import { HttpError } from '../errors.ts';

/** The optional `Idempotency-Key` request header, for a handler's `headers` schema. */
export const IdempotencyKeyHeader = v.optional(
  v.pipe(
    v.string(),
    v.regex(/^[\x21-\x7e]{1,255}$/, 'must be 1 to 255 visible ASCII characters'),
    v.description(
      'Send the same key again to get the first answer back instead of doing the work twice (24 h).',
    ),
    v.examples(['0d6c6f1e-2f6b-4b7e-9a51-5f2f3c8e9d10']),
  ),
);

export type StoredAnswer<T> = { body: T; location?: string };

/**
 * Runs `produce` once per owner (whoever the key belongs to: a user id, an API client) and key. The same key with the same request gets the first answer back (and
 * `produce` does not run); with a different request it is a 422. Keys live 24 hours.
 *
 * The key is claimed in the transaction that does the work: a concurrent request with the same key waits on
 * that row, then replays what was committed, or does the work itself if the first attempt rolled back.
 */
export async function idempotent<T>(
  sql: Sql,
  claim: { owner: string; key: string | undefined; request: unknown },
  produce: (tx: Queryable) => Promise<StoredAnswer<T>>,
): Promise<StoredAnswer<T> & { replayed: boolean }> {
  const { owner, key } = claim;
  if (key === undefined) return { ...(await sql.begin((tx) => produce(tx))), replayed: false };
  const requestHash = createHash('sha256').update(JSON.stringify(claim.request)).digest('hex');
  return sql.begin(async (tx) => {
    await tx`
      delete from idempotency_keys
      where owner = ${owner} and key = ${key} and created_at < now() - interval '24 hours'`;
    const [claimed] = await tx`
      insert into idempotency_keys (owner, key, request_hash) values (${owner}, ${key}, ${requestHash})
      on conflict (owner, key) do nothing
      returning key`;
    if (!claimed) {
      const [stored] = await tx<{ request_hash: string; response: StoredAnswer<T> | null }[]>`
        select request_hash, response from idempotency_keys where owner = ${owner} and key = ${key}`;
      if (stored?.request_hash !== requestHash) {
        throw HttpError.unprocessable(
          'This Idempotency-Key was used with a different request; use a new key.',
        );
      }
      if (!stored.response)
        throw HttpError.conflict('A request with this Idempotency-Key is still in progress.');
      return { ...stored.response, replayed: true };
    }
    const answer = await produce(tx);
    await tx`
      update idempotency_keys set response = ${tx.json(answer as never)}
      where owner = ${owner} and key = ${key}`;
    return { ...answer, replayed: false };
  }) as Promise<StoredAnswer<T> & { replayed: boolean }>;
}
