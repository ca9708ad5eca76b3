import type { Queue } from 'bullmq';
import type pg from 'pg';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * The Prometheus metrics of one process (GET /metrics on a server). One registry per dependency
 * container, so two server instances in one test process do not collide.
 */
export class AppMetrics {
  readonly registry = new Registry();

  readonly procedureDuration = new Histogram({
    name: 'clarion_trpc_procedure_duration_seconds',
    help: 'tRPC query and mutation latency by procedure and outcome',
    labelNames: ['procedure', 'type', 'outcome'] as const,
    buckets: latencyBuckets,
    registers: [this.registry],
  });

  readonly procedureErrors = new Counter({
    name: 'clarion_trpc_procedure_errors_total',
    help: 'tRPC calls that failed, by procedure and error code',
    labelNames: ['procedure', 'code'] as const,
    registers: [this.registry],
  });

  readonly eventsPublished = new Counter({
    name: 'clarion_events_published_total',
    help: 'Alert events committed and announced on Redis by this process',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly eventsDelivered = new Counter({
    name: 'clarion_events_delivered_total',
    help: 'Alert events sent to subscriptions by this process: replayed, and handed to live subscriptions by the fan-out',
    labelNames: ['mode'] as const,
    registers: [this.registry],
  });

  readonly deliveryLatency = new Histogram({
    name: 'clarion_event_delivery_latency_seconds',
    help: 'From an alert change (event time) to its fan-out on this process, once per event',
    buckets: latencyBuckets,
    registers: [this.registry],
  });

  readonly slowQueries = new Counter({
    name: 'clarion_db_slow_queries_total',
    help: 'Postgres queries slower than SLOW_QUERY_MS',
    registers: [this.registry],
  });

  readonly queryDuration = new Histogram({
    name: 'clarion_db_query_duration_seconds',
    help: 'Postgres query latency as seen by the pool clients',
    buckets: latencyBuckets,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'clarion_' });
  }

  /** A gauge read at scrape time; registering the same name twice (two apps, one registry) is a no-op. */
  gauge(name: string, help: string, read: (set: (value: number, labels?: Record<string, string>) => void) => Promise<void> | void, labelNames: string[] = []): void {
    if (this.registry.getSingleMetric(name)) return;
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        this.reset();
        await read((value, labels) => (labels ? this.set(labels, value) : this.set(value)));
      },
    });
  }

  watchPool(pool: pg.Pool): void {
    this.gauge('clarion_db_pool_connections', 'Postgres pool connections by state', (set) => {
      set(pool.totalCount, { state: 'total' });
      set(pool.idleCount, { state: 'idle' });
      set(pool.waitingCount, { state: 'waiting' });
    }, ['state']);
  }

  watchQueues(queues: Record<string, Queue>): void {
    this.gauge(
      'clarion_queue_jobs',
      'BullMQ jobs by queue and state',
      async (set) => {
        await Promise.all(
          Object.entries(queues).map(async ([name, q]) => {
            const counts = await q.getJobCounts('waiting', 'delayed', 'active', 'failed').catch(() => null);
            if (!counts) return;
            for (const [state, n] of Object.entries(counts)) set(n, { queue: name, state });
          }),
        );
      },
      ['queue', 'state'],
    );
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
