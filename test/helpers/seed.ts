/**
 * Fills a server with a realistic initial dataset before a migration starts: small keys of every
 * type in every db (some with TTLs short enough to expire mid-migration, some large enough to leave
 * the compact encodings), one key per byte value, and big keys that take the copier real time to
 * DUMP. Also home of the deterministic PRNG and the byte strings that stress MONITOR escaping,
 * which the traffic generator shares.
 */
import Redis, {Cluster} from 'ioredis';
import {Random} from '../../source/demo/random';

/** The demo's deterministic PRNG (same seed, same dataset and traffic), plus random bytes. */
export class Rng extends Random {
	bytes(length: number): Buffer {
		const buffer = Buffer.allocUnsafe(length);
		for (let i = 0; i < length; i++) buffer[i] = this.int(256);
		return buffer;
	}
}

/** Every byte value once, 0x00 to 0xff. */
export const ALL_BYTES = Buffer.from(Array.from({length: 256}, (_, i) => i));

/**
 * Byte strings that break naive MONITOR parsing or RESP framing: escapes that look like escapes,
 * text that looks like a MONITOR line, integers MONITOR would re-format if they were INT-encoded,
 * invalid UTF-8, and NUL/CR/LF/quote/backslash in every position.
 */
export const TRICKY_VALUES: readonly Buffer[] = [
	...[
		'', ' ', '\r\n', '\n', '"', '\\', '\\"', '\\x41', '\\n', "'", 'a b', '"quoted"', '\t\x07\x08\x0b\x0c',
		'[0 127.0.0.1:6379]', '1700000000.123456 [0 lua] "SET" "k" "v"', '{', '}', '{}', '}{', '{t1}',
		'é', '日本語', '😀', '007', '-0', '+1', ' 1', '1 ', '1e3', '0x1f', '3.14', 'nan', 'inf',
		'9223372036854775807', '9223372036854775808', '-9223372036854775808', '12345678901234567890',
	].map((text) => Buffer.from(text, 'utf8')),
	Buffer.from([0x00]),
	Buffer.from([0x00, 0x00, 0x00]),
	Buffer.from([0x80, 0xff]),
	Buffer.from([0xc3, 0x28]),
	Buffer.from([0x00, 0x0d, 0x0a, 0x22, 0x5c, 0x7f, 0xfe, 0x20]),
	ALL_BYTES,
];

/** A value as an application might store it: mostly short text, sometimes hostile bytes or a few KB. */
export function randomValue(rng: Rng): string | Buffer {
	const roll = rng.int(20);
	if (roll < 7) return `v${rng.int(1000)}`;
	if (roll < 10) return rng.pick(TRICKY_VALUES);
	if (roll < 13) return rng.bytes(rng.int(65));
	if (roll < 14) return Buffer.concat([ALL_BYTES.subarray(rng.int(256)), ALL_BYTES]);
	if (roll < 16) return String(rng.range(-100000, 100000));
	if (roll < 17) return rng.bytes(rng.range(1024, 8192));
	return `user:${rng.int(100000)}:${'x'.repeat(rng.int(40))}`;
}

/** Mostly from a small pool so removes and set operations hit, sometimes binary. */
export function randomMember(rng: Rng): string | Buffer {
	const roll = rng.int(20);
	if (roll < 16) return `m${rng.int(40)}`;
	if (roll < 18) return rng.pick(TRICKY_VALUES);
	return rng.bytes(rng.range(1, 12));
}

export const SEED_TYPES = ['string', 'int', 'hash', 'list', 'set', 'zset', 'stream', 'hll', 'bitmap', 'geo', 'binary'] as const;
export type SeedType = (typeof SEED_TYPES)[number];

/** How many small keys per db the seed writes by default; the traffic generator mutates this range. */
export const DEFAULT_SEED_KEYS = 2000;

/** The n-th small seed key; its name fixes its type so later traffic never collides on type. */
export function seedSmallKey(n: number): {key: string; type: SeedType} {
	const type = SEED_TYPES[n % SEED_TYPES.length]!;
	return {key: `seed:${type}:${n}`, type};
}

/** One string key per byte value, named with that byte. */
export function seedByteKey(byte: number): Buffer {
	return Buffer.concat([Buffer.from('seed:byte:'), Buffer.from([byte])]);
}

/** Big keys live in the first db only. */
export const BIG_KEYS = {
	string: 'seed:big:string',
	hash: 'seed:big:hash',
	list: 'seed:big:list',
	set: 'seed:big:set',
	zset: 'seed:big:zset',
	stream: 'seed:big:stream',
} as const;
export const BIG_STREAM_GROUP = 'seed-group';

