import {describe, expect, it} from 'vitest';
import {seedCommands} from '../../source/demo/dataset';
import {keyKinds, planDataset, planTotal, sessionToken} from '../../source/demo/keyspace';
import {Random} from '../../source/demo/random';

describe('planDataset', () => {
	it.each([100, 101, 2000, 20_000, 123_457, 5_000_000])('plans exactly %i keys with every kind present', (total) => {
		const plan = planDataset(total);
		expect(planTotal(plan)).toBe(total);
		for (const kind of keyKinds) expect(plan[kind]).toBeGreaterThanOrEqual(1);
	});

	it('keeps the default mix: mostly users and sessions, few streams', () => {
		expect(planDataset(20_000)).toEqual({users: 6000, sessions: 6000, counters: 3000, feeds: 2000, tags: 2000, leaderboards: 600, streams: 400});
	});

	it('refuses a dataset too small for every kind', () => {
		expect(() => planDataset(99)).toThrow('at least 100 keys');
	});
});

describe('sessionToken', () => {
	it('is stable and distinct per session number', () => {
		const tokens = new Set(Array.from({length: 10_000}, (_, n) => sessionToken(n)));
		expect(tokens.size).toBe(10_000);
		expect(sessionToken(42)).toBe(sessionToken(42));
		expect(sessionToken(42)).toMatch(/^[0-9a-f]{16}[0-9a-z]+$/);
	});
});

describe('seedCommands', () => {
	const plan = planDataset(2000);

	it('creates one key per call, under its kind', () => {
		const prefixes = {users: 'user:', sessions: 'session:', counters: 'counter:', feeds: 'feed:user:', tags: 'tags:article:', leaderboards: 'leaderboard:game:', streams: 'events:shard:'};
		for (const kind of keyKinds) {
			const commands = seedCommands(kind, 3, plan, new Random(1), Date.now());
			const keys = new Set(commands.map((command) => String(command[command[0] === 'XGROUP' ? 2 : command[0] === 'XREADGROUP' ? 7 : 1])));
			expect([...keys]).toHaveLength(1);
			expect([...keys][0]!.startsWith(prefixes[kind])).toBe(true);
		}
	});

	it('gives every session a TTL and every stream a consumer group with pending entries', () => {
		const random = new Random(5);
		for (let n = 0; n < 200; n++) {
			const [session] = seedCommands('sessions', n, plan, random, Date.now());
			expect(session?.slice(3, 4)).toEqual(['EX']);
			expect(Number(session?.[4])).toBeGreaterThanOrEqual(5);
		}
		const stream = seedCommands('streams', 0, plan, random, Date.now()).map((command) => command[0]);
		expect(stream.slice(-2)).toEqual(['XGROUP', 'XREADGROUP']);
		expect(stream.filter((name) => name === 'XADD').length).toBeGreaterThanOrEqual(20);
	});

	it('makes a few leaderboards big enough to leave the compact encoding', () => {
		const [big] = seedCommands('leaderboards', 0, plan, new Random(1), Date.now());
		expect((big!.length - 2) / 2).toBe(2000);
	});
});
