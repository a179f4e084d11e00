/**
 * The live verifier: samples keys (random ones and keys the application wrote lately), reads
 * each with a marked snapshot on the source, and lets the applier read the target at that exact
 * point of the stream (DESIGN.md, markers rule 5). A difference is read again through a fresh
 * marker before it is reported, so a race can never surface as a discrepancy.
 */
import type Redis from 'ioredis';
import type {LogicalValue} from '../copy/logical-read';
import type {MarkerConnection} from '../copy/marker-connection';
import type {Counters} from '../engine/counters';
import type {DiscrepancyRecord} from '../engine/events';
import {connectNode} from '../redis/connect';
import type {NodeEndpoint} from '../redis/endpoint';
import type {RecentKeys} from './recent-keys';
import {compareSnapshots} from './sample-compare';

export interface SampledMaster {
	endpoint: NodeEndpoint;
	markers: MarkerConnection[];
	/** dbs that hold keys on this master. */
	dbs(): number[];
	recent: RecentKeys;
	recopy(db: number, keys: Buffer[]): void;
	/** Keys not to sample now (their slot is being re-copied after a topology change: the target is knowingly behind). */
	skip?(key: Buffer): boolean;
}

export interface SamplerOptions {
	/** The masters followed now (a source topology change adds and removes some). */
	masters(): SampledMaster[];
	counters: Counters;
	/** Samples per second. */
	rate: number;
	ttlToleranceMs: number;
	repair: boolean;
	/** A confirmed difference (seen twice, through two markers). */
	onDiscrepancy(record: DiscrepancyRecord, repaired: boolean): void;
}

/** Keys larger than this are compared by the full compare, not sampled whole. */
const maxElements = 1000;
const maxStringBytes = 512 * 1024;
const maxInFlight = 200;
/**
 * Feed lines a marker connection may have waiting for the applier before new samples wait too.
 * A sample's source snapshot is held until the applier reaches its marker; while the target is
 * slow or stopped that point does not come, and sampling on would grow the heap with the lag.
 */
export const maxUnplacedLines = 1000;
const sizeCommand: Record<string, string> = {string: 'STRLEN', hash: 'HLEN', list: 'LLEN', set: 'SCARD', zset: 'ZCARD', stream: 'XLEN'};

interface MasterState {
	master: SampledMaster;
	/** One connection per db: concurrent samples must not race each other's SELECT. */
	clients: Map<number, Promise<Redis>>;
	next: number;
}

export class Sampler {
	private rate: number;
	private burst = 0;
	private inFlight = 0;
	private round = 0;
	private clean = 0;
	private stopped = false;
	private readonly timer: NodeJS.Timeout;

	private readonly options: SamplerOptions;
	private readonly states = new Map<SampledMaster, MasterState>();

	constructor(options: SamplerOptions) {
		this.options = options;
		this.rate = options.rate;
		this.timer = setInterval(() => this.tick(), 100);
		this.timer.unref();
	}

	/** Samples in a row that matched since the last confirmed difference. */
	get consecutiveClean(): number {
		return this.clean;
	}

	setRate(rate: number): void {
		this.rate = rate;
	}

	/** `v` in the console: this many extra samples now. */
	sampleNow(count: number): void {
		this.burst += count;
	}

	stop(): void {
		this.stopped = true;
		clearInterval(this.timer);
		for (const state of this.states.values()) this.disconnect(state);
	}

	private disconnect(state: MasterState): void {
		for (const client of state.clients.values()) void client.then((open) => open.disconnect(), () => {});
	}

	/** A state per followed master; those no longer followed are closed. */
	private current(): MasterState[] {
		const masters = this.options.masters();
		for (const [master, state] of this.states) {
			if (masters.includes(master)) continue;
			this.disconnect(state);
			this.states.delete(master);
		}
		return masters.map((master) => {
			let state = this.states.get(master);
			if (!state) {
				state = {master, clients: new Map(), next: 0};
				this.states.set(master, state);
			}
			return state;
		});
	}

