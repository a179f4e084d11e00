/**
 * The copier of one source master: SCANs every db and reads each key with DUMP + PTTL on marker
 * connections, so each payload's place in the stream is the position of its `dump` line. It also
 * serves re-copies (keys whose effect could not be reproduced from the stream) ahead of the scan.
 * It writes nothing anywhere: the applier RESTOREs at the marker.
 *
 * Lost connections are re-established with backoff, forever, and shown: a marker connection by a
 * successor (marker-connection.ts: what the lost one read and never placed is read again), the
 * scan and type clients by ioredis, with the interrupted SCAN continued from its cursor (a
 * restarted source also drops MONITOR, and that gap rescans every db anyway). A marker connection
 * that stops answering while the source answers a probe is declared lost (liveness.ts).
 */
import {randomUUID} from 'node:crypto';
import type Redis from 'ioredis';
import type {Counters} from '../engine/counters';
import {describeError, KeyferryError} from '../errors';
import {parseClientInfo} from '../redis/client-info';
import {connectNode} from '../redis/connect';
import {endpointAddress, type NodeEndpoint} from '../redis/endpoint';
import {defaultSilenceLimits, LivenessWatch, type SilenceLimits} from '../redis/liveness';
import type {ListedClient} from '../replay/blocked-clients';
import {keySlot} from '../replay/cluster-routing';
import {MarkerConnection, type BarrierRead} from './marker-connection';
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
	/** Lost and re-established connections, for the operator. */
	onWarning?(code: string, message: string): void;
	onInfo?(message: string): void;
}

const minDelayMs = 100;
const maxDelayMs = 5000;
/** While reconnecting fails, how often the operator hears about it again. */
const remindEveryMs = 30_000;
/** Retired marker connections remembered, so lines of a connection that outlived its loss are still recognised. */
const maxRetired = 1000;
/**
 * Marker connections only read, and a server pausing writes (a failover) still serves reads: one
 * that answers a probe while a read waits 5 s has stopped serving that connection.
 */
