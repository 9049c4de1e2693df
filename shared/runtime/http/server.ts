import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { StartupError } from '../process.ts';

/**
 * Serves `fetch` on the configured address, with the limits that cut slow clients off: the headers must
 * arrive within headersTimeoutMs and the whole request within requestTimeoutMs (Node answers 408 and closes),
 * and an idle keep-alive connection closes after keepAliveTimeoutMs. Resolves once listening; rejects when
 * the address cannot be had (a port in use), so that the process exits with that message.
 */
export function listenHttp(
  fetch: (request: Request, env: unknown) => Response | Promise<Response>,
  http: Config['http'],
  log: Logger,
): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = serve({
      fetch,
      hostname: http.host,
      port: http.port,
      serverOptions: {
        headersTimeout: http.headersTimeoutMs,
        requestTimeout: http.requestTimeoutMs,
        keepAliveTimeout: http.keepAliveTimeoutMs,
        // How often Node looks for connections past those limits; its default (30 s) would let a slow client
        // hold a connection for up to that long past its deadline.
        connectionsCheckingInterval: Math.min(1_000, http.headersTimeoutMs),
      },
    }) as Server;
    const refuse = (error: NodeJS.ErrnoException) => {
      const where = `${http.host}:${http.port}`;
      reject(
        error.code === 'EADDRINUSE'
          ? new StartupError(`${where} is in use (AP_HOST, AP_PORT): stop what listens there or set AP_PORT`)
          : error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND'
            ? new StartupError(`cannot listen on ${where}: no such address here; check AP_HOST`)
            : error,
      );
    };
    server.once('error', refuse);
    server.once('listening', () => {
      server.off('error', refuse);
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : http.port;
      log.info({ host: http.host, port }, 'listening');
      resolve(server);
    });
  });
}
