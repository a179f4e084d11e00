/**
 * Ordered writes to a cluster target. One plain connection per master, commands routed by slot
 * (cluster-routing.ts) with a slot map keyferry keeps itself. Per key, the target must see the
 * stream's order: commands of one slot go to one connection in the order `send` was called, and a
 * connection executes in send order. ioredis' Cluster client is not used because its MOVED/ASK
 * handling resends each redirected command on its own, while later commands of the same slot
 * already went out: under thousands in flight that reorders writes of one key.
 *
 * When a slot's owner changes (MOVED, ASK, a failover), the slot is held: new commands of the slot
 * queue locally, the ones still in flight are answered, and then the redirected and queued ones
 * leave in their original order to the new owner. Other slots keep flowing.
 *
 * Replies that never came (the connection to a master dropped) are not resent: the command may
 * or may not have run on the lost master, and resending a non-idempotent write (INCR, LPUSH,
 * APPEND) could apply it twice. Their keys are re-copied instead (the copier reads them again
 * through fresh markers: correct whatever the target holds). So are the keys of writes the lost
 * master acknowledged just before (AckedWrites): a promoted replica may not have received them.
 */
import type Redis from 'ioredis';
import {KeyferryError} from '../errors';
import {killCommand, serverClient, type ServerClient} from '../redis/client-info';
import {connectNode} from '../redis/connect';
import {corked} from '../redis/corked';
import {endpointAddress, withAddress, type NodeEndpoint} from '../redis/endpoint';
import {defaultSilenceLimits} from '../redis/liveness';
import {readClusterShards} from '../redis/topology';
import {AckedWrites} from './acked-writes';
import {routeCommand, routeTransaction, slotCount} from './cluster-routing';
import type {Arg, ReplayWriter} from './writer';

export interface ClusterWriterOptions {
	maxInFlight?: number;
	/** A command the target refused. The same command may have failed on the source too (WRONGTYPE…). */
	onError(error: Error, command: Arg[]): void;
	/**
	 * Keys of a command (or a whole MULTI block) the cluster cannot apply as it is, or whose writes
	 * a lost master may not have kept: read them again from the source. `db` is the target's (0).
	 */
	onCrossSlot(db: number, keys: Buffer[]): void;
	/** Lost masters and long waits for the cluster, for the operator. */
	onWarning?(code: string, message: string): void;
	/** Acknowledged writes this recent (ms) are re-copied when their master is lost (default 2000). */
	ackedWindowMs?: number;
}

type Status = 'idle' | 'connecting' | 'ready' | 'dead';

class NodeLink {
	client: Redis | null = null;
	status: Status = 'idle';
	connecting: Promise<void> | null = null;
	lastAttempt = 0;
	lastError: unknown = null;
	outstanding = 0;
	/** Last reply, or when `outstanding` last went up from 0. */
	lastActivity = 0;
	stallReported = false;
	/** A probe of the master on a fresh connection is under way. */
	probing = false;
	/** The current (or last) connection as the server knows it: the next one closes it there first. */
	serverSide: ServerClient | null = null;
	readonly address: string;

	constructor(
		readonly host: string,
		readonly port: number,
		readonly acked: AckedWrites,
	) {
		this.address = endpointAddress({host, port});
	}

	get ready(): boolean {
		return this.status === 'ready' && this.client?.status === 'ready';
	}
}

interface Unit {
	seq: number;
	slot: number;
	/** One command, or the commands of a MULTI block. */
	commands: Arg[][];
	transaction: boolean;
	keys: Buffer[];
	quiet: boolean;
	/** Send to this node after ASKING (an ASK redirection), once. */
	ask: NodeLink | null;
	attempts: number;
	settle(reply: unknown): void;
}

interface Broadcast {
	seq: number;
	command: Arg[];
	quiet: boolean;
	settle(reply: unknown): void;
}

type Outcome =
	| {kind: 'reply'; value: unknown; errors?: [Error, Arg[]][]}
	| {kind: 'moved' | 'ask'; address: string}
	| {kind: 'retry'; reason: string}
	| {kind: 'lost'; error: Error};

