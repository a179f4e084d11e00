/**
 * Follows the source's topology while migrating (DESIGN.md: a change is detected, shown, and the
 * affected slots re-copied; never ignored). Fed by the TopologyWatch's polls:
 *
 * - Slots that changed master (a failover, a slot migration, a node added or removed) once every
 *   node agrees and no migration is in flight: the new master gets a stream if it has none (its
 *   own capture, copier and applier), the old master's stream is fenced (a barrier it must pass,
 *   so none of its writes for those slots can reach the target later) or retired when it serves
 *   no slot any more, then every key of the moved slots is read again through markers on the
 *   new master and target keys of those slots the source no longer has are swept. Until that is
 *   done the slots are "unsettled": the sampler leaves them alone.
 * - A replica read from (--read-from replicas) that may have changed its data without showing it
 *   in MONITOR (link down, new replication id, a full resync, promoted): every key read from it
 *   is read again and swept.
 * - Reads a source refused before running them (MOVED, ASK, LOADING) are parked and sent again,
 *   after the next poll, to the stream that serves the key then.
 *
 * A change it cannot follow (no way to open the new master's stream, a fence that fails, a replica
 * gone for good) stops the migration with a clear error.
 */
import {describeError} from '../errors';
import {endpointAddress, withAddress, type NodeEndpoint} from '../redis/endpoint';
import {chooseReader} from '../redis/replicas';
import {clusterSlots, describeMove, diffOwners, type SettledTopology, type SlotOwners} from '../redis/topology-diff';
import {TopologyWatch, type ReaderState, type TopologyPoll} from '../redis/topology-watch';
import {keySlot} from '../replay/cluster-routing';

/** What this module needs to know of one of the pipeline's master streams. */
export interface FollowedStream {
	/** host:port of the master whose writes the stream carries; changes when a failover promotes the replica read. */
	address: string;
	master: NodeEndpoint;
	/** The node captured and read: the master itself, or its replica. */
	endpoint: NodeEndpoint;
	dbs: number[];
	copier: {
		recopy(db: number, keys: Buffer[]): void;
		rescan(db: number, slots: ReadonlySet<number> | null): void;
		readonly scansDone: boolean;
	};
}

export interface SourceTopologyOptions<S extends FollowedStream> {
	/** The source URL's endpoint: the login for every node. */
	login: NodeEndpoint;
	cluster: boolean;
	readFrom: 'primaries' | 'replicas';
	/** The pipeline's live list of streams. */
	streams: S[];
	/** Slot owners at preflight (cluster sources). */
	owners: SlotOwners | null;
	/** Opens a stream (capture first) and adds it to `streams`. */
	open(master: NodeEndpoint, reader: NodeEndpoint): Promise<S>;
	/** Resolves once the applier passed a barrier placed on the stream now (after the replica caught up). */
	fence(stream: S): Promise<void>;
	/** Applies what the stream captured, then closes it and takes it out of `streams`. */
	retire(stream: S): Promise<void>;
	/** Sweeps target keys of `slots` (null: all of the stream's keys) that the stream's source no longer has. */
	sweep(stream: S, slots: ReadonlySet<number> | null): Promise<void>;
	warn(code: string, message: string): void;
	fail(code: string, message: string): void;
	intervalMs?: number;
}

/** A replica unreachable this long is lost: keyferry cannot follow its master any more. */
const readerLostAfterMs = 30_000;

export class SourceTopology<S extends FollowedStream> {
	private readonly owners: Array<S | undefined> | null;
	private ownerAddresses: SlotOwners | null;
	/** Slots (cluster) being re-copied after a change; `resyncing` counts whole-source re-copies (standalone). */
	private readonly unsettled = new Uint16Array(clusterSlots);
	private resyncing = 0;
	/** Slots a migration in flight touches (not settled yet). */
	private inFlight = new Set<number>();
	private readonly parked = new Map<number, Buffer[]>();
	private readonly fingerprints = new Map<S, string>();
	private readonly unreachableSince = new Map<S, number>();
	private lastUnsettled = '';
	private lastOrphans = '';
	private stopped = false;
	private readonly watch: TopologyWatch;

	constructor(private readonly options: SourceTopologyOptions<S>) {
		this.ownerAddresses = options.owners;
		this.owners = options.owners && options.owners.map((address) => options.streams.find((stream) => stream.address === address));
		this.watch = new TopologyWatch({
			login: options.login,
			cluster: options.cluster,
			intervalMs: options.intervalMs,
			nodes: () => [...new Set([...options.streams.flatMap((stream) => [stream.address, endpointAddress(stream.endpoint)]), ...(this.ownerAddresses ?? []).filter((owner) => owner !== undefined)])],
			readers: () => options.streams.filter((stream) => endpointAddress(stream.endpoint) !== stream.address).map((stream) => stream.endpoint),
			onPoll: (poll) => this.onPoll(poll),
		});
	}

