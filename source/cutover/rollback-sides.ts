/**
 * The two servers as a rollback sees them: connections per db on each side (opened on first use)
 * and the db numbering between them. Keys are named in the target's numbering, the one the
 * reverse journal uses; the source's db comes from the migration's --db-map read backwards.
 */
import type Redis from 'ioredis';
import {UsageError} from '../errors';
import {connectNode} from '../redis/connect';
import type {NodeEndpoint} from '../redis/endpoint';

export interface RollbackSides {
	/** A connection selected to `db` on the target; owned by the sides. */
	target(db: number): Promise<Redis>;
	/** A connection selected to `db` on the source. */
	source(db: number): Promise<Redis>;
	sourceDbOf(targetDb: number): number;
	targetDbOf(sourceDb: number): number;
	close(): void;
}

/** @param dbMap source db → target db pairs, as --db-map gave them */
export function openRollbackSides(source: NodeEndpoint, target: NodeEndpoint, dbMap: ReadonlyArray<readonly [number, number]>): RollbackSides {
	const forward = new Map(dbMap);
	const backward = new Map<number, number>();
	for (const [from, to] of dbMap) {
		if (backward.has(to)) throw new UsageError(`--db-map merged source dbs ${backward.get(to)} and ${from} into target db ${to}; a rollback cannot split them again`);
		backward.set(to, from);
	}
	const targetDbOf = (db: number) => forward.get(db) ?? db;
	// An unmapped source db went to the target db of the same number.
	const sourceDbOf = (db: number) => backward.get(db) ?? db;
	const pools = {source: new Map<number, Promise<Redis>>(), target: new Map<number, Promise<Redis>>()};
	const connection = (side: 'source' | 'target', db: number): Promise<Redis> => {
		let client = pools[side].get(db);
		if (!client) {
			client = connectNode({...(side === 'source' ? source : target), db}, side);
			pools[side].set(db, client);
		}
		return client;
	};
	return {
		target: (db) => connection('target', db),
		source: (db) => connection('source', db),
		sourceDbOf,
		targetDbOf,
		close() {
			for (const pool of Object.values(pools)) for (const client of pool.values()) void client.then((redis) => redis.disconnect(), () => {});
		},
	};
}
