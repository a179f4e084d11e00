import {defineConfig} from 'vitest/config';

export default defineConfig({
	test: {
		include: ['test/**/*.test.{ts,tsx}'],
		pool: 'forks',
		// Two cores: integration tests each start their own redis-server processes.
		maxWorkers: 2,
		testTimeout: 60_000,
		hookTimeout: 60_000,
		// A failed test must not leave redis-server processes behind; each file cleans up in afterAll.
		teardownTimeout: 20_000,
	},
});
