/**
 * Full compare of two servers at rest: every key of every db, both ways.
 *
 * Forward pass: SCAN the source; for each page, one Lua call per side returns type, PTTL and the
 * value of every small key (the "snapshot"), and the two snapshots are compared in process. Only
 * keys that look different, or are too big to inline, go to `compareKey`, which reads them page by
 * page and has the final word, so a reported discrepancy is always confirmed by the exact
 * comparer. One command per page per side instead of several per key is what makes this fast:
 * ioredis spends microseconds per command, Redis spends microseconds per key.
 *
 * Reverse pass, at the same time: SCAN the target; one multi-key EXISTS per page on the source
 * finds the pages that hold extras, and only those are looked at key by key.
 *
 * When scripting is refused (ACL without @scripting, renamed EVALSHA), every key goes through
 * `compareKey`: slower, same answers.
 *
 * Either side may be a cluster (db 0 only): its keyspace is scanned master by master, and the
 * snapshot and EXISTS calls are split by the node (and slot) that owns each key.
 */
import {createHash} from 'node:crypto';
import type Redis from 'ioredis';
import type {DiscrepancyRecord} from '../engine/events';
import {ExitCode, KeyferryError} from '../errors';
import {parseInfo, parseKeyspace} from '../redis/info';
import {readClusterShards} from '../redis/topology';
import {keySlot, slotCount} from '../replay/cluster-routing';
import {compareKey, defaultChunk, execAll, isReplyError, sameScore, scanPageLimit, scanRunaway, stringWindow, ttlMatches, type CompareOptions} from './compare-key';

export interface FullCompareOptions extends CompareOptions {
	/** Default: every db listed in INFO keyspace on either side. */
	dbs?: number[];
	/** SCAN COUNT, which is also the keys per snapshot call (default 1000). */
	scanCount?: number;
	onDiscrepancy(record: DiscrepancyRecord): void;
	onProgress?(checked: number): void;
	signal?: AbortSignal;
}

export interface FullCompareResult {
	checked: number;
	discrepancies: number;
	durationMs: number;
}

/** Two standalone servers. */
export interface CompareSides {
	/** A connection selected to `db`; the caller owns it and closes it. */
	sourceFor(db: number): Promise<Redis>;
	targetFor(db: number): Promise<Redis>;
}

/**
 * One side of any kind: a standalone server (a connection selected to `db`), or a cluster (one
 * connection to each master, db 0 only). The caller owns the connections and closes them.
 */
export type CompareSide = {connectionFor(db: number): Promise<Redis>} | {cluster: {masters: Redis[]}};

/** Sides of any kind (standalone ↔ cluster in either direction, cluster ↔ cluster). */
export interface MixedCompareSides {
	source: CompareSide;
	target: CompareSide;
}

/**
 * One side of the comparison within one db; the passes only talk to Redis through it. A cluster
 * side (`clusterSide`) scans one connection per master (SCAN covers one node's keyspace), splits
 * `snapshot` and `exists` by owning node (by slot for EXISTS) and puts the answers back in order;
 * `connectionFor` is the owning node. The snapshot script passes keys as ARGV, which scripts
 * without a shebang may do across slots on the node that serves them.
 */
interface Side {
	scanNodes: Redis[];
	/** Snapshots of `keys` in order, or null when this side refuses scripting. */
	snapshot(keys: Buffer[]): Promise<Snapshot[] | null>;
	/** For each key, whether it exists. */
	exists(keys: Buffer[]): Promise<boolean[]>;
	connectionFor(key: Buffer): Redis;
}

const defaultScanCount = 1000;
/** Pages compared at once: the next SCAN and the two snapshot calls overlap with comparing. */
const pagesInFlight = 3;
/** Keys handed to `compareKey` at once within a page (big keys, suspects). */
const perKeyConcurrency = 8;
/** Value bytes one snapshot call returns before it stops and lets the caller ask for the rest. */
const snapshotBudget = 4 * 1024 * 1024;

