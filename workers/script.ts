/**
 * Script pool entry point (piscina): one MISC_CHECK attempt or one vrrp_script run per task.
 * The child's deadline and kill ladder are owned by the script runner, not by the pool (a
 * piscina abort would kill this thread and orphan the script).
 */
import { runScriptPoolTask } from '../src/check/pool.ts';

export default runScriptPoolTask;
