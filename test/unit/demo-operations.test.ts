import {describe, expect, it} from 'vitest';
import {newAppState, nextOperation, operationWeights, type OperationName} from '../../source/demo/app-operations';
import {planDataset} from '../../source/demo/keyspace';
import {Random} from '../../source/demo/random';

const plan = planDataset(2000);
const writes = new Set(['SET', 'HSET', 'HINCRBY', 'INCR', 'LPUSH', 'LTRIM', 'ZINCRBY', 'XADD', 'SADD', 'SREM', 'EXPIRE', 'DEL']);

function run(count: number, seed = 3) {
	const random = new Random(seed);
	const state = newAppState(plan);
	const operations = Array.from({length: count}, () => nextOperation(random, plan, state, 1_700_000_000_000));
	return {state, operations};
}

describe('nextOperation', () => {
	it('issues only the application writes, on the seeded key ranges', () => {
		const ranges: Array<[RegExp, number]> = [
			[/^user:(\d+)$/, plan.users],
			[/^counter:[a-z-]+:(\d+)$/, plan.counters],
			[/^feed:user:(\d+)$/, plan.feeds],
			[/^tags:article:(\d+)$/, plan.tags],
			[/^leaderboard:game:(\d+)$/, plan.leaderboards],
			[/^events:shard:(\d+)$/, plan.streams],
		];
		for (const {commands} of run(5000).operations) {
			for (const [name, key] of commands) {
				expect(writes.has(name)).toBe(true);
				if (String(key).startsWith('session:')) continue;
				const range = ranges.find(([pattern]) => pattern.test(String(key)));
				expect(range, String(key)).toBeDefined();
				expect(Number(range![0].exec(String(key))![1])).toBeLessThan(range![1]);
			}
		}
	});

	it('picks every operation, roughly by weight', () => {
		const counts = new Map<OperationName, number>();
		for (const {name} of run(20_000).operations) counts.set(name, (counts.get(name) ?? 0) + 1);
		const total = operationWeights.reduce((sum, [, weight]) => sum + weight, 0);
		for (const [name, weight] of operationWeights) {
			expect(counts.get(name)! / 20_000).toBeCloseTo(weight / total, 1);
		}
	});

	it('logs in with a relative TTL on a new session and trims the feed it posts to', () => {
		for (const {name, commands} of run(2000).operations) {
			if (name === 'login') {
				expect(commands[0]![0]).toBe('SET');
				expect(commands[0]![3]).toBe('EX');
			}
			if (name === 'post') expect(commands[1]![1]).toBe(commands[0]![1]);
		}
	});

	it('numbers new sessions after the seeded ones and remembers a bounded number', () => {
		const {state, operations} = run(50_000);
		const logins = operations.filter(({name}) => name === 'login').length;
		expect(state.nextSession).toBe(plan.sessions + logins);
		expect(state.sessions.length).toBeLessThanOrEqual(1000);
	});

	it('is deterministic for a seed', () => {
		expect(run(100, 9).operations).toEqual(run(100, 9).operations);
	});
});