export async function fullCompare(sides: CompareSides | MixedCompareSides, options: FullCompareOptions): Promise<FullCompareResult> {
	const started = performance.now();
	const run: Run = {options, checked: 0, discrepancies: 0};
	const [source, target]: [CompareSide, CompareSide] = 'sourceFor' in sides ? [{connectionFor: sides.sourceFor}, {connectionFor: sides.targetFor}] : [sides.source, sides.target];
	const dbs = options.dbs ?? (await keyspaceDbs([source, target]));
	const limits: SnapshotLimits = {maxString: stringWindow, maxElements: options.chunk ?? defaultChunk, budget: snapshotBudget};
	// A cluster's slot map is read once: a comparison runs at rest.
	const [sourceCluster, targetCluster] = await Promise.all([clusterOf(source, limits), clusterOf(target, limits)]);
	for (const db of dbs) {
		throwIfAborted(options.signal);
		const [mine, theirs] = await Promise.all([sideFor(source, sourceCluster, db, limits), sideFor(target, targetCluster, db, limits)]);
		await compareDb(mine, theirs, db, run);
	}
	return {checked: run.checked, discrepancies: run.discrepancies, durationMs: Math.round(performance.now() - started)};
}

function clusterOf(side: CompareSide, limits: SnapshotLimits): Promise<Side | null> {
	return 'cluster' in side ? clusterSide(side.cluster.masters, limits) : Promise.resolve(null);
}

async function sideFor(side: CompareSide, cluster: Side | null, db: number, limits: SnapshotLimits): Promise<Side> {
	if ('connectionFor' in side) return standaloneSide(await side.connectionFor(db), limits);
	if (db !== 0 || cluster === null) throw new KeyferryError('verify-cluster-db', `a cluster has db 0 only; cannot compare db ${db} with it (pass dbs: [0])`);
	return cluster;
}

interface Run {
	options: FullCompareOptions;
	checked: number;
	discrepancies: number;
}

async function compareDb(source: Side, target: Side, db: number, run: Run): Promise<void> {
	const {options} = run;
	const scanCount = options.scanCount ?? defaultScanCount;
	// SCAN may return a key twice (while a table rehashes): report it once.
	const reported = new Set<string>();
	const confirm = async (key: Buffer): Promise<void> => {
		const record = await compareKey(source.connectionFor(key), target.connectionFor(key), key, db, options);
		if (record === null || reported.has(record.key)) return;
		reported.add(record.key);
		run.discrepancies++;
		options.onDiscrepancy(record);
	};
	const progress = (keys: number): void => {
		run.checked += keys;
		options.onProgress?.(run.checked);
	};

	const forward = async (signal: AbortSignal): Promise<void> => {
		for (const node of source.scanNodes) {
			await eachPage(scanPages(node, scanCount, signal), async (keys) => {
				const [mine, theirs] = await Promise.all([source.snapshot(keys), target.snapshot(keys)]);
				if (mine === null || theirs === null) {
					await eachLimited(keys, perKeyConcurrency, confirm);
					progress(keys.length);
					return;
				}
				const suspects: Buffer[] = [];
				let compared = 0;
				for (let i = 0; i < keys.length; i++) {
					const verdict = fastVerdict(mine[i]!, theirs[i]!, options.ttlToleranceMs);
					if (verdict === 'gone') continue;
					compared++;
					if (verdict === 'suspect') suspects.push(keys[i]!);
				}
				await eachLimited(suspects, perKeyConcurrency, confirm);
				progress(compared);
			});
		}
	};
	const reverse = async (signal: AbortSignal): Promise<void> => {
		for (const node of target.scanNodes) {
			await eachPage(scanPages(node, scanCount, signal), async (keys) => {
				const found = await source.exists(keys);
				const extras = keys.filter((_, i) => !found[i]);
				if (extras.length === 0) return;
				await eachLimited(extras, perKeyConcurrency, confirm);
				progress(extras.length);
			});
		}
	};
	// The passes load the two servers unevenly (the forward pass mostly the source, the reverse
	// pass mostly the target), so running them side by side keeps both busy.
	await together([forward, reverse], options.signal);
}

/** Runs the tasks concurrently; the first failure stops the others and is the one thrown. */
async function together(tasks: ((signal: AbortSignal) => Promise<void>)[], outer: AbortSignal | undefined): Promise<void> {
	const stop = new AbortController();
	const relay = () => stop.abort();
	if (outer?.aborted) stop.abort();
	outer?.addEventListener('abort', relay, {once: true});
	let failure: {error: unknown} | undefined;
	try {
		await Promise.all(
			tasks.map((task) =>
				task(stop.signal).catch((error: unknown) => {
					failure ??= {error};
					stop.abort();
				}),
			),
		);
	} finally {
		outer?.removeEventListener('abort', relay);
	}
	if (failure) throw failure.error;
}

// ---------------------------------------------------------------------------------------------
// Snapshots

/** Type codes of the snapshot reply. */
const code = {none: 0, string: 1, hash: 2, list: 3, set: 4, zset: 5, other: 6} as const;

