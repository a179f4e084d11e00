/**
 * The rollback preview: for each key changed on the target since cutover, what copying it back
 * would do to the source. The changed keys come from the reverse journal (changed-keys.ts) or,
 * when that cannot tell, from a full compare of target against source; either way every key is
 * then read on both sides and described by key-change.ts, so both bases give the same entries.
 */
import type Redis from 'ioredis';
import {parseMonitorLine} from '../capture/monitor-parser';
import type {RollbackCountsEvent, RollbackEntry} from '../engine/events';
import {compareKey, defaultChunk, isReplyError, stringWindow} from '../verify/compare-key';
import {printableKey} from '../verify/discrepancy';
import {fullCompare} from '../verify/full-compare';
import type {ChangedKey, ChangedKeys} from './changed-keys';
import {countChanges, describeChange, type KeySnapshot} from './key-change';
import type {RollbackSides} from './rollback-sides';

export interface RollbackItem {
	entry: RollbackEntry;
	/** The key in the target's numbering, as the re-copy reads it. */
	targetDb: number;
	key: Buffer;
}

/** Keys described at once. */
const concurrency = 16;

/** Describes each key; keys that turn out equal on both sides are left out. Sorted by db, then key. */
export async function describeKeys(sides: RollbackSides, keys: readonly ChangedKey[], ttlToleranceMs: number): Promise<RollbackItem[]> {
	const items: RollbackItem[] = [];
	let next = 0;
	const worker = async () => {
		while (next < keys.length) {
			const {db, key} = keys[next++]!;
			const sourceDb = sides.sourceDbOf(db);
			const [target, source] = await Promise.all([sides.target(db), sides.source(sourceDb)]);
			// The application may change a key's type between its TYPE and its read: read it again.
			const change = await describeKey(source, target, key, ttlToleranceMs).catch((error: unknown) => {
				if (isReplyError(error) && error.message.startsWith('WRONGTYPE')) return describeKey(source, target, key, ttlToleranceMs);
				throw error;
			});
			if (change) items.push({entry: {key: printableKey(key), db: sourceDb, ...change}, targetDb: db, key});
		}
	};
	await Promise.all(Array.from({length: Math.min(concurrency, keys.length)}, worker));
	return items.sort((a, b) => a.entry.db - b.entry.db || Buffer.compare(a.key, b.key));
}

async function describeKey(source: Redis, target: Redis, key: Buffer, ttlToleranceMs: number) {
	const [before, after] = await Promise.all([readKey(source, key), readKey(target, key)]);
	if (before !== 'big' && after !== 'big') return describeChange(before, after, ttlToleranceMs);
	// Too big to hold whole: the paged comparer finds the first difference.
	const [sourceHead, targetHead] = await Promise.all([readHead(source, key), readHead(target, key)]);
	const keyType = (targetHead ?? sourceHead)?.type ?? 'none';
	if (!sourceHead && !targetHead) return null;
	if (!sourceHead) return {change: 'added' as const, keyType, diff: `adds ${keyType} (large)`};
	if (!targetHead) return {change: 'deleted' as const, keyType, diff: `removes ${keyType} (large)`};
	// The target is the truth here: it plays the comparer's "source".
	const record = await compareKey(target, source, key, 0, {ttlToleranceMs});
	return record === null ? null : {change: 'modified' as const, keyType, diff: `differs: ${record.diff}`};
}

interface Head {
	type: string;
	pttl: number;
}

async function readHead(conn: Redis, key: Buffer): Promise<Head | null> {
	const [typeReply, pttlReply] = (await conn.pipeline().type(key).pttl(key).exec()) ?? [];
	const failure = typeReply?.[0] ?? pttlReply?.[0];
	if (failure) throw failure;
	const head = {type: String(typeReply?.[1]), pttl: Number(pttlReply?.[1])};
	return head.type === 'none' || head.pttl === -2 ? null : head;
}

const sizeCommands: Record<string, string> = {string: 'STRLEN', hash: 'HLEN', list: 'LLEN', set: 'SCARD', zset: 'ZCARD', stream: 'XLEN'};

/** The whole key, null when it does not exist, 'big' beyond one page of the comparers. */
async function readKey(conn: Redis, key: Buffer): Promise<KeySnapshot | null | 'big'> {
	const head = await readHead(conn, key);
	if (!head) return null;
	const sizeCommand = sizeCommands[head.type];
	if (sizeCommand) {
		const size = Number(await conn.call(sizeCommand, key));
		if (size > (head.type === 'string' ? stringWindow : defaultChunk)) return 'big';
	}
	const value = await readValue(conn, head.type, key);
	return value === undefined ? null : {...head, value};
}

async function readValue(conn: Redis, type: string, key: Buffer): Promise<unknown> {
	switch (type) {
		case 'string':
			return conn.getBuffer(key);
		case 'hash':
			return conn.callBuffer('HGETALL', key);
		case 'list':
			return conn.lrangeBuffer(key, 0, -1);
		case 'set':
			return conn.smembersBuffer(key);
		case 'zset':
			return conn.callBuffer('ZRANGE', key, '0', '-1', 'WITHSCORES');
		case 'stream':
			return conn.callBuffer('XINFO', 'STREAM', key, 'FULL', 'COUNT', '0');
		default: {
			// Module types: the DUMP body without its RDB version and checksum.
			const payload = await conn.dumpBuffer(key);
			return payload === null ? undefined : payload.subarray(0, -10);
		}
	}
}

/**
 * Keys that differ between target and source, in the target's numbering, from a full compare of
 * every db either side holds (the target playing the compare's "source": it is the truth now).
 */
export async function differingKeys(sides: RollbackSides, targetDbs: number[], signal?: AbortSignal): Promise<ChangedKey[]> {
	const found: ChangedKey[] = [];
	for (const db of targetDbs) {
		await fullCompare(
			{sourceFor: () => sides.target(db), targetFor: () => sides.source(sides.sourceDbOf(db))},
			{dbs: [db], ttlToleranceMs: 1000, onDiscrepancy: (record) => found.push({db, key: keyFromPrintable(record.key)}), ...(signal ? {signal} : {})},
		);
	}
	return found;
}

/** The key bytes back from their printed form (printableKey escapes exactly like MONITOR does). */
export function keyFromPrintable(printed: string): Buffer {
	const entry = parseMonitorLine(Buffer.from(`+0.000000 [0 x] "${printed}"`, 'latin1'));
	if (entry.kind !== 'command' || entry.args.length !== 1) throw new Error(`not a printed key: ${printed.slice(0, 60)}`);
	return entry.args[0]!;
}

/** Commands keyferry does not know: the target's COMMAND GETKEYS names their keys; if it cannot, the journal is incomplete. */
export async function resolveUnknownKeys(sides: RollbackSides, changed: ChangedKeys): Promise<void> {
	while (changed.unknown.length > 0) {
		const {db, args} = changed.unknown.shift()!;
		try {
			const conn = await sides.target(db);
			for (const key of (await conn.callBuffer('COMMAND', 'GETKEYS', ...args)) as Buffer[]) changed.add(db, key);
		} catch {
			changed.incomplete ??= `cannot tell which keys ${args[0]?.toString('latin1') ?? '?'} changed`;
		}
	}
}

export function summarize(items: readonly RollbackItem[], basis: RollbackCountsEvent['basis']): RollbackCountsEvent {
	return {basis, total: items.length, ...countChanges(items.map((item) => item.entry))};
}
