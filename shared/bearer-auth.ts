import { HttpError } from '#runtime/errors.ts';
import { defineAuth } from '#runtime/http/handler.ts';
import { sessionIsLive } from './sessions.ts';
import { verifyAccessToken } from './tokens.ts';

/** The caller a valid access token names, and the session (sign-in) the token was issued to. */
export type TokenUser = { id: string; tokenId: string; sessionId: string };

// RFC 9110: the scheme name is case-insensitive, and one or more spaces separate it from the token.
const AUTHORIZATION = /^bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+) *$/i;

/**
 * Bearer access tokens (EdDSA JWTs signed with a key from keys/), whose session must still be live: a logout,
 * a logout everywhere or a password change ends a session, and its access tokens with it, at once. Every
 * refusal is the same 401, so that a caller cannot tell a forged token from an ended one; the reason goes to
 * the log.
 */
export const bearer = defineAuth<TokenUser>({
  name: 'bearerAuth',
  // An OAuth2 password flow, so that the docs page's Authorize dialog signs in with an email and a password and
  // sends the token it gets as a bearer token; any client may still send a token it got from POST /auth/login.
  openapi: {
    type: 'oauth2',
    description:
      'An access token from POST /auth/login or POST /auth/token, sent as Authorization: Bearer <token>.',
    flows: { password: { tokenUrl: '/auth/token', scopes: {} } },
  },
  // `services.log` is read only to refuse: the request's child logger is made when first asked for.
  async authenticate(request, services) {
    const { keys, settings, sql } = services;
    const match = AUTHORIZATION.exec(request.header('authorization') ?? '');
    if (!match?.[1]) throw HttpError.unauthorized('Send an access token: Authorization: Bearer <token>.');
    const verified = await verifyAccessToken(
      keys,
      { ...settings.auth, ttlSeconds: settings.auth.accessTokenTtlSeconds },
      match[1],
    );
    if ('error' in verified) {
      services.log.info({ reason: verified.error }, 'access token refused');
      throw HttpError.unauthorized('The access token is invalid or has expired.');
    }
    const { sub, sid, jti } = verified.claims;
    if (!(await sessionIsLive(sql, { userId: sub, sessionId: sid }))) {
      services.log.info({ reason: 'session ended', sessionId: sid }, 'access token refused');
      throw HttpError.unauthorized('The access token is invalid or has expired.');
    }
    return { id: sub, tokenId: jti, sessionId: sid };
  },
});