/**
 * ARGV: max inline string bytes, max inline elements, byte budget, keys…
 * Reply: code, PTTL, value per key, where value is the string, the flat element array, or -1 when
 * the key is too big (or a stream / module type) to inline. Stops after the key that crosses the
 * budget, so one call never blocks the server long nor builds a huge reply. Read-only and without
 * a shebang, so it runs on replicas, under OOM, and on Redis 6.2 alike. Redis freezes the clock
 * during a script, so a key cannot expire between its TYPE and its value.
 */
const snapshotScript = `
local maxString = tonumber(ARGV[1])
local maxElements = tonumber(ARGV[2])
local budget = tonumber(ARGV[3])
local out = {}
local n = 0
local used = 0
local function aggregate(key, size, read, ...)
	if redis.call(size, key) > maxElements then return -1 end
	local elements = redis.call(read, key, ...)
	for i = 1, #elements do used = used + #elements[i] end
	return elements
end
for i = 4, #ARGV do
	local key = ARGV[i]
	local kind = redis.call('TYPE', key).ok
	local kcode, value = ${code.other}, -1
	if kind == 'none' then
		kcode, value = ${code.none}, 0
	elseif kind == 'string' then
		kcode, value = ${code.string}, redis.call('GETRANGE', key, 0, maxString)
		if #value > maxString then value = -1 else used = used + #value end
	elseif kind == 'hash' then
		kcode, value = ${code.hash}, aggregate(key, 'HLEN', 'HGETALL')
	elseif kind == 'list' then
		kcode, value = ${code.list}, aggregate(key, 'LLEN', 'LRANGE', 0, -1)
	elseif kind == 'set' then
		kcode, value = ${code.set}, aggregate(key, 'SCARD', 'SMEMBERS')
	elseif kind == 'zset' then
		kcode, value = ${code.zset}, aggregate(key, 'ZCARD', 'ZRANGE', 0, -1, 'WITHSCORES')
	end
	out[n + 1] = kcode
	out[n + 2] = redis.call('PTTL', key)
	out[n + 3] = value
	n = n + 3
	if used > budget then break end
end
return out
`;
const snapshotSha = createHash('sha1').update(snapshotScript).digest('hex');

interface Snapshot {
	code: number;
	pttl: number;
	/** Null when not inlined: the key goes to `compareKey`. */
	value: Buffer | Buffer[] | null;
}

/** What one snapshot call inlines: strings up to one GETRANGE window, aggregates up to one page. */
interface SnapshotLimits {
	maxString: number;
	maxElements: number;
	budget: number;
}

function standaloneSide(conn: Redis, limits: SnapshotLimits): Side {
	let scripting = true;
	return {
		scanNodes: [conn],
		async snapshot(keys) {
			if (!scripting) return null;
			try {
				return await snapshots(conn, keys, limits);
			} catch (error) {
				if (!scriptRefused(error)) throw error;
				scripting = false;
				return null;
			}
		},
		async exists(keys) {
			// One multi-key EXISTS answers the common case (all present; duplicates count twice).
			if ((await conn.exists(...keys)) === keys.length) return keys.map(() => true);
			const pipeline = conn.pipeline();
			for (const key of keys) pipeline.exists(key);
			const results = (await pipeline.exec()) ?? [];
			return results.map(([error, count]) => {
				if (error) throw error;
				return count === 1;
			});
		},
		connectionFor: () => conn,
	};
}

