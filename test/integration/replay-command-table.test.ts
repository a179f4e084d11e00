/**
 * The static command table against a real redis-server 7.0: every command it lists is in the
 * table with the same arity, write flag and key specs; keysOf() agrees with COMMAND GETKEYS; and
 * the rewritten expiry lines are accepted by the server with the expected TTLs.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import type Redis from 'ioredis';
import {startStandalone, type TestServer} from '../helpers/redis';
import {commandByName, type KeySpec} from '../../source/replay/command-table';
import {keysOf} from '../../source/replay/key-positions';
import {planCommand} from '../../source/replay/plan-command';

type Reply = string | number | null | Buffer | Reply[];

function pairs(reply: Reply | undefined): Map<string, Reply> {
	const map = new Map<string, Reply>();
	if (!Array.isArray(reply)) return map;
	for (let i = 0; i + 1 < reply.length; i += 2) map.set(String(reply[i]), reply[i + 1]!);
	return map;
}

interface ServerCommand {
	name: string;
	arity: number;
	flags: string[];
	/** Null when a spec is unknown or incomplete (the server then needs a getkeys procedure). */
	keySpecs: KeySpec[] | null;
}

function serverKeySpec(reply: Reply): KeySpec | null {
	const fields = pairs(reply);
	const flags = fields.get('flags');
	if (Array.isArray(flags) && flags.map(String).includes('incomplete')) return null;
	const begin = pairs(fields.get('begin_search'));
	const find = pairs(fields.get('find_keys'));
	const beginSpec = pairs(begin.get('spec'));
	const findSpec = pairs(find.get('spec'));
	const n = (map: Map<string, Reply>, name: string) => Number(map.get(name));
	let spec: KeySpec;
	if (begin.get('type') === 'index') spec = {begin: {index: n(beginSpec, 'index')}, find: {range: {lastKey: 0, step: 1, limit: 0}}};
	else if (begin.get('type') === 'keyword') spec = {begin: {keyword: String(beginSpec.get('keyword')), startFrom: n(beginSpec, 'startfrom')}, find: {range: {lastKey: 0, step: 1, limit: 0}}};
	else return null;
	if (find.get('type') === 'range') spec.find = {range: {lastKey: n(findSpec, 'lastkey'), step: n(findSpec, 'keystep'), limit: n(findSpec, 'limit')}};
	else if (find.get('type') === 'keynum') spec.find = {keyNum: {keyNumIndex: n(findSpec, 'keynumidx'), firstKey: n(findSpec, 'firstkey'), step: n(findSpec, 'keystep')}};
	else return null;
	return spec;
}

function serverCommands(reply: Reply[]): ServerCommand[] {
	return reply.filter(Array.isArray).flatMap((entry): ServerCommand[] => {
		const [name, arity, flags, , , , , , specs, subcommands] = entry;
		// Shard channels are described by key specs flagged not_key; they are not keys.
		const notKey = (spec: Reply) => {
			const flags = pairs(spec).get('flags');
			return Array.isArray(flags) && flags.map(String).includes('not_key');
		};
		const keySpecs = Array.isArray(specs) ? specs.filter((spec) => !notKey(spec)).map(serverKeySpec) : [];
		const own: ServerCommand = {
			name: String(name),
			arity: Number(arity),
			flags: Array.isArray(flags) ? flags.map(String) : [],
			keySpecs: keySpecs.includes(null) ? null : (keySpecs as KeySpec[]),
		};
		return [own, ...(Array.isArray(subcommands) ? serverCommands(subcommands) : [])];
	});
}

