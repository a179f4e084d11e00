/**
 * Applying a rollback: the forward machinery with the sides swapped. A Copier on the TARGET reads
 * each changed key with DUMP + PTTL on its marker connections; those lines land in the reverse
 * journal, and an Applier walking that journal RESTOREs each payload on the SOURCE at its marker
 * (DEL when the key is gone from the target), while replaying every later application write on the
 * target to the source. So the source passes through the target's states key by key, and keeps
 * following it (reverse sync) until stopped, e.g. until the application is switched back.
 *
 * The journal must be read from a line boundary at or before which every changed key is listed in
 * `keys`: keys changed before it are re-copied, changes after it are replayed (or re-copied).
 */
import type {JournalReader} from '../capture/journal';
import {Copier} from '../copy/copier';
import type {Counters} from '../engine/counters';
import type {NodeEndpoint} from '../redis/endpoint';
import {RespConnection} from '../redis/resp-connection';
import {Applier} from '../replay/applier';
import {TargetWriter} from '../replay/target-writer';
import type {Arg} from '../replay/writer';
import type {ChangedKey} from './changed-keys';

export interface RollbackApplyOptions {
	reader: JournalReader;
	target: NodeEndpoint;
	source: NodeEndpoint;
	/** Keys to copy back, in the target's numbering. */
	keys: readonly ChangedKey[];
	/** Target connections whose lines are not the application's. */
	excludedClients: ReadonlySet<string>;
	sourceDbOf(targetDb: number): number;
	/** Target clock minus source clock (preflight's skew); expiries written to the source take it off. */
	skewMs: number;
	logical: boolean;
	counters: Counters;
	onWarning(code: string, message: string): void;
	onError(error: Error, command: Arg[]): void;
	/** The reverse capture missed a window: every key of the target is copied back again. */
	onGap(fromMs: number, toMs: number, reason: string): void;
}

const pollMs = 50;

export class RollbackApply {
	private stopped = false;

	private constructor(
		private readonly options: RollbackApplyOptions,
		private readonly copier: Copier,
		private readonly writer: TargetWriter,
		private readonly applier: Applier,
	) {}

	static async start(options: RollbackApplyOptions): Promise<RollbackApply> {
		const copier = await Copier.open({endpoint: options.target, dbs: [], counters: options.counters, rate: null, startPaused: true, logical: options.logical});
		let connection: RespConnection;
		try {
			connection = await RespConnection.open(options.source, 'source', 'keyferry-rollback');
		} catch (error) {
			await copier.close();
			throw error;
		}
		const writer = new TargetWriter(connection, {onError: options.onError});
		const knownDbs = new Set([0, ...options.keys.map((key) => key.db)]);
		const applier = new Applier({
			reader: options.reader,
			ownAddresses: new Set(options.excludedClients),
			copier,
			writer,
			counters: options.counters,
			skewMs: -options.skewMs,
			mapDb: options.sourceDbOf,
			copying: () => false,
			onWarning: options.onWarning,
			onGap: (fromMs, toMs, reason) => {
				options.onGap(fromMs, toMs, reason);
				for (const db of knownDbs) copier.rescan(db);
				copier.setPaused(false);
			},
			// The reverse journal stays whole: a later preview or rollback reads it from cutover.
			onApplied: () => {},
		});
		// Nothing was copied "during a scan" here: no touched-key tracking.
		applier.endCopy([]);
		const byDb = new Map<number, Buffer[]>();
		for (const {db, key} of options.keys) {
			const keys = byDb.get(db);
			if (keys) keys.push(key);
			else byDb.set(db, [key]);
		}
		for (const [db, keys] of byDb) copier.recopy(db, keys);
		return new RollbackApply(options, copier, writer, applier);
	}

	/** Keys whose copy has not reached the source yet. */
	get pending(): number {
		return this.options.keys.filter(({db, key}) => this.copier.isStale(db, key)).length;
	}

	/** The replay's failure, if it fails. */
	get failed(): Promise<void> {
		return this.applier.done;
	}

	/**
	 * Resolves once every key was copied back and acknowledged by the source: no copy pending, then
	 * a barrier on the target passed (everything before it is on the source).
	 */
	async landed(tag: string): Promise<void> {
		for (let round = 1; !this.stopped; round++) {
			while (!this.stopped && (this.pending > 0 || !this.copier.quiet)) await new Promise((resolve) => setTimeout(resolve, pollMs));
			await this.copier.barrier(Buffer.from(`${tag}:${round}`));
			// A copy the source refused (an older RDB version) is read again type by type.
			if (this.pending === 0 && this.copier.quiet) return;
		}
	}

	/** Places a barrier on the target, applies up to it, then closes everything. */
	async drainAndStop(tag: string): Promise<void> {
		if (!this.stopped) await this.copier.barrier(Buffer.from(tag)).catch(() => {});
		await this.stop();
	}

	async stop(): Promise<void> {
		if (this.stopped) return;
		this.stopped = true;
		this.applier.stop();
		await this.applier.done.catch(() => {});
		await this.copier.close();
		this.writer.close();
	}
}
