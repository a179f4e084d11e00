/**
 * The keys of writes one target master acknowledged lately. Replication is asynchronous: when a
 * master dies, its replica may be promoted without the last writes it acknowledged, so those keys
 * are re-copied. Bounded by age and by count; `since` says when the count bound dropped entries
 * that were still young enough to matter.
 */
interface Entry {
	at: number;
	keys: Buffer[];
}

export class AckedWrites {
	private entries: Entry[] = [];
	private head = 0;
	/** Time of the newest entry dropped to stay under `maxEntries`. */
	private droppedAt = -Infinity;

	constructor(
		private readonly windowMs: number,
		private readonly maxEntries: number,
	) {}

	add(at: number, keys: Buffer[]): void {
		this.entries.push({at, keys});
		while (this.head < this.entries.length && this.entries[this.head]!.at < at - this.windowMs) this.head++;
		if (this.entries.length - this.head > this.maxEntries) this.droppedAt = this.entries[this.head++]!.at;
		if (this.head > 4096 && this.head * 2 > this.entries.length) {
			this.entries = this.entries.slice(this.head);
			this.head = 0;
		}
	}

	/** Keys written within the window before `until`, and whether the count bound dropped some of them. */
	recent(until: number): {keys: Buffer[]; complete: boolean} {
		const from = until - this.windowMs;
		const keys: Buffer[] = [];
		for (let i = this.head; i < this.entries.length; i++) {
			const entry = this.entries[i]!;
			if (entry.at >= from) keys.push(...entry.keys);
		}
		return {keys, complete: this.droppedAt < from};
	}

	clear(): void {
		this.entries = [];
		this.head = 0;
		this.droppedAt = -Infinity;
	}
}