/** Redirections (MOVED, ASK) one command may take before its keys are re-copied instead. */
const maxAttempts = 50;
const retryDelayMs = 100;
const reconnectDelayMs = 250;
/** A wait for the cluster this long is reported. */
const slowRecoveryMs = 5000;
/** A master with commands in flight and no reply for this long is looked at. */
const stallMs = 15_000;
/**
 * No reply for this long while the master answers a probe on a fresh connection: the connection
 * is given up (half-open) and what it never answered is re-copied (liveness.ts explains 20 s).
 */
const deadMs = defaultSilenceLimits.deadAfterMs;
const maxAckedEntries = 200_000;

export class ClusterWriter implements ReplayWriter {
	/** Settles once the slot map is known; rejects when no master can be reached. */
	readonly ready: Promise<void>;
	private readonly template: NodeEndpoint;
	private readonly maxInFlight: number;
	private readonly ackedWindowMs: number;
	private readonly links = new Map<string, NodeLink>();
	private owner: (NodeLink | undefined)[] = new Array<NodeLink | undefined>(slotCount);
	private readonly inFlight = new Int32Array(slotCount);
	/** Slots whose commands wait locally (redirected ones and the ones sent after them). */
	private readonly held = new Map<number, Unit[]>();
	private readonly notBefore = new Map<number, number>();
	/** Everything sent after a broadcast waits here until the broadcast ran on every master. */
	private gate: Array<Unit | Broadcast> | null = null;
	/** Sequences not settled yet. */
	private readonly open = new Set<number>();
	/** No sequence below this is open (advanced lazily). */
	private low = 1;
	private readonly waiters: {upTo: number; resolve: () => void}[] = [];
	/** One per applier waiting for room (every source master's applier shares this writer). */
	private rooms: (() => void)[] = [];
	private seq = 0;
	private stale = false;
	private pumping = false;
	private closed = false;
	private readonly reported = new Set<string>();
	private readonly watchdog: NodeJS.Timeout;

	constructor(
		masters: NodeEndpoint[],
		private readonly options: ClusterWriterOptions,
	) {
		if (masters.length === 0) throw new KeyferryError('cluster-target', 'no target master to write to');
		this.template = masters[0]!;
		this.maxInFlight = options.maxInFlight ?? 10_000;
		this.ackedWindowMs = options.ackedWindowMs ?? 2000;
		this.ready = this.start(masters);
		this.ready.catch(() => {});
		this.watchdog = setInterval(() => this.checkStalls(), 1000);
		this.watchdog.unref();
	}

	/**
	 * Sends one command after everything sent before it on the same slot; resolves with its reply,
	 * or with the Error the target answered (reported unless `quiet`).
	 */
	send(db: number, command: Arg[], quiet = false): Promise<unknown> {
		checkDb(db);
		const route = routeCommand(command);
		switch (route.kind) {
			case 'slot':
				return this.submit({slot: route.slot, commands: [route.command], transaction: false, keys: route.keys, quiet});
			case 'split': {
				const parts = route.parts.map((part) => this.submit({slot: part.slot, commands: [part.command], transaction: false, keys: part.keys, quiet}));
				return Promise.all(parts).then((replies) => mergeReplies(replies, route.reply));
			}
			case 'cross-slot':
				this.options.onCrossSlot(db, route.keys);
				return Promise.resolve(null);
			case 'broadcast':
				return this.submitBroadcast(route.command, quiet);
			case 'noop':
				return Promise.resolve(route.reply);
			case 'unroutable':
				return Promise.resolve(this.unroutable(route.reason, command));
		}
	}

	/** MULTI … EXEC on the master of the block's slot; a block across slots is re-copied. */
	transaction(db: number, commands: Arg[][]): Promise<unknown> {
		checkDb(db);
		const route = routeTransaction(commands);
		switch (route.kind) {
			case 'slot':
				return this.submit({slot: route.slot, commands: route.commands, transaction: true, keys: route.keys, quiet: false});
			case 'cross-slot':
				if (route.dropped !== null) this.unroutable(route.dropped, ['MULTI']);
				this.options.onCrossSlot(db, route.keys);
				return Promise.resolve(null);
			case 'noop':
				return Promise.resolve([]);
			case 'unroutable':
				return Promise.resolve(this.unroutable(route.reason, ['MULTI']));
		}
	}

	async waitForRoom(): Promise<void> {
		while (this.open.size >= this.maxInFlight) {
			await new Promise<void>((resolve) => this.rooms.push(resolve));
		}
	}

