/**
 * Hostile application traffic for the zero-lost-writes tests: many connections writing every
 * command family at once, with the cases that break naive replay — nondeterministic commands
 * (SPOP, XADD *, scripts reading TIME), blocking pops racing producers, transactions, keys moving
 * between dbs, TTLs expiring mid-migration, binary keys and values, mixed-case command names.
 *
 * Every family writes under its own key prefix and every command that can fail on the key's state
 * (LSET, RENAME, XGROUP, XREADGROUP, explicit XADD ids) runs only where this generator knows that
 * state, so any error is a real finding. SWAPDB is deliberately never issued: it swaps whole dbs
 * under every other writer and turns the final comparison into noise.
 */
import {createHash} from 'node:crypto';
import {setTimeout as sleep} from 'node:timers/promises';
import Redis, {Cluster} from 'ioredis';
import {
	ALL_BYTES,
	BIG_KEYS,
	BIG_STREAM_GROUP,
	DEFAULT_SEED_KEYS,
	entryIds,
	randomLatitude,
	randomLongitude,
	randomMember,
	randomValue,
	readReplyIds,
	Rng,
	seedByteKey,
	seedSmallKey,
	TRICKY_VALUES,
} from './seed';

export interface TrafficOptions {
	/** Only its password is used, and it must point at 127.0.0.1. */
	url?: string;
	port: number;
	/** Traffic only ever goes to 127.0.0.1. */
	host?: '127.0.0.1';
	password?: string;
	/** Use ioredis Cluster and hash-tagged keys for every multi-key command; no SELECT/MOVE/COPY DB. */
	cluster?: boolean;
	/** Default [0, 1, 2] standalone, [0] cluster. */
	dbs?: number[];
	/** Writer connections, default 8. */
	connections?: number;
	/** BLPOP/BLMOVE/BZPOPMIN/XREADGROUP BLOCK consumers racing the producers, default 2. */
	blockingConsumers?: number;
	/** Total target rate of writer commands, default 2000; 0 = as fast as possible. */
	opsPerSecond?: number;
	seed?: number;
	/** Distinct keys per family, default 500. */
	keySpace?: number;
}

export interface TrafficStats {
	/** Commands issued (writers, consumers, and the commands inside MULTI blocks). */
	ops: number;
	errors: number;
	byFamily: Record<string, number>;
	/** By upper-case command name, plus "NAME OPTION" for the options and subcommands that matter (e.g. "SET KEEPTTL", "XGROUP CREATE"). */
	byCommand: Record<string, number>;
	/** The first few errors, as "family COMMAND: message". */
	unexpectedErrors: string[];
}

export interface Traffic {
	/** Stops writers and consumers and waits for in-flight commands; after it resolves no further command reaches the server. */
	stop(): Promise<TrafficStats>;
}

/** Cluster hash-tag groups: every key of one op shares the op's group, so multi-key commands stay in one slot. */
const TAG_GROUPS = 32;
const QUEUE_GROUPS = 3;
const QUEUE_KEYS = 3;
/** Streams with consumer groups owned by each writer. */
const GROUP_STREAMS = 4;
const BINARY_SPACE = 256 + TRICKY_VALUES.length + 200;
const STOP_DEADLINE_MS = 5000;
const MAX_REPORTED_ERRORS = 20;

type Arg = string | Buffer | number;
type Command = [name: string, ...args: Arg[]];
type Client = Redis | Cluster;
type Op = (s: Session) => Promise<unknown>;

interface Family {
	name: string;
	weight: number;
	standaloneOnly?: boolean;
	ops: Op[];
}

const SCRIPTS = {
	fanout: "redis.call('SET', KEYS[1], ARGV[1]) redis.call('HINCRBY', KEYS[2], 'cnt', 1) redis.call('RPUSH', KEYS[3], ARGV[1]) redis.call('LTRIM', KEYS[3], -20, -1) return 3",
	spopMove: "local m = redis.call('SPOP', KEYS[1]) if m then redis.call('SADD', KEYS[2], m) redis.call('SET', KEYS[3], m) end return m",
	srandCopy: "local m = redis.call('SRANDMEMBER', KEYS[1]) if m then redis.call('HSET', KEYS[2], 'f0', m) end return m",
	stamp: "local t = redis.call('TIME') redis.call('SET', KEYS[1], t[1] .. '.' .. t[2], 'PX', ARGV[1]) return t[1]",
	limiter: "local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return n",
} as const;
type ScriptName = keyof typeof SCRIPTS;
const SHAS = Object.fromEntries(Object.entries(SCRIPTS).map(([name, body]) => [name, createHash('sha1').update(body).digest('hex')])) as Record<ScriptName, string>;
const FUNCTION_LIBRARY = [
	'#!lua name=keyferry_traffic',
	"redis.register_function('kf_bump', function(keys, args)",
	"\tredis.call('INCRBY', keys[1], args[1])",
	"\tredis.call('ZINCRBY', keys[2], args[1], 'bumped')",
	'\treturn 1',
	'end)',
].join('\n');

const FLOAT_STEPS = ['0.1', '-0.1', '1', '2.5e2', '-3.75', '1e-5', '0.3333333333333333', '-1e3'];
/** Valid ZADD flag combinations (NX excludes GT/LT). */
const ZADD_FLAGS: string[][] = [[], [], ['NX'], ['XX'], ['GT'], ['LT'], ['CH'], ['XX', 'GT', 'CH'], ['LT', 'CH'], ['NX', 'CH']];
/** Families whose shared keys the keyspace ops (EXPIRE, RENAME, COPY, MOVE, DEL…) pick from. */
const KEY_KINDS = ['str', 'int', 'flt', 'hash', 'list', 'set', 'zset', 'stream', 'hll', 'bit', 'geo', 'bin', 'binh'] as const;
type KeyKind = (typeof KEY_KINDS)[number];

class Recorder {
	ops = 0;
	errors = 0;
	readonly byFamily: Record<string, number> = {};
	readonly byCommand: Record<string, number> = {};
	readonly unexpectedErrors: string[] = [];

	count(family: string, name: string, options: readonly string[] = []): void {
		this.ops++;
		this.byFamily[family] = (this.byFamily[family] ?? 0) + 1;
		const upper = name.toUpperCase();
		this.byCommand[upper] = (this.byCommand[upper] ?? 0) + 1;
		for (const option of options) this.byCommand[`${upper} ${option}`] = (this.byCommand[`${upper} ${option}`] ?? 0) + 1;
	}

	fail(family: string, name: string, error: unknown): void {
		this.errors++;
		if (this.unexpectedErrors.length < MAX_REPORTED_ERRORS) {
			this.unexpectedErrors.push(`${family} ${name.toUpperCase()}: ${error instanceof Error ? error.message : String(error)}`);
		}
	}

	stats(): TrafficStats {
		return {ops: this.ops, errors: this.errors, byFamily: {...this.byFamily}, byCommand: {...this.byCommand}, unexpectedErrors: [...this.unexpectedErrors]};
	}
}

interface Env {
	cluster: boolean;
	/** Also names the keys each writer and consumer owns, so generators with different seeds can share a server. */
	seed: number;
	dbs: number[];
	keySpace: number;
	consumers: number;
	/** Redis 7 syntax (SET NX GET, EXPIRE NX/GT…, LMPOP, FCALL…) is available. */
	v7: boolean;
	/** The seed's big stream and its group exist in dbs[0]. */
	seededGroup: boolean;
	stopping: boolean;
	recorder: Recorder;
}

function queueKey(cluster: boolean, kind: 'bq' | 'bz', group: number, index: number): string {
	return cluster ? `kf:${kind}:{q${group}}:${index}` : `kf:${kind}:${group}:${index}`;
}

