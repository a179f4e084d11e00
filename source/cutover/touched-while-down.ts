/**
 * Keys the application touched on the target while keyferry was down during a cutover. No
 * capture saw those writes, but the target's own idle clock did: a key whose OBJECT IDLETIME is
 * shorter than the downtime was used after keyferry stopped, and keyferry was not there to use
 * it. Idle time counts in whole seconds and keyferry's last writes land just before it stopped,
 * so only a touch at least `marginMs` into the downtime counts. Reads count too: such a key keeps
 * its target value, which is the safe side once the application works on the target.
 */
import {connectNode} from '../redis/connect';
import type {NodeEndpoint} from '../redis/endpoint';
import {parseInfo, parseKeyspace} from '../redis/info';
import type {ChangedKey} from './changed-keys';

export interface TouchedWhileDown {
	keys: ChangedKey[];
	/** Why the target cannot tell (an LFU maxmemory policy keeps no idle time), or null. */
	unknown: string | null;
}

const marginMs = 2000;
const batchSize = 500;

export async function keysTouchedWhileDown(endpoint: NodeEndpoint, downtimeMs: number): Promise<TouchedWhileDown> {
	const found: ChangedKey[] = [];
	const limitSeconds = (downtimeMs - marginMs) / 1000;
	if (limitSeconds <= 0) return {keys: found, unknown: null};
	const client = await connectNode({...endpoint, db: 0}, 'target');
	try {
		await client.call('CLIENT', 'SETNAME', 'keyferry-touched');
		const dbs = Object.keys(parseKeyspace(parseInfo(await client.info('keyspace')))).map(Number);
		for (const db of dbs) {
			await client.select(db);
			let cursor = '0';
			do {
				const [next, keys] = await client.scanBuffer(cursor, 'COUNT', batchSize);
				cursor = String(next);
				if (keys.length === 0) continue;
				const pipeline = client.pipeline();
				for (const key of keys) pipeline.object('IDLETIME', key);
				const replies = (await pipeline.exec()) ?? [];
				for (const [index, [error, idle]] of replies.entries()) {
					if (error) {
						if (/LFU/i.test(error.message)) return {keys: [], unknown: 'the target keeps no idle time under an LFU maxmemory-policy'};
						continue;
					}
					if (Number(idle) < limitSeconds) found.push({db, key: keys[index]!});
				}
			} while (cursor !== '0');
		}
		return {keys: found, unknown: null};
	} finally {
		client.disconnect();
	}
}
