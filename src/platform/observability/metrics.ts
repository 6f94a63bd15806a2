import type pg from 'pg';
import client from 'prom-client';

export interface Metrics {
  registry: client.Registry;
  httpDuration: client.Histogram<'method' | 'route' | 'status_code'>;
}

export function createMetrics(): Metrics {
  // A registry per app instance: tests run several apps in one process.
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const httpDuration = new client.Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route template and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return { registry, httpDuration };
}

/** Gauges read from the pool at scrape time. */
export function registerPoolMetrics(registry: client.Registry, pool: pg.Pool): void {
  const gauges: Array<[string, string, () => number]> = [
    ['db_pool_connections_total', 'Connections open in the database pool', () => pool.totalCount],
    ['db_pool_connections_idle', 'Idle connections in the database pool', () => pool.idleCount],
    ['db_pool_requests_waiting', 'Queries waiting for a pool connection', () => pool.waitingCount],
  ];
  for (const [name, help, read] of gauges) {
    new client.Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  }
}