	start(): void {
		this.watch.start();
	}

	async stop(): Promise<void> {
		this.stopped = true;
		await this.watch.stop();
	}

	/** The stream that serves `key` now (the only one for a standalone source). */
	streamFor(key: Buffer): S | undefined {
		return this.owners ? this.owners[keySlot(key)] : this.options.streams[0];
	}

	/** The key's slot is being re-copied: the target is knowingly behind on it. */
	unsettledKey(key: Buffer): boolean {
		if (this.resyncing > 0) return true;
		if (this.owners === null) return false;
		const slot = keySlot(key);
		return this.unsettled[slot]! > 0 || this.inFlight.has(slot);
	}

	/** Keys whose marked read the source refused: read again after the next poll, wherever they are served then. */
	refused(db: number, keys: Buffer[]): void {
		const parked = this.parked.get(db);
		if (parked) parked.push(...keys);
		else this.parked.set(db, [...keys]);
		this.watch.pollSoon();
	}

	private async onPoll(poll: TopologyPoll): Promise<void> {
		try {
			if (poll.cluster) await this.followCluster(poll.cluster, poll.readers);
			this.followReaders(poll.readers);
		} catch (error) {
			this.fail('source-topology', `cannot follow the source's topology change: ${describeError(error).message}`);
		}
		this.sendParked();
	}

	/** Refused reads waiting to be sent again (a drain must not end before they are). */
	get parkedReads(): number {
		let count = 0;
		for (const keys of this.parked.values()) count += keys.length;
		return count;
	}

	/** Sends the refused reads again now, to the streams that serve their keys (a drain does not wait for the next poll). */
	sendParked(): void {
		if (this.stopped) return;
		for (const [db, keys] of this.parked) {
			const left: Buffer[] = [];
			const byStream = new Map<S, Buffer[]>();
			for (const key of keys) {
				const stream = this.streamFor(key);
				if (!stream) {
					left.push(key);
					continue;
				}
				const listed = byStream.get(stream);
				if (listed) listed.push(key);
				else byStream.set(stream, [key]);
			}
			for (const [stream, streamKeys] of byStream) stream.copier.recopy(db, streamKeys);
			if (left.length > 0) this.parked.set(db, left);
			else this.parked.delete(db);
		}
	}

	private async followCluster(view: TopologyPoll['cluster'] & object, readers: TopologyPoll['readers']): Promise<void> {
		if (!view.settled) {
			this.inFlight = new Set(view.slots);
			if (view.reason !== this.lastUnsettled) {
				this.lastUnsettled = view.reason;
				this.options.warn('source-topology', `source cluster ${view.reason}; keyferry re-copies the slots that move once it completes`);
			}
			return;
		}
		this.lastUnsettled = '';
		const before = this.ownerAddresses ?? [];
		const orphans = diffOwners(before, view.owners).filter((move) => move.to === undefined);
		const orphanText = orphans.map(describeMove).join('; ');
		if (orphanText !== this.lastOrphans) {
			this.lastOrphans = orphanText;
			if (orphanText) this.options.warn('source-topology', `source cluster: ${orphanText}; keyferry keeps following their last master until one serves them`);
		}
		// Slots nobody serves keep their last owner: nothing can write to them meanwhile.
		const after = view.owners.map((owner, slot) => owner ?? before[slot]);
		const moves = diffOwners(before, after);
		if (moves.length === 0) {
			this.inFlight = new Set();
			return;
		}
		this.options.warn('source-topology', `source topology changed: ${moves.map(describeMove).join('; ')}; re-copying those slots from their new masters and sweeping target keys they no longer hold`);

		const gaining = new Map<S, Set<number>>();
		const losing = new Set<S>();
		for (const move of moves) {
			const stream = this.streamServing(move.to!, readers) ?? (await this.openFor(move.to!, view));
			if (this.stopped) return;
			const slots = gaining.get(stream) ?? new Set<number>();
			gaining.set(stream, slots);
			for (const [first, last] of move.ranges) {
				for (let slot = first; slot <= last; slot++) {
					const old = this.owners![slot];
					if (old && old !== stream) losing.add(old);
					this.owners![slot] = stream;
					this.unsettled[slot]!++;
					slots.add(slot);
				}
			}
		}
		this.ownerAddresses = after;
		// The moved slots are unsettled now, until their re-copy is done.
		this.inFlight = new Set();
		// None of the old masters' writes for those slots may reach the target after their re-copy.
		await Promise.all(
			[...losing].map(async (stream) => {
				if (this.owners!.includes(stream)) await this.options.fence(stream);
				else await this.options.retire(stream);
			}),
		);
		for (const [stream, slots] of gaining) void this.recopySlots(stream, slots);
	}