/** A cluster side: each key goes to the master serving its slot (CLUSTER SLOTS, read once). */
async function clusterSide(masters: Redis[], limits: SnapshotLimits): Promise<Side> {
	const first = masters[0];
	if (first === undefined) throw new KeyferryError('verify-cluster', 'a cluster side needs a connection to each master');
	const byAddress = new Map(masters.map((conn) => [`${conn.options.host ?? '127.0.0.1'}:${conn.options.port ?? 6379}`, conn]));
	const owners = new Array<Redis | undefined>(slotCount);
	for (const shard of await readClusterShards(first)) {
		const conn = byAddress.get(`${shard.master.host}:${shard.master.port}`);
		if (conn === undefined) throw new KeyferryError('verify-cluster', `no connection given for the cluster master ${shard.master.host}:${shard.master.port}`);
		for (const [from, to] of shard.slots) owners.fill(conn, from, to + 1);
	}
	const ownerOf = (key: Buffer): Redis => {
		const conn = owners[keySlot(key)];
		if (conn === undefined) throw new KeyferryError('verify-cluster', `slot ${keySlot(key)} has no master: the cluster is not serving every slot`);
		return conn;
	};
	const sides = new Map([...new Set(owners)].filter((conn): conn is Redis => conn !== undefined).map((conn) => [conn, standaloneSide(conn, limits)]));
	let scripting = true;
	return {
		scanNodes: [...sides.keys()],
		async snapshot(keys) {
			if (!scripting) return null;
			const out = new Array<Snapshot>(keys.length);
			const parts = await Promise.all(
				[...groupBy(keys, ownerOf)].map(async ([conn, group]) => ({group, snaps: await sides.get(conn)!.snapshot(group.keys)})),
			);
			for (const {group, snaps} of parts) {
				if (snaps === null) {
					scripting = false;
					return null;
				}
				group.indexes.forEach((index, i) => (out[index] = snaps[i]!));
			}
			return out;
		},
		async exists(keys) {
			const out = new Array<boolean>(keys.length);
			// Keys of one slot share a multi-key EXISTS; the slots of one node go in one pipeline.
			await Promise.all(
				[...groupBy(keys, ownerOf)].map(async ([conn, nodeGroup]) => {
					const slots = [...groupBy(nodeGroup.keys, keySlot).values()];
					const pipeline = conn.pipeline();
					for (const slot of slots) pipeline.exists(...slot.keys);
					const counts = await execAll(pipeline);
					const unsure: number[] = [];
					slots.forEach((slot, i) => {
						if (Number(counts[i]) === slot.keys.length) for (const index of slot.indexes) out[nodeGroup.indexes[index]!] = true;
						else unsure.push(...slot.indexes);
					});
					if (unsure.length === 0) return;
					const each = conn.pipeline();
					for (const index of unsure) each.exists(nodeGroup.keys[index]!);
					const found = await execAll(each);
					unsure.forEach((index, i) => (out[nodeGroup.indexes[index]!] = Number(found[i]) === 1));
				}),
			);
			return out;
		},
		connectionFor: ownerOf,
	};
}

/** Keys grouped by `by`, each group with the keys' positions in `keys`. */
function groupBy<K>(keys: Buffer[], by: (key: Buffer) => K): Map<K, {keys: Buffer[]; indexes: number[]}> {
	const groups = new Map<K, {keys: Buffer[]; indexes: number[]}>();
	keys.forEach((key, index) => {
		const id = by(key);
		let group = groups.get(id);
		if (!group) {
			group = {keys: [], indexes: []};
			groups.set(id, group);
		}
		group.keys.push(key);
		group.indexes.push(index);
	});
	return groups;
}

async function snapshots(conn: Redis, keys: Buffer[], limits: SnapshotLimits): Promise<Snapshot[]> {
	const head = [String(limits.maxString), String(limits.maxElements), String(limits.budget)];
	const out: Snapshot[] = [];
	// Each call covers at least one key, so this ends within keys.length calls.
	while (out.length < keys.length) {
		const reply = await runSnapshot(conn, [...head, ...keys.slice(out.length)]);
		const before = out.length;
		parseSnapshots(reply, out);
		if (out.length === before) throw new KeyferryError('verify-snapshot', 'the snapshot script returned no keys');
	}
	return out;
}

async function runSnapshot(conn: Redis, args: (string | Buffer)[]): Promise<unknown> {
	try {
		return await conn.callBuffer('EVALSHA', snapshotSha, 0, ...args);
	} catch (error) {
		if (!isReplyError(error) || !error.message.startsWith('NOSCRIPT')) throw error;
		return conn.callBuffer('EVAL', snapshotScript, 0, ...args);
	}
}

function parseSnapshots(reply: unknown, out: Snapshot[]): void {
	if (!Array.isArray(reply) || reply.length % 3 !== 0) {
		throw new KeyferryError('verify-snapshot', 'the snapshot script returned an unexpected reply');
	}
	for (let i = 0; i < reply.length; i += 3) {
		const raw: unknown = reply[i + 2];
		const value = Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? (raw as Buffer[]) : null;
		out.push({code: Number(reply[i]), pttl: Number(reply[i + 1]), value});
	}
}

/** ACL without @scripting, or EVALSHA renamed away: fall back to per-key comparison. */
function scriptRefused(error: unknown): boolean {
	return isReplyError(error) && /^(NOPERM|ERR unknown command)/.test(error.message);
}

