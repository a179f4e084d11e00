/**
 * The applier of one source master: walks that master's ordered stream (the journal) and makes
 * the target follow it. Application writes are planned (plan-command.ts) and sent in stream order;
 * lines from keyferry's marker connections place copied payloads, re-copies and barriers at their
 * exact point. See DESIGN.md, "The ordered stream and markers".
 */
import {randomUUID} from 'node:crypto';
import type {JournalReader, JournalRecord} from '../capture/journal';
import type {MonitorCommand} from '../capture/monitor-parser';
import {parseSnapshot, rebuildCommands, snapshotCommands} from '../copy/logical-read';
import {unmarkedCommands, type DumpRead, type LogicalRead, type MarkerConnection, type MarkedRead, type SampleRead, type Voided} from '../copy/marker-connection';
import type {Copier} from '../copy/copier';
import type {Counters} from '../engine/counters';
import {BlockedClients, type ListedClient} from './blocked-clients';
import type {RecentKeys} from '../verify/recent-keys';
import {ExpiryWatch, writtenExpiry} from './expiry-watch';
import {planCommand, type Plan} from './plan-command';
import type {Arg, ReplayWriter} from './writer';

export interface ApplierOptions {
	reader: JournalReader;
	/** Keys the application wrote lately, for the verifier's samples. */
	recent?: RecentKeys;
	/** Other keyferry connections on this master whose lines are not application traffic. */
	ownAddresses: Set<string>;
	/** Also knows its marker connections, by the address the server shows for them. */
	copier: Copier;
	writer: ReplayWriter;
	counters: Counters;
	skewMs: number;
	/** Source db → target db. */
	mapDb(db: number): number;
	/** True while scans are still running: multi-key commands may touch keys not copied yet. */
	copying(): boolean;
	/** A key the application wrote on the target (during the cutover): a copied payload must not overwrite it. */
	keepOnTarget?(db: number, key: Buffer): boolean;
	onWarning(code: string, message: string): void;
	onGap(fromMs: number, toMs: number, reason: string): void;
	/** Keys whose marked read the source refused before running it; default: read again on this master. */
	onRefused?(db: number, keys: Buffer[]): void;
	/** End offset of the last record whose writes the target acknowledged. */
	onApplied(offset: number): void;
}

/** Keys tracked as written during the copy before falling back to a full re-scan. */
const maxTouched = 2_000_000;
const refusedPayload = /DUMP payload version or checksum are wrong|Bad data format/i;

const batchSize = 2000;

interface OpenTransaction {
	db: number;
	lines: MonitorCommand[];
}

export class Applier {
	private readonly blocked = new BlockedClients();
	private readonly expiries = new ExpiryWatch();
	/** Stream time (target clock, ms) of the line being applied. */
	private lineMs = 0;
	/**
	 * Keys written during the copy with no marked read placed since. A key can expire on the
	 * source (silently: MONITOR never shows it) before the scan reaches it; the write replayed
	 * on the target would then leave a key the source no longer has. Re-copied when scans end.
	 */
	private touched: Map<string, {db: number; key: Buffer}> | null = new Map();
	private touchedOverflow = false;
	/** Copies under way (the first copy, rescans): written keys are tracked until the last one ends. */
	private copies = 1;
	private readonly transactions = new Map<string, OpenTransaction>();
	/** The client whose transaction block is showing now (its queued commands, before its EXEC). */
	private filling: string | null = null;
	private stopped = false;
	private readonly loop: Promise<void>;

	constructor(private readonly options: ApplierOptions) {
		this.loop = this.run();
	}

	/** Settles when the reader is closed and drained, or rejects on a failure. */
	get done(): Promise<void> {
		return this.loop;
	}

	stop(): void {
		this.stopped = true;
		this.options.reader.close();
	}

	/** Clients blocked on keys no line showed (after a gap), or 1 while a gap is not settled. */
	get unknownWaiters(): number {
		return this.blocked.unknownCount;
	}