	private client(state: MasterState, db: number): Promise<Redis> {
		let client = state.clients.get(db);
		if (!client) {
			client = connectNode({...state.master.endpoint, db}, 'source').then(async (open) => {
				await open.call('CLIENT', 'SETNAME', 'keyferry-sampler');
				return open;
			});
			client.catch(() => state.clients.delete(db));
			state.clients.set(db, client);
		}
		return client;
	}

	private tick(): void {
		let budget = Math.ceil(this.rate / 10) + this.burst;
		this.burst = 0;
		const states = this.current();
		if (states.length === 0) return;
		while (budget-- > 0 && this.inFlight < maxInFlight && !this.stopped) {
			const state = states[this.round++ % states.length]!;
			this.inFlight++;
			void this.sampleOne(state).finally(() => this.inFlight--);
		}
	}

	private async sampleOne(state: MasterState): Promise<void> {
		if (state.master.markers.every((marker) => marker.outstanding >= maxUnplacedLines)) return;
		const picked = await this.pick(state);
		if (!picked) return;
		await this.sample(state, picked.db, picked.key, false);
	}

	/** Half the samples are keys the application wrote lately, half random keys of a random db. */
	private async pick(state: MasterState): Promise<{db: number; key: Buffer} | undefined> {
		const recent = Math.random() < 0.5 ? state.master.recent.pick() : undefined;
		if (recent) return recent;
		const dbs = state.master.dbs();
		if (dbs.length === 0) return undefined;
		const db = dbs[Math.floor(Math.random() * dbs.length)]!;
		try {
			const key = await (await this.client(state, db)).randomkeyBuffer();
			return key === null ? undefined : {db, key};
		} catch {
			return undefined;
		}
	}

	private async sample(state: MasterState, db: number, key: Buffer, recheck: boolean): Promise<void> {
		if (state.master.skip?.(key)) return;
		const type = await this.smallKeyType(state, db, key);
		if (type === null || this.stopped) return;
		const markers = state.master.markers.filter((candidate) => !candidate.lost);
		// Every connection to the source is being re-established: no sample now.
		if (markers.length === 0) return;
		const marker = markers[state.next++ % markers.length]!;
		// A recheck confirms a difference already seen: it is never dropped.
		if (!recheck && marker.outstanding >= maxUnplacedLines) return;
		marker.sample(db, key, type, (source, target, sourceExpireAt, targetExpireAt) => {
			this.judge(state, db, key, recheck, {source, target, sourceExpireAt, targetExpireAt});
		});
	}

	private judge(
		state: MasterState,
		db: number,
		key: Buffer,
		recheck: boolean,
		snapshots: {source: LogicalValue; target: LogicalValue; sourceExpireAt: number | null; targetExpireAt: number | null},
	): void {
		// After stop the drain is under way: a repair requested now could land after its last barrier.
		if (this.stopped || state.master.skip?.(key)) return;
		const record = compareSnapshots({key, db, ttlToleranceMs: this.options.ttlToleranceMs, ...snapshots});
		if (record === null) {
			this.options.counters.samples++;
			this.clean++;
			return;
		}
		if (!recheck) {
			void this.sample(state, db, key, true);
			return;
		}
		this.options.counters.samples++;
		this.options.counters.discrepancies++;
		this.clean = 0;
		if (this.options.repair) state.master.recopy(db, [key]);
		this.options.onDiscrepancy(record, this.options.repair);
	}

	/** The key's type when it is small enough to be read whole, else null. */
	private async smallKeyType(state: MasterState, db: number, key: Buffer): Promise<string | null> {
		try {
			const client = await this.client(state, db);
			const name = await client.type(key);
			const command = sizeCommand[name];
			if (!command) return null;
			const size = Number(await client.call(command, key));
			return size <= (name === 'string' ? maxStringBytes : maxElements) ? name : null;
		} catch {
			return null;
		}
	}
}