	/** The stream already carrying `address`'s writes: its own, or (replicas) one whose replica was promoted to it or follows it now. */
	private streamServing(address: string, readers: TopologyPoll['readers']): S | undefined {
		const streams = this.options.streams;
		const found =
			streams.find((stream) => stream.address === address) ??
			streams.find((stream) => endpointAddress(stream.endpoint) === address) ??
			streams.find((stream) => {
				const state = readers.get(endpointAddress(stream.endpoint));
				return state !== undefined && !(state instanceof Error) && state.master === address;
			});
		if (found && found.address !== address) {
			found.address = address;
			found.master = this.endpointOf(address);
		}
		return found;
	}

	private async openFor(address: string, view: SettledTopology): Promise<S> {
		const master = this.endpointOf(address);
		let reader = master;
		if (this.options.readFrom === 'replicas') {
			const choice = view.replicasOf.has(address) ? await chooseReader(master, true) : null;
			if (choice?.reader) reader = choice.reader;
			else this.options.warn('source-topology', `new source master ${address} has no in-sync replica; capturing and reading it on the master itself`);
		}
		return this.options.open(master, reader);
	}

	/** Every key of `slots` read again on `stream`, target keys of them it lacks swept; then the slots are settled. */
	private async recopySlots(stream: S, slots: ReadonlySet<number> | null): Promise<void> {
		try {
			for (const db of stream.dbs) stream.copier.rescan(db, slots);
			await this.options.sweep(stream, slots);
			while (!stream.copier.scansDone && !this.stopped && this.options.streams.includes(stream)) await new Promise((resolve) => setTimeout(resolve, 100));
			if (!this.stopped && this.options.streams.includes(stream)) await this.options.fence(stream);
		} catch (error) {
			this.options.warn('source-topology', `re-copy after the topology change on ${stream.address} is not confirmed (${describeError(error).message}); run verify --full after sync`);
		} finally {
			if (slots === null) this.resyncing--;
			else for (const slot of slots) this.unsettled[slot]!--;
		}
	}

	private followReaders(readers: TopologyPoll['readers']): void {
		for (const stream of [...this.options.streams]) {
			const reader = endpointAddress(stream.endpoint);
			const state = readers.get(reader);
			if (state === undefined) continue;
			if (state instanceof Error) {
				const since = this.unreachableSince.get(stream) ?? Date.now();
				this.unreachableSince.set(stream, since);
				if (Date.now() - since > readerLostAfterMs) {
					this.fail('source-reader-lost', `replica ${reader}, which ${stream.address} is read from, has not answered for ${Math.round(readerLostAfterMs / 1000)} s (${state.message}); keyferry cannot follow that master any more: restart the migration`);
				}
				continue;
			}
			this.unreachableSince.delete(stream);
			const previous = this.fingerprints.get(stream);
			this.fingerprints.set(stream, state.fingerprint);
			// The first look compares with what preflight chose: an in-sync replica (its master's name may be a host name).
			const changed = previous === undefined ? state.role !== 'replica' || !state.linkUp : previous !== state.fingerprint;
			if (!changed) continue;
			if (!this.options.cluster) this.follow(stream, state, reader);
			this.options.warn('source-replica', `replica ${reader} (read for ${stream.address}) ${describeReader(state)}; it may have changed data MONITOR did not show, so every key read from it is read again`);
			const slots = this.owners ? new Set(this.owners.flatMap((owner, slot) => (owner === stream ? [slot] : []))) : null;
			if (slots) for (const slot of slots) this.unsettled[slot]!++;
			else this.resyncing++;
			void this.recopySlots(stream, slots);
		}
	}

	/** A standalone source: the replica read now follows another master, or was promoted. */
	private follow(stream: S, state: ReaderState, reader: string): void {
		const master = state.role === 'master' ? reader : state.master;
		if (master === null || master === stream.address) return;
		stream.address = master;
		stream.master = state.role === 'master' ? stream.endpoint : this.endpointOf(master);
	}

	private endpointOf(address: string): NodeEndpoint {
		const colon = address.lastIndexOf(':');
		return withAddress(this.options.login, address.slice(0, colon).replace(/^\[|\]$/g, ''), Number(address.slice(colon + 1)));
	}

	private fail(code: string, message: string): void {
		if (this.stopped) return;
		this.stopped = true;
		this.options.fail(code, message);
	}
}

function describeReader(state: ReaderState): string {
	if (state.role === 'master') return 'was promoted to master';
	if (!state.linkUp) return `lost its link to ${state.master ?? 'its master'}`;
	return `changed its replication (now following ${state.master ?? '?'})`;
}