/** A key one blocking consumer waits on: bw for BLPOP with timeout 0, bx for its consumer-group stream. */
function consumerKey(env: Env, kind: 'bw' | 'bx', consumer: number): string {
	const name = `c${env.seed}.${consumer}`;
	return env.cluster ? `kf:${kind}:{q${consumer % QUEUE_GROUPS}}:${name}` : `kf:${kind}:${name}`;
}

/** Consumers are spread over the dbs like the writers. */
function consumerDb(env: Env, consumer: number): number {
	return env.dbs[consumer % env.dbs.length]!;
}

function consumersIn(env: Env, db: number): number[] {
	return Array.from({length: env.consumers}, (_, i) => i).filter((i) => consumerDb(env, i) === db);
}

/** Binary key suffixes: one per byte value, then the tricky strings, then fixed pseudo-random bytes. */
function binarySuffix(index: number): Buffer {
	if (index < 256) return Buffer.from([index]);
	return TRICKY_VALUES[index - 256] ?? new Rng(index).bytes(1 + (index % 24));
}

interface GroupStream {
	hasGroup: boolean;
	delivered: string[];
}

/** One writer connection and everything it knows about the keys only it touches. */
class Session {
	family = '';
	group = 0;
	db: number;
	sent = 0;
	readonly owner: string;
	private readonly groupStreams = new Map<string, GroupStream>();
	private readonly explicitIds = new Map<string, number>();
	private readonly recentIds: string[] = [];

	constructor(
		readonly id: number,
		readonly client: Client,
		readonly rng: Rng,
		readonly env: Env,
	) {
		this.db = env.dbs[id % env.dbs.length]!;
		this.owner = `w${env.seed}.${id}`;
	}

	beginOp(family: string): void {
		this.family = family;
		this.group = this.rng.int(TAG_GROUPS);
	}

	/** Never rejects: a failure is counted and the reply is undefined. */
	async send(command: Command, options: readonly string[] = []): Promise<unknown> {
		const [name, ...args] = command;
		this.sent++;
		this.env.recorder.count(this.family, name, options);
		try {
			return await this.client.call(this.spell(name), ...args);
		} catch (error) {
			this.env.recorder.fail(this.family, name, error);
			return undefined;
		}
	}

	async multi(commands: Command[]): Promise<void> {
		const recorder = this.env.recorder;
		const transaction = this.client.multi();
		recorder.count(this.family, 'MULTI');
		for (const [name, ...args] of commands) {
			recorder.count(this.family, name);
			transaction.call(this.spell(name), ...args);
		}
		recorder.count(this.family, 'EXEC');
		this.sent += commands.length + 2;
		try {
			// null means a WATCHed key changed: the transaction was discarded, which is not an error.
			const replies = await transaction.exec();
			for (const [error] of replies ?? []) if (error) recorder.fail(this.family, 'EXEC', error);
		} catch (error) {
			recorder.fail(this.family, 'EXEC', error);
		}
	}

	async select(db: number): Promise<void> {
		this.db = db;
		this.sent++;
		this.env.recorder.count(this.family, 'SELECT');
		try {
			// Lower case so ioredis tracks the db and restores it after a reconnect.
			await this.client.call('select', db);
		} catch (error) {
			this.env.recorder.fail(this.family, 'SELECT', error);
		}
	}

	/** Applications send either case; replay must not care. */
	private spell(name: string): string {
		return this.rng.chance(0.25) ? name.toLowerCase() : name;
	}

	private index(space: number): number {
		if (!this.env.cluster) return this.rng.int(space);
		return this.group + TAG_GROUPS * this.rng.int(Math.ceil((space - this.group) / TAG_GROUPS));
	}

	private prefix(kind: string, group = this.group): string {
		return this.env.cluster ? `kf:${kind}:{t${group}}:` : `kf:${kind}:`;
	}

	/** A shared key of one family; on a cluster, in this op's tag group. */
	key(kind: string): string {
		const index = this.index(this.env.keySpace);
		return `${this.prefix(kind)}${index}`;
	}

	binaryKey(kind: 'bin' | 'binh'): Buffer {
		return Buffer.concat([Buffer.from(this.prefix(kind)), binarySuffix(this.index(BINARY_SPACE))]);
	}

	kindKey(kind: KeyKind): string | Buffer {
		return kind === 'bin' || kind === 'binh' ? this.binaryKey(kind) : this.key(kind);
	}

	/** A key only this writer touches, in this op's tag group. */
	own(kind: string): string {
		return `${this.prefix(kind)}${this.owner}`;
	}

	otherDb(): number | undefined {
		const others = this.env.dbs.filter((db) => db !== this.db);
		return others.length > 0 ? this.rng.pick(others) : undefined;
	}

	value(): string | Buffer {
		return randomValue(this.rng);
	}

	member(): string | Buffer {
		return randomMember(this.rng);
	}

	binaryValue(): Buffer {
		const roll = this.rng.int(10);
		if (roll < 4) return Buffer.concat([ALL_BYTES.subarray(this.rng.int(256)), ALL_BYTES.subarray(0, this.rng.int(256))]);
		if (roll < 7) return this.rng.bytes(this.rng.int(65));
		return this.rng.pick(TRICKY_VALUES);
	}

	/** Hash fields; never "cnt" or "flt", which hold the HINCRBY/HINCRBYFLOAT numbers. */
	field(): string | Buffer {
		const roll = this.rng.int(10);
		if (roll < 8) return `f${this.rng.int(20)}`;
		if (roll < 9) return this.rng.pick(TRICKY_VALUES);
		return Buffer.concat([Buffer.from('b'), this.rng.bytes(this.rng.range(1, 8))]);
	}

	many<T>(low: number, high: number, make: () => T): T[] {
		return Array.from({length: this.rng.range(low, high)}, make);
	}

	score(allowInfinity: boolean): string {
		const roll = this.rng.int(10);
		if (allowInfinity && roll === 0) return this.rng.pick(['+inf', '-inf']);
		if (roll < 4) return String(this.rng.range(-1000, 1000));
		if (roll < 8) return (this.rng.next() * 2000 - 1000).toFixed(this.rng.int(5));
		return this.rng.pick(['1e3', '-2.5e-3', '0', '0.1', '1e15', '-0']);
	}

	side(): 'LEFT' | 'RIGHT' {
		return this.rng.chance(0.5) ? 'LEFT' : 'RIGHT';
	}

	shortTtl(): number {
		return this.rng.range(50, 500);
	}

	/** A command that creates a value of the kind's type, for RENAME sources. */
	creator(kind: KeyKind, key: string | Buffer): Command {
		switch (kind) {
			case 'str':
				return ['SET', key, this.value()];
			case 'bin':
				return ['SET', key, this.binaryValue()];
			case 'int':
				return ['SET', key, this.rng.range(-100, 100)];
			case 'flt':
				return ['SET', key, '2.5'];
			case 'hash':
			case 'binh':
				return ['HSET', key, this.field(), this.value(), 'cnt', 1];
			case 'list':
				return ['RPUSH', key, this.member(), this.member()];
			case 'set':
				return ['SADD', key, this.member()];
			case 'zset':
				return ['ZADD', key, this.score(false), this.member()];
			case 'stream':
				return ['XADD', key, 'MAXLEN', '~', 20, '*', 'f', this.value()];
			case 'hll':
				return ['PFADD', key, this.member()];
			case 'bit':
				return ['SETBIT', key, this.rng.int(512), 1];
			case 'geo':
				return ['GEOADD', key, randomLongitude(this.rng), randomLatitude(this.rng), this.member()];
		}
	}

