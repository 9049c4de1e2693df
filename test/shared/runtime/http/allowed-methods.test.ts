import { describe, expect, it } from 'vitest';
import { createTestApp, projectRoot } from '../../../support/app.ts';

describe('a known path with another method', () => {
  it('answers 405 with Allow, as problem+json, and OPTIONS answers 204 with Allow', async () => {
    const t = await createTestApp({ migrate: false });
    try {
      const put = await t.request('PUT', '/items');
      expect(put.status).toBe(405);
      expect(put.headers.get('allow')).toBe('POST, OPTIONS');
      expect(put.headers.get('content-type')).toBe('application/problem+json');
      expect(await put.json()).toMatchObject({ status: 405, code: 'method_not_allowed' });

      const options = await t.request('OPTIONS', '/items/2f0c1a9e-0000-4000-8000-000000000000');
      expect(options.status).toBe(204);
      expect(options.headers.get('allow')).toBe('GET, HEAD, OPTIONS');

      expect((await t.request('PUT', '/nowhere')).status).toBe(404);
      expect((await t.request('DELETE', '/files/a/b')).headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    } finally {
      await t.close();
    }
  });
});

describe('the reference app', () => {
  it('answers PUT /notes with 405 and Allow naming GET and POST (and HEAD and OPTIONS, which it also answers)', async () => {
    const t = await createTestApp({ root: projectRoot, migrate: false });
    try {
      const put = await t.request('PUT', '/notes');
      expect(put.status).toBe(405);
      expect(put.headers.get('allow')).toBe('GET, POST, HEAD, OPTIONS');
    } finally {
      await t.close();
    }
  });
});

describe('CORS', () => {
  const preflight = {
    origin: 'https://app.example.com',
    'access-control-request-method': 'POST',
    'access-control-request-headers': 'authorization, content-type',
  };

  it('is off unless CORS_ORIGINS names origins', async () => {
    const t = await createTestApp({ migrate: false });
    try {
      const response = await t.request('GET', '/', { headers: { origin: 'https://app.example.com' } });
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await t.close();
    }
  });

  it('answers preflights of the named origins and exposes the request id, and refuses other origins', async () => {
    const t = await createTestApp({ migrate: false, env: { CORS_ORIGINS: 'https://app.example.com' } });
    try {
      const answer = await t.request('OPTIONS', '/items', { headers: preflight });
      expect(answer.status).toBe(204);
      expect(answer.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      expect(answer.headers.get('access-control-allow-headers')).toContain('authorization');
      // Answered by the CORS layer itself, still inside the request envelope.
      expect(answer.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(t.logs.some((line) => line.msg === 'request' && line.method === 'OPTIONS')).toBe(true);
      const simple = await t.request('GET', '/', { headers: { origin: 'https://app.example.com' } });
      expect(simple.headers.get('access-control-expose-headers')).toContain('x-request-id');
      const stranger = await t.request('GET', '/', { headers: { origin: 'https://evil.example' } });
      expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await t.close();
    }
  });

  it('refuses a CORS_ORIGINS that is not a list of origins, saying what to write', async () => {
    await expect(
      createTestApp({ migrate: false, env: { CORS_ORIGINS: 'app.example.com/path' } }),
    ).rejects.toThrow(/CORS_ORIGINS: must be \* or origins separated by commas/);
  });
});
