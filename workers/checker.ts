/**
 * Checker pool entry point (piscina): one HTTP_GET / SSL_GET / TCP_CHECK / DNS_CHECK
 * attempt per task. Stateless: the scheduler on the main thread owns timing and results.
 */
import { runPoolAttempt } from '../src/check/pool-checkers.ts';
import { collectOnGrowth } from '../src/io/isolate-heap.ts';

// No stack traces in this thread: undici creates several Errors per request even when it
// succeeds (socket reset after `Connection: close`, client destroyed), and capturing and
// source-mapping their stacks was ~25% of a check's CPU. Results carry codes and messages,
// never stacks.
Error.stackTraceLimit = 0;

// A full collection whenever the heap has grown by GROWTH_BUDGET_BYTES (isolate-heap.ts, the
// default budget): V8 lets it reach twice its live data.
collectOnGrowth();

export default runPoolAttempt;

/** `pool.run(null, { name: 'threadCpuMs' })`: CPU ms this worker thread has used. */
export { threadCpuMs } from '../src/check/thread-cpu.ts';

/** `pool.run(null, { name: 'isolateHeap' })`: this worker thread's V8 heap (status `memory`). */
export { isolateHeap } from '../src/io/isolate-heap.ts';