	async xadd(key: string): Promise<unknown> {
		const trim = this.rng.pick<Arg[]>([[], [], ['MAXLEN', '~', 50], ['MAXLEN', 20], ['MAXLEN', '=', 30], ['MINID', '~', String(Date.now() - 10_000)], ['MAXLEN', '~', 40, 'LIMIT', 10]]);
		const noCreate = this.rng.chance(0.1) ? ['NOMKSTREAM'] : [];
		const options = [...noCreate, ...trim.filter((arg): arg is string => arg === 'MAXLEN' || arg === 'MINID' || arg === 'LIMIT'), '*'];
		const reply = await this.send(['XADD', key, ...noCreate, ...trim, '*', ...this.many(1, 3, () => [this.field(), this.value()]).flat()], options);
		if (typeof reply === 'string') {
			this.recentIds.push(reply);
			if (this.recentIds.length > 20) this.recentIds.shift();
		}
		return reply;
	}

	recentId(): string {
		return this.recentIds.length > 0 ? this.rng.pick(this.recentIds) : '0-1';
	}

	/** One of this writer's streams with a consumer group; creates the group (as this op) when it has none. */
	async groupStream(): Promise<{key: string; state: GroupStream} | undefined> {
		const index = this.rng.int(GROUP_STREAMS);
		this.group = (this.id * GROUP_STREAMS + index) % TAG_GROUPS;
		const key = `${this.prefix('xg')}${this.owner}:${index}`;
		const id = `${this.db}|${key}`;
		let state = this.groupStreams.get(id);
		if (!state) {
			// A previous run may have left this key with a group this writer does not know about.
			await this.send(['DEL', key]);
			state = {hasGroup: false, delivered: []};
			this.groupStreams.set(id, state);
		}
		if (state.hasGroup) return {key, state};
		const entriesRead = this.env.v7 && this.rng.chance(0.3) ? ['ENTRIESREAD', this.rng.int(10)] : [];
		await this.send(['XGROUP', 'CREATE', key, 'g', this.rng.pick(['$', '0']), 'MKSTREAM', ...entriesRead], ['CREATE']);
		state.hasGroup = true;
		return undefined;
	}

	/** Explicit XADD ids on a stream only this writer touches, so they always increase. */
	async explicitIdStream(): Promise<void> {
		const key = this.own('xid');
		const id = `${this.db}|${key}`;
		let last = this.explicitIds.get(id);
		if (last === undefined) {
			await this.send(['DEL', key]);
			last = 1_700_000_000_000;
		}
		const next = last + this.rng.range(1, 1000);
		this.explicitIds.set(id, next);
		const sequence = this.env.v7 && this.rng.chance(0.3) ? '*' : String(this.rng.int(5));
		await this.send(['XADD', key, 'MAXLEN', 50, `${next}-${sequence}`, 'f', this.value()], ['explicit-id']);
		if (this.rng.chance(0.3)) await this.send(['XDEL', key, `${next - this.rng.int(3000)}-0`]);
		if (this.rng.chance(0.2)) await this.send(['XTRIM', key, 'MINID', String(next - 20_000)], ['MINID']);
	}

	/** LSET needs an existing index: this writer's own list always has at least three elements after the push. */
	async ownList(): Promise<void> {
		const key = this.own('lset');
		await this.send(['RPUSH', key, this.member(), this.member(), this.member()]);
		await this.send(['LSET', key, this.rng.range(-3, 2), this.value()]);
		if (this.rng.chance(0.3)) await this.send(['LTRIM', key, -10, -1]);
	}

	/** RENAME/RENAMENX from a key this writer just created (so it exists) onto a shared key of the same type. */
	async renameOnto(kind: KeyKind, dst: string | Buffer, command: 'RENAME' | 'RENAMENX'): Promise<void> {
		const src = this.own(kind);
		await this.send(this.creator(kind, src));
		await this.send([command, src, dst]);
	}

	/** Two distinct keys of one kind (COPY refuses a key onto itself). */
	twoKeys(kind: KeyKind): [string | Buffer, string | Buffer] {
		const first = this.kindKey(kind);
		for (let attempt = 0; attempt < 10; attempt++) {
			const second = this.kindKey(kind);
			if (!Buffer.from(second).equals(Buffer.from(first))) return [first, second];
		}
		return [first, this.own(kind)];
	}

	evalScript(name: ScriptName, keys: (string | Buffer)[], args: Arg[], bySha: boolean): Promise<unknown> {
		return bySha ? this.send(['EVALSHA', SHAS[name], keys.length, ...keys, ...args]) : this.send(['EVAL', SCRIPTS[name], keys.length, ...keys, ...args]);
	}
}

function expiryOption(s: Session, allowKeepTtl: boolean): [Arg[], string[]] {
	const roll = s.rng.int(allowKeepTtl ? 7 : 6);
	switch (roll) {
		case 0:
			return [['EX', s.rng.range(1, 120)], ['EX']];
		case 1:
			return [['PX', s.rng.range(500, 120_000)], ['PX']];
		case 2:
			return [['EXAT', Math.floor(Date.now() / 1000) + s.rng.range(2, 120)], ['EXAT']];
		case 3:
			return [['PXAT', Date.now() + s.rng.range(500, 120_000)], ['PXAT']];
		case 6:
			return [['KEEPTTL'], ['KEEPTTL']];
		default:
			return [[], []];
	}
}

function getexOption(s: Session): [Arg[], string[]] {
	if (s.rng.chance(0.2)) return [['PERSIST'], ['PERSIST']];
	return expiryOption(s, false);
}

const stringOps: Op[] = [
	(s) => {
		const [ttl, ttlOptions] = expiryOption(s, true);
		const condition = s.rng.pick(['', '', 'NX', 'XX']);
		// SET NX GET is Redis 7 syntax.
		const get = s.rng.chance(0.3) && (condition !== 'NX' || s.env.v7);
		const flags = [...(condition ? [condition] : []), ...(get ? ['GET'] : [])];
		return s.send(['SET', s.key('str'), s.value(), ...ttl, ...flags], [...ttlOptions, ...flags]);
	},
	(s) => s.send(['SETEX', s.key('str'), s.rng.range(1, 120), s.value()]),
	(s) => s.send(['PSETEX', s.key('str'), s.rng.range(500, 60_000), s.value()]),
	(s) => {
		const [ttl, options] = getexOption(s);
		return s.send(['GETEX', s.key('str'), ...ttl], options);
	},
	(s) => s.send(['GETDEL', s.key('str')]),
	(s) => s.send(['APPEND', s.key('str'), s.value()]),
	(s) => s.send(['SETRANGE', s.key('str'), s.rng.int(64), s.value()]),
	(s) => s.send(['MSET', ...s.many(2, 4, () => [s.key('str'), s.value()]).flat()]),
	(s) => s.send(['MSETNX', ...s.many(2, 3, () => [s.key('str'), s.value()]).flat()]),
	(s) => s.send(['SETNX', s.key('str'), s.value()]),
	(s) => s.send(['GETSET', s.key('str'), s.value()]),
];

const counterOps: Op[] = [
	(s) => s.send(['INCR', s.key('int')]),
	(s) => s.send(['INCRBY', s.key('int'), s.rng.range(-1000, 1000)]),
	(s) => s.send(['DECR', s.key('int')]),
	(s) => s.send(['DECRBY', s.key('int'), s.rng.range(1, 50)]),
	(s) => s.send(['SET', s.key('int'), s.rng.range(-1_000_000, 1_000_000), 'EX', s.rng.range(5, 300)], ['EX']),
	(s) => s.send(['INCRBYFLOAT', s.key('flt'), s.rng.pick(FLOAT_STEPS)]),
	(s) => s.send(['SET', s.key('flt'), s.rng.pick(['0', '1.5', '-2.25', '1e2', '3.0e-3', '100'])]),
];

