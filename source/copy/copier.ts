/**
 * The copier of one source master: SCANs every db and reads each key with DUMP + PTTL on marker
 * connections, so each payload's place in the stream is the position of its `dump` line. It also
 * serves re-copies (keys whose effect could not be reproduced from the stream) ahead of the scan.
 * It writes nothing anywhere: the applier RESTOREs at the marker.
 */
import type Redis from 'ioredis';
import type {Counters} from '../engine/counters';
import {parseClientInfo} from '../redis/client-info';
import {connectNode} from '../redis/connect';
import {keySlot} from '../replay/cluster-routing';
import type {NodeEndpoint} from '../redis/endpoint';
import {MarkerConnection} from './marker-connection';
import {RateLimiter} from './rate-limiter';

export interface CopierOptions {
	endpoint: NodeEndpoint;
	/** dbs to scan, from the source's keyspace at preflight. */
	dbs: number[];
	counters: Counters;
	rate: number | null;
	markerConnections?: number;
	scanCount?: number;
	/** Reads not yet applied, across connections; the copier waits above it (bounds memory). */
	maxOutstanding?: number;
	/** Open without scanning until setPaused(false) (re-copies are still served). */
	startPaused?: boolean;
	/** Type-by-type copy instead of DUMP payloads. */
	logical?: boolean;
}

export class Copier {
	/** dbs to scan; `slots` limits a scan to the keys of those slots (a cluster's moved slots), null = every key. */
	private readonly scanQueue: Array<{db: number; slots: ReadonlySet<number> | null}>;
	private readonly recopies = new Map<number, Map<string, Buffer>>();
	/**
	 * Keys whose target copy is stale until a re-copy lands: db:key → the request sequence of the
	 * latest request. A command that reads such a key must not be trusted on the target.
	 */
	private readonly stale = new Map<string, number>();
	private requestSeq = 0;
	private readonly limiter: RateLimiter;
	private paused = false;
	private logical: boolean;
	private closed = false;
	private wake: (() => void) | null = null;
	private next = 0;
	private scansFinished = false;
	private readonly loop: Promise<void>;

	private constructor(
		private readonly options: CopierOptions,
		readonly markers: MarkerConnection[],
		private readonly scanClient: Redis,
		private readonly typeClient: Redis,
	) {
		this.scanQueue = options.dbs.map((db) => ({db, slots: null}));
		this.limiter = new RateLimiter(options.rate);
		this.paused = options.startPaused ?? false;
		this.logical = options.logical ?? false;
		this.loop = this.run();
		this.loop.catch(() => {});
	}

	static async open(options: CopierOptions): Promise<Copier> {
		const count = options.markerConnections ?? 2;
		const markers = await Promise.all(Array.from({length: count}, () => MarkerConnection.open(options.endpoint)));
		const [scanClient, typeClient] = await Promise.all([
			connectNode({...options.endpoint, db: 0}, 'source'),
			connectNode({...options.endpoint, db: 0}, 'source'),
		]);
		await scanClient.call('CLIENT', 'SETNAME', 'keyferry-scan');
		await typeClient.call('CLIENT', 'SETNAME', 'keyferry-type');
		return new Copier(options, markers, scanClient, typeClient);
	}

	/** The copier loop's failure, if it fails (a lost source connection). */
	get failed(): Promise<never> {
		return this.loop.then(() => new Promise<never>(() => {}));
	}

	/** True once every db has been scanned and every scanned key read. */
	get scansDone(): boolean {
		return this.scansFinished;
	}

	get outstanding(): number {
		return this.markers.reduce((sum, marker) => sum + marker.outstanding, 0);
	}

	/** No re-copy queued and no read waiting for its marker. */
	get quiet(): boolean {
		return this.recopies.size === 0 && this.outstanding === 0;
	}

	/** Nothing queued, nothing in flight: every read so far has reached the applier. */
	get idle(): boolean {
		return this.scansFinished && this.recopies.size === 0 && this.outstanding === 0;
	}

	setPaused(paused: boolean): void {
		this.paused = paused;
		this.poke();
	}

	setRate(rate: number | null): void {
		this.limiter.setRate(rate);
	}

	/** The target refused a DUMP payload: every key from now on is copied type by type. */
	switchToLogical(): void {
		this.logical = true;
	}

	get copyMode(): 'dump' | 'logical' {
		return this.logical ? 'logical' : 'dump';
	}

	/** Queue keys to be read again through a fresh marker. Duplicates not yet sent are merged. */
	recopy(db: number, keys: Buffer[]): void {
		let pending = this.recopies.get(db);
		if (!pending) {
			pending = new Map();
			this.recopies.set(db, pending);
		}
		const seq = ++this.requestSeq;
		for (const key of keys) {
			const id = key.toString('latin1');
			pending.set(id, key);
			this.stale.set(`${db}:${id}`, seq);
		}
		this.poke();
	}

	/** The key has a re-copy requested that has not landed on the target yet. */
	isStale(db: number, key: Buffer): boolean {
		return this.stale.size > 0 && this.stale.has(`${db}:${key.toString('latin1')}`);
	}

	/** A read sent at `seq` was placed: requests up to it are satisfied. */
	landed(db: number, key: Buffer, seq: number): void {
		if (this.stale.size === 0) return;
		const id = `${db}:${key.toString('latin1')}`;
		const latest = this.stale.get(id);
		if (latest !== undefined && latest <= seq) this.stale.delete(id);
	}