export interface SeedOptions {
	port: number;
	password?: string;
	cluster?: boolean;
	dbs?: number[];
	/** Small keys per db, default 2000. */
	keys?: number;
	/** Default true. */
	bigKeys?: boolean;
	/** Multiplier for the big key sizes (2 MB string, 200k hash/list/set/zset, 50k stream), default 1. */
	bigScale?: number;
	seed?: number;
}

type Arg = string | Buffer | number;
type Client = Redis | Cluster;

/** Autopipelined writes with a bounded number in flight, so a 200k-element key does not build a 200k-promise array. */
class Writer {
	private pending: Promise<unknown>[] = [];

	constructor(private readonly client: Client) {}

	/** Waits for the reply, after everything queued before it. */
	async call(name: string, ...args: Arg[]): Promise<unknown> {
		await this.flush();
		return this.client.call(name, ...args);
	}

	async send(name: string, ...args: Arg[]): Promise<void> {
		this.pending.push(this.client.call(name, ...args));
		if (this.pending.length >= 500) await this.flush();
	}

	async flush(): Promise<void> {
		const batch = this.pending;
		this.pending = [];
		// allSettled: one failure must not leave the rest of the batch as unhandled rejections.
		const failed = (await Promise.allSettled(batch)).find((result) => result.status === 'rejected');
		if (failed) throw failed.reason;
	}
}

export async function seedDataset(options: SeedOptions): Promise<{keys: number}> {
	const cluster = options.cluster ?? false;
	const dbs = cluster ? [0] : (options.dbs ?? [0, 1, 2]);
	const rng = new Rng(options.seed ?? 1);
	let keys = 0;
	for (const [index, db] of dbs.entries()) {
		const client: Client = cluster
			? // No autopipelining here: ioredis can batch keys of different slots into one pipeline before the slot map is known.
				new Cluster([{host: '127.0.0.1', port: options.port}], {redisOptions: {password: options.password}})
			: new Redis({host: '127.0.0.1', port: options.port, password: options.password, db, enableAutoPipelining: true});
		try {
			const writer = new Writer(client);
			keys += await seedSmallKeys(writer, rng, options.keys ?? DEFAULT_SEED_KEYS);
			keys += await seedByteKeys(writer);
			if (index === 0 && (options.bigKeys ?? true)) keys += await seedBigKeys(writer, rng, options.bigScale ?? 1);
			await writer.flush();
		} finally {
			client.disconnect();
		}
	}
	return {keys};
}

async function seedSmallKeys(writer: Writer, rng: Rng, count: number): Promise<number> {
	for (let n = 0; n < count; n++) {
		const {key, type} = seedSmallKey(n);
		await writer.send('DEL', key);
		// A few keys per type leave the listpack/intset encodings, so DUMP sees both layouts.
		const size = rng.chance(0.05) ? rng.range(150, 600) : rng.range(1, 20);
		switch (type) {
			case 'string':
				await writer.send('SET', key, randomValue(rng));
				break;
			case 'int':
				await writer.send('SET', key, rng.range(-1_000_000, 1_000_000));
				break;
			case 'hash':
				await writer.send('HSET', key, ...Array.from({length: size}, (_, i) => [`f${i}`, randomValue(rng)]).flat());
				break;
			case 'list':
				await writer.send('RPUSH', key, ...Array.from({length: size}, () => randomValue(rng)));
				break;
			case 'set':
				// Integer-only members get the intset encoding.
				await writer.send('SADD', key, ...Array.from({length: size}, (_, i) => (n % 2 === 0 ? String(i * 7) : randomMember(rng))));
				break;
			case 'zset':
				await writer.send('ZADD', key, ...Array.from({length: size}, (_, i) => [(rng.next() * 1000).toFixed(3), `m${i}`]).flat());
				break;
			case 'stream':
				for (let i = 0; i < Math.min(size, 30); i++) await writer.send('XADD', key, '*', 'n', i, 'v', randomValue(rng));
				break;
			case 'hll':
				await writer.send('PFADD', key, ...Array.from({length: size}, () => randomMember(rng)));
				break;
			case 'bitmap':
				for (let i = 0; i < 4; i++) await writer.send('SETBIT', key, rng.int(4096), 1);
				break;
			case 'geo':
				await writer.send('GEOADD', key, ...Array.from({length: Math.min(size, 10)}, (_, i) => [randomLongitude(rng), randomLatitude(rng), `p${i}`]).flat());
				break;
			case 'binary':
				await writer.send('SET', key, Buffer.concat([rng.bytes(rng.int(32)), ALL_BYTES.subarray(rng.int(256))]));
				break;
		}
		// Long TTLs survive the migration; 1–20 s ones expire while it runs.
		const ttl = rng.int(20);
		if (ttl < 4) await writer.send('EXPIRE', key, rng.range(300, 3600));
		else if (ttl < 5) await writer.send('PEXPIRE', key, rng.range(1000, 20_000));
	}
	return count;
}