const hashOps: Op[] = [
	(s) => s.send(['HSET', s.key('hash'), ...s.many(1, 4, () => [s.field(), s.value()]).flat()]),
	(s) => s.send(['HSETNX', s.key('hash'), s.field(), s.value()]),
	(s) => s.send(['HINCRBY', s.key('hash'), 'cnt', s.rng.range(-10, 10)]),
	(s) => s.send(['HINCRBYFLOAT', s.key('hash'), 'flt', s.rng.pick(FLOAT_STEPS)]),
	(s) => s.send(['HDEL', s.key('hash'), s.field(), s.field()]),
	(s) => s.send(['HMSET', s.key('hash'), ...s.many(1, 3, () => [s.field(), s.value()]).flat()]),
];

const listOps: Op[] = [
	(s) => s.send(['LPUSH', s.key('list'), ...s.many(1, 3, () => s.value())]),
	(s) => s.send(['RPUSH', s.key('list'), ...s.many(1, 3, () => s.member())]),
	(s) => s.send(['LPUSHX', s.key('list'), s.member()]),
	(s) => s.send(['RPUSHX', s.key('list'), s.member()]),
	(s) => (s.rng.chance(0.5) ? s.send(['LPOP', s.key('list')]) : s.send(['LPOP', s.key('list'), s.rng.range(1, 3)], ['COUNT'])),
	(s) => s.send(['RPOP', s.key('list')]),
	(s) => s.send(['LMOVE', s.key('list'), s.key('list'), s.side(), s.side()]),
	(s) => s.send(['RPOPLPUSH', s.key('list'), s.key('list')]),
	(s) => s.send(['LINSERT', s.key('list'), s.rng.pick(['BEFORE', 'AFTER']), s.member(), s.value()]),
	(s) => {
		// Inside the transaction the push guarantees the index LSET writes.
		const key = s.key('list');
		return s.multi([['RPUSH', key, s.member()], ['LSET', key, -1, s.value()]]);
	},
	(s) => s.ownList(),
	(s) => s.send(['LTRIM', s.key('list'), 0, s.rng.range(5, 30)]),
	(s) => s.send(['LREM', s.key('list'), s.rng.range(-2, 2), s.member()]),
	(s) => (s.env.v7 ? s.send(['LMPOP', 2, s.key('list'), s.key('list'), s.side(), 'COUNT', 2]) : s.send(['RPOP', s.key('list')])),
];

const setOps: Op[] = [
	(s) => s.send(['SADD', s.key('set'), ...s.many(1, 4, () => s.member())]),
	(s) => s.send(['SREM', s.key('set'), s.member(), s.member()]),
	(s) => s.send(['SPOP', s.key('set')]),
	(s) => s.send(['SPOP', s.key('set'), s.rng.range(1, 3)], ['COUNT']),
	(s) => s.send(['SMOVE', s.key('set'), s.key('set'), s.member()]),
	(s) => s.send(['SINTERSTORE', s.key('set'), s.key('set'), s.key('set')]),
	(s) => s.send(['SUNIONSTORE', s.key('set'), s.key('set'), s.key('set')]),
	(s) => s.send(['SDIFFSTORE', s.key('set'), s.key('set'), s.key('set')]),
];

const zsetOps: Op[] = [
	(s) => {
		const flags = s.rng.pick(ZADD_FLAGS);
		return s.send(['ZADD', s.key('zset'), ...flags, ...s.many(1, 3, () => [s.score(true), s.member()]).flat()], flags);
	},
	(s) => {
		const flags = s.rng.pick([[], ['NX'], ['XX'], ['GT'], ['LT'], ['XX', 'GT']]);
		return s.send(['ZADD', s.key('zset'), ...flags, 'INCR', s.score(false), s.member()], [...flags, 'INCR']);
	},
	(s) => s.send(['ZINCRBY', s.key('zset'), s.score(false), s.member()]),
	(s) => s.send(['ZREM', s.key('zset'), s.member(), s.member()]),
	(s) => s.send(['ZPOPMIN', s.key('zset'), ...(s.rng.chance(0.5) ? [s.rng.range(1, 3)] : [])]),
	(s) => s.send(['ZPOPMAX', s.key('zset'), ...(s.rng.chance(0.5) ? [s.rng.range(1, 3)] : [])]),
	(s) => s.send(['ZRANGESTORE', s.key('zset'), s.key('zset'), 0, s.rng.range(0, 10)]),
	(s) => s.send(['ZRANGESTORE', s.key('zset'), s.key('zset'), '-inf', `(${s.rng.range(-500, 500)}`, 'BYSCORE', 'LIMIT', 0, 5], ['BYSCORE']),
	(s) => {
		const weights = s.rng.chance(0.5) ? ['WEIGHTS', s.rng.range(1, 3), s.rng.range(1, 3)] : [];
		const aggregate = s.rng.chance(0.5) ? ['AGGREGATE', s.rng.pick(['SUM', 'MIN', 'MAX'])] : [];
		return s.send(['ZUNIONSTORE', s.key('zset'), 2, s.key('zset'), s.key('zset'), ...weights, ...aggregate]);
	},
	(s) => s.send(['ZINTERSTORE', s.key('zset'), 2, s.key('zset'), s.key('zset')]),
	(s) => s.send(['ZREMRANGEBYRANK', s.key('zset'), 0, s.rng.range(0, 2)]),
	(s) => s.send(['ZREMRANGEBYSCORE', s.key('zset'), '-inf', s.rng.range(-1000, 0)]),
	(s) => (s.env.v7 ? s.send(['ZMPOP', 2, s.key('zset'), s.key('zset'), s.rng.pick(['MIN', 'MAX']), 'COUNT', 2]) : s.send(['ZPOPMIN', s.key('zset')])),
];

const streamOps: Op[] = [
	(s) => s.xadd(s.key('stream')),
	(s) => s.xadd(s.key('stream')),
	(s) => s.send(['XTRIM', s.key('stream'), 'MAXLEN', ...(s.rng.chance(0.5) ? ['~'] : []), s.rng.range(5, 50)], ['MAXLEN']),
	(s) => s.send(['XTRIM', s.key('stream'), 'MINID', '~', String(Date.now() - s.rng.range(1000, 20_000))], ['MINID']),
	(s) => s.send(['XDEL', s.key('stream'), s.recentId(), s.recentId()]),
];

/** Ops on a writer-owned stream with a consumer group; each creates the group instead when it has none. */
function withGroup(action: (s: Session, key: string, state: GroupStream) => Promise<unknown>): Op {
	return async (s) => {
		const stream = await s.groupStream();
		if (stream) await action(s, stream.key, stream.state);
	};
}

