import {setTimeout as sleep} from 'node:timers/promises';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import type Redis from 'ioredis';
import {startCluster, startStandalone, type TestCluster, type TestServer} from '../helpers/redis';
import {BIG_KEYS, BIG_STREAM_GROUP, SEED_TYPES, seedByteKey, seedDataset, seedSmallKey} from '../helpers/seed';
import {startTraffic, trafficFamilies, type TrafficStats} from '../helpers/traffic';

/** The commands and options the zero-lost-writes issue names; each must appear in a 3 s run. */
const REQUIRED_COMMANDS = [
	'SET EX', 'SET PX', 'SET EXAT', 'SET PXAT', 'SET KEEPTTL', 'SET NX', 'SET XX', 'SET GET',
	'SETEX', 'PSETEX', 'GETEX', 'GETDEL', 'INCR', 'INCRBY', 'DECR', 'INCRBYFLOAT', 'APPEND', 'SETRANGE', 'MSET', 'MSETNX',
	'HSET', 'HINCRBY', 'HINCRBYFLOAT', 'HDEL', 'HSETNX',
	'LPUSH', 'RPUSH', 'LPOP', 'RPOP', 'LMOVE', 'LINSERT', 'LSET', 'LTRIM', 'LREM', 'RPOPLPUSH',
	'SADD', 'SREM', 'SPOP', 'SPOP COUNT', 'SMOVE', 'SINTERSTORE', 'SUNIONSTORE',
	'ZADD', 'ZADD INCR', 'ZADD GT', 'ZADD LT', 'ZINCRBY', 'ZREM', 'ZPOPMIN', 'ZPOPMAX', 'ZRANGESTORE', 'ZUNIONSTORE',
	'XADD *', 'XADD MAXLEN', 'XADD explicit-id', 'XTRIM', 'XDEL', 'XGROUP CREATE', 'XREADGROUP', 'XACK', 'XCLAIM', 'XAUTOCLAIM', 'XGROUP SETID',
	'EXPIRE', 'PEXPIRE', 'EXPIREAT', 'PERSIST', 'RENAME', 'RENAMENX', 'COPY', 'COPY REPLACE', 'DEL', 'UNLINK',
	'EVAL', 'EVALSHA', 'MULTI', 'EXEC', 'PFADD', 'PFMERGE', 'SETBIT', 'BITOP', 'GEOADD',
	'BLPOP', 'BLMOVE', 'BZPOPMIN',
];
const STANDALONE_ONLY_COMMANDS = ['SELECT', 'MOVE', 'COPY DB', 'WATCH'];

function commandsProcessed(info: string): number {
	return Number(/total_commands_processed:(\d+)/.exec(info)?.[1]);
}

function expectHealthy(stats: TrafficStats, families: string[], commands: string[]): void {
	expect(stats.unexpectedErrors).toEqual([]);
	expect(stats.errors).toBe(0);
	for (const family of families) expect(stats.byFamily[family] ?? 0, `family ${family}`).toBeGreaterThan(0);
	for (const command of commands) expect(stats.byCommand[command] ?? 0, command).toBeGreaterThan(0);
}

async function runFor(ms: number, start: () => {stop(): Promise<TrafficStats>}): Promise<{stats: TrafficStats; stopMs: number}> {
	const traffic = start();
	await sleep(ms);
	const stopping = Date.now();
	const stats = await traffic.stop();
	return {stats, stopMs: Date.now() - stopping};
}

