import http from 'node:http';
import type { Registry } from 'prom-client';

/** The worker has no API of its own: a small HTTP server gives Prometheus its /metrics. */
export function serveMetrics(registry: Registry, port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Only /metrics is served here"}');
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (err: Error) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `metrics failed: ${err.message}` })),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve(server));
  });
}
