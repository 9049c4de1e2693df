import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { docsRoutes } from '#runtime/http/docs.ts';
import { swaggerUiDir } from '../../../../build.mjs';

const assets = swaggerUiDir();
const app = new Hono().route('/docs', docsRoutes(assets));

describe('GET /docs', () => {
  it.each(['/docs', '/docs/'])('serves the page at %s with a same-origin-only CSP', async (url) => {
    const res = await app.request(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html; charset=utf-8$/i);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
    expect(csp).toContain("img-src 'self' data:");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/https?:|unsafe-eval|\*/);
  });

  it('links only its own files and nothing from another origin', async () => {
    const html = await (await app.request('/docs')).text();
    expect(html).toContain('<link rel="stylesheet" href="/docs/swagger-ui.css">');
    expect(html).toContain('<script src="/docs/swagger-ui-bundle.js"></script>');
    expect(html).toContain('<script src="/docs/init.js"></script>');
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/\/\/[a-z0-9.-]+\.[a-z]{2,}/i);
  });

  it('leaves other paths under /docs to the app: its later routes, else its 404', async () => {
    const host = new Hono().route('/docs', docsRoutes(assets));
    host.get('/docs/changelog', (c) => c.text('changes'));
    expect(await (await host.request('/docs/changelog')).text()).toBe('changes');
    expect((await host.request('/docs/nothing-here')).status).toBe(404);
    expect((await host.request('/docs/nothing/')).status).toBe(404);
  });
});

describe('GET /docs/init.js', () => {
  it('starts swagger-ui on /openapi.json without the remote validator', async () => {
    const res = await app.request('/docs/init.js');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
    const js = await res.text();
    expect(js).toContain("SwaggerUIBundle({ url: '/openapi.json', dom_id: '#ui'");
    expect(js).toContain('validatorUrl: null');
  });
});

describe('GET /docs/swagger-ui-bundle.js and /docs/swagger-ui.css', () => {
  it.each([
    ['swagger-ui-bundle.js', /^text\/javascript/],
    ['swagger-ui.css', /^text\/css/],
  ])('serves %s byte for byte, cacheable for a day', async (name, type) => {
    const expected = await readFile(path.join(assets, name));
    for (let i = 0; i < 2; i++) {
      const res = await app.request(`/docs/${name}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(type);
      expect(res.headers.get('cache-control')).toBe('public, max-age=86400');
      expect(Buffer.from(await res.arrayBuffer()).equals(expected)).toBe(true);
    }
  });

  it('reads each file on first request and keeps it in memory', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'docs-assets-'));
    try {
      const routes = new Hono().route('/docs', docsRoutes(dir));
      // Lazily: the folder may still be empty when the routes are built.
      await writeFile(path.join(dir, 'swagger-ui.css'), 'body{}');
      expect(await (await routes.request('/docs/swagger-ui.css')).text()).toBe('body{}');
      await writeFile(path.join(dir, 'swagger-ui.css'), 'changed{}');
      expect(await (await routes.request('/docs/swagger-ui.css')).text()).toBe('body{}');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
