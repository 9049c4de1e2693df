import * as v from 'valibot';

/** An account as the API shows it: never the password hash. */
export const UserView = v.object({
  id: v.pipe(v.string(), v.uuid()),
  email: v.pipe(v.string(), v.email()),
  name: v.nullable(v.string()),
  createdAt: v.pipe(v.string(), v.isoTimestamp()),
});

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
);

export const Password = v.pipe(
  v.string(),
  v.minLength(12, 'must be at least 12 characters'),
  v.maxLength(256, 'must be at most 256 characters'),
);

export const TokenPairView = v.object({
  accessToken: v.string(),
  refreshToken: v.string(),
  tokenType: v.literal('Bearer'),
  expiresIn: v.number(),
});
