import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type Context, Hono } from 'hono';
import { basePath } from 'hono/route';

// swagger-ui sets inline styles and draws icons as data: images; it needs no eval and, with the
// validator badge off, nothing from another origin.
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API documentation</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

// validatorUrl: null, or swagger-ui shows a badge image fetched from validator.swagger.io.
const INIT = `SwaggerUIBundle({ url: '/openapi.json', dom_id: '#ui', validatorUrl: null });\n`;

const ASSETS = {
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui.css': 'text/css; charset=utf-8',
} as const;

/**
 * The API docs page, to mount with `app.route('/docs', docsRoutes(dir))`. `assetsDir` holds swagger-ui's
 * `swagger-ui-bundle.js` and `swagger-ui.css`, served from here so that the page loads nothing from a CDN.
 */
export function docsRoutes(assetsDir: string): Hono {
  const cache = new Map<string, Promise<ArrayBuffer>>();
  const load = (name: string) => {
    let bytes = cache.get(name);
    if (!bytes) {
      bytes = readFile(path.join(assetsDir, name)).then((b) =>
        b.buffer.slice(b.byteOffset, b.byteOffset + b.length),
      );
      // A failed read is not remembered, so that a file put in place later is served.
      bytes.catch(() => cache.delete(name));
      cache.set(name, bytes);
    }
    return bytes;
  };

  const app = new Hono();
  const page = (c: Context) =>
    c.body(PAGE, 200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': CSP,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    });
  app.get('/', page);
  app.get('/init.js', (c) =>
    c.body(INIT, 200, {
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    }),
  );
  for (const [name, type] of Object.entries(ASSETS)) {
    app.get(`/${name}`, async (c) =>
      c.body(await load(name), 200, {
        'content-type': type,
        'cache-control': 'public, max-age=86400',
        'x-content-type-options': 'nosniff',
      }),
    );
  }
  // Mounted at /docs, the root route answers /docs only; this makes /docs/ the same page and passes
  // anything else on, so that routes the app adds under /docs still match.
  app.get('/*', (c, next) => (c.req.path === `${basePath(c)}/` ? page(c) : next()));
  return app;
}
