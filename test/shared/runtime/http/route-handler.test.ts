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