describe('traffic generator', () => {
	let server: TestServer;
	let cluster: TestCluster;
	let probe: Redis;
	beforeAll(async () => {
		[server, cluster] = await Promise.all([startStandalone(), startCluster()]);
		probe = server.client();
	});
	afterAll(async () => {
		await Promise.all([server?.stop(), cluster?.stop()]);
	});

	it('seeds every type in every db, all byte values and the big keys', async () => {
		const {keys} = await seedDataset({port: server.port, keys: 220, bigScale: 0.01, seed: 7});
		expect(keys).toBe(3 * (220 + 256 + 4) + Object.keys(BIG_KEYS).length);

		await probe.select(0);
		expect(await probe.strlen(BIG_KEYS.string)).toBe(Math.round(2 * 1024 * 1024 * 0.01));
		expect(await probe.hlen(BIG_KEYS.hash)).toBe(2000);
		expect(await probe.llen(BIG_KEYS.list)).toBe(2000);
		expect(await probe.scard(BIG_KEYS.set)).toBe(2000);
		expect(await probe.zcard(BIG_KEYS.zset)).toBe(2000);
		expect(await probe.xlen(BIG_KEYS.stream)).toBe(500);
		const groups = (await probe.call('XINFO', 'GROUPS', BIG_KEYS.stream)) as unknown[][];
		expect(groups).toHaveLength(1);
		expect(groups[0]).toContain(BIG_STREAM_GROUP);
		expect(Number(groups[0]![groups[0]!.indexOf('pending') + 1])).toBeGreaterThan(0);

		const expectedType: Record<(typeof SEED_TYPES)[number], string> = {
			string: 'string', int: 'string', hash: 'hash', list: 'list', set: 'set', zset: 'zset',
			stream: 'stream', hll: 'string', bitmap: 'string', geo: 'zset', binary: 'string',
		};
		for (const db of [0, 1, 2]) {
			await probe.select(db);
			for (let n = 0; n < SEED_TYPES.length * 3; n++) {
				const {key, type} = seedSmallKey(n);
				expect(await probe.type(key), `db ${db} ${key}`).toBe(expectedType[type]);
			}
			for (const byte of [0x00, 0x0a, 0x0d, 0x22, 0x5c, 0x7f, 0x80, 0xff]) {
				const value = await probe.getBuffer(seedByteKey(byte));
				expect(value?.length).toBe(256);
				expect(value?.[0]).toBe(byte);
			}
			expect(await probe.hlen('seed:bytes:hash')).toBe(256);
		}
		await probe.select(0);
	});

	it('standalone: issues every family, makes no errors, keeps its rate and stops completely', async () => {
		const clientsBefore = Number(/connected_clients:(\d+)/.exec(await probe.info('clients'))?.[1]);
		const {stats, stopMs} = await runFor(3000, () => startTraffic({port: server.port, seed: 3}));

		expectHealthy(stats, trafficFamilies({}), [...REQUIRED_COMMANDS, ...STANDALONE_ONLY_COMMANDS]);
		expect(stopMs).toBeLessThan(2000);
		// 2000 writer commands/s for ~3 s; the blocking consumers add a little on top.
		expect(stats.ops).toBeGreaterThan(3000);
		expect(stats.ops).toBeLessThan(9000);

		// After stop() nothing else arrives: only the probe's own INFO is counted in between.
		const before = commandsProcessed(await probe.info('stats'));
		await sleep(300);
		expect(commandsProcessed(await probe.info('stats')) - before).toBe(1);
		const clients = await probe.info('clients');
		expect(Number(/connected_clients:(\d+)/.exec(clients)?.[1])).toBe(clientsBefore);
		expect(Number(/blocked_clients:(\d+)/.exec(clients)?.[1])).toBe(0);

		for (const db of [0, 1, 2]) {
			await probe.select(db);
			expect(await probe.exists(...Array.from({length: 500}, (_, i) => `kf:hash:${i}`)), `db ${db}`).toBeGreaterThan(0);
		}
		await probe.select(0);
	});

	it('cluster: hash-tagged multi-key commands on every master, every family but multiDb, no errors', async () => {
		const port = cluster.masters[0]!.port;
		await seedDataset({port, cluster: true, keys: 110, bigScale: 0.01, seed: 9});
		const {stats, stopMs} = await runFor(3000, () => startTraffic({port, cluster: true, seed: 5}));

		const families = trafficFamilies({cluster: true});
		expect(families).not.toContain('multiDb');
		expectHealthy(stats, families, REQUIRED_COMMANDS);
		expect(stats.byFamily['multiDb']).toBeUndefined();
		for (const command of STANDALONE_ONLY_COMMANDS) expect(stats.byCommand[command], command).toBeUndefined();
		expect(stopMs).toBeLessThan(2000);
		for (const master of cluster.masters) expect(await master.client().dbsize()).toBeGreaterThan(0);
	});

	it('stops at once when stopped before it got going, and the bounded rate is optional', async () => {
		const early = await runFor(0, () => startTraffic({port: server.port, seed: 11}));
		expect(early.stats.unexpectedErrors).toEqual([]);
		expect(early.stopMs).toBeLessThan(2000);

		const fast = await runFor(1000, () => startTraffic({port: server.port, seed: 12, opsPerSecond: 0, connections: 4, blockingConsumers: 1}));
		expect(fast.stats.unexpectedErrors).toEqual([]);
		expect(fast.stats.ops).toBeGreaterThan(2000);
		expect(fast.stopMs).toBeLessThan(2000);
	});
});