const streamGroupOps: Op[] = [
	withGroup((s, key) => s.xadd(key)),
	withGroup(async (s, key, state) => {
		const reply = await s.send(['XREADGROUP', 'GROUP', 'g', `c${s.rng.int(3)}`, 'COUNT', s.rng.range(1, 5), 'STREAMS', key, '>']);
		state.delivered.push(...readReplyIds(reply));
		state.delivered.splice(0, Math.max(0, state.delivered.length - 50));
	}),
	withGroup(async (s, key, state) => {
		const acked = state.delivered.splice(0, s.rng.range(1, 3));
		await s.send(['XACK', key, 'g', ...(acked.length > 0 ? acked : ['0-1'])]);
	}),
	withGroup((s, key, state) => {
		const ids = state.delivered.slice(0, 3);
		const flags = s.rng.pick([[], ['JUSTID'], ['FORCE'], ['RETRYCOUNT', '3']]);
		return s.send(['XCLAIM', key, 'g', `c${s.rng.int(3)}`, 0, ...(ids.length > 0 ? ids : ['0-1']), ...flags]);
	}),
	withGroup(async (s, key, state) => {
		const reply = await s.send(['XAUTOCLAIM', key, 'g', `c${s.rng.int(3)}`, 0, '0-0', 'COUNT', s.rng.range(1, 5), ...(s.rng.chance(0.3) ? ['JUSTID'] : [])]);
		// Claimed entries stay pending under their new owner; later XACKs may settle them.
		if (Array.isArray(reply)) state.delivered.push(...entryIds(reply[1]).filter((id) => !state.delivered.includes(id)));
	}),
	withGroup((s, key) => {
		const entriesRead = s.env.v7 && s.rng.chance(0.3) ? ['ENTRIESREAD', s.rng.int(10)] : [];
		return s.send(['XGROUP', 'SETID', key, 'g', s.rng.pick(['$', '0']), ...entriesRead], ['SETID']);
	}),
	withGroup((s, key) =>
		s.rng.chance(0.5)
			? s.send(['XGROUP', 'CREATECONSUMER', key, 'g', `c${s.rng.int(5)}`], ['CREATECONSUMER'])
			: s.send(['XGROUP', 'DELCONSUMER', key, 'g', `c${s.rng.int(5)}`], ['DELCONSUMER']),
	),
	withGroup(async (s, key, state) => {
		// Rarely: the group (or the whole stream) goes away and is recreated by a later op.
		if (!s.rng.chance(0.2)) return s.send(['XTRIM', key, 'MAXLEN', '~', 100], ['MAXLEN']);
		state.hasGroup = false;
		state.delivered = [];
		return s.rng.chance(0.5) ? s.send(['XGROUP', 'DESTROY', key, 'g'], ['DESTROY']) : s.send(['DEL', key]);
	}),
	(s) => s.explicitIdStream(),
];

const hyperloglogOps: Op[] = [
	(s) => s.send(['PFADD', s.key('hll'), ...s.many(1, 5, () => s.member())]),
	(s) => s.send(['PFADD', s.key('hll'), ...s.many(1, 5, () => s.member())]),
	(s) => s.send(['PFMERGE', s.key('hll'), s.key('hll'), s.key('hll')]),
	// PFCOUNT rewrites the cached cardinality inside the value: a "read" that changes the bytes.
	(s) => s.send(['PFCOUNT', s.key('hll')]),
];

const bitmapOps: Op[] = [
	(s) => s.send(['SETBIT', s.key('bit'), s.rng.int(4096), s.rng.int(2)]),
	(s) => s.send(['BITOP', s.rng.pick(['AND', 'OR', 'XOR']), s.key('bit'), s.key('bit'), s.key('bit')]),
	(s) => s.send(['BITOP', 'NOT', s.key('bit'), s.key('bit')], ['NOT']),
	(s) =>
		s.send([
			'BITFIELD', s.key('bit'),
			'SET', 'u8', `#${s.rng.int(64)}`, s.rng.int(256),
			'OVERFLOW', s.rng.pick(['WRAP', 'SAT', 'FAIL']),
			'INCRBY', 'i16', s.rng.int(512), s.rng.range(-300, 300),
		]),
];

const geoOps: Op[] = [
	(s) => {
		const flags = s.rng.pick([[], ['NX'], ['XX'], ['CH'], ['NX', 'CH']]);
		return s.send(['GEOADD', s.key('geo'), ...flags, ...s.many(1, 3, () => [randomLongitude(s.rng), randomLatitude(s.rng), s.member()]).flat()], flags);
	},
	(s) =>
		s.send([
			'GEOSEARCHSTORE', s.key('geo'), s.key('geo'),
			'FROMLONLAT', randomLongitude(s.rng), randomLatitude(s.rng),
			'BYRADIUS', s.rng.range(100, 20_000), 'km', 'ASC', 'COUNT', s.rng.range(1, 10),
			...(s.rng.chance(0.3) ? ['STOREDIST'] : []),
		]),
	(s) => s.send(['ZREM', s.key('geo'), s.member()]),
];

const binaryOps: Op[] = [
	(s) => s.send(['SET', s.binaryKey('bin'), s.binaryValue(), ...(s.rng.chance(0.3) ? ['PX', s.rng.range(100, 30_000)] : [])]),
	(s) => s.send(['APPEND', s.binaryKey('bin'), s.binaryValue()]),
	(s) => s.send(['GETDEL', s.binaryKey('bin')]),
	(s) => s.send(['MSET', s.binaryKey('bin'), s.binaryValue(), s.binaryKey('bin'), s.binaryValue()]),
	(s) => s.send(['SETRANGE', s.binaryKey('bin'), s.rng.int(32), s.binaryValue()]),
	(s) => s.send(['HSET', s.binaryKey('binh'), ...s.many(1, 3, () => [Buffer.from([s.rng.int(256)]), s.binaryValue()]).flat()]),
	(s) => s.send(['HDEL', s.binaryKey('binh'), Buffer.from([s.rng.int(256)])]),
];

const keyspaceOps: Op[] = [
	(s) => {
		const condition = s.env.v7 ? s.rng.pick(['', '', 'NX', 'XX', 'GT', 'LT']) : '';
		return s.send(['EXPIRE', s.kindKey(s.rng.pick(KEY_KINDS)), s.rng.range(1, 300), ...(condition ? [condition] : [])], condition ? [condition] : []);
	},
	(s) => s.send(['PEXPIRE', s.kindKey(s.rng.pick(KEY_KINDS)), s.rng.range(500, 120_000)]),
	(s) => s.send(['EXPIREAT', s.kindKey(s.rng.pick(KEY_KINDS)), Math.floor(Date.now() / 1000) + s.rng.range(2, 300)]),
	(s) => s.send(['PEXPIREAT', s.kindKey(s.rng.pick(KEY_KINDS)), Date.now() + s.rng.range(500, 120_000)]),
	(s) => s.send(['PERSIST', s.kindKey(s.rng.pick(KEY_KINDS))]),
	(s) => {
		const kind = s.rng.pick(KEY_KINDS);
		return s.renameOnto(kind, s.kindKey(kind), 'RENAME');
	},
	(s) => {
		const kind = s.rng.pick(KEY_KINDS);
		return s.renameOnto(kind, s.kindKey(kind), 'RENAMENX');
	},
	(s) => {
		const [src, dst] = s.twoKeys(s.rng.pick(KEY_KINDS));
		const replace = s.rng.chance(0.5) ? ['REPLACE'] : [];
		return s.send(['COPY', src, dst, ...replace], replace);
	},
	(s) => s.send(['DEL', ...s.many(1, 3, () => s.kindKey(s.rng.pick(KEY_KINDS)))]),
	(s) => s.send(['UNLINK', ...s.many(1, 3, () => s.kindKey(s.rng.pick(KEY_KINDS)))]),
	async (s) => {
		// A stream with a consumer group copied onto a shared key: DUMP must carry the group.
		const stream = await s.groupStream();
		if (stream) await s.send(['COPY', stream.key, s.key('stream'), 'REPLACE'], ['REPLACE']);
	},
];

const ttlOps: Op[] = [
	(s) => s.send(['SET', s.key('str'), s.value(), 'PX', s.shortTtl()], ['PX']),
	(s) => s.send(['PSETEX', s.key('str'), s.shortTtl(), s.value()]),
	(s) => s.send(['SET', s.key('str'), s.value(), 'EX', 1], ['EX']),
	(s) => s.send(['GETEX', s.key('str'), 'PX', s.shortTtl()], ['PX']),
	(s) => s.send(['SET', s.binaryKey('bin'), s.binaryValue(), 'PX', s.shortTtl()], ['PX']),
	async (s) => {
		const kind = s.rng.pick(['hash', 'list', 'set', 'zset', 'stream', 'int'] as const);
		const key = s.key(kind);
		await s.send(s.creator(kind, key));
		await s.send(['PEXPIRE', key, s.shortTtl()]);
	},
	(s) => s.send(['PEXPIREAT', s.kindKey(s.rng.pick(KEY_KINDS)), Date.now() + s.shortTtl()]),
];

