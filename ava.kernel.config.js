// Tests that need a kernel with IPVS. `.ci/run` runs them inside ../shared/kernel-vm/run.
export default {
  files: ['test/kernel/**/*.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  workerThreads: false,
  timeout: '1500s',
  concurrency: 1,
};
