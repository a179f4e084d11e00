/**
 * The logical (type-by-type) copy: for a target that refuses the source's DUMP payloads (an
 * older RDB version) or with --copy-mode logical. A key is read inside MULTI … EXEC on a marker
 * connection (PTTL + the type's full read), so the read is one atomic point of the stream; the
 * applier rebuilds the key there, in chunks, inside one target transaction.
 */
import {RespError, type RespConnection, type RespReply} from '../redis/resp-connection';

export type LogicalType = 'string' | 'hash' | 'list' | 'set' | 'zset' | 'stream';

export interface LogicalValue {
	/** changed: the type is no longer the one read just before (read again); unsupported: a module type. */
	type: LogicalType | 'none' | 'changed' | 'unsupported';
	pttl: number;
	/** Flat reply of the type's read (see readCommands); for streams, XINFO STREAM … FULL. */
	value: unknown;
	/** The TYPE reply as the server gave it (differs from `type` when changed or unsupported). */
	seen: string;
}

/** The read commands for a type, sent after PTTL inside the transaction; their names show in the feed. */
export function readCommands(type: string): string[][] {
	switch (type) {
		case 'string':
			return [['GET']];
		case 'hash':
			return [['HGETALL']];
		case 'list':
			return [['LRANGE', '0', '-1']];
		case 'set':
			return [['SMEMBERS']];
		case 'zset':
			return [['ZRANGE', '0', '-1', 'WITHSCORES']];
		case 'stream':
			// Entries, ids, consumer groups, consumers and pending entries in one atomic reply.
			return [['XINFO', 'STREAM', 'FULL', 'COUNT', '0']];
		default:
			return [];
	}
}

/** Sends MULTI, TYPE-dependent reads and EXEC on `connection`; the key's type was read just before. */
export function sendLogicalRead(connection: RespConnection, key: Buffer, type: string): Promise<LogicalValue> {
	// MULTI's and the QUEUED replies carry nothing: a command refused while queued aborts EXEC.
	connection.write(['MULTI']);
	for (const command of snapshotCommands(key, type)) connection.write(command);
	return connection.send(['EXEC']).then((reply) => {
		if (reply instanceof RespError) throw reply;
		if (!Array.isArray(reply)) throw new Error('transaction aborted');
		return parseSnapshot(
			reply.map((item: RespReply) => {
				if (item instanceof RespError) throw item;
				return item;
			}),
			type,
		);
	});
}

/** The replies of TYPE, PTTL and the type's read, as a value; `type` is the type the read was chosen for. */
export function parseSnapshot(replies: unknown[], type: string): LogicalValue {
	const [typeReply, pttlReply, value] = replies;
	const seen = String(typeReply);
	const known = ['string', 'hash', 'list', 'set', 'zset', 'stream'].includes(seen);
	return {
		type: seen === 'none' ? 'none' : seen !== type ? 'changed' : known ? (seen as LogicalType) : 'unsupported',
		pttl: Number(pttlReply),
		value,
		seen,
	};
}

/** TYPE, PTTL and the type's read of `key`, as commands (for a transaction on the target). */
export function snapshotCommands(key: Buffer, type: string): Array<Array<Buffer | string>> {
	return [['TYPE', key], ['PTTL', key], ...readCommands(type).map(([name, ...rest]) => (name === 'XINFO' ? [name, rest[0]!, key, ...rest.slice(1)] : [name!, key, ...rest]))];
}

/** The feed lines a logical read produces, in order: MULTI at once, the rest at EXEC time. */
export function logicalFeedCommands(type: string): string[] {
	return ['multi', 'type', 'pttl', ...readCommands(type).map(([name]) => name!.toLowerCase()), 'exec'];
}

const chunk = 500;

/**
 * Target commands that rebuild the key from a logical read: DEL, the type's writes in chunks,
 * then the absolute expiry. Empty when the read shows nothing to write but the DEL.
 */