const scriptOps: Op[] = [
	(s) => s.evalScript('fanout', [s.key('str'), s.key('hash'), s.key('list')], [s.value()], s.rng.chance(0.5)),
	(s) => s.evalScript('spopMove', [s.key('set'), s.key('set'), s.key('str')], [], s.rng.chance(0.5)),
	(s) => s.evalScript('srandCopy', [s.key('set'), s.key('hash')], [], s.rng.chance(0.5)),
	(s) => s.evalScript('stamp', [s.key('str')], [s.rng.range(100, 60_000)], s.rng.chance(0.5)),
	(s) => s.evalScript('limiter', [s.key('int')], [s.rng.range(100, 5000)], s.rng.chance(0.5)),
	(s) =>
		s.env.v7
			? s.send(['FCALL', 'kf_bump', 2, s.key('int'), s.key('zset'), s.rng.range(1, 5)])
			: s.evalScript('limiter', [s.key('int')], [1000], true),
];

type Part = (s: Session) => Command[];
const transactionParts: Part[] = [
	(s) => [['SET', s.key('str'), s.value(), 'PX', s.rng.range(100, 60_000)]],
	(s) => [['INCR', s.key('int')]],
	(s) => [['HSET', s.key('hash'), s.field(), s.value()]],
	(s) => [['HINCRBY', s.key('hash'), 'cnt', 1]],
	(s) => {
		const key = s.key('list');
		return [['RPUSH', key, s.member()], ['LSET', key, 0, s.value()]];
	},
	(s) => [['LPOP', s.key('list')]],
	(s) => [['SADD', s.key('set'), s.member()]],
	(s) => [['SPOP', s.key('set')]],
	(s) => [['ZADD', s.key('zset'), s.score(false), s.member()]],
	(s) => [['ZPOPMIN', s.key('zset')]],
	(s) => [['XADD', s.key('stream'), 'MAXLEN', '~', 50, '*', 'f', s.value()]],
	(s) => [['PFADD', s.key('hll'), s.member()]],
	(s) => [['SETBIT', s.key('bit'), s.rng.int(1024), 1]],
	(s) => [['EXPIRE', s.kindKey(s.rng.pick(KEY_KINDS)), s.rng.range(1, 120)]],
	(s) => [['PEXPIRE', s.kindKey(s.rng.pick(KEY_KINDS)), s.shortTtl()]],
	(s) => [['DEL', s.kindKey(s.rng.pick(KEY_KINDS))]],
	(s) => {
		const kind = s.rng.pick(KEY_KINDS);
		const src = s.own(kind);
		return [s.creator(kind, src), ['RENAME', src, s.kindKey(kind)]];
	},
];

const transactionOps: Op[] = [
	(s) => s.multi(s.many(2, 5, () => s.rng.pick(transactionParts)(s)).flat()),
	(s) => s.multi(s.many(2, 5, () => s.rng.pick(transactionParts)(s)).flat()),
	async (s) => {
		// Optimistic locking: other writers may touch the key between WATCH and EXEC, and then EXEC discards the block.
		if (s.env.cluster) return s.multi([['INCR', s.key('int')], ['HINCRBY', s.key('hash'), 'cnt', 1]]);
		const key = s.key('int');
		await s.send(['WATCH', key]);
		const current = await s.send(['GET', key]);
		await s.multi([['SET', key, Number(current ?? 0) + 1], ['RPUSH', s.key('list'), s.member()]]);
	},
];

const multiDbOps: Op[] = [
	async (s) => {
		const db = s.otherDb();
		if (db !== undefined) await s.select(db);
	},
	async (s) => {
		const db = s.otherDb();
		if (db !== undefined) await s.send(['MOVE', s.kindKey(s.rng.pick(KEY_KINDS)), db]);
	},
	async (s) => {
		const db = s.otherDb();
		const kind = s.rng.pick(KEY_KINDS);
		const replace = s.rng.chance(0.5) ? ['REPLACE'] : [];
		if (db !== undefined) await s.send(['COPY', s.kindKey(kind), s.kindKey(kind), 'DB', db, ...replace], ['DB', ...replace]);
	},
];

const pushOps: Op[] = [
	(s) => s.send(['LPUSH', queueKey(s.env.cluster, 'bq', s.rng.int(QUEUE_GROUPS), s.rng.int(QUEUE_KEYS)), ...s.many(1, 3, () => s.member())]),
	(s) => s.send(['RPUSH', queueKey(s.env.cluster, 'bq', s.rng.int(QUEUE_GROUPS), s.rng.int(QUEUE_KEYS)), s.value()]),
	(s) => s.send(['ZADD', queueKey(s.env.cluster, 'bz', s.rng.int(QUEUE_GROUPS), s.rng.int(QUEUE_KEYS)), ...s.many(1, 2, () => [s.score(false), s.member()]).flat()]),
];

const queueOps: Op[] = [
	...pushOps,
	...pushOps,
	...pushOps,
	// Jobs and wake-ups go to consumers in this writer's db, where they can wake them.
	(s) => {
		const here = consumersIn(s.env, s.db);
		return here.length > 0
			? s.send(['XADD', consumerKey(s.env, 'bx', s.rng.pick(here)), 'MAXLEN', '~', 100, '*', 'job', s.value()], ['MAXLEN', '*'])
			: s.send(['LPUSH', queueKey(s.env.cluster, 'bq', 0, 0), s.member()]);
	},
	(s) => {
		const here = consumersIn(s.env, s.db);
		return here.length > 0 ? s.send(['LPUSH', consumerKey(s.env, 'bw', s.rng.pick(here)), 'wake']) : s.send(['RPUSH', queueKey(s.env.cluster, 'bq', 0, 0), s.member()]);
	},
	async (s) => {
		// RENAME onto a key a consumer may be blocked on wakes it without any push.
		const group = s.rng.int(QUEUE_GROUPS);
		const src = s.env.cluster ? `kf:bq:{q${group}}:${s.owner}` : `kf:bq:${group}:${s.owner}`;
		await s.send(['RPUSH', src, s.member(), s.member()]);
		await s.send(['RENAME', src, queueKey(s.env.cluster, 'bq', group, s.rng.int(QUEUE_KEYS))]);
	},
	(s) => {
		const group = s.rng.int(QUEUE_GROUPS);
		return s.send(['LMOVE', queueKey(s.env.cluster, 'bq', group, s.rng.int(QUEUE_KEYS)), queueKey(s.env.cluster, 'bq', group, s.rng.int(QUEUE_KEYS)), s.side(), s.side()]);
	},
	(s) => {
		const key = queueKey(s.env.cluster, s.rng.pick(['bq', 'bz'] as const), s.rng.int(QUEUE_GROUPS), s.rng.int(QUEUE_KEYS));
		return s.rng.chance(0.5) ? s.send(['DEL', key]) : s.send(['PEXPIRE', key, s.shortTtl()]);
	},
	(s) => s.send(['LTRIM', queueKey(s.env.cluster, 'bq', s.rng.int(QUEUE_GROUPS), s.rng.int(QUEUE_KEYS)), 0, 200]),
	// Writers popping the same queues race the blocked consumers for each element.
	(s) => s.send([s.rng.pick(['LPOP', 'RPOP']), queueKey(s.env.cluster, 'bq', s.rng.int(QUEUE_GROUPS), s.rng.int(QUEUE_KEYS))]),
	(s) => s.send(['ZPOPMIN', queueKey(s.env.cluster, 'bz', s.rng.int(QUEUE_GROUPS), s.rng.int(QUEUE_KEYS))]),
];

