import {connect, type Socket} from 'node:net';
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest';
import type Redis from 'ioredis';
import type {ChainableCommander} from 'ioredis';
import {startStandalone, type TestServer} from '../helpers/redis';
import {compareKey, type CompareOptions} from '../../source/verify/compare-key';
import {printableKey} from '../../source/verify/discrepancy';

const options: CompareOptions = {ttlToleranceMs: 1000, chunk: 100};
const allBytes = Buffer.from(Array.from({length: 256}, (_, i) => i));

describe('compareKey', () => {
	let source: TestServer;
	let target: TestServer;
	let src: Redis;
	let dst: Redis;

	beforeAll(async () => {
		[source, target] = await Promise.all([startStandalone(), startStandalone()]);
		src = source.client();
		dst = target.client();
	});
	afterAll(async () => {
		await Promise.all([source?.stop(), target?.stop()]);
	});
	beforeEach(async () => {
		await Promise.all([src.flushall(), dst.flushall()]);
	});

	const onBoth = (write: (conn: Redis) => Promise<unknown>) => Promise.all([write(src), write(dst)]);
	const compare = (key: string | Buffer, chunkOptions: CompareOptions = options) =>
		compareKey(src, dst, Buffer.isBuffer(key) ? key : Buffer.from(key), 0, chunkOptions);

	describe('existence and type', () => {
		it('reports nothing for a key absent on both sides', async () => {
			expect(await compare('nothing')).toBeNull();
		});

		it('reports a key missing on the target', async () => {
			await src.hset('h', 'f', 'v');
			expect(await compare('h')).toEqual({key: 'h', db: 0, kind: 'missing', diff: 'hash missing on target'});
		});

		it('reports a key that exists only on the target', async () => {
			await dst.set('s', 'v');
			expect(await compare('s')).toEqual({key: 's', db: 0, kind: 'extra', diff: 'string exists only on target'});
		});

		it('reports a changed type', async () => {
			await src.hset('k', 'f', 'v');
			await dst.set('k', 'v');
			expect(await compare('k')).toMatchObject({kind: 'type', diff: 'type hash ≠ string'});
		});

		it('passes the db through and prints binary keys like redis-cli', async () => {
			const key = Buffer.from([0x6b, 0x00, 0xff, 0x0a, 0x22]);
			await src.set(key, 'v');
			expect(await compareKey(src, dst, key, 7, options)).toEqual({
				key: 'k\\x00\\xff\\n\\"',
				db: 7,
				kind: 'missing',
				diff: 'string missing on target',
			});
		});
	});

	describe('strings', () => {
		it('accepts equal binary strings under binary keys', async () => {
			await onBoth((conn) => conn.set(allBytes, allBytes));
			expect(await compare(allBytes)).toBeNull();
		});

		it('reports the first differing byte', async () => {
			await src.set('s', 'hello world');
			await dst.set('s', 'hello wOrld');
			expect(await compare('s')).toMatchObject({kind: 'value', diff: 'string differs at byte 7: "orld" ≠ "Orld"'});
		});

		it('reports different lengths', async () => {
			await src.set('s', 'abc');
			await dst.set('s', 'abcd');
			expect(await compare('s')).toMatchObject({kind: 'value', diff: 'string length 3 ≠ 4'});
		});

		it('never mistakes a UTF-8-invalid difference for equality', async () => {
			await src.set('s', Buffer.from([0xc3, 0x28]));
			await dst.set('s', Buffer.from([0xc3, 0x29]));
			expect(await compare('s')).toMatchObject({kind: 'value', diff: 'string differs at byte 1: "(" ≠ ")"'});
		});

		it('compares empty strings', async () => {
			await onBoth((conn) => conn.set('e', ''));
			expect(await compare('e')).toBeNull();
		});
	});

	describe('hyperloglog', () => {
		it('compares counts, not bytes', async () => {
			await src.pfadd('hll', 'a', 'b', 'c');
			await dst.config('SET', 'hll-sparse-max-bytes', '0');
			try {
				await dst.pfadd('hll', 'c', 'b', 'a');
			} finally {
				await dst.config('SET', 'hll-sparse-max-bytes', '3000');
			}
			const [a, b] = await Promise.all([src.getBuffer('hll'), dst.getBuffer('hll')]);
			expect(a!.equals(b!)).toBe(false);
			expect(await compare('hll')).toBeNull();
		});

		it('reports different counts', async () => {
			await src.pfadd('hll', 'a', 'b', 'c');
			await dst.pfadd('hll', 'a', 'b', 'c', 'd');
			expect(await compare('hll')).toMatchObject({kind: 'value', diff: 'hyperloglog count 3 ≠ 4'});
		});

		it('falls back to bytes for a string that only looks like one', async () => {
			await src.set('fake', 'HYLL not really');
			await dst.set('fake', 'HYLL not realli');
			expect(await compare('fake')).toMatchObject({kind: 'value', diff: 'string differs at byte 14: "y" ≠ "i"'});
		});
	});

	describe('hashes', () => {
		it('accepts equal hashes written in a different order', async () => {
			const fields = Array.from({length: 300}, (_, i) => [`f${i}`, `v${i}`] as const);
			await src.hset('h', Object.fromEntries(fields));
			await dst.hset('h', Object.fromEntries([...fields].reverse()));
			expect(await compare('h')).toBeNull();
		});

		it('reports a changed field', async () => {
			await src.hset('user', 'name', 'bob', 'age', '3');
			await dst.hset('user', 'name', 'alice', 'age', '3');
			expect(await compare('user')).toMatchObject({kind: 'value', diff: 'field "name": "bob" ≠ "alice"'});
		});

		it('reports a renamed field', async () => {
			await src.hset('h', 'a', '1', 'b', '2');
			await dst.hset('h', 'a', '1', 'c', '2');
			expect(await compare('h')).toMatchObject({kind: 'value', diff: 'field "b" missing on target'});
		});

		it('reports an extra field', async () => {
			await src.hset('h', 'a', '1');
			await dst.hset('h', 'a', '1', 'b', '2');
			expect(await compare('h')).toMatchObject({kind: 'value', diff: 'hash length 1 ≠ 2'});
		});

		it('compares binary fields and values', async () => {
			await onBoth((conn) => conn.hset(allBytes, allBytes, allBytes, 'x', allBytes));
			expect(await compare(allBytes)).toBeNull();
			await dst.hset(allBytes, allBytes, Buffer.concat([allBytes.subarray(0, 255), Buffer.from([0])]));
			expect(await compare(allBytes)).toMatchObject({kind: 'value'});
		});
	});

	describe('lists', () => {
		it('accepts equal lists', async () => {
			await onBoth((conn) => conn.rpush('l', 'a', 'b', allBytes));
			expect(await compare('l')).toBeNull();
		});

		it('reports an extra element', async () => {
			await src.rpush('l', 'a', 'b', 'c');
			await dst.rpush('l', 'a', 'b', 'c', 'd');
			expect(await compare('l')).toMatchObject({kind: 'value', diff: 'list length 3 ≠ 4'});
		});

		it('reports a different order', async () => {
			await src.rpush('l', 'a', 'b');
			await dst.rpush('l', 'b', 'a');
			expect(await compare('l')).toMatchObject({kind: 'value', diff: 'list index 0: "a" ≠ "b"'});
		});
	});

	describe('sets', () => {
		it('accepts equal sets written in a different order', async () => {
			const members = Array.from({length: 500}, (_, i) => `m${i}`);
			await src.sadd('s', ...members);
			await dst.sadd('s', ...[...members].reverse());
			expect(await compare('s')).toBeNull();
		});

		it('reports an extra member', async () => {
			await src.sadd('s', 'a', 'b');
			await dst.sadd('s', 'a', 'b', 'c');
			expect(await compare('s')).toMatchObject({kind: 'value', diff: 'set size 2 ≠ 3'});
		});

		it('reports a different member', async () => {
			await src.sadd('s', 'a', 'b');
			await dst.sadd('s', 'a', 'c');
			expect(await compare('s')).toMatchObject({kind: 'value', diff: 'member "b" missing on target'});
		});
	});

	describe('sorted sets', () => {
		it('accepts equal sorted sets', async () => {
			await onBoth((conn) => conn.zadd('z', 1, 'a', 2.5, 'b', '-inf', allBytes));
			expect(await compare('z')).toBeNull();
		});

		it('reports a changed score', async () => {
			await src.zadd('z', 1, 'a', 2, 'b');
			await dst.zadd('z', 1, 'a', 3, 'b');
			expect(await compare('z')).toMatchObject({kind: 'value', diff: 'member "b": score 2 ≠ 3'});
		});

		it('reports an extra member', async () => {
			await src.zadd('z', 1, 'a');
			await dst.zadd('z', 1, 'a', 2, 'b');
			expect(await compare('z')).toMatchObject({kind: 'value', diff: 'zset size 1 ≠ 2'});
		});

		it('reports a different member', async () => {
			await src.zadd('z', 1, 'a', 2, 'b');
			await dst.zadd('z', 1, 'a', 2, 'c');
			expect(await compare('z')).toMatchObject({kind: 'value', diff: 'member "b" missing on target'});
		});
	});

	describe('streams', () => {
		const build = async (conn: Redis) => {
			await conn.xadd('st', '1-0', 'a', '1');
			await conn.xadd('st', '2-0', 'b', allBytes);
			await conn.xadd('st', '3-0', 'c', '3');
			await conn.xgroup('CREATE', 'st', 'g1', '0');
			await conn.xgroup('CREATE', 'st', 'g2', '$');
			await conn.xreadgroup('GROUP', 'g1', 'alice', 'COUNT', 1, 'STREAMS', 'st', '>');
		};

		it('accepts equal streams with groups', async () => {
			await onBoth(build);
			expect(await compare('st')).toBeNull();
		});

		it('reports a changed entry', async () => {
			await src.xadd('st', '1-0', 'a', '1');
			await dst.xadd('st', '1-0', 'a', '2');
			expect(await compare('st')).toMatchObject({kind: 'value', diff: 'stream entry 1-0: "a" "1" ≠ "a" "2"'});
		});

		it('reports a different entry id', async () => {
			await src.xadd('st', '1-0', 'a', '1');
			await dst.xadd('st', '1-1', 'a', '1');
			await onBoth((conn) => conn.xadd('st', '5-0', 'b', '2'));
			expect(await compare('st')).toMatchObject({kind: 'value', diff: 'stream entry id 1-0 ≠ 1-1'});
		});

		it('reports a different length', async () => {
			await onBoth(build);
			await dst.xadd('st', '4-0', 'd', '4');
			expect(await compare('st')).toMatchObject({kind: 'value', diff: 'stream length 3 ≠ 4'});
		});

		it('reports a changed last-delivered-id', async () => {
			await onBoth(build);
			await dst.xgroup('SETID', 'st', 'g2', '2-0');
			expect(await compare('st')).toMatchObject({kind: 'value', diff: 'group "g2" last-delivered-id 3-0 ≠ 2-0'});
		});

		it('reports a different pending count', async () => {
			await onBoth(build);
			await dst.xreadgroup('GROUP', 'g1', 'alice', 'COUNT', 1, 'STREAMS', 'st', '>');
			expect(await compare('st')).toMatchObject({kind: 'value', diff: 'group "g1" last-delivered-id 1-0 ≠ 2-0'});
			await src.xgroup('SETID', 'st', 'g1', '2-0');
			expect(await compare('st')).toMatchObject({kind: 'value', diff: 'group "g1" pending 1 ≠ 2'});
		});

		it('reports missing and extra groups', async () => {
			await onBoth(build);
			await dst.xgroup('DESTROY', 'st', 'g2');
			expect(await compare('st')).toMatchObject({kind: 'value', diff: 'group "g2" missing on target'});
			await src.xgroup('DESTROY', 'st', 'g2');
			await dst.xgroup('CREATE', 'st', 'g3', '0');
			expect(await compare('st')).toMatchObject({kind: 'value', diff: 'group "g3" exists only on target'});
		});

		it('reports a different last-generated-id', async () => {
			await onBoth((conn) => conn.xadd('st', '1-0', 'a', '1'));
			await dst.xsetid('st', '9-0');
			expect(await compare('st')).toMatchObject({kind: 'value', diff: 'stream last-generated-id 1-0 ≠ 9-0'});
		});
	});

	describe('ttl', () => {
		it('accepts expiries within the tolerance', async () => {
			await onBoth((conn) => conn.set('k', 'v'));
			await src.pexpire('k', 100_000);
			await dst.pexpire('k', 100_600);
			expect(await compare('k')).toBeNull();
		});

		it('reports a changed ttl', async () => {
			await onBoth((conn) => conn.set('k', 'v'));
			await src.pexpire('k', 100_000);
			await dst.pexpire('k', 50_000);
			const record = await compare('k');
			expect(record?.kind).toBe('ttl');
			expect(record?.diff).toMatch(/^ttl \d+ms ≠ \d+ms$/);
		});

		it('reports a ttl on one side only', async () => {
			await onBoth((conn) => conn.set('k', 'v'));
			await src.pexpire('k', 100_000);
			expect((await compare('k'))?.diff).toMatch(/^ttl \d+ms ≠ none$/);
			await src.persist('k');
			await dst.pexpire('k', 100_000);
			expect((await compare('k'))?.diff).toMatch(/^ttl none ≠ \d+ms$/);
		});

		it('reports the value before the ttl', async () => {
			await src.set('k', 'a', 'PX', 100_000);
			await dst.set('k', 'b');
			expect(await compare('k')).toMatchObject({kind: 'value'});
		});

		it('does not report a copy that expired a moment before the other', async () => {
			await src.set('k', 'v', 'PX', 800);
			expect(await compare('k')).toBeNull();
			await dst.set('e', 'v', 'PX', 800);
			expect(await compare('e')).toBeNull();
		});

		it('still reports a volatile key missing well before its expiry', async () => {
			await src.set('k', 'v', 'PX', 60_000);
			expect(await compare('k')).toMatchObject({kind: 'missing'});
		});

		it('does not report a big key that expires while it is being compared', async () => {
			const elements = Array.from({length: 20_000}, (_, i) => `e${i}`);
			for (let round = 0; round < 4; round++) {
				await onBoth(async (conn) => {
					await conn.del('l');
					await conn.rpush('l', ...elements);
					await conn.pexpire('l', 5 + round * 15);
				});
				expect(await compare('l', {ttlToleranceMs: 1000, chunk: 50})).toBeNull();
			}
		});

		it('reports a lasting key whose target copy expires while it is being compared', async () => {
			const elements = Array.from({length: 20_000}, (_, i) => `e${i}`);
			await onBoth((conn) => conn.rpush('l', ...elements));
			// 2000 windows a side take far longer than 10 ms: the copy expires before or during the compare.
			await dst.pexpire('l', 10);
			expect(await compare('l', {ttlToleranceMs: 1000, chunk: 10})).toMatchObject({kind: 'missing', diff: 'list missing on target'});
		});
	});

	describe('big keys, page by page', () => {
		const count = 120_000;
		const chunked: CompareOptions = {ttlToleranceMs: 1000, chunk: 1000};

		async function fill(conn: Redis, write: (pipeline: ChainableCommander, from: number, to: number) => unknown, reverse = false): Promise<void> {
			const pipeline = conn.pipeline();
			for (let page = 0; page < count / 1000; page++) {
				const from = (reverse ? count / 1000 - 1 - page : page) * 1000;
				write(pipeline, from, from + 1000);
			}
			await pipeline.exec();
		}
		const range = (from: number, to: number) => Array.from({length: to - from}, (_, i) => from + i);

		async function commandCalls(): Promise<Record<string, number>> {
			const stats = await src.info('commandstats');
			const calls: Record<string, number> = {};
			for (const match of stats.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) calls[match[1]!] = Number(match[2]);
			return calls;
		}

		it('compares a 120k-field hash in pages and finds a change at the end', async () => {
			const writeHash = (conn: ChainableCommander, from: number, to: number) => conn.hset('big', Object.fromEntries(range(from, to).map((i) => [`f${i}`, `v${i}`])));
			await fill(src, writeHash);
			await fill(dst, writeHash, true);
			await src.config('RESETSTAT');
			expect(await compare('big', chunked)).toBeNull();
			const calls = await commandCalls();
			expect(calls['hgetall']).toBeUndefined();
			expect(calls['hscan']).toBeGreaterThanOrEqual(count / 1000 / 2);
			await dst.hset('big', `f${count - 1}`, 'changed');
			expect(await compare('big', chunked)).toMatchObject({kind: 'value', diff: `field "f${count - 1}": "v${count - 1}" ≠ "changed"`});
		});

		it('compares a 120k-element list in windows', async () => {
			await onBoth((conn) => fill(conn, (c, from, to) => c.rpush('big', ...range(from, to).map(String))));
			expect(await compare('big', chunked)).toBeNull();
			await dst.lset('big', count - 1, 'x');
			expect(await compare('big', chunked)).toMatchObject({diff: `list index ${count - 1}: "${count - 1}" ≠ "x"`});
		});

		it('compares a 120k-member set and sorted set', async () => {
			await fill(src, (c, from, to) => c.sadd('bigset', ...range(from, to).map(String)));
			await fill(dst, (c, from, to) => c.sadd('bigset', ...range(from, to).map(String)), true);
			await onBoth((conn) => fill(conn, (c, from, to) => c.zadd('bigz', ...range(from, to).flatMap((i) => [i / 7, `m${i}`]))));
			expect(await compare('bigset', chunked)).toBeNull();
			expect(await compare('bigz', chunked)).toBeNull();
			await dst.zadd('bigz', 1e9, 'm777');
			expect(await compare('bigz', chunked)).toMatchObject({diff: `member "m777": score 111 ≠ 1000000000`});
		});

		it('compares a 120k-entry stream in pages', async () => {
			await onBoth((conn) => fill(conn, (c, from, to) => {
				for (const i of range(from, to)) c.xadd('bigstream', `${i + 1}-0`, 'n', String(i));
			}));
			expect(await compare('bigstream', chunked)).toBeNull();
			// Same length and last-generated-id, different last entry: found on the last page.
			await src.xsetid('bigstream', `${count}-1`);
			await dst.xdel('bigstream', `${count}-0`);
			await dst.xadd('bigstream', `${count}-1`, 'n', 'changed');
			expect(await compare('bigstream', chunked)).toMatchObject({diff: `stream entry id ${count}-0 ≠ ${count}-1`});
		});

		it('compares a 5 MB string in GETRANGE windows', async () => {
			const big = Buffer.alloc(5 * 1024 * 1024);
			for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
			await onBoth((conn) => conn.set('str', big));
			await src.config('RESETSTAT');
			expect(await compare('str')).toBeNull();
			const calls = await commandCalls();
			expect(calls['get']).toBeUndefined();
			expect(calls['getrange']).toBeGreaterThanOrEqual(5);
			await dst.setrange('str', 4_500_000, 'X');
			expect((await compare('str'))?.diff).toMatch(/^string differs at byte 4500000: /);
		});
	});

	it('prints keys exactly as MONITOR does', async () => {
		const lines: string[] = [];
		const socket: Socket = connect(source.port, '127.0.0.1');
		try {
			await new Promise<void>((resolve, reject) => {
				let buffered = '';
				socket.on('error', reject);
				socket.on('data', (data) => {
					buffered += data.toString('latin1');
					const parts = buffered.split('\r\n');
					buffered = parts.pop() ?? '';
					lines.push(...parts);
					if (lines.includes('+OK')) resolve();
				});
				socket.write('MONITOR\r\n');
			});
			const keys = [allBytes, Buffer.from('plain:key'), Buffer.from('quote"back\\slash'), Buffer.from('é')];
			for (const key of keys) await src.exists(key);
			// Bounded wait for the feed to catch up.
			for (let i = 0; i < 100 && lines.filter((line) => line.includes('"exists"')).length < keys.length; i++) {
				await new Promise((resolve) => setTimeout(resolve, 20));
			}
			const fed = lines.filter((line) => line.includes('"exists"'));
			expect(fed).toHaveLength(keys.length);
			keys.forEach((key, i) => expect(fed[i]!.endsWith(`"exists" "${printableKey(key)}"`)).toBe(true));
		} finally {
			socket.destroy();
		}
	});
});
