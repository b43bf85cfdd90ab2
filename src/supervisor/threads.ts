/**
 * Where a worker thread's entry point is, in development (TypeScript sources run through
 * tsx) and in production (compiled JavaScript under dist/).
 *
 * A Worker does not inherit the tsx loader that `node --import tsx` registered in the main
 * thread, so in development the worker starts from a one-line trampoline that registers
 * tsx first and then imports the real entry point.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

const compiled = import.meta.url.endsWith('.js');

/** URL of `workers/<name>` next to this build's sources. */
export function workerUrl(name: string): URL {
  return new URL(`../../workers/${name}.${compiled ? 'js' : 'ts'}`, import.meta.url);
}

export function startWorker(name: string, options: WorkerOptions = {}): Worker {
  const url = workerUrl(name);
  if (compiled) return new Worker(url, options);
  const code = `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(code, { ...options, eval: true });
}
