// Every test runs the TypeScript sources through tsx. Worker threads are off because tsx's
// loader must be registered in each test process (ava 7 + tsx).
export default {
  // joint-start loads the host on purpose: it runs alone (ava.alone.config.js)
  files: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/system/**/*.test.ts', '!test/system/vrrp/joint-start.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  workerThreads: false,
  timeout: '120s',
  concurrency: 2,
};
