import * as v from 'valibot';
import { defineHandler } from '../../shared/handler.ts';

export default defineHandler({
  summary: 'The public keys that verify access tokens (JWKS)',
  tags: ['auth'],
  responses: {
    200: v.object({
      keys: v.array(
        v.object({
          kty: v.string(),
          crv: v.string(),
          x: v.string(),
          kid: v.string(),
          alg: v.string(),
          use: v.string(),
        }),
      ),
    }),
  },
  handle({ keys, setHeader }) {
    setHeader('cache-control', 'public, max-age=300');
    return keys.jwks;
  },
});
