/**
 * Exact, type-aware comparison of one key on two connections (each already selected to `db`).
 * Everything is read as Buffers, and aggregates and long strings are read page by page, so a key
 * of any size is compared in bounded memory. The answer is the first difference found, or null.
 */
import type Redis from 'ioredis';
import type {ChainableCommander} from 'ioredis';
import type {DiscrepancyRecord} from '../engine/events';
import {KeyferryError} from '../errors';
import {discrepancy, formatTtl, printableValue} from './discrepancy';

export interface CompareOptions {
	/** Largest accepted difference between the two PTTLs (default 1000). */
	ttlToleranceMs: number;
	/** Elements per page for big aggregates (default 1000). */
	chunk?: number;
}

export const defaultChunk = 1000;
/** Strings are compared in GETRANGE windows of this size: a 1 MB string is one read. */
export const stringWindow = 1024 * 1024;

interface Head {
	type: string;
	pttl: number;
}

export async function compareKey(
	source: Redis,
	target: Redis,
	key: Buffer,
	db: number,
	options: CompareOptions,
): Promise<DiscrepancyRecord | null> {
	const first = await compareOnce(source, target, key, db, options);
	if (first !== 'vanished') return first;
	// A copy expired while being read, so the values seen were half gone; the key's state has
	// settled (one copy left, or none), and one more look classifies it.
	const second = await compareOnce(source, target, key, db, options);
	return second === 'vanished' ? null : second;
}

async function compareOnce(
	source: Redis,
	target: Redis,
	key: Buffer,
	db: number,
	options: CompareOptions,
): Promise<DiscrepancyRecord | null | 'vanished'> {
	const tolerance = options.ttlToleranceMs;
	const chunk = options.chunk ?? defaultChunk;
	const [mine, theirs] = await both(source, target, (conn) => readHead(conn, key));
	const mineExists = exists(mine);
	const theirsExists = exists(theirs);
	if (!mineExists && !theirsExists) return null;
	// One copy of a volatile key can expire a moment before the other: within the TTL tolerance
	// that is not a difference.
	if (!theirsExists) {
		return expiresWithin(mine, tolerance) ? null : discrepancy(key, db, 'missing', `${mine.type} missing on target`);
	}
	if (!mineExists) {
		return expiresWithin(theirs, tolerance) ? null : discrepancy(key, db, 'extra', `${theirs.type} exists only on target`);
	}
	if (mine.type !== theirs.type) return discrepancy(key, db, 'type', `type ${mine.type} ≠ ${theirs.type}`);
	const valueDiff = await compareValue(mine.type, source, target, key, chunk);
	if (valueDiff !== null) {
		if (mine.pttl >= 0 || theirs.pttl >= 0) {
			const [mineNow, theirsNow] = await both(source, target, (conn) => conn.pttl(key));
			if (mineNow === -2 || theirsNow === -2) return 'vanished';
		}
		return discrepancy(key, db, 'value', valueDiff);
	}
	if (!ttlMatches(mine.pttl, theirs.pttl, tolerance)) {
		return discrepancy(key, db, 'ttl', `ttl ${formatTtl(mine.pttl)} ≠ ${formatTtl(theirs.pttl)}`);
	}
	return null;
}

/** Both without expiry, or both with one and the remaining times within `tolerance` ms. */
export function ttlMatches(a: number, b: number, tolerance: number): boolean {
	if (a < 0 || b < 0) return a < 0 && b < 0;
	return Math.abs(a - b) <= tolerance;
}

/**
 * Scores as two servers print them. Equal text is equal; otherwise both are parsed, because
 * Redis versions print the same double differently (`1.1` vs `1.1000000000000001`) and both forms
 * round-trip to the exact double.
 */
export function scoresEqual(a: string, b: string): boolean {
	return a === b || Object.is(parseScore(a), parseScore(b));
}

/**
 * Sorted-set scores as two copies of one sorted set may print them: `scoresEqual`, and -0 equal
 * to 0. A listpack-encoded sorted set stores -0 as 0, and RESTORE (like a replica's full sync)
 * rebuilds small sets as listpacks, so a -0 kept by the source's skiplist cannot survive any copy;
 * Redis itself treats the two as the same score (ZADD does not change one into the other).
 */
export function sameScore(a: string, b: string): boolean {
	return scoresEqual(a, b) || (parseScore(a) === 0 && parseScore(b) === 0);
}

function parseScore(text: string): number {
	const lower = text.toLowerCase();
	if (lower === 'inf' || lower === '+inf') return Infinity;
	if (lower === '-inf') return -Infinity;
	return Number(text);
}