	/** The source's blocked clients, listed before a barrier this applier has passed, with no gap since (see BlockedClients). */
	settleWaiters(blocked: readonly ListedClient[]): void {
		this.blocked.settle(blocked);
		this.rescanForWaiters();
	}

	/** An unseen BLMOVE or BRPOPLPUSH was served: where it pushed is unknown, so its db is read again. */
	private rescanForWaiters(): void {
		for (const db of this.blocked.takeRescans()) this.options.copier.rescan(db);
	}

	private async run(): Promise<void> {
		const {reader, writer, counters} = this.options;
		while (!this.stopped) {
			const records = await reader.read(batchSize);
			if (records === null) break;
			for (const record of records) {
				await this.applyRecord(record);
				counters.applied++;
			}
			const last = records[records.length - 1];
			if (!last) continue;
			counters.oldestUnappliedTs = counters.applied < counters.captured && last.entry.kind === 'command' ? last.entry.ts / 1000 : null;
			void writer.drain().then(() => this.options.onApplied(last.end));
			await writer.waitForRoom();
		}
		await writer.drain();
	}

	private async applyRecord(record: JournalRecord): Promise<void> {
		const {entry} = record;
		if (entry.kind === 'gap') {
			// An EXEC the gap swallowed ran; every transaction still open is unknown (all is re-copied).
			if (this.filling !== null) this.endFalseBlock();
			this.transactions.clear();
			this.blocked.suspect();
			this.resyncMarkers();
			this.options.onGap(entry.fromMs, entry.toMs, entry.reason);
			return;
		}
		if (entry.kind === 'malformed') {
			this.options.onWarning('malformed-line', `unreadable MONITOR line skipped (${entry.reason})`);
			return;
		}
		// A block shows contiguously at EXEC (lua lines of its scripts included): a line from anyone
		// else means the lines buffered were no block. The server discarded that transaction unseen
		// (an EXEC refused before running it: a cluster redirect), and they ran on their own.
		if (this.filling !== null && entry.client !== this.filling && entry.clientKind !== 'lua') this.endFalseBlock();
		const marker = this.options.copier.markerAt(entry.client);
		if (marker) {
			await this.applyMarker(marker, entry);
			return;
		}
		if (this.options.ownAddresses.has(entry.client)) return;
		this.applyApplicationLine(entry);
	}

	/** Reads whose lines a gap may have swallowed are read again (DESIGN: "when in doubt, re-copy"). */
	private resyncMarkers(): void {
		for (const marker of this.options.copier.markersInUse()) this.readAgain(marker.resync(Buffer.from(`keyferry:resync:${randomUUID()}`)));
	}

	/** Voided reads: copies are read again, barriers placed again; samples are dropped. */
	private readonly readAgain = (voided: Voided): void => {
		const {copier} = this.options;
		for (const read of voided.reads) {
			if (read.kind === 'dump' || read.kind === 'logical') copier.recopy(read.db, [read.key]);
		}
		for (const barrier of voided.barriers) copier.placeBarrier(barrier);
	};

	private async applyMarker(marker: MarkerConnection, line: MonitorCommand): Promise<void> {
		// A connection given up for lost that still ran commands: what it read was voided already.
		if (marker.retired) return;
		if (marker.skipUntilSynced(line.args, this.readAgain)) return;
		const taken = marker.take(line.args);
		if (!taken) {
			const command = (line.args[0] ?? Buffer.alloc(0)).toString('latin1').toLowerCase();
			if (!unmarkedCommands.has(command)) this.options.onWarning('marker-mismatch', `unexpected ${command} from keyferry's own connection`);
			return;
		}
		for (const read of taken.voided) this.readRefused(read);
		if (taken.line.first) await this.placeRead(taken.line.read, line);
	}

	/**
	 * A read the source refused before running it (a slot that moved, a replica loading its data)
	 * has no place in the stream: a barrier is placed again, a copy is read again (through
	 * `onRefused`, which knows which master serves the key now), a sample is dropped.
	 */
	private readRefused(read: MarkedRead): void {
		if (read.kind === 'barrier') this.options.copier.placeBarrier(read);
		else if (read.kind === 'dump' || read.kind === 'logical') (this.options.onRefused ?? ((db, keys) => this.options.copier.recopy(db, keys)))(read.db, [read.key]);
	}

