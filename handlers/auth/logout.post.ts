import * as v from 'valibot';
import { defineHandler } from '#runtime/http/handler.ts';
import { revokeFamilyOf } from '#shared/sessions.ts';
import { RefreshToken } from '#shared/users.ts';

export default defineHandler({
  summary: 'Signs out: revokes the refresh token and every token issued from the same login',
  description: 'Answers 204 for an unknown token too, so that the answer reveals nothing.',
  tags: ['auth'],
  body: v.strictObject({ refreshToken: RefreshToken }),
  status: 204,
  async handle({ body, sql }) {
    await revokeFamilyOf(sql, body.refreshToken);
  },
});
