/**
 * Keys a blocked client may be waiting on. A pop performed when a push wakes a blocked client is
 * never shown by MONITOR, so after any write to such a key the key is re-copied. A client stops
 * being blocked when it is seen issuing another command, or when its timeout has passed.
 *
 * After a capture gap (a dropped MONITOR, a restart) some clients may be blocked by a command
 * MONITOR never showed. From the gap on every write is suspect (its keys are re-copied) until
 * the source's own list of blocked clients is known at a point of the stream; from there, writes
 * in the db of a client blocked on keys nobody saw are re-copied until that client is seen again
 * or is no longer blocked. Such a client blocked in BLMOVE or BRPOPLPUSH also pushed to a
 * destination nobody saw when it was served: its whole db is read again then.
 */
/** A blocked client as the source lists it (CLIENT LIST): its address, db and command. */
export interface ListedClient {
	client: string;
	db: number;
	command: string;
}

/** Blocking commands whose pop also pushes, to a key of their own. */
const moving = new Set(['blmove', 'brpoplpush']);

export interface Watch {
	db: number;
	keys: Buffer[];
	/** Stream time (ms) after which the client has certainly timed out; null = blocks forever. */
	deadlineMs: number | null;
}

const keyId = (db: number, key: Buffer) => `${db}:${key.toString('latin1')}`;

export class BlockedClients {
	private readonly byClient = new Map<string, Watch>();
	private readonly byKey = new Map<string, Set<string>>();
	/** Clients blocked on keys no line showed: client → its db, and whether its pop pushes elsewhere. */
	private unknown = new Map<string, {db: number; moves: boolean}>();
	/** dbs to read again: an unseen BLMOVE or BRPOPLPUSH was served there. */
	private rescans = new Set<number>();
	private suspectAll = false;

	get size(): number {
		return this.byClient.size + this.unknown.size + (this.suspectAll ? 1 : 0);
	}

	/** Blocked clients whose keys are unknown, or every client while a gap is not settled yet. */
	get unknownCount(): number {
		return this.unknown.size + (this.suspectAll ? 1 : 0);
	}

	/** A capture gap: any client may now be blocked on keys no line showed. */
	suspect(): void {
		this.suspectAll = true;
	}

	/**
	 * The source listed its blocked clients before this point of the stream, with no gap since:
	 * those not known from a line are blocked on unknown keys; nobody else is.
	 */
	settle(blocked: readonly ListedClient[]): void {
		this.suspectAll = false;
		const previous = this.unknown;
		this.unknown = new Map();
		for (const {client, db, command} of blocked) {
			if (!this.byClient.has(client)) this.unknown.set(client, {db, moves: previous.get(client)?.moves ?? moving.has(command.toLowerCase())});
		}
		// No longer blocked: served (or gone) since the last list.
		for (const [client, waiter] of previous) if (waiter.moves && !this.unknown.has(client)) this.rescans.add(waiter.db);
	}

	/** dbs to read again since the last call (see the file comment). */
	takeRescans(): number[] {
		if (this.rescans.size === 0) return [];
		const dbs = [...this.rescans];
		this.rescans.clear();
		return dbs;
	}

	block(client: string, watch: Watch): void {
		this.release(client);
		this.byClient.set(client, watch);
		for (const key of watch.keys) {
			const id = keyId(watch.db, key);
			let clients = this.byKey.get(id);
			if (!clients) this.byKey.set(id, (clients = new Set()));
			clients.add(client);
		}
	}

	/** The client issued a command, so it is no longer blocked. */
	release(client: string): void {
		const waiter = this.unknown.get(client);
		if (waiter) {
			this.unknown.delete(client);
			if (waiter.moves) this.rescans.add(waiter.db);
		}
		const watch = this.byClient.get(client);
		if (!watch) return;
		this.byClient.delete(client);
		for (const key of watch.keys) {
			const id = keyId(watch.db, key);
			const clients = this.byKey.get(id);
			clients?.delete(client);
			if (clients?.size === 0) this.byKey.delete(id);
		}
	}

	expire(nowMs: number): void {
		for (const [client, watch] of this.byClient) {
			if (watch.deadlineMs !== null && watch.deadlineMs < nowMs) this.release(client);
		}
	}

	/**
	 * Every key a write to `keys` in `db` may have changed through a blocked client being served:
	 * the written keys themselves and the other keys of the waiting clients (BLMOVE destinations).
	 * Empty when nobody waits on them.
	 */
	affected(db: number, keys: Buffer[]): Watch[] {
		const clients = new Set<string>();
		for (const key of keys) for (const client of this.byKey.get(keyId(db, key)) ?? []) clients.add(client);
		const watches = [...clients].map((client) => this.byClient.get(client)!).filter(Boolean);
		if (this.suspectAll || [...this.unknown.values()].some((waiter) => waiter.db === db)) watches.push({db, keys: [], deadlineMs: null});
		return watches;
	}
}