const seededOps: Op[] = [
	(s) => s.send(['SETRANGE', BIG_KEYS.string, s.rng.int(16_384), s.binaryValue()]),
	(s) => s.send(['HSET', BIG_KEYS.hash, `field:${s.rng.int(200_000)}`, s.value()]),
	(s) => s.send(['HDEL', BIG_KEYS.hash, `field:${s.rng.int(200_000)}`]),
	async (s) => {
		await s.send(['RPUSH', BIG_KEYS.list, s.value()]);
		await s.send(['LPOP', BIG_KEYS.list]);
	},
	(s) => (s.rng.chance(0.5) ? s.send(['SADD', BIG_KEYS.set, `member:${s.rng.int(250_000)}`]) : s.send(['SREM', BIG_KEYS.set, `member:${s.rng.int(200_000)}`])),
	(s) => s.send(['ZINCRBY', BIG_KEYS.zset, s.rng.range(1, 10), `member:${s.rng.int(200_000)}`]),
	async (s) => {
		await s.send(['XADD', BIG_KEYS.stream, '*', 'n', s.rng.int(1e6), 'payload', s.value()], ['*']);
		// The seed's group exists only where the seed put the big keys.
		if (!s.env.seededGroup || s.db !== s.env.dbs[0]) return;
		const ids = readReplyIds(await s.send(['XREADGROUP', 'GROUP', BIG_STREAM_GROUP, 'worker-3', 'COUNT', 3, 'STREAMS', BIG_KEYS.stream, '>']));
		if (ids.length > 0) await s.send(['XACK', BIG_KEYS.stream, BIG_STREAM_GROUP, ...ids.slice(0, 2)]);
	},
	(s) => {
		const {key, type} = seedSmallKey(s.rng.int(DEFAULT_SEED_KEYS));
		switch (type) {
			case 'string':
				return s.send(['APPEND', key, s.value()]);
			case 'int':
				return s.send(['INCR', key]);
			case 'hash':
				return s.send(['HSET', key, `f${s.rng.int(30)}`, s.value()]);
			case 'list':
				return s.rng.chance(0.5) ? s.send(['RPUSH', key, s.value()]) : s.send(['LPOP', key]);
			case 'set':
				return s.rng.chance(0.5) ? s.send(['SADD', key, s.member()]) : s.send(['SPOP', key]);
			case 'zset':
				return s.send(['ZINCRBY', key, 1, `m${s.rng.int(20)}`]);
			case 'stream':
				return s.send(['XADD', key, 'MAXLEN', '~', 30, '*', 'v', s.value()], ['MAXLEN', '*']);
			case 'hll':
				return s.send(['PFADD', key, s.member()]);
			case 'bitmap':
				return s.send(['SETBIT', key, s.rng.int(4096), 1]);
			case 'geo':
				return s.send(['GEOADD', key, randomLongitude(s.rng), randomLatitude(s.rng), s.member()]);
			case 'binary':
				return s.send(['APPEND', key, s.binaryValue()]);
		}
	},
	(s) => {
		const {key} = seedSmallKey(s.rng.int(DEFAULT_SEED_KEYS));
		return s.send(s.rng.pick<Command>([['EXPIRE', key, s.rng.range(1, 600)], ['PERSIST', key], ['DEL', key], ['PEXPIRE', key, s.shortTtl()]]));
	},
	(s) => s.send(['SET', seedByteKey(s.rng.int(256)), s.binaryValue()]),
];

const readOps: Op[] = [
	(s) => s.send(['GET', s.key('str')]),
	(s) => s.send(['MGET', s.key('str'), s.key('str')]),
	(s) => s.send(['HGETALL', s.key('hash')]),
	(s) => s.send(['LRANGE', s.key('list'), 0, -1]),
	(s) => s.send(['SMEMBERS', s.key('set')]),
	(s) => s.send(['SRANDMEMBER', s.key('set'), 2]),
	(s) => s.send(['ZRANGE', s.key('zset'), 0, -1, 'WITHSCORES']),
	(s) => s.send(['XRANGE', s.key('stream'), '-', '+', 'COUNT', 5]),
	(s) => s.send(['EXISTS', s.kindKey(s.rng.pick(KEY_KINDS)), s.kindKey(s.rng.pick(KEY_KINDS))]),
	(s) => s.send([s.rng.pick(['TTL', 'PTTL', 'TYPE']), s.kindKey(s.rng.pick(KEY_KINDS))]),
	(s) => s.send(['BITCOUNT', s.key('bit')]),
	(s) => (s.env.cluster ? s.send(['STRLEN', s.key('str')]) : s.send(['SCAN', 0, 'MATCH', 'kf:*', 'COUNT', 20])),
];

const FAMILIES: Family[] = [
	{name: 'string', weight: 12, ops: stringOps},
	{name: 'counter', weight: 8, ops: counterOps},
	{name: 'hash', weight: 8, ops: hashOps},
	{name: 'list', weight: 8, ops: listOps},
	{name: 'set', weight: 6, ops: setOps},
	{name: 'zset', weight: 7, ops: zsetOps},
	{name: 'stream', weight: 5, ops: streamOps},
	{name: 'streamGroup', weight: 5, ops: streamGroupOps},
	{name: 'hyperloglog', weight: 2, ops: hyperloglogOps},
	{name: 'bitmap', weight: 2, ops: bitmapOps},
	{name: 'geo', weight: 2, ops: geoOps},
	{name: 'binary', weight: 6, ops: binaryOps},
	{name: 'keyspace', weight: 8, ops: keyspaceOps},
	{name: 'ttl', weight: 5, ops: ttlOps},
	{name: 'script', weight: 3, ops: scriptOps},
	{name: 'transaction', weight: 3, ops: transactionOps},
	{name: 'multiDb', weight: 2, standaloneOnly: true, ops: multiDbOps},
	{name: 'queue', weight: 6, ops: queueOps},
	{name: 'seeded', weight: 3, ops: seededOps},
	{name: 'read', weight: 3, ops: readOps},
];

/** The byFamily names a run issues: every writer family, plus "blocking" for the consumers. */
export function trafficFamilies(options: {cluster?: boolean; blockingConsumers?: number}): string[] {
	const writers = FAMILIES.filter((family) => !(options.cluster && family.standaloneOnly)).map((family) => family.name);
	return (options.blockingConsumers ?? 2) > 0 ? [...writers, 'blocking'] : writers;
}

/** A blocking consumer: pops with short timeouts (and sometimes timeout 0) from the keys the producers push to. */
class Consumer {
	/** Inside BLPOP with timeout 0: only a push to its bw key ends it. */
	waitingForever = false;
	private readonly client: Client;
	/** Cycles through the blocking commands (from a random start) so a short run still issues each of them. */
	private turn: number;

	constructor(
		readonly id: number,
		readonly db: number,
		private readonly rng: Rng,
		private readonly env: Env,
		connect: (db: number) => Client,
	) {
		this.client = connect(db);
		this.turn = rng.int(10);
	}

	private async send(command: Command): Promise<unknown> {
		const [name, ...args] = command;
		this.env.recorder.count('blocking', name);
		try {
			return await this.client.call(name, ...args);
		} catch (error) {
			this.env.recorder.fail('blocking', name, error);
			return undefined;
		}
	}

	async run(): Promise<void> {
		const stream = consumerKey(this.env, 'bx', this.id);
		// A fresh stream and group: leftovers from an earlier run must not make XGROUP CREATE fail.
		await this.send(['DEL', stream]);
		await this.send(['XGROUP', 'CREATE', stream, 'g', '$', 'MKSTREAM']);
		while (!this.env.stopping) await this.step(stream);
	}

