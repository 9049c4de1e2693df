import { describe, expect, it } from 'vitest';
import { createTestApp } from '../../../support/app.ts';

/** The address the fixture app takes a request with this X-Forwarded-For to come from. */
async function clientIpWith(trustProxy: string, forwardedFor: string) {
  const t = await createTestApp({ env: { TRUST_PROXY: trustProxy }, migrate: false });
  try {
    const response = await t.request('GET', '/client-ip', { headers: { 'x-forwarded-for': forwardedFor } });
    return ((await response.json()) as { clientIp: string }).clientIp;
  } finally {
    await t.close();
  }
}

describe('ctx.clientIp', () => {
  it('is the socket peer without trusted proxies, whatever X-Forwarded-For says', async () => {
    // app.request() has no socket: the peer reads as unknown.
    expect(await clientIpWith('0', '203.0.113.7')).toBe('unknown');
  });

  it('is the entry as many from the right as there are trusted proxies, never one the client wrote', async () => {
    expect(await clientIpWith('1', 'spoofed-by-client, 203.0.113.7')).toBe('203.0.113.7');
    expect(await clientIpWith('2', 'spoofed-by-client, 203.0.113.7, 10.0.0.2')).toBe('203.0.113.7');
  });

  it('refuses the old true/false form at start, saying what to write instead', async () => {
    await expect(clientIpWith('true', '203.0.113.7')).rejects.toThrow(
      /TRUST_PROXY: must be how many proxies stand in front of the app/,
    );
  });
});

describe('route matching', () => {
  it('serves a static file beside a [param] file, whatever their names', async () => {
    const t = await createTestApp();
    try {
      const response = await t.request('GET', '/items/recent');
      expect(response.status).toBe(200);
      expect(Array.isArray(await response.json())).toBe(true);
    } finally {
      await t.close();
    }
  });

  it('hands a catch-all its rest of the path, and refuses dot segments however they are encoded', async () => {
    const t = await createTestApp({ migrate: false });
    try {
      const ok = await t.request('GET', '/files/docs/guide.md');
      expect(await ok.json()).toEqual({ path: 'docs/guide.md' });
      // `/files/a/%2e%2e/...` never arrives: URL parsing resolves dot segments before routing. Encoded slashes
      // and backslashes do arrive, decoded into the parameter.
      for (const url of ['/files/a%2F..%2F..%2Fetc%2Fpasswd', '/files/..%2Fb', '/files/a%5C..%5Cb']) {
        const refused = await t.request('GET', url);
        expect(refused.status, url).toBe(400);
        expect(((await refused.json()) as { errors: unknown[] }).errors).toEqual([
          { field: 'params.path', message: 'must not hold . or .. segments nor backslashes' },
        ]);
      }
    } finally {
      await t.close();
    }
  });
});
