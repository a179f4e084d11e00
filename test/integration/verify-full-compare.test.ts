import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import Redis from 'ioredis';
import {startStandalone, type TestServer} from '../helpers/redis';
import {fullCompare, type CompareSides, type FullCompareOptions} from '../../source/verify/full-compare';
import type {DiscrepancyRecord} from '../../source/engine/events';
import {KeyferryError} from '../../source/errors';

const allBytes = Buffer.from(Array.from({length: 256}, (_, i) => i));
const big = 100_000;
const range = (from: number, to: number) => Array.from({length: to - from}, (_, i) => from + i);

/**
 * The same data on both sides. The target gets hash fields and set members in reverse order and
 * dense HyperLogLogs, so equal values are not always equal bytes.
 */
async function build(conn: Redis, side: 'source' | 'target'): Promise<void> {
	const order = <T>(items: T[]) => (side === 'target' ? [...items].reverse() : items);
	for (const db of [0, 1, 5]) {
		await conn.select(db);
		const p = conn.pipeline();
		for (const i of range(0, 300)) p.set(`s:${db}:${i}`, `value ${i} \x00\xff`);
		for (const i of range(0, 100)) p.set(`ttl:${db}:${i}`, `v${i}`, 'EX', 3600);
		for (const i of range(0, 100)) {
			p.hset(`h:${i}`, Object.fromEntries(order(range(0, 5).map((f) => [`f${f}`, `v${i}.${f}`]))));
			p.hset(Buffer.concat([Buffer.from('hb:'), Buffer.from([i])]), Buffer.from([i, 0, 255]), allBytes);
		}
		for (const i of range(0, 50)) {
			p.rpush(`l:${i}`, ...range(0, i + 1).map((n) => `e${n}`), allBytes);
			p.sadd(`set:${i}`, ...order(range(0, i + 1).map((n) => `m${n}`)));
			p.zadd(`z:${i}`, ...range(0, i + 1).flatMap((n) => [n / 3, `m${n}`]), '+inf', 'top', '-inf', allBytes);
		}
		p.set(`int:${db}`, '12345');
		await p.exec();
		for (const i of range(0, 10)) {
			await conn.xadd(`st:${i}`, '1-0', 'a', '1', 'b', allBytes);
			await conn.xadd(`st:${i}`, '2-5', 'c', String(i));
			await conn.xgroup('CREATE', `st:${i}`, 'g', '0');
			await conn.xgroup('CREATE', `st:${i}`, 'late', '$');
			await conn.xreadgroup('GROUP', 'g', 'alice', 'COUNT', 1, 'STREAMS', `st:${i}`, '>');
		}
		if (side === 'target') await conn.config('SET', 'hll-sparse-max-bytes', '0');
		for (const i of range(0, 5)) await conn.pfadd(`hll:${i}`, ...order(range(0, 50 * (i + 1)).map(String)));
		if (side === 'target') await conn.config('SET', 'hll-sparse-max-bytes', '3000');
	}
	await conn.select(0);
	// Every single-byte key, and the 256-byte key, with binary values.
	const p = conn.pipeline();
	for (const byte of range(0, 256)) p.set(Buffer.from([byte]), Buffer.from([255 - byte, byte]));
	p.set(allBytes, allBytes);
	await p.exec();
	// Big keys, compared page by page.
	const bigKeys = conn.pipeline();
	for (const page of range(0, big / 1000)) bigKeys.rpush('big:list', ...range(page * 1000, page * 1000 + 1000).map(String));
	for (const page of order(range(0, big / 1000))) {
		bigKeys.hset('big:hash', Object.fromEntries(range(page * 1000, page * 1000 + 1000).map((i) => [`f${i}`, `v${i}`])));
		bigKeys.sadd('big:set', ...range(page * 1000, page * 1000 + 1000).map((i) => `m${i}`));
		bigKeys.zadd('big:zset', ...range(page * 1000, page * 1000 + 1000).flatMap((i) => [i % 977, `m${i}`]));
	}
	await bigKeys.exec();
	const bigString = Buffer.alloc(5 * 1024 * 1024);
	for (let i = 0; i < bigString.length; i++) bigString[i] = (i * 7) & 0xff;
	await conn.set('big:string', bigString);
	// db 2: values too large for one snapshot call, and aggregates just over the inline limit.
	await conn.select(2);
	const medium = conn.pipeline();
	for (const i of range(0, 20)) medium.set(`medium:${i}`, Buffer.alloc(600 * 1024, i));
	medium.hset('wide', Object.fromEntries(order(range(0, 1500)).map((i) => [`f${i}`, String(i)])));
	medium.rpush('long', ...range(0, 2500).map(String));
	await medium.exec();
	await conn.select(0);
}

