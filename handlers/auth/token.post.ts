import * as v from 'valibot';
import { defineHandler } from '#runtime/http/handler.ts';
import { SIGN_IN_REFUSALS, signIn } from '#shared/sign-in.ts';
import { Email } from '#shared/users.ts';

/** RFC 6749 §5.1: the token answer an OAuth2 client (the docs page's Authorize dialog) reads. */
const OAuthToken = v.object({
  access_token: v.pipe(v.string(), v.description('Send it as Authorization: Bearer <token>.')),
  token_type: v.literal('Bearer'),
  expires_in: v.pipe(v.number(), v.integer(), v.description('Seconds until the access token expires.')),
  refresh_token: v.pipe(v.string(), v.description('Trade it at POST /auth/refresh for a new pair.')),
});

export default defineHandler({
  summary: 'Signs in the OAuth2 way: a password grant sent as a form',
  description:
    'The OAuth2 token endpoint (RFC 6749, resource owner password grant) that the docs page signs in with: ' +
    '`grant_type=password&username=<email>&password=<password>` as application/x-www-form-urlencoded. The ' +
    'same account, limits and answers as POST /auth/login, in OAuth2 field names.',
  tags: ['auth'],
  bodyEncoding: 'form',
  body: v.object({
    grant_type: v.pipe(
      v.literal('password', 'must be password: this endpoint takes the password grant only'),
      v.description('Always `password`.'),
    ),
    username: v.pipe(Email, v.description('The email of the account.')),
    password: v.pipe(v.string(), v.maxLength(256), v.examples(['correct horse battery staple'])),
    // Sent by OAuth2 clients, meaningless here: the API has no scopes and one client.
    scope: v.optional(v.string()),
    client_id: v.optional(v.string()),
  }),
  responses: {
    200: {
      description: 'A new token pair',
      schema: OAuthToken,
      headers: { 'Cache-Control': { description: '`no-store`: the answer holds tokens.', required: true } },
    },
    ...SIGN_IN_REFUSALS,
  },
  async handle(ctx) {
    const { body, clientIp, setHeader } = ctx;
    const pair = await signIn(ctx, { email: body.username, password: body.password, clientIp });
    setHeader('Cache-Control', 'no-store');
    return {
      access_token: pair.accessToken,
      token_type: pair.tokenType,
      expires_in: pair.expiresIn,
      refresh_token: pair.refreshToken,
    };
  },
});