const sourceReadLimits: SilenceLimits = {...defaultSilenceLimits, probeAfterMs: 1000, deadAfterMs: 5000};
/** A SCAN, TYPE or EXISTS batch unanswered this long: its connection is given up and replaced. */
const commandTimeoutMs = 15_000;

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
	/** A rescan was asked for since the scans last finished: say when it is done. */
	private rescanning = false;
	private readonly scanWaiters: Array<() => void> = [];
	/** Every marker connection whose lines may still show, by address (the live ones in `markers`). */
	private readonly byAddress = new Map<string, MarkerConnection>();
	/** Barriers voided while no marker connection was up. */
	private unplacedBarriers: BarrierRead[] = [];
	private readonly down = new Set<string>();
	private readonly watch: LivenessWatch;
	private readonly loop: Promise<void>;

	private constructor(
		private readonly options: CopierOptions,
		/** The marker connections in use, one per slot; a lost one stays in its slot until its successor is up. */
		readonly markers: MarkerConnection[],
		private readonly scanClient: Redis,
		private readonly typeClient: Redis,
	) {
		this.scanQueue = options.dbs.map((db) => ({db, slots: null}));
		this.limiter = new RateLimiter(options.rate);
		this.paused = options.startPaused ?? false;
		this.logical = options.logical ?? false;
		this.watch = new LivenessWatch({
			endpoint: options.endpoint,
			side: 'source',
			limits: sourceReadLimits,
			onUnanswered: (silentMs, pending) =>
				this.warn('source-not-answering', `the source ${this.address} has not answered keyferry's reads for ${Math.round(silentMs / 1000)} s (${pending} waiting) nor a probe; waiting for it`),
		});
		markers.forEach((marker, slot) => this.adopt(marker, slot));
		for (const [client, name] of [
			[scanClient, 'scan'],
			[typeClient, 'type'],
		] as const) {
			client.on('reconnecting', () => this.connectionDown(name, 'connection lost'));
			client.on('ready', () => this.connectionUp(name));
		}
		this.loop = this.run();
		this.loop.catch(() => {});
	}

	static async open(options: CopierOptions): Promise<Copier> {
		const count = options.markerConnections ?? 2;
		const markers = await Promise.all(Array.from({length: count}, () => MarkerConnection.open(options.endpoint)));
		// Reads only, so ioredis may reconnect and resend them (waiting for as long as it takes); a
		// command unanswered for long fails, and the scan loop then replaces its connection.
		const reconnecting = {
			retryStrategy: (times: number) => Math.min(minDelayMs * 2 ** Math.min(times, 16), maxDelayMs),
			maxRetriesPerRequest: null,
			commandTimeout: commandTimeoutMs,
		};
		const [scanClient, typeClient] = await Promise.all([
			connectNode({...options.endpoint, db: 0}, 'source', {...reconnecting, connectionName: 'keyferry-scan'}),
			connectNode({...options.endpoint, db: 0}, 'source', {...reconnecting, connectionName: 'keyferry-type'}),
		]);
		return new Copier(options, markers, scanClient, typeClient);
	}

	/** True while a connection to the source is lost and being re-established. */
	get reconnecting(): boolean {
		return this.down.size > 0;
	}

	/** The marker connection the server shows at `address` (a retired one too), if it is one of this copier's. */
	markerAt(address: string): MarkerConnection | undefined {
		return this.byAddress.get(address);
	}

	/** Marker connections whose reads may still be unplaced (live, lost, not yet retired). */
	markersInUse(): MarkerConnection[] {
		return [...this.byAddress.values()].filter((marker) => !marker.retired);
	}

	/** A barrier voided on a lost connection: placed again on a live one (once one is up). */
	placeBarrier(read: BarrierRead): void {
		const marker = this.liveMarker();
		if (marker) marker.placeBarrier(read);
		else this.unplacedBarriers.push(read);
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
		this.rescanning = true;
		this.poke();
	}

	/** Which keys a command touches, by the source's own COMMAND GETKEYS (for commands keyferry does not know). */
	async commandKeys(args: Buffer[]): Promise<Buffer[]> {
		return (await this.scanClient.callBuffer('COMMAND', 'GETKEYS', ...args)) as Buffer[];
	}

	/** Application clients blocked right now (CLIENT LIST flag b), as MONITOR shows their address, with their db and command. */
	async blockedClients(): Promise<ListedClient[]> {
		const list = String(await this.scanClient.call('CLIENT', 'LIST', 'TYPE', 'normal'));
		return list
			.split('\n')
			.map((line) => parseClientInfo(line))
			.filter((fields) => fields['flags']?.includes('b') && fields['addr'] && !fields['name']?.startsWith('keyferry-'))
			.map((fields) => ({client: fields['addr']!, db: Number(fields['db'] ?? 0), command: fields['cmd'] ?? ''}));
	}

	/** Which of `keys` exist in `db` now: an unmarked read, for the sweep of target keys gone from the source. */
	async exists(db: number, keys: Buffer[]): Promise<boolean[]> {
		let results: [Error | null, unknown][] = [];
		for (let attempt = 0; ; attempt++) {
			const pipeline = this.typeClient.pipeline();
			pipeline.select(db);
			for (const key of keys) pipeline.exists(key);
			results = (await pipeline.exec()) ?? [];
			// No answer (a stuck connection, replaced) or LOADING (a restarted source before its data is
			// back) is no answer about the key: asked again, never read as missing or as present.
			if (!results.some(([error]) => error && (isTimeout(error) || /^LOADING/.test(error.message))) || this.closed) break;
			this.replaceIfStuck(this.typeClient, results);
			await delay(Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(attempt, 16)));
		}
		return keys.map((_, index) => {
			const [error, count] = results[index + 1] ?? [null, 1];
			// An unreadable answer counts as present: the sweep then leaves the key to the rescan.
			return error !== null || Number(count) > 0;
		});
	}

	async barrier(key: Buffer): Promise<void> {
		let marker = this.liveMarker();
		while (!marker && !this.closed) {
			await delay(100);
			marker = this.liveMarker();
		}
		if (!marker) throw new KeyferryError('copier-closed', 'the copier closed before the barrier could be placed');
		return marker.barrier(key);
	}

	async close(): Promise<void> {
		this.closed = true;
		this.poke();
		await this.loop.catch(() => {});
		this.watch.stop();
		for (const marker of this.markers) marker.close();
		this.scanClient.disconnect();
		this.typeClient.disconnect();
	}

	private get address(): string {
		return endpointAddress(this.options.endpoint);
	}

	private warn(code: string, message: string): void {
		this.options.onWarning?.(code, message);
	}

	/** A live marker connection in turn, or null while every one is lost. */
	private liveMarker(): MarkerConnection | null {
		for (let tried = 0; tried < this.markers.length; tried++) {
			const marker = this.markers[this.next++ % this.markers.length]!;
			if (!marker.lost) return marker;
		}
		return null;
	}

	private adopt(marker: MarkerConnection, slot: number): void {
		this.byAddress.set(marker.address, marker);
		this.watch.watch(marker.connection);
		marker.connection.onClose((error) => {
			if (error === null || this.closed) return;
			this.connectionDown(`marker ${slot}`, error.message);
			void this.replaceMarker(slot, marker);
		});
		if (this.unplacedBarriers.length > 0) {
			const barriers = this.unplacedBarriers;
			this.unplacedBarriers = [];
			for (const read of barriers) marker.placeBarrier(read);
		}
		if (this.byAddress.size > this.markers.length + maxRetired) {
			for (const [address, known] of this.byAddress) {
				if (known.retired) {
					this.byAddress.delete(address);
					break;
				}
			}
		}
	}

	/** A successor for the lost marker connection in `slot`, with backoff, until the copier closes. */
	private async replaceMarker(slot: number, lost: MarkerConnection): Promise<void> {
		let attempt = 0;
		let lastReminder = Date.now();
		while (!this.closed) {
			await delay(Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(attempt++, 16)));
			if (this.closed) return;
			let successor: MarkerConnection;
			try {
				successor = await MarkerConnection.open(this.options.endpoint);
			} catch (error) {
				if (Date.now() - lastReminder >= remindEveryMs) {
					lastReminder = Date.now();
					this.warn('source-reconnecting', `still reconnecting to the source ${this.address}: ${describeError(error).message}`);
				}
				continue;
			}
			if (this.closed) {
				successor.close();
				return;
			}
			this.byAddress.set(successor.address, successor);
			void successor.takeOver(lost, Buffer.from(`keyferry:takeover:${randomUUID()}`)).then((refused) => {
				if (refused) this.warn('source-client-kill', `the source refused CLIENT KILL (${refused}): reads of a lost connection could show late; run verify after sync`);
			});
			this.markers[slot] = successor;
			this.adopt(successor, slot);
			this.connectionUp(`marker ${slot}`);
			this.poke();
			return;
		}
	}

	private connectionDown(name: string, reason: string): void {
		if (this.closed || this.down.has(name)) return;
		if (this.down.size === 0) this.warn('source-reconnecting', `lost a connection to the source ${this.address} (${name}: ${reason}); reconnecting, reads it had not placed are read again`);
		this.down.add(name);
	}

	private connectionUp(name: string): void {
		if (!this.down.delete(name) || this.down.size > 0 || this.closed) return;
		this.options.onInfo?.(`reconnected to the source ${this.address}`);
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

	private async run(): Promise<void> {
		const maxOutstanding = this.options.maxOutstanding ?? 20_000;
		const scanCount = this.options.scanCount ?? 500;
		let db: number | undefined;
		let slots: ReadonlySet<number> | null = null;
		let cursor = '0';
		let failures = 0;
		let scanTurn = false;
		while (!this.closed) {
			if (this.outstanding >= maxOutstanding) {
				await this.sleep(5);
				continue;
			}
			if (this.markers.every((marker) => marker.lost)) {
				// Nothing can be read until a marker connection is back.
				await this.sleep(100);
				continue;
			}
			try {
				// Re-copies go first, but a scan waiting gets every other turn: a stream of re-copies must not starve it.
				const scanWaiting = !this.paused && (db !== undefined || this.scanQueue.length > 0);
				if (this.recopies.size > 0 && !(scanTurn && scanWaiting)) {
					await this.sendRecopies();
					scanTurn = true;
					continue;
				}
				scanTurn = false;
				if (this.paused || (db === undefined && this.scanQueue.length === 0)) {
					if (db === undefined && this.scanQueue.length === 0) this.finishScans();
					await this.sleep(this.paused ? 100 : 50);
					continue;
				}
				if (db === undefined) {
					({db, slots} = this.scanQueue.shift()!);
					cursor = '0';
				}
				// Every time: a reconnected client may be in another db.
				const [nextCursor, scanned] = (await this.scanClient.pipeline().select(db).scanBuffer(cursor, 'COUNT', scanCount).exec().then(scanReply)) as [string, Buffer[]];
				failures = 0;
				const keys = slots === null ? scanned : scanned.filter((key) => slots!.has(keySlot(key)));
				if (keys.length > 0) {
					await this.limiter.take(keys.length);
					await this.read(db, keys, false);
				}
				// Only once the keys are read: a failed step scans the same cursor again.
				cursor = String(nextCursor);
				if (cursor === '0') db = undefined;
			} catch (error) {
				// A source restarting (LOADING), a connection that stopped answering: the same step again after a pause.
				if (this.closed) return;
				this.replaceIfStuck(this.scanClient, [[error instanceof Error ? error : null, null]]);
				if (failures++ === 0) this.warn('copy-retry', `copy on ${this.address} paused: ${describeError(error).message}; retrying`);
				await this.sleep(Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(failures, 16)));
			}
		}
	}

	private finishScans(): void {
		if (this.scansFinished) return;
		this.scansFinished = true;
		if (this.rescanning) this.options.onInfo?.(`every db of ${this.address} was read again`);
		this.rescanning = false;
		for (const settled of this.scanWaiters.splice(0)) settled();
	}

	/** Resolves the next time every queued scan has finished (or at once when none runs). */
	scansSettled(): Promise<void> {
		if (this.scansFinished) return Promise.resolve();
		return new Promise((resolve) => this.scanWaiters.push(resolve));
	}

	private async sendRecopies(): Promise<void> {
		const batch = [...this.recopies];
		this.recopies.clear();
		for (const [index, [db, keys]] of batch.entries()) {
			try {
				await this.read(db, [...keys.values()], true);
			} catch (error) {
				// Not read (every marker connection lost meanwhile): queued again, with what came since.
				for (const [againDb, againKeys] of batch.slice(index)) {
					const pending = this.recopies.get(againDb) ?? new Map<string, Buffer>();
					for (const [id, key] of againKeys) pending.set(id, key);
					this.recopies.set(againDb, pending);
				}
				throw error;
			}
		}
	}

	/** Marked reads of `keys`, one batch on one marker connection (it sends them in one write). */
	private async read(db: number, keys: Buffer[], recopy: boolean): Promise<void> {
		const marker = this.liveMarker();
		if (!marker) throw new KeyferryError('source-reconnecting', `no connection to the source ${this.address}`);
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
		this.replaceIfStuck(this.typeClient, results);
		// An unknown type is read as 'none': the marked read then finds another type and the key is re-copied.
		return results.slice(1).map(([error, type]) => (error ? 'none' : String(type)));
	}

	/** A command that timed out: its connection is replaced (ioredis resends what it still waits for). */
	private replaceIfStuck(client: Redis, results: [Error | null, unknown][]): void {
		if (results.some(([error]) => isTimeout(error))) client.disconnect(true);
	}
}

/** SELECT then SCAN in one pipeline: the SCAN reply, or its error (or the SELECT's) thrown. */
function scanReply(results: [Error | null, unknown][] | null): unknown {
	if (!results) throw new Error('the scan pipeline was discarded');
	for (const [error] of results) if (error) throw error;
	return results[1]![1];
}

function isTimeout(error: unknown): boolean {
	return error instanceof Error && /command timed out/i.test(error.message);
}

/** A pause that the copier's wake-up does not cut short (`sleep` is the run loop's alone). */
function delay(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}
