/**
 * The keys the application wrote on the target since the cutover began, followed live from the
 * reverse journal. A run resumed in the middle of its cutover re-copies from the source, but must
 * not overwrite what the application already wrote on its new server: those keys are the
 * target's now.
 */
import type {JournalReader} from '../capture/journal';
import {ChangedKeys, type ChangedKey} from './changed-keys';

export class TargetWrites {
	private readonly changed: ChangedKeys;
	private readonly ids = new Set<string>();
	private stopped = false;
	readonly done: Promise<void>;

	/** @param excluded client addresses whose lines are keyferry's own, not the application's */
	constructor(
		private readonly reader: JournalReader,
		excluded: ReadonlySet<string>,
	) {
		this.changed = new ChangedKeys(excluded);
		this.done = this.follow();
	}

	/** True when the application wrote `key` in target db `db`. */
	has(db: number, key: Buffer): boolean {
		return this.ids.size > 0 && this.ids.has(`${db}:${key.toString('latin1')}`);
	}

	/** Keys known to be the application's from elsewhere (written while no capture ran). */
	add(keys: readonly ChangedKey[]): void {
		for (const {db, key} of keys) this.ids.add(`${db}:${key.toString('latin1')}`);
	}

	get size(): number {
		return this.ids.size;
	}

	stop(): void {
		this.stopped = true;
		this.reader.close();
	}

	private async follow(): Promise<void> {
		while (!this.stopped) {
			const records = await this.reader.read(1000);
			if (records === null) return;
			for (const record of records) {
				for (const {db, key} of this.changed.feed(record.entry)) this.ids.add(`${db}:${key.toString('latin1')}`);
			}
		}
	}
}