/**
 * Upper bound on the pages a SCAN-family cursor may take over `length` elements. Redis guarantees
 * termination; the bound only turns a misbehaving server or proxy into an error instead of a hang.
 * It leaves room for sparse hash tables (a call may visit 10×COUNT empty buckets).
 */
export function scanPageLimit(length: number, count: number): number {
	return Math.ceil(length / count) * 16 + 100_000;
}

export function scanRunaway(what: string, pages: number): KeyferryError {
	return new KeyferryError('verify-scan-runaway', `SCAN of ${what} did not finish after ${pages} pages`);
}

function exists(head: Head): boolean {
	return head.type !== 'none' && head.pttl !== -2;
}

function expiresWithin(head: Head, tolerance: number): boolean {
	return head.pttl >= 0 && head.pttl <= tolerance;
}

function both<T>(source: Redis, target: Redis, read: (conn: Redis) => Promise<T>): Promise<[T, T]> {
	return Promise.all([read(source), read(target)]);
}

/** A pipeline's replies; the first error is thrown. */
export async function execAll(pipeline: ChainableCommander): Promise<unknown[]> {
	const results = (await pipeline.exec()) ?? [];
	return results.map(([error, result]) => {
		if (error) throw error;
		return result;
	});
}

async function readHead(conn: Redis, key: Buffer): Promise<Head> {
	const [type, pttl] = await execAll(conn.pipeline().type(key).pttl(key));
	return {type: String(type), pttl: Number(pttl)};
}

function compareValue(type: string, source: Redis, target: Redis, key: Buffer, chunk: number): Promise<string | null> {
	switch (type) {
		case 'string':
			return compareString(source, target, key);
		case 'hash':
			return compareHash(source, target, key, chunk);
		case 'list':
			return compareList(source, target, key, chunk);
		case 'set':
			return compareSet(source, target, key, chunk);
		case 'zset':
			return compareZset(source, target, key, chunk);
		case 'stream':
			return compareStream(source, target, key, chunk);
		default:
			return compareDump(type, source, target, key);
	}
}

const hllMagic = Buffer.from('HYLL');

async function compareString(source: Redis, target: Redis, key: Buffer): Promise<string | null> {
	const [[lengthA, headA], [lengthB, headB]] = await both(source, target, (conn) =>
		execAll(conn.pipeline().strlen(key).getrangeBuffer(key, 0, 3)),
	);
	// HyperLogLogs with the same registers can differ in bytes (sparse vs dense, cached count).
	if (hllMagic.equals(headA as Buffer) && hllMagic.equals(headB as Buffer)) {
		const counts = await pfcounts(source, target, key);
		if (counts !== null) return counts[0] === counts[1] ? null : `hyperloglog count ${counts[0]} ≠ ${counts[1]}`;
	}
	const length = Number(lengthA);
	if (length !== Number(lengthB)) return `string length ${length} ≠ ${Number(lengthB)}`;
	for (let offset = 0; offset < length; offset += stringWindow) {
		const [a, b] = await both(source, target, (conn) => conn.getrangeBuffer(key, offset, offset + stringWindow - 1));
		const at = firstDifference(a, b);
		if (at >= 0) {
			return `string differs at byte ${offset + at}: ${printableValue(a.subarray(at))} ≠ ${printableValue(b.subarray(at))}`;
		}
	}
	return null;
}

/** Null when either side is not a valid HyperLogLog after all; the bytes decide then. */
async function pfcounts(source: Redis, target: Redis, key: Buffer): Promise<[number, number] | null> {
	try {
		return await both(source, target, (conn) => conn.pfcount(key));
	} catch (error) {
		if (isReplyError(error)) return null;
		throw error;
	}
}

function firstDifference(a: Buffer, b: Buffer): number {
	if (a.equals(b)) return -1;
	const shorter = Math.min(a.length, b.length);
	for (let i = 0; i < shorter; i++) if (a[i] !== b[i]) return i;
	return shorter;
}

/**
 * Walks the source's elements with a SCAN-family cursor and checks each page on the target.
 * With equal sizes, "every source element is on the target, equal" means the two are equal; a
 * cursor may repeat elements, which does not change that.
 */
