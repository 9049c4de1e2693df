import * as v from 'valibot';
import { defineHandler } from '#runtime/http/handler.ts';

const PublicKey = v.pipe(
  v.object({
    kty: v.string(),
    crv: v.string(),
    x: v.string(),
    kid: v.pipe(v.string(), v.description('The RFC 7638 thumbprint of the key; access tokens name it.')),
    alg: v.string(),
    use: v.string(),
  }),
  v.examples([
    {
      kty: 'OKP',
      crv: 'Ed25519',
      x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
      kid: 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k',
      alg: 'EdDSA',
      use: 'sig',
    },
  ]),
);

export default defineHandler({
  summary: 'The public keys that verify access tokens (JWKS)',
  description:
    'Every key that may have signed a live token is here; clients may cache the set for 5 minutes.',
  tags: ['auth'],
  responses: { 200: v.object({ keys: v.array(PublicKey) }) },
  handle({ keys, setHeader }) {
    setHeader('cache-control', 'public, max-age=300');
    return keys.jwks;
  },
});