	/** Resolves once every command sent so far has been answered (or handed to a re-copy). */
	drain(): Promise<void> {
		return this.settledUpTo(this.seq);
	}

	get pending(): number {
		return this.open.size;
	}

	close(): void {
		this.closed = true;
		clearInterval(this.watchdog);
		for (const link of this.links.values()) {
			link.client?.disconnect();
			link.client = null;
			link.status = 'dead';
		}
	}

	// -------------------------------------------------------------------------------------------
	// Entry points

	/** Reported once per kind, then skipped: replaying it is impossible, and it is not data the re-copy could fix. */
	private unroutable(reason: string, command: Arg[]): Error {
		const error = new KeyferryError('cluster-unroutable', reason);
		if (!this.reported.has(reason)) {
			this.reported.add(reason);
			this.options.onError(error, command);
		}
		return error;
	}

	private submit(fields: Pick<Unit, 'slot' | 'commands' | 'transaction' | 'keys' | 'quiet'>): Promise<unknown> {
		return new Promise((settle) => {
			const unit: Unit = {...fields, seq: ++this.seq, ask: null, attempts: 0, settle};
			this.open.add(unit.seq);
			if (this.gate) this.gate.push(unit);
			else this.route(unit);
		});
	}

	private submitBroadcast(command: Arg[], quiet: boolean): Promise<unknown> {
		return new Promise((settle) => {
			const broadcast: Broadcast = {seq: ++this.seq, command, quiet, settle};
			this.open.add(broadcast.seq);
			if (this.gate) this.gate.push(broadcast);
			else this.startBroadcast(broadcast);
		});
	}

	// -------------------------------------------------------------------------------------------
	// Routing and sending

	private route(unit: Unit): void {
		const waiting = this.held.get(unit.slot);
		if (waiting) {
			waiting.push(unit);
			return;
		}
		const link = unit.ask ?? this.owner[unit.slot];
		if (!link?.ready) {
			this.held.set(unit.slot, [unit]);
			this.needRouting(link);
			return;
		}
		this.write(link, unit);
	}

	private write(link: NodeLink, unit: Unit): void {
		const client = link.client!;
		const asking = unit.ask !== null;
		unit.ask = null;
		this.inFlight[unit.slot]!++;
		if (link.outstanding++ === 0) link.lastActivity = Date.now();
		const outcome = corked(client, () => {
			// ASKING holds for the next command, or for a whole MULTI block; its own failure shows on that command.
			if (asking) client.call('ASKING').catch(() => {});
			if (!unit.transaction) {
				const [name, ...args] = unit.commands[0]!;
				return client.callBuffer(String(name), ...args).then((value): Outcome => ({kind: 'reply', value}), classify);
			}
			const replies = [client.call('MULTI'), ...unit.commands.map(([name, ...args]) => client.callBuffer(String(name), ...args)), client.callBuffer('EXEC')];
			return transactionOutcome(unit, replies);
		});
		void outcome.then((result) => this.answered(link, client, unit, result));
	}

	private answered(link: NodeLink, client: Redis, unit: Unit, outcome: Outcome): void {
		this.inFlight[unit.slot]!--;
		link.outstanding--;
		const now = Date.now();
		if (outcome.kind !== 'lost') {
			link.lastActivity = now;
			link.stallReported = false;
		}
		switch (outcome.kind) {
			case 'reply':
				if (unit.keys.length > 0) link.acked.add(now, unit.keys);
				if (this.held.has(unit.slot)) this.overtaken(unit);
				for (const [error, command] of outcome.errors ?? []) this.options.onError(error, command);
				this.finish(unit, outcome.value, !outcome.errors?.length);
				break;
			case 'moved': {
				const target = this.linkFor(outcome.address, link.host);
				this.owner[unit.slot] = target;
				// One moved slot usually means more (a resharding, a failover): read the whole map again.
				this.stale = true;
				this.redo(unit);
				break;
			}
			case 'ask':
				unit.ask = this.linkFor(outcome.address, link.host);
				this.redo(unit);
				break;
			case 'retry':
				// Not counted: a cluster may answer CLUSTERDOWN for as long as a failover takes.
				this.notBefore.set(unit.slot, now + retryDelayMs);
				this.stale = true;
				this.redo(unit, false);
				break;
			case 'lost':
				this.dropped(link, client);
				this.recopyInstead(unit, outcome.error);
				break;
		}
		this.release(unit.slot);
	}

