import type { EntityManager } from '@mikro-orm/postgresql';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { inboxStats } from '../inbox/webhook-inbox';

/**
 * Prometheus metrics. Each process (API, worker) builds its own registry with the metrics it produces; the
 * inbox gauges are read from PostgreSQL at scrape time, so every replica reports the same shared queue.
 */
export function createRegistry(process: 'api' | 'worker'): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ process });
  collectDefaultMetrics({ register: registry, prefix: 'flowbot_' });
  return registry;
}

export function httpMetrics(registry: Registry) {
  return {
    requests: new Counter({
      name: 'flowbot_http_requests_total',
      help: 'API requests by route template, method and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'flowbot_http_request_duration_seconds',
      help: 'API request latency by route template and method',
      labelNames: ['method', 'route'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}

export function inboxMetrics(registry: Registry, em: () => EntityManager): void {
  let last: Promise<{ depth: number; oldestAgeSec: number }> | undefined;
  // One query per scrape for both gauges.
  const read = () => (last ??= inboxStats(em()).finally(() => setTimeout(() => (last = undefined), 0)));
  new Gauge({
    name: 'flowbot_webhook_inbox_depth',
    help: 'Webhook events received and not yet handled',
    registers: [registry],
    async collect() {
      this.set((await read()).depth);
    },
  });
  new Gauge({
    name: 'flowbot_webhook_inbox_oldest_age_seconds',
    help: 'Age of the oldest webhook event not yet handled',
    registers: [registry],
    async collect() {
      this.set((await read()).oldestAgeSec);
    },
  });
}

/** Sends by line and outcome, counted where they happen: in the worker's send activity. */
export function sendMetrics(registry: Registry) {
  return new Counter({
    name: 'flowbot_channel_sends_total',
    help: 'Channel send attempts by line and outcome (sent, rate_limited, transient, window_closed, definitive, credentials, account, duplicate)',
    labelNames: ['channel', 'line', 'outcome'] as const,
    registers: [registry],
  });
}

export type SendCounter = ReturnType<typeof sendMetrics>;
