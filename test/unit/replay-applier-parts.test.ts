import {describe, expect, it} from 'vitest';
import {rebuildCommands} from '../../source/copy/logical-read';
import {BlockedClients} from '../../source/replay/blocked-clients';
import {ExpiryWatch, writtenExpiry} from '../../source/replay/expiry-watch';

const b = (text: string) => Buffer.from(text);
const text = (commands: Array<Array<Buffer | string | number>>) => commands.map((command) => command.map(String).join(' '));

describe('BlockedClients', () => {
	it('finds the clients waiting on a written key and their other keys', () => {
		const blocked = new BlockedClients();
		blocked.block('10.0.0.1:5000', {db: 0, keys: [b('queue'), b('done')], deadlineMs: null});
		blocked.block('10.0.0.1:5001', {db: 1, keys: [b('queue')], deadlineMs: 2000});
		expect(blocked.affected(0, [b('queue')]).map((watch) => watch.keys.map(String))).toEqual([['queue', 'done']]);
		expect(blocked.affected(0, [b('other')])).toEqual([]);
		expect(blocked.affected(1, [b('queue')])).toHaveLength(1);
	});

	it('forgets a client once it issues another command or its timeout passes', () => {
		const blocked = new BlockedClients();
		blocked.block('a', {db: 0, keys: [b('q')], deadlineMs: null});
		blocked.block('b', {db: 0, keys: [b('q')], deadlineMs: 1000});
		blocked.release('a');
		expect(blocked.size).toBe(1);
		blocked.expire(999);
		expect(blocked.size).toBe(1);
		blocked.expire(1001);
		expect(blocked.size).toBe(0);
		expect(blocked.affected(0, [b('q')])).toEqual([]);
	});

	it('replaces a client\'s previous watch when it blocks again', () => {
		const blocked = new BlockedClients();
		blocked.block('a', {db: 0, keys: [b('q1')], deadlineMs: null});
		blocked.block('a', {db: 0, keys: [b('q2')], deadlineMs: null});
		expect(blocked.affected(0, [b('q1')])).toEqual([]);
		expect(blocked.affected(0, [b('q2')])).toHaveLength(1);
	});
});

describe('writtenExpiry', () => {
	it.each<[Array<Buffer | string | number>, number | null]>([
		[['PEXPIREAT', 'k', '1700000000123'], 1700000000123],
		[['SET', 'k', 'v', 'PXAT', '1700000000123'], 1700000000123],
		[['set', 'k', 'pxat', 'pxat', '5'], 5],
		[['SET', 'k', 'v', 'KEEPTTL'], null],
		[['GETEX', 'k', 'PXAT', '99'], 99],
		[['RESTORE', 'k', '1700000000000', 'payload', 'REPLACE', 'ABSTTL'], 1700000000000],
		[['RESTORE', 'k', '0', 'payload', 'REPLACE'], null],
		[['INCR', 'k'], null],
	])('%j → %s', (args, expected) => {
		expect(writtenExpiry(args)).toBe(expected);
	});
});