	/** Scan a db again from the start (SWAPDB, a capture gap), or only its keys of `slots` (slots that moved to this master). */
	rescan(db: number, slots: ReadonlySet<number> | null = null): void {
		const queued = this.scanQueue.find((entry) => entry.db === db);
		if (!queued) this.scanQueue.push({db, slots});
		else if (queued.slots !== null) queued.slots = slots === null ? null : new Set([...queued.slots, ...slots]);
		this.scansFinished = false;
		this.poke();
	}

	/** Which keys a command touches, by the source's own COMMAND GETKEYS (for commands keyferry does not know). */
	async commandKeys(args: Buffer[]): Promise<Buffer[]> {
		return (await this.scanClient.callBuffer('COMMAND', 'GETKEYS', ...args)) as Buffer[];
	}

	/** Application clients blocked right now (CLIENT LIST flag b), as MONITOR shows their address, with their db. */
	async blockedClients(): Promise<Array<{client: string; db: number}>> {
		const list = String(await this.scanClient.call('CLIENT', 'LIST', 'TYPE', 'normal'));
		return list
			.split('\n')
			.map((line) => parseClientInfo(line))
			.filter((fields) => fields['flags']?.includes('b') && fields['addr'] && !fields['name']?.startsWith('keyferry-'))
			.map((fields) => ({client: fields['addr']!, db: Number(fields['db'] ?? 0)}));
	}

	/** Which of `keys` exist in `db` now: an unmarked read, for the sweep of target keys gone from the source. */
	async exists(db: number, keys: Buffer[]): Promise<boolean[]> {
		const pipeline = this.typeClient.pipeline();
		pipeline.select(db);
		for (const key of keys) pipeline.exists(key);
		const results = (await pipeline.exec()) ?? [];
		return keys.map((_, index) => {
			const [error, count] = results[index + 1] ?? [null, 1];
			// An unreadable answer counts as present: the sweep then leaves the key to the rescan.
			return error !== null || Number(count) > 0;
		});
	}

	barrier(key: Buffer): Promise<void> {
		return this.markers[0]!.barrier(key);
	}

	async close(): Promise<void> {
		this.closed = true;
		this.poke();
		await this.loop.catch(() => {});
		for (const marker of this.markers) marker.close();
		this.scanClient.disconnect();
		this.typeClient.disconnect();
	}

	private poke(): void {
		this.wake?.();
	}

	private sleep(ms: number): Promise<void> {
		return new Promise((resolve) => {
			const timer = setTimeout(done, ms);
			const self = this;
			function done() {
				clearTimeout(timer);
				self.wake = null;
				resolve();
			}
			this.wake = done;
		});
	}

	private marker(): MarkerConnection {
		const marker = this.markers[this.next % this.markers.length]!;
		this.next++;
		return marker;
	}

	private async run(): Promise<void> {
		const maxOutstanding = this.options.maxOutstanding ?? 20_000;
		const scanCount = this.options.scanCount ?? 500;
		let db: number | undefined;
		let slots: ReadonlySet<number> | null = null;
		let cursor = '0';
		while (!this.closed) {
			if (this.outstanding >= maxOutstanding) {
				await this.sleep(5);
				continue;
			}
			if (this.recopies.size > 0) {
				await this.sendRecopies();
				continue;
			}
			if (this.paused || (db === undefined && this.scanQueue.length === 0)) {
				if (db === undefined && this.scanQueue.length === 0) this.scansFinished = true;
				await this.sleep(this.paused ? 100 : 50);
				continue;
			}
			if (db === undefined) {
				({db, slots} = this.scanQueue.shift()!);
				cursor = '0';
				await this.scanClient.select(db);
			}
			const [nextCursor, scanned] = await this.scanClient.scanBuffer(cursor, 'COUNT', scanCount);
			const keys = slots === null ? scanned : scanned.filter((key) => slots!.has(keySlot(key)));
			cursor = String(nextCursor);
			if (keys.length > 0) {
				await this.limiter.take(keys.length);
				await this.read(db, keys, false);
			}
			if (cursor === '0') {
				db = undefined;
			}
		}
	}

	private async sendRecopies(): Promise<void> {
		const batch = [...this.recopies];
		this.recopies.clear();
		for (const [db, keys] of batch) await this.read(db, [...keys.values()], true);
	}

	/** Marked reads of `keys`, one batch on one marker connection (it sends them in one write). */
	private async read(db: number, keys: Buffer[], recopy: boolean): Promise<void> {
		const marker = this.marker();
		const seq = this.requestSeq;
		if (!this.logical) {
			for (const key of keys) marker.dump(db, key, recopy, seq);
			return;
		}
		// The type decides which read to mark; if it changes before the read, the applier re-copies.
		const types = await this.types(db, keys);
		keys.forEach((key, index) => marker.logical(db, key, types[index]!, recopy, seq));
	}

	private async types(db: number, keys: Buffer[]): Promise<string[]> {
		const pipeline = this.typeClient.pipeline();
		pipeline.select(db);
		for (const key of keys) pipeline.type(key);
		const results = (await pipeline.exec()) ?? [];
		return results.slice(1).map(([error, type]) => (error ? 'none' : String(type)));
	}
}
