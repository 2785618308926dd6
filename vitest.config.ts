import { defineConfig } from 'vitest/config';

// Tests import the built package from dist/ (built by `pretest`), the same code worker threads load.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
