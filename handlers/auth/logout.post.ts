import * as v from 'valibot';
import { defineHandler } from '#runtime/http/handler.ts';
import { revokeFamilyOf } from '#shared/sessions.ts';
import { RefreshToken } from '#shared/users.ts';

export default defineHandler({
  summary: 'Signs out: ends the session of the refresh token, its access tokens included',
  description:
    'Every refresh token issued from the same sign-in is revoked, and its access tokens are refused from ' +
    'then on. Answers 204 for an unknown token too, so that the answer reveals nothing.',
  tags: ['auth'],
  body: v.strictObject({ refreshToken: RefreshToken }),
  responses: { 204: { description: 'Signed out, or the token was unknown' } },
  async handle({ body, sql }) {
    await sql.begin((tx) => revokeFamilyOf(tx, body.refreshToken));
  },
});