	/**
	 * `done` ran while earlier commands of its slot wait to be sent again (the cluster refused them
	 * and then accepted it: CLUSTERDOWN ending, TRYAGAIN). An earlier command sharing a key with it
	 * would now run after it: those are re-copied instead of resent.
	 */
	private overtaken(done: Unit): void {
		const waiting = this.held.get(done.slot)!;
		const keys = new Set(done.keys.map((key) => key.toString('latin1')));
		const keep: Unit[] = [];
		for (const unit of waiting) {
			const shares = unit.seq < done.seq && (keys.size === 0 || unit.keys.length === 0 || unit.keys.some((key) => keys.has(key.toString('latin1'))));
			if (shares) this.recopyInstead(unit, new KeyferryError('cluster-reordered', 'overtaken by a later command of its slot'));
			else keep.push(unit);
		}
		this.held.set(done.slot, keep);
	}

	private redo(unit: Unit, counted = true): void {
		if (counted && ++unit.attempts > maxAttempts) {
			this.warnOnce('cluster-redirects', `a command for slot ${unit.slot} was redirected ${maxAttempts} times; re-copying its keys instead`);
			this.recopyInstead(unit, new KeyferryError('cluster-redirects', 'too many redirections'));
			return;
		}
		const waiting = this.held.get(unit.slot);
		if (waiting) waiting.push(unit);
		else this.held.set(unit.slot, [unit]);
		this.needRouting(null);
	}

	private recopyInstead(unit: Unit, error: Error): void {
		if (!this.closed && unit.keys.length > 0) this.options.onCrossSlot(0, unit.keys);
		this.finish(unit, error, false);
	}

	/** Sends a held slot's commands, in their original order, once nothing of the slot is in flight and the route is known. */
	private release(slot: number): void {
		const units = this.held.get(slot);
		if (!units || this.inFlight[slot]! > 0) return;
		if (units.length === 0) {
			this.held.delete(slot);
			return;
		}
		if ((this.notBefore.get(slot) ?? 0) > Date.now()) {
			this.needRouting(null);
			return;
		}
		for (const unit of units) {
			// An ASK target that went away: the owner redirects again if the key moved meanwhile.
			if (unit.ask && unit.ask.status === 'dead') unit.ask = null;
			const link = unit.ask ?? this.owner[slot];
			if (!link?.ready) {
				this.needRouting(link);
				return;
			}
		}
		this.held.delete(slot);
		this.notBefore.delete(slot);
		units.sort((a, b) => a.seq - b.seq);
		for (const unit of units) this.route(unit);
	}

	private finish(item: Unit | Broadcast, reply: unknown, report: boolean): void {
		if (report && reply instanceof Error && !item.quiet) {
			this.options.onError(reply, 'commands' in item ? item.commands[0]! : item.command);
		}
		this.open.delete(item.seq);
		item.settle(reply);
		if (this.waiters.length > 0) this.wakeWaiters();
		if (this.rooms.length > 0 && this.open.size < this.maxInFlight / 2) {
			const rooms = this.rooms;
			this.rooms = [];
			for (const room of rooms) room();
		}
	}

	private settledUpTo(upTo: number): Promise<void> {
		if (this.lowestOpen() > upTo) return Promise.resolve();
		return new Promise((resolve) => this.waiters.push({upTo, resolve}));
	}

	private lowestOpen(): number {
		while (this.low <= this.seq && !this.open.has(this.low)) this.low++;
		return this.low <= this.seq ? this.low : Infinity;
	}

	private wakeWaiters(): void {
		const lowest = this.lowestOpen();
		for (let i = this.waiters.length - 1; i >= 0; i--) {
			const waiter = this.waiters[i]!;
			if (waiter.upTo >= lowest) continue;
			this.waiters.splice(i, 1);
			waiter.resolve();
		}
	}

	// -------------------------------------------------------------------------------------------
	// Broadcasts (FLUSHALL, FUNCTION LOAD…): after everything before them, before everything after.

