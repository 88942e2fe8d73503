import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ValidationError, describe } from '../core/errors.js';
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

/**
 * Why the server could not listen, naming the option to change: the port taken by another
 * process (EADDRINUSE) or below 1024 without the privilege (EACCES), the host not an address of
 * this machine (EADDRNOTAVAIL: ::1 with IPv6 off, a 127.x.x.x not configured). The code and the
 * system's message stay in the text.
 */
function listenError(error: NodeJS.ErrnoException, port: number, host: string): Error {
  const at = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return new ValidationError('options.port', `${port} is in use on ${host} (EADDRINUSE): pass another port, or 0 for any free one`);
    case 'EACCES':
      return new ValidationError(
        'options.port',
        `${port} needs privileges this process lacks to listen on ${at} (EACCES): pass a port from 1024, or 0 for any free one`,
      );
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAFNOSUPPORT':
      return new ValidationError('options.host', `${JSON.stringify(host)} is not an address of this machine to listen on (${error.code}): pass 127.0.0.1`);
    default:
      return new Error(`metrics server: cannot listen on ${at}: ${error.message}`, { cause: error });
  }
}

/** Starts the endpoint; `render` is called per scrape, and scrapes that overlap share one render. */
export async function startMetricsServer(options: MetricsServerOptions, render: () => Promise<string>): Promise<MetricsServer> {
  checkOptions(options, 'options', ['port', 'host']);
  // Only an absent field takes its default: null is refused below like any other wrong type.
  const port = options.port === undefined ? 0 : options.port;
  const host = options.host === undefined ? '127.0.0.1' : options.host;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new ValidationError('options.port', `an integer from 0 to 65535, got ${describe(port)}`);
  if (typeof host !== 'string' || !isLoopbackHost(host)) {
    throw new ValidationError('options.host', `a loopback address (127.0.0.1, another 127.x.x.x, ::1 or localhost), got ${describe(host)}`);
  }
  if (typeof render !== 'function') throw new ValidationError('render', `a function returning the metrics text, got ${describe(render)}`);

  let rendering: Promise<string> | undefined;
  const scrape = (): Promise<string> => {
    // Promise.resolve().then: a render that throws at once is a failed scrape (500), not an uncaught exception.
    rendering ??= Promise.resolve()
      .then(render)
      .finally(() => (rendering = undefined));
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
    const refused = (error: NodeJS.ErrnoException): void => reject(listenError(error, port, host));
    server.once('error', refused);
    server.listen(port, host, () => {
      server.off('error', refused);
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
