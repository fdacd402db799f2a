import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Tests run against TypeScript sources through the private export condition.
  ssr: { resolve: { conditions: ['@proto/source'] } },
  resolve: { conditions: ['@proto/source'] },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'testing/**/*.test.ts', 'benchmarks/test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    retry: 0,
  },
});
