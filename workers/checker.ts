/**
 * Checker pool entry point (piscina): one HTTP_GET / SSL_GET / TCP_CHECK / DNS_CHECK
 * attempt per task. Stateless: the scheduler on the main thread owns timing and results.
 */
import { runAttempt } from '../src/check/task.ts';

export default runAttempt;
