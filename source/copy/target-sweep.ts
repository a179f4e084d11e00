/**
 * The sweep: keys the target holds that the source no longer has. A rescan copies what exists on
 * the source, but nothing in it deletes a key that vanished while MONITOR was not watching (a
 * capture gap, a restart, a failover). Each target key missing on the source right now is
 * re-copied through a marker: its DUMP finds nothing and the applier deletes it at that exact
 * point of the stream, so a key created again meanwhile is copied instead of deleted.
 *
 * The sweep runs once the rescan has read every key (pipeline.ts resyncMaster): a key the source
 * still has was read through a marker then (or is written after MONITOR came back), and a key
 * that expired or vanished before the rescan reached it is the sweep's to delete.
 */
import type Redis from 'ioredis';
import {connectNode} from '../redis/connect';
import type {NodeEndpoint} from '../redis/endpoint';

/** The source side of one key: the copier of the master that holds it. */
export interface SweepSource {
	/** Which of `keys` exist in source db `db` now (unmarked reads). */
	exists(db: number, keys: Buffer[]): Promise<boolean[]>;
	recopy(db: number, keys: Buffer[]): void;
}

export interface SweepOptions {
	/** The target's masters (one for a standalone target). */
	targets: NodeEndpoint[];
	targetDb: number;
	/** Source dbs that feed `targetDb` (several when --db-map merges them); a key is missing only when none has it. */
	sourceDbs: number[];
	/** The source master for a key, or null when the key is outside this sweep (another master's slots). */
	sourceFor(key: Buffer): SweepSource | null;
	scanCount?: number;
	/** Checked between batches: a sweep stops early once the pipeline stops. */
	stopped?(): boolean;
}

export interface SweepResult {
	scanned: number;
	missing: number;
}

export async function sweepTarget(options: SweepOptions): Promise<SweepResult> {
	const result: SweepResult = {scanned: 0, missing: 0};
	for (const endpoint of options.targets) {
		const client = await connectNode({...endpoint, db: options.targetDb}, 'target');
		try {
			await client.call('CLIENT', 'SETNAME', 'keyferry-sweep');
			await sweepNode(client, options, result);
		} finally {
			client.disconnect();
		}
	}
	return result;
}

async function sweepNode(client: Redis, options: SweepOptions, result: SweepResult): Promise<void> {
	let cursor = '0';
	do {
		if (options.stopped?.()) return;
		const [next, keys] = await client.scanBuffer(cursor, 'COUNT', options.scanCount ?? 500);
		cursor = String(next);
		result.scanned += keys.length;
		const bySource = new Map<SweepSource, Buffer[]>();
		for (const key of keys) {
			const source = options.sourceFor(key);
			if (!source) continue;
			const listed = bySource.get(source);
			if (listed) listed.push(key);
			else bySource.set(source, [key]);
		}
		for (const [source, candidates] of bySource) {
			const missing = await missingOnSource(source, options.sourceDbs, candidates);
			if (missing.length === 0) continue;
			result.missing += missing.length;
			source.recopy(options.sourceDbs[0]!, missing);
		}
	} while (cursor !== '0');
}

async function missingOnSource(source: SweepSource, dbs: number[], keys: Buffer[]): Promise<Buffer[]> {
	let missing = keys;
	for (const db of dbs) {
		if (missing.length === 0) break;
		const present = await source.exists(db, missing);
		missing = missing.filter((_, index) => !present[index]);
	}
	return missing;
}