export function rebuildCommands(key: Buffer, read: LogicalValue, expireAtMs: number): Array<Array<Buffer | string | number>> {
	const commands: Array<Array<Buffer | string | number>> = [['DEL', key]];
	const pairs = (flat: Buffer[], command: string) => {
		for (let i = 0; i < flat.length; i += chunk * 2) commands.push([command, key, ...flat.slice(i, i + chunk * 2)]);
	};
	switch (read.type) {
		case 'string':
			commands.push(['SET', key, read.value as Buffer]);
			break;
		case 'hash':
			pairs(read.value as Buffer[], 'HSET');
			break;
		case 'list':
		case 'set': {
			const items = read.value as Buffer[];
			const command = read.type === 'list' ? 'RPUSH' : 'SADD';
			for (let i = 0; i < items.length; i += chunk) commands.push([command, key, ...items.slice(i, i + chunk)]);
			break;
		}
		case 'zset': {
			const flat = read.value as Buffer[];
			const scored: Buffer[] = [];
			// ZRANGE WITHSCORES is member, score; ZADD wants score, member.
			for (let i = 0; i < flat.length; i += 2) scored.push(flat[i + 1]!, flat[i]!);
			pairs(scored, 'ZADD');
			break;
		}
		case 'stream':
			commands.push(...rebuildStream(key, read));
			break;
		default:
			return commands;
	}
	if (expireAtMs > 0) commands.push(['PEXPIREAT', key, expireAtMs]);
	return commands;
}

/**
 * A stream from XINFO STREAM FULL: entries, the id counters, each group with its last delivered
 * id and entries-read, its consumers, and every pending entry (XCLAIM … FORCE re-creates it with
 * its owner, delivery time and delivery count). Pending entries of deleted messages cannot be
 * re-created: Redis drops them when they are claimed.
 */
function rebuildStream(key: Buffer, read: LogicalValue): Array<Array<Buffer | string | number>> {
	const commands: Array<Array<Buffer | string | number>> = [];
	const info = pairsToMap(read.value as unknown[]);
	for (const [id, fields] of (info.get('entries') as Array<[Buffer, Buffer[]]> | undefined) ?? []) commands.push(['XADD', key, id, ...fields]);
	if (commands.length === 0) commands.push(['XADD', key, 'MAXLEN', '0', '0-1', 'keyferry', 'empty']);
	const setId: Array<Buffer | string | number> = ['XSETID', key, info.get('last-generated-id') as Buffer];
	if (info.has('entries-added')) setId.push('ENTRIESADDED', String(info.get('entries-added')), 'MAXDELETEDID', info.get('max-deleted-entry-id') as Buffer);
	commands.push(setId);
	for (const groupReply of (info.get('groups') as unknown[][] | undefined) ?? []) {
		const group = pairsToMap(groupReply);
		const name = group.get('name') as Buffer;
		const create: Array<Buffer | string | number> = ['XGROUP', 'CREATE', key, name, group.get('last-delivered-id') as Buffer];
		const entriesRead = group.get('entries-read');
		if (entriesRead !== undefined && entriesRead !== null) create.push('ENTRIESREAD', String(entriesRead));
		commands.push(create);
		for (const consumerReply of (group.get('consumers') as unknown[][] | undefined) ?? []) {
			commands.push(['XGROUP', 'CREATECONSUMER', key, name, pairsToMap(consumerReply).get('name') as Buffer]);
		}
		for (const [id, consumer, deliveredAt, deliveries] of (group.get('pending') as Array<[Buffer, Buffer, number, number]> | undefined) ?? []) {
			commands.push(['XCLAIM', key, name, consumer, '0', id, 'TIME', String(deliveredAt), 'RETRYCOUNT', String(deliveries), 'FORCE', 'JUSTID']);
		}
	}
	return commands;
}

function pairsToMap(flat: unknown[] | undefined): Map<string, unknown> {
	const map = new Map<string, unknown>();
	for (let i = 0; flat && i + 1 < flat.length; i += 2) map.set(String(flat[i]), flat[i + 1]);
	return map;
}
