import { HttpError } from '#runtime/errors.ts';
import { defineAuth } from '#runtime/http/handler.ts';
import { verifyAccessToken } from './tokens.ts';

/** The caller a valid access token names. */
export type TokenUser = { id: string; tokenId: string };

/**
 * Bearer access tokens (EdDSA JWTs signed with a key from keys/). Every refusal is the same 401, so that a caller
 * cannot tell a forged token from an expired one; the reason goes to the log.
 */
export const bearer = defineAuth<TokenUser>({
  name: 'bearerAuth',
  openapi: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
  async authenticate(request, { keys, settings, log }) {
    const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(
      request.header('authorization') ?? '',
    );
    if (!match?.[1]) throw HttpError.unauthorized('Send an access token: Authorization: Bearer <token>.');
    const verified = verifyAccessToken(keys, settings.auth, match[1]);
    if ('error' in verified) {
      log.info({ reason: verified.error }, 'access token refused');
      throw HttpError.unauthorized('The access token is invalid or has expired.');
    }
    return { id: verified.claims.sub, tokenId: verified.claims.jti };
  },
});