/**
 * 'same' only when the snapshots prove equality; anything else is left to `compareKey`.
 * 'gone': the key left the source after SCAN saw it (expired); the reverse pass handles a
 * target copy that outlives it.
 */
function fastVerdict(mine: Snapshot, theirs: Snapshot, tolerance: number): 'same' | 'gone' | 'suspect' {
	if (mine.code === code.none) return 'gone';
	if (mine.code !== theirs.code || mine.value === null || theirs.value === null) return 'suspect';
	if (!ttlMatches(mine.pttl, theirs.pttl, tolerance)) return 'suspect';
	return sameValue(mine.code, mine.value, theirs.value) ? 'same' : 'suspect';
}

function sameValue(kind: number, a: Buffer | Buffer[], b: Buffer | Buffer[]): boolean {
	if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
	if (a.length !== b.length) return false;
	switch (kind) {
		case code.list:
			return sameInOrder(a, b);
		case code.zset:
			// Equal sorted sets list the same members in the same order; scores may print differently.
			return a.every((item, i) => item.equals(b[i]!) || (i % 2 === 1 && sameScore(item.toString('latin1'), b[i]!.toString('latin1'))));
		case code.hash:
			return sameInOrder(a, b) || sameFields(a, b);
		case code.set:
			return sameInOrder(a, b) || sameMembers(a, b);
		default:
			return false;
	}
}

function sameInOrder(a: Buffer[], b: Buffer[]): boolean {
	for (let i = 0; i < a.length; i++) if (!a[i]!.equals(b[i]!)) return false;
	return true;
}

/** latin1 maps bytes 1:1 to characters: a lossless map key for binary fields and members. */
function sameFields(a: Buffer[], b: Buffer[]): boolean {
	const mine = new Map<string, Buffer>();
	for (let i = 0; i < a.length; i += 2) mine.set(a[i]!.toString('latin1'), a[i + 1]!);
	for (let i = 0; i < b.length; i += 2) {
		const value = mine.get(b[i]!.toString('latin1'));
		if (value === undefined || !value.equals(b[i + 1]!)) return false;
	}
	return true;
}

function sameMembers(a: Buffer[], b: Buffer[]): boolean {
	const mine = new Set(a.map((member) => member.toString('latin1')));
	return b.every((member) => mine.has(member.toString('latin1')));
}

// ---------------------------------------------------------------------------------------------
// Scanning and concurrency

/** Every db either side lists in INFO keyspace (a cluster: db 0). */
async function keyspaceDbs(sides: CompareSide[]): Promise<number[]> {
	const dbs = new Set<number>();
	for (const side of sides) {
		if ('cluster' in side) {
			dbs.add(0);
			continue;
		}
		const info = await (await side.connectionFor(0)).info('keyspace');
		for (const db of Object.keys(parseKeyspace(parseInfo(info)))) dbs.add(Number(db));
	}
	return [...dbs].sort((a, b) => a - b);
}

async function* scanPages(conn: Redis, count: number, signal: AbortSignal | undefined): AsyncGenerator<Buffer[]> {
	const limit = scanPageLimit(await conn.dbsize(), count);
	let cursor = '0';
	for (let page = 0; page < limit; page++) {
		throwIfAborted(signal);
		const [next, keys] = await conn.scanBuffer(cursor, 'COUNT', count);
		if (keys.length > 0) yield keys;
		cursor = next.toString();
		if (cursor === '0') return;
	}
	throw scanRunaway('the keyspace', limit);
}

/** Runs `handle` on each page with up to `pagesInFlight` at once; the first failure wins. */
async function eachPage(pages: AsyncIterable<Buffer[]>, handle: (keys: Buffer[]) => Promise<void>): Promise<void> {
	const inFlight: Promise<void>[] = [];
	try {
		for await (const keys of pages) {
			const task = handle(keys);
			// Awaited below; this only stops a failure from being reported as unhandled meanwhile.
			task.catch(() => {});
			inFlight.push(task);
			if (inFlight.length >= pagesInFlight) await inFlight.shift();
		}
		while (inFlight.length > 0) await inFlight.shift();
	} finally {
		await Promise.allSettled(inFlight);
	}
}

async function eachLimited<T>(items: T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
	let next = 0;
	const worker = async (): Promise<void> => {
		while (next < items.length) await run(items[next++]!);
	};
	await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker));
}

function throwIfAborted(signal: AbortSignal | undefined): void {
	if (signal?.aborted) throw new KeyferryError('aborted', 'full compare aborted', ExitCode.aborted);
}