	private async placeRead(read: MarkedRead, line: MonitorCommand): Promise<void> {
		if (read.kind === 'barrier') {
			void this.options.writer.drain().then(read.passed);
			return;
		}
		if (read.kind === 'sample') {
			await this.placeSample(read, line);
			return;
		}
		const placed = read.kind === 'dump' ? await this.placeDump(read, line) : await this.placeLogical(read, line);
		if (!placed) return;
		if (read.recopy) this.options.counters.recopies++;
		else this.options.counters.keysCopied++;
	}

	/** The read's payload is placed, or deliberately left out; either way its key is no longer stale. */
	private settleRead(read: DumpRead | LogicalRead): void {
		this.touched?.delete(`${read.db}:${read.key.toString('latin1')}`);
		this.options.copier.landed(read.db, read.key, read.seq);
	}

	private targetNow(): number {
		return Date.now() + this.options.skewMs;
	}

	/** Absolute expiry on the target for a PTTL read at this line; 0 for none. */
	private expireAt(pttl: number, line: MonitorCommand): number {
		return pttl >= 0 ? Math.max(1, Math.round(line.ts / 1000 + pttl + this.options.skewMs)) : 0;
	}

	private async placeDump(read: DumpRead, line: MonitorCommand): Promise<boolean> {
		const {writer, copier} = this.options;
		const db = this.options.mapDb(read.db);
		let reply: {payload: Buffer | null; pttl: number};
		try {
			reply = await read.reply;
		} catch {
			// The read failed on the source (connection lost): read again through a fresh marker.
			copier.recopy(read.db, [read.key]);
			return false;
		}
		this.settleRead(read);
		if (this.options.keepOnTarget?.(read.db, read.key)) return true;
		if (reply.payload === null || reply.pttl === -2) {
			// Gone at this point of the stream (deleted or expired since the scan saw it).
			void writer.send(db, ['DEL', read.key]);
			return true;
		}
		const expireAt = this.expireAt(reply.pttl, line);
		if (expireAt > 0) this.expiries.record(read.db, read.key, expireAt, this.targetNow());
		const restore: Arg[] = ['RESTORE', read.key, expireAt, reply.payload, 'REPLACE'];
		if (expireAt > 0) restore.push('ABSTTL');
		void writer.send(db, restore).then((answer) => {
			if (answer instanceof Error && refusedPayload.test(answer.message)) {
				// An older target: copy type by type from now on, starting with this key.
				if (copier.copyMode === 'dump') this.options.onWarning('logical-fallback', `the target refused a DUMP payload (${answer.message}); copying type by type from now on`);
				copier.switchToLogical();
				copier.recopy(read.db, [read.key]);
			}
		});
		return true;
	}

	private async placeLogical(read: LogicalRead, line: MonitorCommand): Promise<boolean> {
		const {writer, copier} = this.options;
		let value;
		try {
			value = await read.reply;
		} catch {
			copier.recopy(read.db, [read.key]);
			return false;
		}
		if (value.type === 'changed') {
			copier.recopy(read.db, [read.key]);
			return false;
		}
		if (value.type === 'unsupported') {
			this.options.onWarning('logical-unsupported', `key ${read.key.toString('latin1').slice(0, 60)} has a module type the logical copy cannot rebuild`);
			return false;
		}
		this.settleRead(read);
		if (this.options.keepOnTarget?.(read.db, read.key)) return true;
		const expireAt = this.expireAt(value.pttl, line);
		if (expireAt > 0) this.expiries.record(read.db, read.key, expireAt, this.targetNow());
		const commands = value.type === 'none' || value.pttl === -2 ? [['DEL', read.key]] : rebuildCommands(read.key, value, expireAt);
		void writer.transaction(this.options.mapDb(read.db), commands);
		return true;
	}