	private async step(stream: string): Promise<void> {
		const {cluster, v7} = this.env;
		const group = this.rng.int(QUEUE_GROUPS);
		const list = (index = this.rng.int(QUEUE_KEYS)) => queueKey(cluster, 'bq', group, index);
		const zset = (index = this.rng.int(QUEUE_KEYS)) => queueKey(cluster, 'bz', group, index);
		// Short timeouts keep stop() bounded.
		const timeout = this.rng.pick(['0.05', '0.1', '0.2', '0.5']);
		const side = () => this.rng.pick(['LEFT', 'RIGHT']);
		switch (this.turn++ % 10) {
			case 0:
				await this.send(['BLPOP', list(0), list(1), list(2), timeout]);
				break;
			case 1:
				await this.send(['BRPOP', list(), timeout]);
				break;
			case 2:
				await this.send(['BLMOVE', list(), list(), side(), side(), timeout]);
				break;
			case 3:
				await this.send(['BRPOPLPUSH', list(), list(), timeout]);
				break;
			case 4:
				await this.send(['BZPOPMIN', zset(0), zset(1), timeout]);
				break;
			case 5:
				await this.send(['BZPOPMAX', zset(), timeout]);
				break;
			case 6:
				await this.send(v7 ? ['BLMPOP', timeout, 2, list(0), list(1), side(), 'COUNT', 2] : ['BLPOP', list(), timeout]);
				break;
			case 7:
				await this.send(v7 ? ['BZMPOP', timeout, 2, zset(0), zset(1), 'MIN', 'COUNT', 2] : ['BZPOPMIN', zset(), timeout]);
				break;
			case 8: {
				const reply = await this.send(['XREADGROUP', 'GROUP', 'g', `consumer${this.id}`, 'COUNT', 10, 'BLOCK', Math.round(Number(timeout) * 1000), 'STREAMS', stream, '>']);
				const ids = readReplyIds(reply);
				if (ids.length > 0) await this.send(['XACK', stream, 'g', ...ids]);
				break;
			}
			default: {
				const key = consumerKey(this.env, 'bw', this.id);
				if (this.rng.chance(0.3)) {
					this.waitingForever = true;
					await this.send(['BLPOP', key, 0]);
					this.waitingForever = false;
				} else {
					await this.send(['BLPOP', key, timeout]);
				}
			}
		}
	}
}

function endpoint(options: TrafficOptions): {port: number; password: string | undefined} {
	if (!options.url) return {port: options.port, password: options.password};
	const url = new URL(options.url);
	if (!['127.0.0.1', 'localhost'].includes(url.hostname)) throw new Error(`traffic only goes to 127.0.0.1, not ${url.hostname}`);
	return {port: options.port, password: options.password ?? (url.password ? decodeURIComponent(url.password) : undefined)};
}

function pickFamily(rng: Rng, families: Family[], totalWeight: number): Family {
	let roll = rng.next() * totalWeight;
	for (const family of families) {
		roll -= family.weight;
		if (roll < 0) return family;
	}
	return families[families.length - 1]!;
}

export function startTraffic(options: TrafficOptions): Traffic {
	const {port, password} = endpoint(options);
	const cluster = options.cluster ?? false;
	const connections = Math.max(1, options.connections ?? 8);
	const consumers = Math.max(0, options.blockingConsumers ?? 2);
	const rate = options.opsPerSecond ?? 2000;
	const seed = options.seed ?? 1;
	const recorder = new Recorder();
	const env: Env = {
		cluster,
		seed,
		dbs: cluster ? [0] : options.dbs?.length ? options.dbs : [0, 1, 2],
		// Each cluster tag group needs several keys, or multi-key ops keep hitting the same one.
		keySpace: Math.max(options.keySpace ?? 500, cluster ? TAG_GROUPS * 4 : 4),
		consumers,
		v7: false,
		seededGroup: false,
		stopping: false,
		recorder,
	};
	const families = FAMILIES.filter((family) => !(cluster && family.standaloneOnly));
	const totalWeight = families.reduce((sum, family) => sum + family.weight, 0);

	const clients: Client[] = [];
	const connect = (db: number): Client => {
		const client: Client = cluster
			? new Cluster([{host: '127.0.0.1', port}], {redisOptions: {password}})
			: new Redis({host: '127.0.0.1', port, password, db, maxRetriesPerRequest: 1});
		// Failures surface through the command promises, where they are counted.
		client.on('error', () => {});
		clients.push(client);
		return client;
	};

	const control = connect(env.dbs[0]!);
	const ready = setup(control, env).then(
		() => true,
		(error: unknown) => {
			recorder.fail('setup', 'SETUP', error);
			return false;
		},
	);

	const sessions = Array.from({length: connections}, (_, i) => new Session(i, connect(env.dbs[i % env.dbs.length]!), new Rng(seed * 1000 + i), env));
	const writers = sessions.map(async (session) => {
		if (!(await ready)) return;
		const started = Date.now();
		const perWriter = rate / connections;
		while (!env.stopping) {
			const ahead = perWriter > 0 ? started + (session.sent * 1000) / perWriter - Date.now() : 0;
			if (ahead > 1) {
				await sleep(Math.min(ahead, 100));
				continue;
			}
			const family = pickFamily(session.rng, families, totalWeight);
			session.beginOp(family.name);
			await session.rng.pick(family.ops)(session);
		}
	});

	const blocking = Array.from({length: consumers}, (_, i) => new Consumer(i, consumerDb(env, i), new Rng(seed * 1000 + 500 + i), env, connect));
	const consumerRuns = blocking.map(async (consumer) => {
		if (await ready) await consumer.run();
	});

	let stopped: Promise<TrafficStats> | undefined;
	const stop = async (): Promise<TrafficStats> => {
		env.stopping = true;
		// Last resort: a wedged connection must not hang the test; dropping it rejects its commands.
		const deadline = setTimeout(() => {
			recorder.fail('traffic', 'STOP', new Error(`did not stop within ${STOP_DEADLINE_MS} ms`));
			for (const client of clients) client.disconnect();
		}, STOP_DEADLINE_MS);
		await Promise.all(writers);
		await releaseWaiters(control, blocking, env);
		await Promise.all(consumerRuns);
		clearTimeout(deadline);
		for (const client of clients) client.disconnect();
		return recorder.stats();
	};
	return {
		stop() {
			stopped ??= stop();
			return stopped;
		},
	};
}

async function setup(control: Client, env: Env): Promise<void> {
	const info = String(await control.call('INFO', 'server'));
	env.v7 = Number(/redis_version:(\d+)/.exec(info)?.[1] ?? 0) >= 7;
	try {
		await control.call('XINFO', 'GROUPS', BIG_KEYS.stream);
		env.seededGroup = true;
	} catch {
		env.seededGroup = false;
	}
	// EVALSHA and FCALL need the script on every master the keys can hash to.
	const masters: (Redis | Cluster)[] = control instanceof Cluster ? control.nodes('master') : [control];
	await Promise.all(
		masters.map(async (node) => {
			for (const body of Object.values(SCRIPTS)) await node.call('SCRIPT', 'LOAD', body);
			if (env.v7) await node.call('FUNCTION', 'LOAD', 'REPLACE', FUNCTION_LIBRARY);
		}),
	);
}

/** Ends every BLPOP with timeout 0 by pushing to the key it waits on. */
async function releaseWaiters(control: Client, consumers: Consumer[], env: Env): Promise<void> {
	for (let attempt = 0; attempt < 100; attempt++) {
		const waiting = consumers.filter((consumer) => consumer.waitingForever);
		if (waiting.length === 0) return;
		for (const consumer of waiting) {
			env.recorder.count('blocking', 'LPUSH');
			try {
				if (!env.cluster) await control.call('select', consumer.db);
				await control.call('LPUSH', consumerKey(env, 'bw', consumer.id), 'release');
			} catch (error) {
				env.recorder.fail('blocking', 'LPUSH', error);
			}
		}
		await sleep(20);
	}
}
