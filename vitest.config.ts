import { defineConfig } from 'vitest/config';

// Two tiers by file name: `*.unit.test.ts` are pure (data in, data out, milliseconds);
// every other `*.test.ts` may start nginx, dnsmasq, fauxqs, Prometheus or the CLI as
// a process. `vitest run --project unit` runs the fast tier alone; no --project runs both.
const unitTests = 'test/**/*.unit.test.ts';

export default defineConfig({
  test: {
    // Integration and end-to-end tests start real nginx, dnsmasq and TLS servers;
    // two cores cannot run many of those at once without timing noise.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'unit', include: [unitTests] } },
      { extends: true, test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: [unitTests] } },
    ],
  },
});