	/**
	 * The target is read right here in the stream, through the same ordered connection as the
	 * writes: both reads see the key at the same logical instant, so live traffic cannot cause a
	 * false difference.
	 */
	private async placeSample(read: SampleRead, line: MonitorCommand): Promise<void> {
		let source;
		try {
			source = await read.reply;
		} catch {
			return;
		}
		if (source.type === 'changed' || source.type === 'unsupported') return;
		// The target is knowingly behind on a key whose re-copy has not landed yet, or on every key during a rescan.
		if (this.options.copier.isStale(read.db, read.key) || !this.options.copier.scansDone) return;
		const sourceExpireAt = source.pttl >= 0 ? line.ts / 1000 + source.pttl + this.options.skewMs : null;
		void this.options.writer.transaction(this.options.mapDb(read.db), snapshotCommands(read.key, read.type)).then((reply) => {
			if (!Array.isArray(reply)) return;
			const target = parseSnapshot(reply, read.type);
			const targetExpireAt = target.pttl >= 0 ? this.targetNow() + target.pttl : null;
			read.compare(source, target, sourceExpireAt, targetExpireAt);
		});
	}

	private applyApplicationLine(line: MonitorCommand): void {
		const nowMs = line.ts / 1000;
		this.lineMs = nowMs + this.options.skewMs;
		this.expiries.prune(this.lineMs);
		// Nobody tracked as blocked (the usual case): nothing to release, expire or read again.
		if (this.blocked.size > 0) {
			this.blocked.release(line.client);
			this.blocked.expire(nowMs);
			this.rescanForWaiters();
		}

		const lua = line.clientKind === 'lua';
		// A script's lines inside a block belong to the block.
		const owner = lua && this.filling !== null ? this.filling : line.client;
		const open = this.transactions.get(owner);
		// Blocking commands run by a script never block.
		const plan = planCommand(line.args, {tsMs: nowMs, skewMs: this.options.skewMs, nonBlocking: lua});
		if (plan.action !== 'drop' && plan.action !== 'transaction') this.options.counters.lastSourceWriteMs = Date.now();
		if (plan.action === 'transaction') {
			if (plan.kind === 'multi') {
				// A MULTI while a block is showing: that block was discarded unseen, its lines ran alone.
				if (this.filling === owner) this.endFalseBlock();
				this.transactions.set(owner, {db: line.db, lines: []});
				return;
			}
			if (this.filling === owner) this.filling = null;
			this.transactions.delete(owner);
			if (plan.kind === 'exec' && open) this.applyTransaction(open);
			return;
		}
		if (open && !lua && line.args[0]?.toString('latin1').toLowerCase() === 'reset') {
			// RESET discards the client's transaction.
			if (this.filling === owner) this.endFalseBlock();
			this.transactions.delete(owner);
			return;
		}
		if (open) {
			open.lines.push(line);
			this.filling = owner;
			return;
		}
		this.applyPlan(line.db, plan, line, false);
	}

	/** The lines buffered for `filling` were no transaction block: applied one by one, as they ran. */
	private endFalseBlock(): void {
		const client = this.filling!;
		this.filling = null;
		const open = this.transactions.get(client);
		this.transactions.delete(client);
		for (const line of open?.lines ?? []) {
			const nowMs = line.ts / 1000;
			this.lineMs = nowMs + this.options.skewMs;
			this.applyPlan(line.db, planCommand(line.args, {tsMs: nowMs, skewMs: this.options.skewMs, nonBlocking: line.clientKind === 'lua'}), line, false);
		}
	}

