/**
 * After cutover, in the migrate process: follows the reverse journal as it grows, collects the
 * keys the application changes on the target, and keeps the store's rollback preview current
 * (re-described about once a second). On apply, `pause` hands over the exact journal position and
 * every key changed before it.
 */
import type {Journal, JournalReader} from '../capture/journal';
import type {RollbackCountsEvent} from '../engine/events';
import {rollbackEntryLimit, type KeyferryStore} from '../engine/store';
import {ChangedKeys, type ChangedKey} from './changed-keys';
import {completeKeys} from './rollback-basis';
import {describeKeys, summarize, type RollbackItem} from './rollback-preview';
import type {RollbackSides} from './rollback-sides';

export interface RollbackFollowerOptions {
	journal: Journal;
	/** Where the reverse capture began. */
	from: number;
	excludedClients: ReadonlySet<string>;
	sides: RollbackSides;
	store: KeyferryStore;
	ttlToleranceMs: number;
	refreshMs?: number;
	onWarning(code: string, message: string): void;
}

/** Up to this many changed keys are all described again each round (TTLs run out without a line). */
const recheckAllUpTo = 2000;
/** Beyond it, every key is described again every this many rounds. */
const recheckAllEvery = 10;

export class RollbackFollower {
	readonly changed: ChangedKeys;
	private position: number;
	private readonly reader: JournalReader;
	private readonly loop: Promise<void>;
	private readonly items = new Map<string, RollbackItem>();
	private dirty = new Map<string, ChangedKey>();
	private basis: RollbackCountsEvent['basis'] = 'journal';
	private timer: NodeJS.Timeout | null = null;
	private refreshing: Promise<void> = Promise.resolve();
	private round = 0;
	private stopped = false;

	constructor(private readonly options: RollbackFollowerOptions) {
		this.changed = new ChangedKeys(options.excludedClients);
		this.position = options.from;
		this.reader = options.journal.reader(options.from);
		this.loop = this.follow();
		this.loop.catch((error: unknown) => {
			if (!this.stopped) options.onWarning('rollback-preview', `the rollback preview stopped following the target: ${String(error)}`);
		});
		options.store.setState({rollback: {entries: [], total: 0, ready: false, counts: summarize([], 'journal')}});
		this.timer = setInterval(() => {
			this.refreshing = this.refreshing.then(() => this.refresh()).catch((error: unknown) => {
				// A refresh cut short by the shutdown closing its connections is not worth a warning.
				if (this.stopped) return;
				options.onWarning('rollback-preview', `cannot compare the changed keys: ${error instanceof Error ? error.message : String(error)}`);
			});
		}, options.refreshMs ?? 1000);
		this.timer.unref();
	}

	/**
	 * Stops following. Every key changed before the returned position is in `changed` (the
	 * reader's records are handled synchronously, so the position is exact).
	 */
	async pause(): Promise<{position: number; changed: ChangedKeys; basis: RollbackCountsEvent['basis']}> {
		this.stop();
		await this.loop.catch(() => {});
		await this.refreshing;
		return {position: this.position, changed: this.changed, basis: this.basis};
	}

	stop(): void {
		this.stopped = true;
		if (this.timer) clearInterval(this.timer);
		this.timer = null;
		this.reader.close();
	}

	private async follow(): Promise<void> {
		while (!this.stopped) {
			const records = await this.reader.read(2000);
			if (records === null) return;
			for (const record of records) {
				for (const key of this.changed.feed(record.entry)) this.dirty.set(idOf(key), key);
				this.position = record.end;
			}
		}
	}

	private async refresh(): Promise<void> {
		if (this.stopped) return;
		const {sides, ttlToleranceMs} = this.options;
		if (this.changed.incomplete !== null) {
			this.options.onWarning('rollback-basis', `${this.changed.incomplete}: comparing every key of the target with the source`);
		}
		// Unknown commands and an incomplete journal are settled here, off the follow loop.
		const before = this.changed.size;
		if ((await completeKeys(sides, this.changed)) === 'compare') {
			this.basis = 'compare';
			// Settled by the compare; a later gap asks for another.
			this.changed.incomplete = null;
		}
		const all = this.changed.keys();
		for (const key of all.slice(before)) this.dirty.set(idOf(key), key);
		this.round++;
		const everything = all.length <= recheckAllUpTo || this.round % recheckAllEvery === 0;
		const keys = everything ? all : [...this.dirty.values()];
		this.dirty = new Map();
		if (keys.length === 0 && this.options.store.getState().rollback?.ready) return;
		const items = await describeKeys(sides, keys, ttlToleranceMs);
		if (this.stopped) return;
		for (const key of keys) this.items.delete(idOf(key));
		for (const item of items) this.items.set(idOf({db: item.targetDb, key: item.key}), item);
		publishPreview(this.options.store, [...this.items.values()], this.basis);
	}
}

function idOf(key: ChangedKey): string {
	return `${key.db}:${key.key.toString('latin1')}`;
}

/** The store's rollback preview from the described keys. */
export function publishPreview(store: KeyferryStore, items: RollbackItem[], basis: RollbackCountsEvent['basis']): void {
	const sorted = [...items].sort((a, b) => a.entry.db - b.entry.db || Buffer.compare(a.key, b.key));
	store.setState({
		rollback: {entries: sorted.slice(0, rollbackEntryLimit).map((item) => item.entry), total: sorted.length, ready: true, counts: summarize(sorted, basis)},
	});
}