async function scanSource(
	what: string,
	length: number,
	chunk: number,
	scan: (cursor: string) => Promise<[Buffer, Buffer[]]>,
	checkPage: (elements: Buffer[]) => Promise<string | null>,
): Promise<string | null> {
	const limit = scanPageLimit(length, chunk);
	let cursor = '0';
	for (let page = 0; page < limit; page++) {
		const [next, elements] = await scan(cursor);
		if (elements.length > 0) {
			const diff = await checkPage(elements);
			if (diff !== null) return diff;
		}
		cursor = next.toString();
		if (cursor === '0') return null;
	}
	throw scanRunaway(what, limit);
}

async function compareHash(source: Redis, target: Redis, key: Buffer, chunk: number): Promise<string | null> {
	const [a, b] = await both(source, target, (conn) => conn.hlen(key));
	if (a !== b) return `hash length ${a} ≠ ${b}`;
	return scanSource(
		'a hash',
		a,
		chunk,
		(cursor) => source.hscanBuffer(key, cursor, 'COUNT', chunk),
		async (flat) => {
			const fields = flat.filter((_, i) => i % 2 === 0);
			const theirs = await target.hmgetBuffer(key, ...fields);
			for (let i = 0; i < fields.length; i++) {
				const field = fields[i]!;
				const mine = flat[2 * i + 1]!;
				const other = theirs[i] ?? null;
				if (other === null) return `field ${printableValue(field)} missing on target`;
				if (!mine.equals(other)) return `field ${printableValue(field)}: ${printableValue(mine)} ≠ ${printableValue(other)}`;
			}
			return null;
		},
	);
}

async function compareSet(source: Redis, target: Redis, key: Buffer, chunk: number): Promise<string | null> {
	const [a, b] = await both(source, target, (conn) => conn.scard(key));
	if (a !== b) return `set size ${a} ≠ ${b}`;
	return scanSource(
		'a set',
		a,
		chunk,
		(cursor) => source.sscanBuffer(key, cursor, 'COUNT', chunk),
		async (members) => {
			const found = await target.smismember(key, ...members);
			const missing = found.findIndex((flag) => flag !== 1);
			return missing < 0 ? null : `member ${printableValue(members[missing]!)} missing on target`;
		},
	);
}

async function compareZset(source: Redis, target: Redis, key: Buffer, chunk: number): Promise<string | null> {
	const [a, b] = await both(source, target, (conn) => conn.zcard(key));
	if (a !== b) return `zset size ${a} ≠ ${b}`;
	return scanSource(
		'a sorted set',
		a,
		chunk,
		(cursor) => source.zscanBuffer(key, cursor, 'COUNT', chunk),
		async (flat) => {
			const members = flat.filter((_, i) => i % 2 === 0);
			const theirs = await target.zmscore(key, ...members);
			for (let i = 0; i < members.length; i++) {
				const member = members[i]!;
				const mine = flat[2 * i + 1]!.toString('latin1');
				const other = theirs[i] ?? null;
				if (other === null) return `member ${printableValue(member)} missing on target`;
				if (!sameScore(mine, other)) return `member ${printableValue(member)}: score ${mine} ≠ ${other}`;
			}
			return null;
		},
	);
}

async function compareList(source: Redis, target: Redis, key: Buffer, chunk: number): Promise<string | null> {
	const [a, b] = await both(source, target, (conn) => conn.llen(key));
	if (a !== b) return `list length ${a} ≠ ${b}`;
	for (let start = 0; start < a; start += chunk) {
		const [mine, theirs] = await both(source, target, (conn) => conn.lrangeBuffer(key, start, start + chunk - 1));
		const shorter = Math.min(mine.length, theirs.length);
		for (let i = 0; i < shorter; i++) {
			if (!mine[i]!.equals(theirs[i]!)) {
				return `list index ${start + i}: ${printableValue(mine[i]!)} ≠ ${printableValue(theirs[i]!)}`;
			}
		}
		if (mine.length !== theirs.length) return `list length changed at index ${start + shorter}`;
	}
	return null;
}

async function compareStream(source: Redis, target: Redis, key: Buffer, chunk: number): Promise<string | null> {
	const [a, b] = await both(source, target, (conn) => conn.xlen(key));
	if (a !== b) return `stream length ${a} ≠ ${b}`;
	const [infoA, infoB] = await both(source, target, (conn) => streamInfo(conn, key));
	const lastA = infoA.get('last-generated-id');
	const lastB = infoB.get('last-generated-id');
	if (!sameReply(lastA, lastB)) return `stream last-generated-id ${describe(lastA)} ≠ ${describe(lastB)}`;
	const groupsDiff = await compareGroups(source, target, key);
	if (groupsDiff !== null) return groupsDiff;
	return compareEntries(source, target, key, a, chunk);
}