	/**
	 * A MULTI block: the reproducible commands applied as one transaction, the rest re-copied.
	 * Re-copies are requested in block order, so a later command reading a key an earlier one
	 * made unreproducible (XADD * then RENAME) is re-copied too. A block with a db-wide command
	 * (FLUSHDB, SWAPDB, MOVE, COPY…) is rare and is applied command by command instead.
	 */
	private applyTransaction(block: OpenTransaction): void {
		// Blocking commands queued in a transaction never block.
		const planned = block.lines.map((line) => ({line, plan: planCommand(line.args, {tsMs: line.ts / 1000, skewMs: this.options.skewMs, nonBlocking: true})}));
		const db = block.lines[0]?.db ?? block.db;
		const simple = planned.every(({line, plan}) => line.db === db && (plan.action === 'apply' || plan.action === 'recopy' || plan.action === 'block' || plan.action === 'drop'));
		if (!simple) {
			for (const {line, plan} of planned) this.applyPlan(line.db, plan, line, true);
			return;
		}
		const commands: Arg[][] = [];
		const risky: Array<{keys: Buffer[]; riskFrom: number}> = [];
		for (const {line, plan} of planned) {
			if (plan.action === 'apply') {
				commands.push(plan.args);
				this.lineMs = line.ts / 1000 + this.options.skewMs;
				const riskFrom = this.afterWrite(db, plan.keys, plan.args);
				if (riskFrom !== null) risky.push({keys: plan.keys, riskFrom});
			} else if (plan.action !== 'drop') {
				this.applyPlan(line.db, plan, line, true);
			}
		}
		if (commands.length === 0) return;
		const landed = this.options.writer.transaction(this.options.mapDb(db), commands);
		for (const {keys, riskFrom} of risky) this.recopyIfLate(landed, db, keys, riskFrom);
	}

	private applyPlan(db: number, plan: Plan, line: MonitorCommand, inTransaction: boolean): void {
		const {writer, copier} = this.options;
		const target = this.options.mapDb(db);
		switch (plan.action) {
			case 'drop':
			case 'transaction':
				return;
			case 'apply': {
				// A key not copied yet (or with a re-copy pending) may make the command fail on the target; its copy makes it right.
				const landed = writer.send(target, plan.args, this.options.copying() || plan.keys.some((key) => copier.isStale(db, key)));
				const riskFrom = this.afterWrite(db, plan.keys, plan.args);
				if (riskFrom !== null) this.recopyIfLate(landed, db, plan.keys, riskFrom);
				return;
			}
			case 'recopy':
				if (plan.keys === null) {
					void this.recopyUnknown(db, line.args);
					return;
				}
				copier.recopy(db, plan.keys);
				return;
			case 'block':
				copier.recopy(db, plan.keys);
				if (!inTransaction) {
					this.blocked.block(line.client, {db, keys: plan.keys, deadlineMs: plan.timeoutMs === null ? null : line.ts / 1000 + plan.timeoutMs + 1000});
				}
				return;
			case 'flush':
				void writer.send(plan.scope === 'db' ? target : 0, plan.args);
				return;
			case 'swapdb':
				void writer.send(target, ['SWAPDB', this.options.mapDb(plan.a), this.options.mapDb(plan.b)]);
				if (this.options.copying()) {
					copier.rescan(plan.a);
					copier.rescan(plan.b);
				}
				return;
			case 'move':
				void writer.send(target, ['MOVE', plan.key, this.options.mapDb(plan.toDb)]);
				if (this.options.copying() || copier.isStale(db, plan.key) || copier.isStale(plan.toDb, plan.key)) {
					copier.recopy(db, [plan.key]);
					copier.recopy(plan.toDb, [plan.key]);
				}
				return;
			case 'copy': {
				const toDb = plan.toDb ?? db;
				const args = plan.toDb === null ? plan.args : rewriteCopyDb(plan.args, this.options.mapDb(plan.toDb));
				const landed = writer.send(target, args);
				if (this.options.copying() || copier.isStale(db, plan.from) || copier.isStale(toDb, plan.to)) copier.recopy(toDb, [plan.to]);
				const riskFrom = this.afterWrite(toDb, [plan.to]);
				if (riskFrom !== null) this.recopyIfLate(landed, toDb, [plan.to], riskFrom);
				return;
			}
			case 'migrate':
				// A MIGRATE that failed (timeout, IOERR) still shows; reading the keys again is right either way.
				if (!plan.copy && plan.keys.length > 0) copier.recopy(db, plan.keys);
				return;
		}
	}

