/**
 * prom-client's metric classes without its index. The index also loads the Pushgateway and the
 * cluster aggregator, and with them node's http, https, tls, crypto and zlib: 59 modules and
 * 1.3 MB of heap in use in a bare node, where Registry, Counter and Gauge take 16 modules and
 * 0.6 MB. vigil pushes nothing and runs no cluster. prom-client has no `exports` map, so these
 * paths are its published files; the types are the package's own.
 */
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

const requireProm = createRequire(import.meta.url);

export const Registry = requireProm('prom-client/lib/registry') as typeof PromClient.Registry;
export const Counter = requireProm('prom-client/lib/counter') as typeof PromClient.Counter;
export const Gauge = requireProm('prom-client/lib/gauge') as typeof PromClient.Gauge;
export type Registry = PromClient.Registry;
export type Counter<T extends string = string> = PromClient.Counter<T>;
export type Gauge<T extends string = string> = PromClient.Gauge<T>;

/** prom-client's process and Node metrics, loaded on first use (they bring perf_hooks). */
export function collectDefaultMetrics(config: PromClient.DefaultMetricsCollectorConfiguration<PromClient.RegistryContentType>): void {
  (requireProm('prom-client/lib/defaultMetrics') as typeof PromClient.collectDefaultMetrics)(config);
}