	/** `waiting`: what was sent after the broadcast so far; it leaves once the broadcast is done. */
	private startBroadcast(broadcast: Broadcast, waiting: Array<Unit | Broadcast> = []): void {
		this.gate = waiting;
		void this.runBroadcast(broadcast).then(() => {
			const queued = this.gate ?? [];
			this.gate = null;
			for (let i = 0; i < queued.length; i++) {
				const item = queued[i]!;
				if ('commands' in item) {
					this.route(item);
					continue;
				}
				this.startBroadcast(item, queued.slice(i + 1));
				return;
			}
		});
	}

	private async runBroadcast(broadcast: Broadcast): Promise<void> {
		await this.settledUpTo(broadcast.seq - 1);
		const done = new Set<string>();
		let reply: unknown = 'OK';
		const started = Date.now();
		const [name, ...args] = broadcast.command;
		while (!this.closed) {
			const masters = this.masters().filter((link) => !done.has(link.address));
			if (masters.length > 0 && masters.every((link) => link.ready)) {
				const results = await Promise.all(
					masters.map((link) => link.client!.callBuffer(String(name), ...args).then((value): Outcome => ({kind: 'reply', value}), classify)),
				);
				results.forEach((result, i) => {
					if (result.kind === 'lost') return;
					done.add(masters[i]!.address);
					if (result.kind === 'reply' && result.value instanceof Error) reply = result.value;
				});
				if (this.masters().every((link) => done.has(link.address))) break;
			}
			if (Date.now() - started > slowRecoveryMs * 6) {
				reply = new KeyferryError('cluster-broadcast', `${String(name)} did not reach every target master`);
				break;
			}
			this.needRouting(null);
			await sleep(retryDelayMs);
		}
		this.finish(broadcast, reply, true);
	}

	private masters(): NodeLink[] {
		return [...new Set(this.owner.filter((link): link is NodeLink => link !== undefined))];
	}

	// -------------------------------------------------------------------------------------------
	// Topology: the slot map, connections, failover

	private async start(masters: NodeEndpoint[]): Promise<void> {
		const seeds = masters.map((endpoint) => this.linkFor(endpointAddress(endpoint), endpoint.host));
		await Promise.all(seeds.map((link) => this.connect(link)));
		if (!seeds.some((link) => link.ready)) throw seeds[0]!.lastError ?? new KeyferryError('cluster-target', 'no target master answered');
		await this.refresh();
		if (this.masters().length === 0) throw new KeyferryError('cluster-target', 'the target cluster serves no slots');
		await Promise.all(this.masters().map((link) => this.connect(link)));
	}

	private linkFor(address: string, defaultHost: string): NodeLink {
		const existing = this.links.get(address);
		if (existing) return existing;
		const colon = address.lastIndexOf(':');
		const rawHost = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
		const host = rawHost === '' || rawHost === '?' ? defaultHost : rawHost;
		const port = Number(address.slice(colon + 1));
		const key = endpointAddress({host, port});
		let link = this.links.get(key);
		if (!link) {
			link = new NodeLink(host, port, new AckedWrites(this.ackedWindowMs, maxAckedEntries));
			this.links.set(key, link);
		}
		if (key !== address) this.links.set(address, link);
		return link;
	}

	private connect(link: NodeLink): Promise<void> {
		// A 'ready' link whose client is closing is left to its 'close' event (which re-copies what it acknowledged).
		if (link.status === 'ready' || this.closed) return Promise.resolve();
		if (link.connecting) return link.connecting;
		if (link.status === 'dead' && Date.now() - link.lastAttempt < reconnectDelayMs) return Promise.resolve();
		link.status = 'connecting';
		link.lastAttempt = Date.now();
		link.connecting = connectNode(withAddress(this.template, link.host, link.port), 'target').then(
			async (client) => {
				link.serverSide = await closePrevious(client, link.serverSide, (refused) =>
					this.warnOnce('target-client-kill', `target master ${link.address} refused CLIENT KILL (${refused}): writes a lost connection still held could run late; run verify after sync`),
				);
				link.connecting = null;
				if (this.closed || client.status !== 'ready') {
					client.disconnect();
					if (!this.closed) link.status = 'dead';
					return;
				}
				link.client = client;
				link.status = 'ready';
				link.lastActivity = Date.now();
				client.once('close', () => this.dropped(link, client));
				this.needRouting(null);
			},
			(error: unknown) => {
				link.connecting = null;
				link.status = 'dead';
				link.lastError = error;
			},
		);
		return link.connecting;
	}

