import * as v from 'valibot';
import { HttpError } from '#runtime/errors.ts';
import { defineHandler } from '#runtime/http/handler.ts';
import { issueTokenPair, spendRefreshToken } from '#shared/sessions.ts';
import { RefreshToken, TokenPairAnswer } from '#shared/users.ts';

export default defineHandler({
  summary: 'Trades a refresh token for a new token pair',
  description:
    'The refresh token is spent. Presenting a spent token again revokes its whole session. A session cannot ' +
    'be refreshed past its maximum age from the sign-in (SESSION_MAX_AGE_SECONDS). The answer is not to be ' +
    'cached (Cache-Control: no-store).',
  tags: ['auth'],
  body: v.strictObject({ refreshToken: RefreshToken }),
  responses: {
    200: TokenPairAnswer,
    401: { description: 'The refresh token is unknown, spent, revoked or expired' },
  },
  async handle({ body, sql, keys, settings, log, setHeader }) {
    const spent = await sql.begin(async (tx) => {
      const outcome = await spendRefreshToken(tx, settings, body.refreshToken);
      if ('refused' in outcome) return outcome;
      return { pair: await issueTokenPair(tx, keys, settings, outcome) };
    });
    if ('refused' in spent) {
      log.info({ reason: spent.refused }, 'refresh token refused');
      throw HttpError.unauthorized('The refresh token is invalid, spent or expired. Sign in again.');
    }
    setHeader('Cache-Control', 'no-store');
    return spent.pair;
  },
});
