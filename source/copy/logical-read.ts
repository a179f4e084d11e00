/**
 * The logical (type-by-type) copy: for a target that refuses the source's DUMP payloads (an
 * older RDB version) or with --copy-mode logical. A key is read inside MULTI … EXEC on a marker
 * connection (PTTL + the type's full read), so the read is one atomic point of the stream; the
 * applier rebuilds the key there, in chunks, inside one target transaction.
 */
import type Redis from 'ioredis';

export type LogicalType = 'string' | 'hash' | 'list' | 'set' | 'zset' | 'stream';

export interface LogicalValue {
	/** changed: the type is no longer the one read just before (read again); unsupported: a module type. */
	type: LogicalType | 'none' | 'changed' | 'unsupported';
	pttl: number;
	/** Flat reply of the type's read (see readCommands). */
	value: unknown;
	/** Streams: XINFO GROUPS and XINFO STREAM replies. */
	groups?: unknown;
	info?: unknown;
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
			return [['XRANGE', '-', '+'], ['XINFO', 'GROUPS'], ['XINFO', 'STREAM']];
		default:
			return [];
	}
}

/** Sends MULTI, TYPE-dependent reads and EXEC on `client`; the key's type was read just before. */
export function sendLogicalRead(client: Redis, key: Buffer, type: string): Promise<LogicalValue> {
	const reads = readCommands(type);
	const transaction = client.multi();
	transaction.call('TYPE', key);
	transaction.call('PTTL', key);
	for (const [name, ...rest] of reads) {
		if (name === 'XINFO') transaction.callBuffer(name, rest[0]!, key);
		else transaction.callBuffer(name!, key, ...rest);
	}
	return transaction.exec().then((results) => {
		if (!results) throw new Error('transaction aborted');
		const [typeReply, pttlReply, value, groups, info] = results.map(([error, reply]) => {
			if (error) throw error;
			return reply;
		});
		const seen = String(typeReply);
		const known = ['string', 'hash', 'list', 'set', 'zset', 'stream'].includes(seen);
		return {
			type: seen === 'none' ? 'none' : seen !== type ? 'changed' : known ? (seen as LogicalType) : 'unsupported',
			pttl: Number(pttlReply),
			value,
			groups,
			info,
		};
	});
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

function rebuildStream(key: Buffer, read: LogicalValue): Array<Array<Buffer | string | number>> {
	const commands: Array<Array<Buffer | string | number>> = [];
	for (const [id, fields] of read.value as Array<[Buffer, Buffer[]]>) commands.push(['XADD', key, id, ...fields]);
	const info = pairsToMap(read.info as unknown[]);
	const lastId = info.get('last-generated-id');
	if (commands.length === 0) commands.push(['XADD', key, 'MAXLEN', '0', '0-1', 'keyferry', 'empty']);
	if (lastId !== undefined) commands.push(['XSETID', key, lastId as Buffer]);
	for (const group of (read.groups as unknown[][] | undefined) ?? []) {
		const fields = pairsToMap(group);
		commands.push(['XGROUP', 'CREATE', key, fields.get('name') as Buffer, fields.get('last-delivered-id') as Buffer]);
	}
	return commands;
}

function pairsToMap(flat: unknown[] | undefined): Map<string, unknown> {
	const map = new Map<string, unknown>();
	for (let i = 0; flat && i + 1 < flat.length; i += 2) map.set(String(flat[i]), flat[i + 1]);
	return map;
}
