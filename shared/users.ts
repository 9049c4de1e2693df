import * as v from 'valibot';
import type { ResponseSpec } from '#runtime/http/handler.ts';

/** An account as the API shows it: never the password hash. */
export const UserView = v.pipe(
  v.object({
    id: v.pipe(v.string(), v.uuid(), v.examples(['0b9f4c2e-6d1a-4f57-9a8e-3c1d2b7e5f10'])),
    email: v.pipe(v.string(), v.email(), v.examples(['ada@example.com'])),
    name: v.nullable(v.pipe(v.string(), v.examples(['Ada Lovelace']))),
    createdAt: v.pipe(v.string(), v.isoTimestamp(), v.examples(['2026-11-27T09:30:00.000Z'])),
  }),
  v.title('User'),
  v.description('An account as the API shows it.'),
);

export type UserRow = { id: string; email: string; name: string | null; created_at: Date };

export function toUserView(row: UserRow): v.InferOutput<typeof UserView> {
  return { id: row.id, email: row.email, name: row.name, createdAt: row.created_at.toISOString() };
}

/** Emails are compared without regard to case or surrounding spaces. */
export const Email = v.pipe(
  v.string(),
  v.trim(),
  v.toLowerCase(),
  v.maxLength(254),
  v.email('must be an email address'),
  v.description('Compared without regard to case or surrounding spaces.'),
  v.examples(['ada@example.com']),
);

export const Password = v.pipe(
  v.string(),
  v.minLength(12, 'must be at least 12 characters'),
  v.maxLength(256, 'must be at most 256 characters'),
  v.examples(['correct horse battery staple']),
);

/** A refresh token as clients send it back: opaque, single-use. */
export const RefreshToken = v.pipe(
  v.string(),
  v.minLength(1),
  v.maxLength(200),
  v.description('The refresh token from the last login or refresh.'),
  v.examples(['o0bH5w3x9Zr1Qm7kq3v8yT2dN6pL4sJcA1eF5gH7iK0']),
);

export const TokenPairView = v.pipe(
  v.object({
    accessToken: v.pipe(
      v.string(),
      v.description('An EdDSA JWT (typ at+jwt); send it as Authorization: Bearer <token>.'),
      v.examples([
        'eyJhbGciOiJFZERTQSIsInR5cCI6ImF0K2p3dCIsImtpZCI6Ii4uLiJ9.eyJzdWIiOiIuLi4ifQ.c2lnbmF0dXJl',
      ]),
    ),
    refreshToken: v.pipe(
      v.string(),
      v.description('Opaque and single-use: trade it at POST /auth/refresh for a new pair.'),
      v.examples(['o0bH5w3x9Zr1Qm7kq3v8yT2dN6pL4sJcA1eF5gH7iK0']),
    ),
    tokenType: v.literal('Bearer'),
    expiresIn: v.pipe(
      v.number(),
      v.integer(),
      v.description('Seconds until the access token expires.'),
      v.examples([900]),
    ),
  }),
  v.title('TokenPair'),
  v.description('What a sign-in gives: an access token and the refresh token that renews it.'),
);

/** The answer of every route that signs in: a token pair, never to be cached. */
export const TokenPairAnswer = {
  description: 'A new token pair',
  schema: TokenPairView,
  headers: { 'Cache-Control': { description: '`no-store`: the answer holds tokens.', required: true } },
} satisfies ResponseSpec;
