import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ValidationError } from '../core/errors.js';
import { checkOptions } from '../core/validate.js';
import { PROMETHEUS_CONTENT_TYPE } from './prometheus.js';

/**
 * A tiny HTTP endpoint for Prometheus to scrape: GET /metrics, bound to a loopback address
 * only. Meridian is a test and measurement tool; it has no business listening on a network
 * interface, and refusing to is simpler than authenticating.
 */

export interface MetricsServerOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** A loopback address: 127.x.x.x, ::1 or localhost. Default 127.0.0.1. */
  host?: string;
}

export interface MetricsServer {
  /** Where to scrape, e.g. http://127.0.0.1:39123/metrics */
  readonly url: string;
  /** Stops listening and drops open connections; resolves when the server is closed. */
  close(): Promise<void>;
}

export const METRICS_PATH = '/metrics';

const IPV4_LOOPBACK = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  const m = IPV4_LOOPBACK.exec(host);
  return m !== null && m.slice(1).every((part) => Number(part) <= 255);
}

/** Starts the endpoint; `render` is called per scrape, and scrapes that overlap share one render. */
export async function startMetricsServer(options: MetricsServerOptions, render: () => Promise<string>): Promise<MetricsServer> {
  checkOptions(options, 'options', ['port', 'host']);
  const port = options.port ?? 0;
  const host = options.host ?? '127.0.0.1';
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new ValidationError('options.port', `an integer from 0 to 65535, got ${JSON.stringify(port)}`);
  if (typeof host !== 'string' || !isLoopbackHost(host)) {
    throw new ValidationError('options.host', `a loopback address (127.0.0.1, another 127.x.x.x, ::1 or localhost), got ${JSON.stringify(host)}`);
  }

  let rendering: Promise<string> | undefined;
  const scrape = (): Promise<string> => {
    rendering ??= render().finally(() => (rendering = undefined));
    return rendering;
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== METRICS_PATH) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`not found; metrics are at ${METRICS_PATH}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    scrape().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(text) });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (error: unknown) => {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`metrics failed: ${error instanceof Error ? error.message : String(error)}\n`);
      },
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${urlHost}:${address.port}${METRICS_PATH}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections (Prometheus keeps one) would hold close() open until they idle out.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
