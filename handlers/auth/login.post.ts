import * as v from 'valibot';
import { defineHandler } from '#runtime/http/handler.ts';
import { SIGN_IN_REFUSALS, signIn } from '#shared/sign-in.ts';
import { Email, TokenPairAnswer } from '#shared/users.ts';

export default defineHandler({
  summary: 'Signs in with email and password',
  description:
    'Each client address gets a number of tries a minute, and each email and address a few; past either, 429 ' +
    'with Retry-After, before any password is checked. 503 with Retry-After when too many passwords are ' +
    'being checked at once. The answer is not to be cached (Cache-Control: no-store).',
  tags: ['auth'],
  body: v.strictObject({
    email: Email,
    password: v.pipe(v.string(), v.maxLength(256), v.examples(['correct horse battery staple'])),
  }),
  responses: {
    200: TokenPairAnswer,
    ...SIGN_IN_REFUSALS,
  },
  async handle(ctx) {
    const { body, clientIp, setHeader } = ctx;
    const pair = await signIn(ctx, { email: body.email, password: body.password, clientIp });
    setHeader('Cache-Control', 'no-store');
    return pair;
  },
});