	/**
	 * After a write: a multi-key command is only as right as the keys it read, so while any of
	 * them may be missing or stale on the target (during the copy, or with a re-copy pending) its
	 * keys are re-copied. So is a key written while alive on the source that the target may have
	 * expired already (replay runs behind), and a key a blocked client waits on. Returns the
	 * target time from which the write is at risk if it lands that late (see recopyIfLate).
	 */
	private afterWrite(db: number, keys: Buffer[], args?: Arg[]): number | null {
		const {copier} = this.options;
		const now = this.targetNow();
		let riskFrom: number | null = null;
		if (keys.length > 1 && (this.options.copying() || keys.some((key) => copier.isStale(db, key)))) copier.recopy(db, keys);
		else if (this.expiries.atRisk(db, keys, this.lineMs, now)) copier.recopy(db, keys);
		else riskFrom = this.expiries.riskFrom(db, keys, this.lineMs);
		if (this.touched) this.touch(db, keys);
		if (keys[0]) this.options.recent?.add(db, keys[0]);
		const expireAt = args ? writtenExpiry(args) : null;
		if (expireAt !== null && keys[0]) this.expiries.record(db, keys[0], expireAt, now);
		if (this.blocked.size > 0) for (const watch of this.blocked.affected(db, keys)) this.options.copier.recopy(watch.db, [...watch.keys, ...keys]);
		return riskFrom;
	}

	/**
	 * A write sent in time may still land after the key expired on the target (a paused target,
	 * a connection being re-established): judged again when its reply comes.
	 */
	private recopyIfLate(landed: Promise<unknown>, db: number, keys: Buffer[], riskFrom: number): void {
		void landed.then(() => {
			if (this.targetNow() >= riskFrom) this.options.copier.recopy(db, keys);
		});
	}

	private touch(db: number, keys: Buffer[]): void {
		if (!this.touched) return;
		if (this.touched.size >= maxTouched) {
			this.touchedOverflow = true;
			return;
		}
		for (const key of keys) this.touched.set(`${db}:${key.toString('latin1')}`, {db, key});
	}

	/** A rescan began (a gap, a restarted target): track written keys again until its endCopy. */
	startCopy(): void {
		this.copies++;
		if (this.touched) return;
		this.touched = new Map();
		this.touchedOverflow = false;
	}

	/**
	 * A copy is over: once no other runs, stop tracking and re-copy every key written meanwhile that
	 * no marked read has covered since. Returns how many; past the tracking limit every db is
	 * scanned again.
	 */
	endCopy(dbs: number[]): number {
		this.copies = Math.max(0, this.copies - 1);
		// Another copy still runs: its own end re-copies everything written meanwhile.
		if (this.copies > 0) return 0;
		const touched = this.touched;
		this.touched = null;
		if (!touched) return 0;
		if (this.touchedOverflow) {
			for (const db of dbs) this.options.copier.rescan(db);
			return -1;
		}
		const byDb = new Map<number, Buffer[]>();
		for (const {db, key} of touched.values()) {
			const keys = byDb.get(db);
			if (keys) keys.push(key);
			else byDb.set(db, [key]);
		}
		for (const [db, keys] of byDb) this.options.copier.recopy(db, keys);
		return touched.size;
	}

	/** A command keyferry does not know: ask the source which keys it touches, then re-copy them. */
	private async recopyUnknown(db: number, args: Buffer[]): Promise<void> {
		try {
			const keys = await this.options.copier.commandKeys(args);
			if (keys.length > 0) this.options.copier.recopy(db, keys);
		} catch {
			this.options.onWarning('unknown-command', `cannot tell which keys ${args[0]?.toString('latin1') ?? '?'} touches; run verify after sync`);
		}
	}
}

/** COPY src dst DB n → the target's db number. */
function rewriteCopyDb(args: Buffer[], db: number): Arg[] {
	const out: Arg[] = [...args];
	for (let i = 3; i < out.length - 1; i++) {
		if (String(out[i]).toLowerCase() === 'db') out[i + 1] = db;
	}
	return out;
}