describe('ExpiryWatch', () => {
	it('flags a write the source saw alive that the target may already have expired', () => {
		const watch = new ExpiryWatch();
		watch.record(0, b('k'), 10_000, 9_000);
		// Written at stream time 9 900 (alive on the source), applied at 10 100: the target has expired it.
		expect(watch.atRisk(0, [b('k')], 9_900, 10_100)).toBe(true);
		// Applied well before the expiry: no risk.
		expect(watch.atRisk(0, [b('k')], 9_000, 9_100)).toBe(false);
		// Written within moments of the expiry: which side saw it alive is uncertain.
		expect(watch.atRisk(0, [b('k')], 10_001, 10_100)).toBe(true);
		// Written well after the expiry on the source too: both sides see it gone.
		expect(watch.atRisk(0, [b('k')], 10_400, 10_500)).toBe(false);
		expect(watch.atRisk(1, [b('k')], 9_900, 10_100)).toBe(false);
	});

	it('says from when a write sent in time is at risk if it lands late (a paused or unreachable target)', () => {
		const watch = new ExpiryWatch();
		watch.record(0, b('k'), 10_000, 9_000);
		watch.record(0, b('j'), 12_000, 9_000);
		// Sent at 9 000, well before the expiry: at risk once it lands within the margin of it.
		expect(watch.atRisk(0, [b('k')], 9_000, 9_000)).toBe(false);
		expect(watch.riskFrom(0, [b('k')], 9_000)).toBe(9_750);
		// Several keys: the earliest expiry decides.
		expect(watch.riskFrom(0, [b('j'), b('k')], 9_000)).toBe(9_750);
		// The source had already expired k at the line: the write recreates it on both sides.
		expect(watch.riskFrom(0, [b('k')], 10_500)).toBeNull();
		expect(watch.riskFrom(0, [b('other')], 9_000)).toBeNull();
		expect(watch.riskFrom(1, [b('k')], 9_000)).toBeNull();
	});

	it('ignores far expiries and prunes passed ones', () => {
		const watch = new ExpiryWatch();
		watch.record(0, b('far'), 10 * 60 * 1000 + 5_000, 0);
		watch.record(0, b('near'), 5_000, 0);
		expect(watch.size).toBe(1);
		watch.prune(5_100);
		expect(watch.size).toBe(1);
		watch.prune(7_000);
		expect(watch.size).toBe(0);
	});
});

describe('rebuildCommands (logical copy)', () => {
	it('rebuilds each type in chunks with the absolute expiry last', () => {
		const hash = rebuildCommands(b('h'), {type: 'hash', seen: 'hash', pttl: 100, value: [b('f1'), b('v1'), b('f2'), b('v2')]}, 1234);
		expect(text(hash)).toEqual(['DEL h', 'HSET h f1 v1 f2 v2', 'PEXPIREAT h 1234']);
		const zset = rebuildCommands(b('z'), {type: 'zset', seen: 'zset', pttl: -1, value: [b('a'), b('1.5'), b('b'), b('2')]}, 0);
		expect(text(zset)).toEqual(['DEL z', 'ZADD z 1.5 a 2 b']);
		const list = rebuildCommands(b('l'), {type: 'list', seen: 'list', pttl: -1, value: Array.from({length: 1200}, (_, i) => b(String(i)))}, 0);
		expect(list.map((command) => `${String(command[0])}:${command.length - 2}`)).toEqual(['DEL:0', 'RPUSH:500', 'RPUSH:500', 'RPUSH:200']);
		expect(text(rebuildCommands(b('s'), {type: 'string', seen: 'string', pttl: -1, value: b('x')}, 0))).toEqual(['DEL s', 'SET s x']);
	});

	it('rebuilds a stream with its ids, groups, consumers and pending entries', () => {
		const full = [
			b('length'), 2, b('last-generated-id'), b('2-1'), b('max-deleted-entry-id'), b('0-0'), b('entries-added'), 2,
			b('entries'), [[b('1-1'), [b('a'), b('1')]], [b('2-1'), [b('b'), b('2')]]],
			b('groups'), [[
				b('name'), b('g'), b('last-delivered-id'), b('1-1'), b('entries-read'), 1, b('lag'), 1, b('pel-count'), 1,
				b('pending'), [[b('1-1'), b('c1'), 1700000000000, 3]],
				b('consumers'), [[b('name'), b('c1'), b('seen-time'), 1700000000000, b('pel-count'), 1, b('pending'), []]],
			]],
		];
		expect(text(rebuildCommands(b('st'), {type: 'stream', seen: 'stream', pttl: -1, value: full}, 0))).toEqual([
			'DEL st',
			'XADD st 1-1 a 1',
			'XADD st 2-1 b 2',
			'XSETID st 2-1 ENTRIESADDED 2 MAXDELETEDID 0-0',
			'XGROUP CREATE st g 1-1 ENTRIESREAD 1',
			'XGROUP CREATECONSUMER st g c1',
			'XCLAIM st g c1 0 1-1 TIME 1700000000000 RETRYCOUNT 3 FORCE JUSTID',
		]);
	});
});