/** Sample invocations: valid lines of every key-spec shape the table uses. */
const samples: string[][] = [
	['GET', 'a'],
	['SET', 'a', 'v', 'EX', '10', 'GET'],
	['GETEX', 'a', 'PERSIST'],
	['APPEND', 'a', 'x'],
	['DEL', 'a', 'b', 'c'],
	['UNLINK', 'a'],
	['EXISTS', 'a', 'b'],
	['TOUCH', 'a', 'b', 'c'],
	['MGET', 'a', 'b'],
	['MSET', 'a', '1', 'b', '2', 'c', '3'],
	['MSETNX', 'a', '1', 'b', '2'],
	['RENAME', 'a', 'b'],
	['COPY', 'a', 'b', 'DB', '1', 'REPLACE'],
	['MOVE', 'a', '1'],
	['EXPIRE', 'a', '10', 'NX'],
	['PEXPIREAT', 'a', '1'],
	['RESTORE', 'a', '0', 'payload', 'REPLACE'],
	['OBJECT', 'ENCODING', 'a'],
	['MEMORY', 'USAGE', 'a', 'SAMPLES', '0'],
	['BITOP', 'XOR', 'dst', 'a', 'b', 'c'],
	['BITFIELD', 'a', 'INCRBY', 'u8', '0', '1'],
	['BITCOUNT', 'a', '0', '-1'],
	['LCS', 'a', 'b', 'IDX'],
	['LPUSH', 'l', 'x', 'y'],
	['LMOVE', 'a', 'b', 'LEFT', 'RIGHT'],
	['RPOPLPUSH', 'a', 'b'],
	['BLMOVE', 'a', 'b', 'LEFT', 'LEFT', '0'],
	['BRPOPLPUSH', 'a', 'b', '1'],
	['BLPOP', 'a', 'b', 'c', '0'],
	['BRPOP', 'a', '1.5'],
	['LMPOP', '3', 'a', 'b', 'c', 'LEFT', 'COUNT', '2'],
	['BLMPOP', '0', '2', 'a', 'b', 'RIGHT'],
	['SADD', 's', 'm'],
	['SPOP', 's', '2'],
	['SMOVE', 'a', 'b', 'm'],
	['SINTER', 'a', 'b'],
	['SINTERSTORE', 'dst', 'a', 'b'],
	['SUNIONSTORE', 'dst', 'a'],
	['SDIFFSTORE', 'dst', 'a', 'b', 'c'],
	['SINTERCARD', '2', 'a', 'b', 'LIMIT', '5'],
	['HSET', 'h', 'f', 'v'],
	['HINCRBYFLOAT', 'h', 'f', '0.5'],
	['ZADD', 'z', 'NX', '1', 'm'],
	['ZUNIONSTORE', 'dst', '2', 'a', 'b', 'WEIGHTS', '1', '2', 'AGGREGATE', 'MAX'],
	['ZINTERSTORE', 'dst', '3', 'a', 'b', 'c'],
	['ZDIFFSTORE', 'dst', '2', 'a', 'b'],
	['ZUNION', '2', 'a', 'b', 'WITHSCORES'],
	['ZINTER', '1', 'a'],
	['ZDIFF', '2', 'a', 'b'],
	['ZINTERCARD', '2', 'a', 'b'],
	['ZRANGESTORE', 'dst', 'z', '0', '-1'],
	['ZMPOP', '2', 'a', 'b', 'MIN'],
	['BZMPOP', '0', '2', 'a', 'b', 'MAX', 'COUNT', '3'],
	['BZPOPMIN', 'a', 'b', '0'],
	['BZPOPMAX', 'a', '1'],
	['PFADD', 'h', 'x'],
	['PFCOUNT', 'a', 'b'],
	['PFMERGE', 'dst', 'a', 'b'],
	['GEOADD', 'g', '13.36', '38.11', 'm'],
	['GEORADIUS', 'g', '15', '37', '200', 'km', 'WITHDIST'],
	['GEORADIUS', 'g', '15', '37', '200', 'km', 'COUNT', '5', 'STORE', 'dst'],
	['GEORADIUS', 'g', '15', '37', '200', 'km', 'STOREDIST', 'dst'],
	['GEORADIUSBYMEMBER', 'g', 'm', '100', 'km', 'STORE', 'dst'],
	['GEOSEARCHSTORE', 'dst', 'g', 'FROMMEMBER', 'm', 'BYRADIUS', '10', 'km', 'STOREDIST'],
	['SORT', 'a'],
	['SORT', 'a', 'BY', 'w_*', 'LIMIT', '0', '10', 'GET', '#', 'GET', 'o_*', 'DESC', 'ALPHA', 'STORE', 'dst'],
	['SORT', 'a', 'STORE', 'x', 'STORE', 'y'],
	['SORT_RO', 'a', 'BY', 'nosort'],
	['MIGRATE', '127.0.0.1', '1', 'a', '0', '100'],
	['MIGRATE', '127.0.0.1', '1', '', '0', '100', 'COPY', 'REPLACE', 'AUTH', 'pw', 'KEYS', 'a', 'b'],
	['MIGRATE', '127.0.0.1', '1', '', '0', '100', 'AUTH2', 'u', 'pw', 'KEYS', 'a'],
	['EVAL', 'return 1', '2', 'a', 'b', 'x'],
	['EVALSHA', 'a42059b356c875f0717db19a51f6aaca9ae659ea', '1', 'a'],
	['EVAL_RO', 'return 1', '1', 'a'],
	['FCALL', 'f', '2', 'a', 'b', 'x'],
	['FCALL_RO', 'f', '1', 'a'],
	['XADD', 's', 'MAXLEN', '~', '10', '*', 'f', 'v'],
	['XTRIM', 's', 'MINID', '0'],
	['XDEL', 's', '1-1'],
	['XACK', 's', 'g', '1-1'],
	['XCLAIM', 's', 'g', 'c', '0', '1-1'],
	['XAUTOCLAIM', 's', 'g', 'c', '0', '0-0'],
	['XREAD', 'COUNT', '1', 'BLOCK', '0', 'STREAMS', 'a', 'b', '0', '0'],
	['XREAD', 'STREAMS', 'a', '$'],
	['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 'a', '>'],
	['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '1', 'BLOCK', '5', 'NOACK', 'STREAMS', 'a', 'b', '>', '>'],
	['XGROUP', 'CREATE', 's', 'g', '$', 'MKSTREAM'],
	['XGROUP', 'SETID', 's', 'g', '0'],
	['XGROUP', 'CREATECONSUMER', 's', 'g', 'c'],
	['XGROUP', 'DELCONSUMER', 's', 'g', 'c'],
	['XGROUP', 'DESTROY', 's', 'g'],
	['XINFO', 'STREAM', 's', 'FULL'],
	['XINFO', 'GROUPS', 's'],
	['XINFO', 'CONSUMERS', 's', 'g'],
	['XSETID', 's', '1-1'],
	['WATCH', 'a', 'b'],
	['SSUBSCRIBE', 'a', 'b'],
	['SPUBLISH', 'a', 'm'],
	['DUMP', 'a'],
	['TYPE', 'a'],
	['PING'],
	['FLUSHALL', 'ASYNC'],
	['SWAPDB', '0', '1'],
	['SELECT', '1'],
	['KEYS', '*'],
	['EVAL', 'return 1', '0'],
	['FUNCTION', 'LOAD', 'code'],
	['CLIENT', 'SETNAME', 'x'],
];

describe('command table against redis-server 7.0', () => {
	let server: TestServer;
	let client: Redis;
	let commands: ServerCommand[];

	beforeAll(async () => {
		server = await startStandalone();
		client = server.client();
		commands = serverCommands((await client.call('COMMAND')) as Reply[]);
	});
	afterAll(async () => {
		await server?.stop();
	});

	it('lists every command and subcommand of the server', () => {
		expect(commands.length).toBeGreaterThan(300);
		const missing = commands.filter((command) => commandByName(command.name) === undefined).map((command) => command.name);
		expect(missing).toEqual([]);
	});

	it('has the server arity and write flag for each', () => {
		const differ = commands.flatMap((command) => {
			const spec = commandByName(command.name)!;
			const write = command.flags.includes('write');
			return spec.arity === command.arity && spec.write === write ? [] : [`${command.name}: ${spec.arity}/${spec.write} vs ${command.arity}/${write}`];
		});
		expect(differ).toEqual([]);
	});

	it('has the server key specs where the server can describe them', () => {
		const differ = commands.flatMap((command) => {
			const spec = commandByName(command.name)!;
			if (command.keySpecs === null || spec.keysProcedure !== undefined) return [];
			return JSON.stringify(spec.keySpecs) === JSON.stringify(command.keySpecs) ? [] : [command.name];
		});
		expect(differ).toEqual([]);
	});

	it('finds the keys COMMAND GETKEYS finds', async () => {
		const differ: string[] = [];
		for (const sample of samples) {
			let expected: string[];
			try {
				expected = ((await client.call('COMMAND', 'GETKEYS', ...sample)) as string[]).map(String);
			} catch {
				// The server answers with an error when a line has no keys.
				expected = [];
			}
			const found = keysOf(sample.map((arg) => Buffer.from(arg)))?.map(String) ?? null;
			if (JSON.stringify(found) !== JSON.stringify(expected)) differ.push(`${sample.join(' ')}: ${JSON.stringify(found)} vs ${JSON.stringify(expected)}`);
		}
		expect(differ).toEqual([]);
	});

	it('finds binary keys like the server', async () => {
		const a = Buffer.from([0x00, 0xff, 0x0a, 0x80]);
		const b = Buffer.from([0xe2, 0x82, 0xac]);
		const line = [Buffer.from('ZUNIONSTORE'), b, Buffer.from('1'), a];
		const expected = (await client.callBuffer('COMMAND', 'GETKEYS', ...line)) as Buffer[];
		expect(keysOf(line)).toEqual(expected);
	});

	it('writes rewritten expiries the server accepts, with the intended TTLs', async () => {
		const payload = await client.dumpBuffer('payload-source').catch(() => null);
		expect(payload).toBeNull();
		await client.set('payload-source', 'v');
		const dumped = await client.dumpBuffer('payload-source');
		const lines: Array<[string[] | Buffer[], number]> = [
			[['SET', 'e1', 'v', 'EX', '100'], 100_000],
			[['SETEX', 'e2', '100', 'v'], 100_000],
			[['PSETEX', 'e3', '100000', 'v'], 100_000],
			[['GETEX', 'e1', 'PX', '50000'], 50_000],
			[['EXPIRE', 'e2', '200', 'GT'], 200_000],
			[['PEXPIRE', 'e3', '300000', 'XX'], 300_000],
			[['EXPIREAT', 'e4', String(Math.floor(Date.now() / 1000) + 400)], -2],
			[[Buffer.from('RESTORE'), Buffer.from('e5'), Buffer.from('60000'), dumped, Buffer.from('REPLACE')], 60_000],
		];
		for (const [args, ttl] of lines) {
			const buffers = args.map((arg) => (Buffer.isBuffer(arg) ? arg : Buffer.from(arg)));
			const plan = planCommand(buffers, {tsMs: Date.now(), skewMs: 0});
			expect(plan.action).toBe('apply');
			if (plan.action !== 'apply') continue;
			await client.call(plan.args[0]!.toString(), ...plan.args.slice(1));
			const pttl = await client.pttl(plan.keys[0]!);
			if (ttl < 0) expect(pttl).toBe(ttl);
			else {
				expect(pttl).toBeGreaterThan(ttl - 5_000);
				expect(pttl).toBeLessThanOrEqual(ttl);
			}
		}
	});
});