/** Stream entries page by page, ids and fields in order; pages continue after the last id. */
async function compareEntries(source: Redis, target: Redis, key: Buffer, length: number, chunk: number): Promise<string | null> {
	let start: string | Buffer = '-';
	const pages = Math.ceil(length / chunk) + 1;
	for (let page = 0; page < pages; page++) {
		const [mine, theirs] = await both(source, target, (conn) => conn.xrangeBuffer(key, start, '+', 'COUNT', chunk));
		const shorter = Math.min(mine.length, theirs.length);
		for (let i = 0; i < shorter; i++) {
			const [idA, fieldsA] = mine[i]!;
			const [idB, fieldsB] = theirs[i]!;
			if (!idA.equals(idB)) return `stream entry id ${idA.toString('latin1')} ≠ ${idB.toString('latin1')}`;
			if (!sameBuffers(fieldsA, fieldsB)) {
				return `stream entry ${idA.toString('latin1')}: ${describeFields(fieldsA)} ≠ ${describeFields(fieldsB)}`;
			}
		}
		if (mine.length !== theirs.length) return `stream entries changed after ${page * chunk + shorter}`;
		if (mine.length < chunk) return null;
		start = Buffer.concat([Buffer.from('('), mine[mine.length - 1]![0]]);
	}
	return null;
}

interface GroupInfo {
	name: Buffer;
	fields: Map<string, unknown>;
}

/** Consumer groups by name: consumers, pending count and last-delivered-id must match. */
async function compareGroups(source: Redis, target: Redis, key: Buffer): Promise<string | null> {
	const [mine, theirs] = await both(source, target, (conn) => streamGroups(conn, key));
	for (const [name, group] of mine) {
		const other = theirs.get(name);
		if (other === undefined) return `group ${printableValue(group.name)} missing on target`;
		for (const field of ['last-delivered-id', 'pending', 'consumers']) {
			const a = group.fields.get(field);
			const b = other.fields.get(field);
			if (!sameReply(a, b)) return `group ${printableValue(group.name)} ${field} ${describe(a)} ≠ ${describe(b)}`;
		}
	}
	for (const [name, group] of theirs) {
		if (!mine.has(name)) return `group ${printableValue(group.name)} exists only on target`;
	}
	return null;
}

async function streamInfo(conn: Redis, key: Buffer): Promise<Map<string, unknown>> {
	return pairs(await conn.callBuffer('XINFO', 'STREAM', key));
}

async function streamGroups(conn: Redis, key: Buffer): Promise<Map<string, GroupInfo>> {
	const reply = await conn.callBuffer('XINFO', 'GROUPS', key);
	const groups = new Map<string, GroupInfo>();
	if (!Array.isArray(reply)) return groups;
	for (const entry of reply) {
		const fields = pairs(entry);
		const name = fields.get('name');
		if (Buffer.isBuffer(name)) groups.set(name.toString('latin1'), {name, fields});
	}
	return groups;
}

/** A flat [name, value, name, value…] reply as a map; names are ASCII labels. */
function pairs(reply: unknown): Map<string, unknown> {
	const map = new Map<string, unknown>();
	if (!Array.isArray(reply)) return map;
	for (let i = 0; i + 1 < reply.length; i += 2) map.set(String(reply[i]), reply[i + 1]);
	return map;
}

function sameReply(a: unknown, b: unknown): boolean {
	if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
	return a === b;
}

function describe(value: unknown): string {
	return Buffer.isBuffer(value) ? value.toString('latin1') : String(value);
}

function sameBuffers(a: Buffer[], b: Buffer[]): boolean {
	return a.length === b.length && a.every((item, i) => item.equals(b[i]!));
}

function describeFields(fields: Buffer[]): string {
	const shown = fields.slice(0, 4).map((field) => printableValue(field, 16));
	return shown.join(' ') + (fields.length > 4 ? ` …(${fields.length})` : '');
}

/**
 * Types keyferry cannot read element by element (module types): the DUMP bodies must match.
 * The last 10 bytes (RDB version and checksum) are left out, so servers of different versions
 * holding the same value agree.
 */
async function compareDump(type: string, source: Redis, target: Redis, key: Buffer): Promise<string | null> {
	const [a, b] = await both(source, target, (conn) => conn.dumpBuffer(key));
	if (a === null || b === null) return a === b ? null : `${type} value could not be dumped`;
	return a.subarray(0, -10).equals(b.subarray(0, -10)) ? null : `${type} value differs (DUMP payloads)`;
}

export function isReplyError(error: unknown): error is Error {
	return error instanceof Error && error.name === 'ReplyError';
}