/** A big stream with a consumer group, copied to the target with DUMP/RESTORE. */
async function copyBigStream(source: Redis, target: Redis): Promise<void> {
	const stream = source.pipeline();
	for (const i of range(0, big)) stream.xadd('big:stream', `${i + 1}-1`, 'n', String(i), 'bin', allBytes);
	await stream.exec();
	await source.xgroup('CREATE', 'big:stream', 'readers', '500-0');
	await target.restore('big:stream', 0, (await source.dumpBuffer('big:stream'))!);
}

describe('fullCompare', () => {
	let source: TestServer;
	let target: TestServer;
	const conns: Redis[] = [];
	/** Keys on the source once built, before short-lived keys are added. */
	let baseline = 0;

	function sidesAs(username?: string, password?: string): CompareSides {
		const open = (server: TestServer) => async (db: number) => {
			const conn = new Redis({host: '127.0.0.1', port: server.port, db, username, password, maxRetriesPerRequest: 1});
			conns.push(conn);
			return conn;
		};
		return {sourceFor: open(source), targetFor: open(target)};
	}

	async function run(sides: CompareSides, extra: Partial<FullCompareOptions> = {}) {
		const records: DiscrepancyRecord[] = [];
		const result = await fullCompare(sides, {ttlToleranceMs: 1000, onDiscrepancy: (record) => records.push(record), ...extra});
		records.sort((a, b) => a.db - b.db || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
		return {result, records};
	}

	beforeAll(async () => {
		[source, target] = await Promise.all([startStandalone(), startStandalone()]);
		const [src, dst] = [source.client(), target.client()];
		await Promise.all([build(src, 'source'), build(dst, 'target')]);
		await copyBigStream(src, dst);
		baseline = await totalKeys();
		for (const server of [source, target]) {
			await server.client().call('ACL', 'SETUSER', 'noscript', 'on', '>pw', '~*', '&*', '+@all', '-@scripting');
		}
	}, 120_000);
	afterAll(async () => {
		for (const conn of conns) conn.disconnect();
		await Promise.all([source?.stop(), target?.stop()]);
	});

	async function totalKeys(): Promise<number> {
		const conn = source.client();
		let total = 0;
		for (const db of [0, 1, 2, 5]) {
			await conn.select(db);
			total += await conn.dbsize();
		}
		return total;
	}

	// The tests below run in order: first the identical datasets, then planted differences.

	it('finds nothing on identical datasets, while short-lived keys expire during the run', async () => {
		const [src, dst] = [source.client(), target.client()];
		for (const i of range(0, 300)) {
			const ttl = 20 + (i % 30) * 15;
			await Promise.all([src.set(`brief:${i}`, 'v', 'PX', ttl), dst.set(`brief:${i}`, 'v', 'PX', ttl)]);
		}
		const progress: number[] = [];
		const {result, records} = await run(sidesAs(), {onProgress: (checked) => progress.push(checked)});
		expect(records).toEqual([]);
		expect(result.discrepancies).toBe(0);
		expect(result.checked).toBeGreaterThanOrEqual(baseline);
		expect(progress.length).toBeGreaterThan(3);
		expect(progress.every((checked, i) => i === 0 || checked >= progress[i - 1]!)).toBe(true);
		expect(progress.at(-1)).toBe(result.checked);
	});

	it('finds nothing key by key when scripting is refused', async () => {
		await source.client().config('RESETSTAT');
		const {result, records} = await run(sidesAs('noscript', 'pw'));
		expect(records).toEqual([]);
		expect(result.checked).toBeGreaterThanOrEqual(baseline);
		expect(await source.client().info('errorstats')).toMatch(/errorstat_NOPERM:count=\d+/);
	});

	describe('with planted differences', () => {
		const expected: {db: number; key: string; kind: DiscrepancyRecord['kind']; diff?: string; match?: RegExp}[] = [
			{db: 0, key: '\\x01', kind: 'value', diff: 'string length 2 ≠ 7'},
			{db: 0, key: 'big:hash', kind: 'value', diff: 'field "f99999": "v99999" ≠ "changed"'},
			{db: 0, key: 'big:stream', kind: 'value', diff: 'group "readers" last-delivered-id 500-0 ≠ 600-0'},
			{db: 0, key: 'big:string', kind: 'value', match: /^string differs at byte 3000000: /},
			{db: 0, key: 'h:3', kind: 'value', diff: 'field "f2": "v3.2" ≠ "other"'},
			{db: 0, key: 'hll:1', kind: 'value', match: /^hyperloglog count \d+ ≠ \d+$/},
			{db: 0, key: 'l:4', kind: 'value', diff: 'list length 6 ≠ 7'},
			{db: 0, key: 's:0:1', kind: 'missing', diff: 'string missing on target'},
			{db: 0, key: 'set:7', kind: 'value', diff: 'set size 8 ≠ 9'},
			{db: 0, key: 'st:1', kind: 'value', diff: 'group "g" last-delivered-id 1-0 ≠ 2-5'},
			{db: 0, key: 'st:2', kind: 'value', diff: 'stream entry 2-5: "c" "2" ≠ "c" "x"'},
			{db: 0, key: 'z:2', kind: 'value', diff: 'zset size 5 ≠ 6'},
			// Redis 7.2 prints the shortest form of a double, 7.0 seventeen digits.
			{db: 0, key: 'z:3', kind: 'value', match: /^member "m1": score 0\.3333333333333333\d? ≠ 7$/},
			{db: 1, key: 'extra:1', kind: 'extra', diff: 'string exists only on target'},
			{db: 1, key: 's:1:4', kind: 'type', diff: 'type string ≠ hash'},
			{db: 2, key: 'medium:3', kind: 'value', match: /^string differs at byte 1000: "(\\x03){32}"… ≠ "!(\\x03){31}"…$/},
			{db: 2, key: 'wide', kind: 'value', diff: 'field "f1499": "1499" ≠ "x"'},
			{db: 5, key: 'st:4', kind: 'ttl', match: /^ttl \d+ms ≠ none$/},
			{db: 5, key: 'ttl:5:2', kind: 'ttl', match: /^ttl \d+ms ≠ \d+ms$/},
			{db: 5, key: 'ttl:5:3', kind: 'ttl', match: /^ttl \d+ms ≠ none$/},
			{db: 5, key: 'zz:only-source', kind: 'missing', diff: 'zset missing on target'},
			{db: 7, key: 'lonely', kind: 'extra', diff: 'hash exists only on target'},
		];

		beforeAll(async () => {
			const [src, dst] = [source.client(), target.client()];
			await dst.set(Buffer.from([1]), 'changed');
			await dst.hset('big:hash', 'f99999', 'changed');
			await dst.xgroup('SETID', 'big:stream', 'readers', '600-0');
			await dst.setrange('big:string', 3_000_000, 'X');
			await dst.hset('h:3', 'f2', 'other');
			await dst.pfadd('hll:1', ...range(0, 50).map((i) => `more ${i}`));
			await dst.rpush('l:4', 'extra');
			await dst.del('s:0:1');
			await dst.sadd('set:7', 'extra');
			await dst.zadd('z:2', 100, 'extra');
			await dst.zadd('z:3', 7, 'm1');
			await dst.xgroup('SETID', 'st:1', 'g', '2-5');
			await dst.del('st:2');
			await dst.xadd('st:2', '1-0', 'a', '1', 'b', allBytes);
			await dst.xadd('st:2', '2-5', 'c', 'x');
			await dst.xgroup('CREATE', 'st:2', 'g', '0');
			await dst.xgroup('CREATE', 'st:2', 'late', '$');
			await dst.xreadgroup('GROUP', 'g', 'alice', 'COUNT', 1, 'STREAMS', 'st:2', '>');
			await Promise.all([src.select(1), dst.select(1)]);
			await dst.set('extra:1', 'x');
			await dst.del('s:1:4');
			await dst.hset('s:1:4', 'f', 'v');
			await Promise.all([src.select(2), dst.select(2)]);
			await dst.setrange('medium:3', 1000, '!');
			await dst.hset('wide', 'f1499', 'x');
			await Promise.all([src.select(5), dst.select(5)]);
			await src.expire('st:4', 3600);
			await dst.expire('ttl:5:2', 7200);
			await dst.persist('ttl:5:3');
			await src.zadd('zz:only-source', 1, 'a');
			await dst.select(7);
			await dst.hset('lonely', 'f', 'v');
			await Promise.all([src.select(0), dst.select(0)]);
		});

		const shape = (records: {db: number; key: string; kind: string}[]) => records.map(({db, key, kind}) => ({db, key, kind}));

		it('reports each planted difference once, with its kind and diff', async () => {
			const {result, records} = await run(sidesAs());
			expect(shape(records)).toEqual(shape(expected));
			for (const want of expected) {
				const diff = records.find((record) => record.db === want.db && record.key === want.key)?.diff;
				if (want.diff !== undefined) expect(diff).toBe(want.diff);
				if (want.match !== undefined) expect(diff).toMatch(want.match);
			}
			expect(result.discrepancies).toBe(expected.length);
		});

		it('reports the same key by key when scripting is refused', async () => {
			// Remaining TTLs move on between the runs.
			const timeless = (records: DiscrepancyRecord[]) => records.map((record) => ({...record, diff: record.diff.replace(/\d+ms/g, 'Nms')}));
			const {records} = await run(sidesAs('noscript', 'pw'));
			expect(timeless(records)).toEqual(timeless((await run(sidesAs())).records));
		});

		it('compares only the dbs asked for', async () => {
			const {records} = await run(sidesAs(), {dbs: [5]});
			expect(shape(records)).toEqual(shape(expected.filter((want) => want.db === 5)));
		});

		it('stops when aborted', async () => {
			const controller = new AbortController();
			const pending = run(sidesAs(), {signal: controller.signal, onProgress: () => controller.abort()});
			await expect(pending).rejects.toBeInstanceOf(KeyferryError);
			await expect(pending).rejects.toMatchObject({code: 'aborted'});
		});
	});
});
