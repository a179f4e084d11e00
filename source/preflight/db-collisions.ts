/**
 * --db-map merging several source dbs into one target db (3:0,4:0): a key name present in more
 * than one of them would end up as one key on the target, the last copy winning. Preflight looks
 * for such keys now, with reads only (SCAN, EXISTS): every db of a merge but the largest is
 * scanned and each key looked up in the others. Bounded: past `maxScanned` keys the check stops
 * and says so.
 */
import type Redis from 'ioredis';
import {connectNode} from '../redis/connect';
import type {NodeEndpoint} from '../redis/endpoint';
import {printableKey} from '../verify/discrepancy';
import type {DbCollision} from './report-types';

export const maxScanned = 1_000_000;
const batch = 1000;
const examplesShown = 3;

/** Source dbs (with their key counts) merged into each target db, for every target db that receives more than one. */
export function mergeGroups(keysByDb: ReadonlyMap<number, number>, dbMap: ReadonlyMap<number, number> | null): Array<{targetDb: number; dbs: number[]}> {
	if (!dbMap) return [];
	const byTarget = new Map<number, number[]>();
	for (const db of [...keysByDb.keys()].sort((a, b) => a - b)) {
		const to = dbMap.get(db) ?? db;
		byTarget.set(to, [...(byTarget.get(to) ?? []), db]);
	}
	return [...byTarget]
		.filter(([, dbs]) => dbs.length > 1)
		// Largest last: it is the one not scanned.
		.map(([targetDb, dbs]) => ({targetDb, dbs: [...dbs].sort((a, b) => (keysByDb.get(a) ?? 0) - (keysByDb.get(b) ?? 0) || a - b)}));
}

export async function findDbCollisions(endpoint: NodeEndpoint, groups: Array<{targetDb: number; dbs: number[]}>): Promise<DbCollision[]> {
	if (groups.length === 0) return [];
	const scanner = await connectNode({...endpoint, db: 0}, 'source');
	const checker = await connectNode({...endpoint, db: 0}, 'source');
	let budget = maxScanned;
	try {
		const found: DbCollision[] = [];
		for (const {targetDb, dbs} of groups) {
			const collision: DbCollision = {targetDb, dbs, count: 0, examples: [], scanned: 0, complete: true};
			for (const [index, db] of dbs.slice(0, -1).entries()) {
				const others = dbs.slice(index + 1);
				await scanner.select(db);
				let cursor = '0';
				do {
					if (budget <= 0) {
						collision.complete = false;
						break;
					}
					const [next, keys] = await scanner.scanBuffer(cursor, 'COUNT', batch);
					cursor = String(next);
					budget -= keys.length;
					collision.scanned += keys.length;
					for (const key of await presentElsewhere(checker, others, keys)) {
						collision.count++;
						if (collision.examples.length < examplesShown) collision.examples.push(printableKey(key));
					}
				} while (cursor !== '0');
			}
			found.push(collision);
		}
		return found;
	} finally {
		scanner.disconnect();
		checker.disconnect();
	}
}

/** Which of `keys` exist in any of `dbs`. */
async function presentElsewhere(client: Redis, dbs: number[], keys: Buffer[]): Promise<Buffer[]> {
	if (keys.length === 0) return [];
	const pipeline = client.pipeline();
	for (const db of dbs) {
		pipeline.select(db);
		for (const key of keys) pipeline.exists(key);
	}
	const replies = (await pipeline.exec()) ?? [];
	const present = new Set<number>();
	dbs.forEach((_, dbIndex) => {
		const offset = dbIndex * (keys.length + 1) + 1;
		keys.forEach((_key, keyIndex) => {
			const [error, count] = replies[offset + keyIndex] ?? [null, 0];
			if (!error && Number(count) > 0) present.add(keyIndex);
		});
	});
	return keys.filter((_, index) => present.has(index));
}
