import { defineHandler } from '#runtime/http/handler.ts';
import { bearer } from '#shared/bearer-auth.ts';
import { revokeSessionsOf } from '#shared/sessions.ts';

export default defineHandler({
  summary: 'Signs out everywhere: ends every session of the account, this one included',
  description:
    'Every refresh token of the account is revoked, and every access token issued before is refused from ' +
    'then on (the bearer check looks its session up on each request). Sign in again to go on.',
  tags: ['auth'],
  auth: bearer,
  responses: { 204: { description: 'Every session of the account has ended' } },
  async handle({ user, sql, log }) {
    const ended = await sql.begin((tx) => revokeSessionsOf(tx, user.id));
    log.info({ sessions: ended }, 'every session of the account ended');
  },
});