async function seedByteKeys(writer: Writer): Promise<number> {
	for (let byte = 0; byte < 256; byte++) {
		await writer.send('SET', seedByteKey(byte), Buffer.concat([ALL_BYTES.subarray(byte), ALL_BYTES.subarray(0, byte)]));
	}
	const bytes = Array.from({length: 256}, (_, i) => Buffer.from([i]));
	// One DEL per key: on a cluster these names live in different slots.
	for (const key of ['seed:bytes:hash', 'seed:bytes:set', 'seed:bytes:zset', 'seed:bytes:list']) await writer.send('DEL', key);
	await writer.send('HSET', 'seed:bytes:hash', ...bytes.flatMap((b) => [b, b]));
	await writer.send('SADD', 'seed:bytes:set', ...bytes);
	await writer.send('ZADD', 'seed:bytes:zset', ...bytes.flatMap((b, i) => [i, b]));
	await writer.send('RPUSH', 'seed:bytes:list', ...bytes);
	return 256 + 4;
}

async function seedBigKeys(writer: Writer, rng: Rng, scale: number): Promise<number> {
	const size = (n: number) => Math.max(1, Math.round(n * scale));
	for (const key of Object.values(BIG_KEYS)) await writer.send('DEL', key);
	await writer.send('SET', BIG_KEYS.string, rng.bytes(size(2 * 1024 * 1024)));
	const elements = size(200_000);
	for (let start = 0; start < elements; start += 1000) {
		const count = Math.min(1000, elements - start);
		const ids = Array.from({length: count}, (_, i) => start + i);
		await writer.send('HSET', BIG_KEYS.hash, ...ids.flatMap((i) => [`field:${i}`, `value:${i}:${rng.int(1e9)}`]));
		await writer.send('RPUSH', BIG_KEYS.list, ...ids.map((i) => `item:${i}`));
		await writer.send('SADD', BIG_KEYS.set, ...ids.map((i) => `member:${i}`));
		await writer.send('ZADD', BIG_KEYS.zset, ...ids.flatMap((i) => [rng.int(1e6), `member:${i}`]));
	}
	const entries = size(50_000);
	for (let i = 0; i < entries; i++) await writer.send('XADD', BIG_KEYS.stream, '*', 'n', i, 'payload', `event-${rng.int(1e9)}`);
	await writer.flush();
	// A group with a backlog: some entries delivered and pending, some of those acknowledged.
	await writer.send('XGROUP', 'CREATE', BIG_KEYS.stream, BIG_STREAM_GROUP, '0');
	const delivered = readReplyIds(
		await writer.call('XREADGROUP', 'GROUP', BIG_STREAM_GROUP, 'worker-1', 'COUNT', Math.max(1, Math.floor(entries / 10)), 'STREAMS', BIG_KEYS.stream, '>'),
	);
	await writer.send('XREADGROUP', 'GROUP', BIG_STREAM_GROUP, 'worker-2', 'COUNT', Math.max(1, Math.floor(entries / 20)), 'STREAMS', BIG_KEYS.stream, '>');
	const acked = delivered.filter((_, i) => i % 3 === 0);
	if (acked.length > 0) await writer.send('XACK', BIG_KEYS.stream, BIG_STREAM_GROUP, ...acked);
	await writer.flush();
	return Object.keys(BIG_KEYS).length;
}

/** Ids from a list of stream entries: [id, fields] pairs, or bare ids as JUSTID returns them. */
export function entryIds(entries: unknown): string[] {
	if (!Array.isArray(entries)) return [];
	return entries.flatMap((entry: unknown) => {
		if (typeof entry === 'string') return [entry];
		return Array.isArray(entry) && typeof entry[0] === 'string' ? [entry[0]] : [];
	});
}

/** Entry ids from an XREAD/XREADGROUP reply: [[key, entries], …]. */
export function readReplyIds(reply: unknown): string[] {
	if (!Array.isArray(reply)) return [];
	return reply.flatMap((stream: unknown) => (Array.isArray(stream) ? entryIds(stream[1]) : []));
}

export function randomLongitude(rng: Rng): string {
	return (rng.next() * 360 - 180).toFixed(6);
}

export function randomLatitude(rng: Rng): string {
	return (rng.next() * 170 - 85).toFixed(6);
}