	/** The connection to a master is gone: re-copy what it acknowledged lately, and route around it. */
	private dropped(link: NodeLink, client: Redis | null): void {
		if (client === null || link.client !== client) return;
		link.client = null;
		link.status = 'dead';
		client.disconnect();
		if (this.closed) return;
		const {keys, complete} = link.acked.recent(link.lastActivity);
		link.acked.clear();
		if (keys.length > 0) this.options.onCrossSlot(0, keys);
		const partial = complete ? '' : '; more writes than keyferry tracks were acknowledged just before: run verify after sync';
		this.options.onWarning?.(
			'target-connection-lost',
			`lost the connection to target master ${link.address}; re-copying ${keys.length} key(s) it may not have kept (a failover?)${partial}`,
		);
		this.stale = true;
		this.needRouting(null);
	}

	/** Something waits for a route: connect `link` if given, and keep the pump going until every held slot can leave. */
	private needRouting(link: NodeLink | null | undefined): void {
		if (link) void this.connect(link);
		else if (link === undefined) this.stale = true;
		if (this.pumping || this.closed) return;
		this.pumping = true;
		void this.pump().finally(() => {
			this.pumping = false;
		});
	}

	private async pump(): Promise<void> {
		const started = Date.now();
		let delay = 10;
		let warned = false;
		while (!this.closed && (this.held.size > 0 || this.gate !== null)) {
			if (this.stale) {
				this.stale = false;
				await this.refresh();
			}
			for (const slot of [...this.held.keys()]) this.release(slot);
			if (this.held.size === 0 && this.gate === null) break;
			const blocked = [...this.held.keys()].filter((slot) => this.inFlight[slot] === 0);
			if (blocked.some((slot) => !this.owner[slot]?.ready)) this.stale = true;
			if (this.gate !== null && this.masters().some((link) => !link.ready)) this.stale = true;
			for (const link of this.masters()) if (!link.ready) void this.connect(link);
			if (!warned && blocked.length > 0 && Date.now() - started > slowRecoveryMs) {
				warned = true;
				const waiting = blocked.reduce((sum, slot) => sum + (this.held.get(slot)?.length ?? 0), 0);
				this.options.onWarning?.('target-unavailable', `${blocked.length} target slot(s) have waited ${Math.round((Date.now() - started) / 1000)} s for the target cluster (a failover?); ${waiting} write(s) wait, in order`);
			}
			await sleep(delay);
			delay = Math.min(delay * 2, 500);
		}
	}

	/** CLUSTER SLOTS from the first master that answers; the map is replaced as a whole. */
	private async refresh(): Promise<void> {
		const candidates = [...new Set(this.links.values())].filter((link) => link.ready);
		for (const link of candidates) {
			try {
				const shards = await readClusterShards(link.client!);
				const owner = new Array<NodeLink | undefined>(slotCount);
				for (const shard of shards) {
					const master = this.linkFor(endpointAddress(shard.master), link.host);
					void this.connect(master);
					for (const [first, last] of shard.slots) owner.fill(master, first, last + 1);
				}
				this.owner = owner;
				return;
			} catch {
				// Try the next node.
			}
		}
		for (const link of new Set(this.links.values())) void this.connect(link);
	}

	/**
	 * A master with commands in flight that stopped answering (a host gone without closing the
	 * connection, a half-open connection): reported, and given up when it is no longer a master or
	 * when it answers a probe on a fresh connection but not this one.
	 */
	private checkStalls(): void {
		const now = Date.now();
		for (const link of new Set(this.links.values())) {
			if (!link.ready || link.outstanding === 0 || now - link.lastActivity < stallMs) continue;
			if (!link.stallReported) {
				link.stallReported = true;
				this.options.onWarning?.('target-stalled', `target master ${link.address} has not answered for ${Math.round((now - link.lastActivity) / 1000)} s with ${link.outstanding} command(s) in flight`);
				void this.refresh().then(() => {
					// No longer a master: give up on it; what it never answered is re-copied.
					if (link.ready && !this.owner.includes(link)) link.client!.disconnect();
				});
			}
			if (now - link.lastActivity >= deadMs && !link.probing) void this.probeStalled(link);
		}
	}

