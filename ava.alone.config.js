// Tests that load the host on purpose (joint-start's busy starts): run after the main suite,
// one file at a time, so that no other test shares the load and its timing.
export default {
  files: ['test/system/vrrp/joint-start.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  workerThreads: false,
  timeout: '300s',
  concurrency: 1,
};
