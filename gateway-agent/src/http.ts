/** The gateway's local HTTP endpoints: /healthz, /metrics (Prometheus) and /rejects (recent samples). */
import { createServer, type Server } from 'node:http';
import { ConfigError } from './config.js';
import { PROMETHEUS_CONTENT_TYPE } from './metrics.js';
import type { RejectSample } from './rejects.js';

export interface Health {
  readonly status: 'ok' | 'degraded';
  readonly reasons: readonly string[];
}

export interface Observable {
  health(): Health;
  metrics(): string;
  rejectSamples(): readonly RejectSample[];
}

export interface HttpEndpoint {
  readonly url: string;
  close(): Promise<void>;
}

export async function serveHttp(gateway: Observable, host: string, port: number): Promise<HttpEndpoint> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => {
      response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      response.end(body);
    };
    if (request.method !== 'GET') return send(405, 'text/plain', 'GET only\n');
    switch (path) {
      case '/healthz': {
        const health = gateway.health();
        return send(health.status === 'ok' ? 200 : 503, 'application/json', `${JSON.stringify(health)}\n`);
      }
      case '/metrics':
        return send(200, PROMETHEUS_CONTENT_TYPE, gateway.metrics());
      case '/rejects':
        return send(200, 'application/json', `${JSON.stringify(gateway.rejectSamples(), null, 2)}\n`);
      default:
        return send(404, 'text/plain', 'try /healthz, /metrics or /rejects\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE' || error.code === 'EADDRNOTAVAIL'
          ? new ConfigError(`http: cannot listen on ${host}:${port}: ${error.code}`)
          : error,
      ),
    );
    server.listen(port, host, () => {
      server.removeAllListeners('error');
      // A failed accept (e.g. out of file descriptors) must not stop the gateway; the next one may work.
      server.on('error', () => undefined);
      resolve();
    });
  });
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