	private async probeStalled(link: NodeLink): Promise<void> {
		link.probing = true;
		const client = link.client;
		const silentSince = link.lastActivity;
		try {
			const probe = await connectNode(withAddress(this.template, link.host, link.port), 'target');
			probe.disconnect();
		} catch {
			// Nothing answers: the master is down or unreachable, not this connection alone; keep waiting.
			return;
		} finally {
			link.probing = false;
		}
		if (link.client !== client || link.lastActivity !== silentSince || link.outstanding === 0 || this.closed) return;
		this.options.onWarning?.('target-stalled', `target master ${link.address} answers a new connection but not keyferry's for ${Math.round((Date.now() - silentSince) / 1000)} s: giving that connection up`);
		// At once: a polite disconnect waits for the silent peer to close first.
		client?.disconnect();
		client?.stream.destroy();
	}

	private warnOnce(code: string, message: string): void {
		if (this.reported.has(code)) return;
		this.reported.add(code);
		this.options.onWarning?.(code, message);
	}
}

/**
 * A new connection to a master, as the server knows it, after closing the previous one there
 * (CLIENT KILL): whatever that lost connection still held cannot run after what the new one sends.
 */
async function closePrevious(client: Redis, previous: ServerClient | null, onRefused: (reason: string) => void): Promise<ServerClient | null> {
	if (previous !== null) {
		try {
			await client.call(...(killCommand(previous) as [string, ...string[]]));
		} catch (error) {
			onRefused((error instanceof Error ? error.message : String(error)).split('\n')[0]!);
		}
	}
	try {
		return serverClient(String(await client.call('CLIENT', 'INFO')));
	} catch {
		// Not allowed, or the connection is already gone (the caller sees it): no later kill.
		return null;
	}
}

function checkDb(db: number): void {
	if (db !== 0) throw new KeyferryError('cluster-db', `a write for db ${db} reached the cluster writer; a cluster target has db 0 only (--db-map)`);
}

function isReplyError(error: unknown): error is Error {
	return error instanceof Error && error.name === 'ReplyError';
}

/** A refused command: where it should go instead, or whether to try again; anything else is the answer. */
function classify(error: unknown): Outcome {
	if (!isReplyError(error)) return {kind: 'lost', error: error instanceof Error ? error : new Error(String(error))};
	const [code, , address] = error.message.split(' ');
	if ((code === 'MOVED' || code === 'ASK') && address) return {kind: code === 'MOVED' ? 'moved' : 'ask', address};
	if (code === 'TRYAGAIN' || code === 'CLUSTERDOWN' || code === 'LOADING' || code === 'MASTERDOWN' || code === 'READONLY') {
		return {kind: 'retry', reason: error.message};
	}
	return {kind: 'reply', value: error};
}

/**
 * MULTI, the queued commands, EXEC. A redirection of any queued command aborted the whole block
 * (EXECABORT), so the block is redirected as one.
 */
async function transactionOutcome(unit: Unit, replies: Promise<unknown>[]): Promise<Outcome> {
	const settled = await Promise.allSettled(replies);
	let redirect: Outcome | null = null;
	const errors: [Error, Arg[]][] = [];
	for (let i = 0; i < settled.length; i++) {
		const result = settled[i]!;
		if (result.status === 'fulfilled') continue;
		const outcome = classify(result.reason);
		if (outcome.kind === 'lost') return outcome;
		if (outcome.kind !== 'reply') redirect ??= outcome;
		else if (i > 0 && i < settled.length - 1) errors.push([result.reason as Error, unit.commands[i - 1]!]);
	}
	if (redirect) return redirect;
	const exec = settled[settled.length - 1]!;
	if (exec.status === 'fulfilled') return {kind: 'reply', value: exec.value, errors};
	if (errors.length === 0) errors.push([exec.reason as Error, ['EXEC']]);
	return {kind: 'reply', value: exec.reason, errors};
}

function mergeReplies(replies: unknown[], kind: 'sum' | 'ok'): unknown {
	const failed = replies.find((reply) => reply instanceof Error);
	if (failed !== undefined) return failed;
	return kind === 'ok' ? 'OK' : replies.reduce<number>((sum, reply) => sum + (typeof reply === 'number' ? reply : 0), 0);
}

function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}
