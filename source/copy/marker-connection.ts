/**
 * A source connection whose server-side address is known (CLIENT INFO), so every command it sends
 * can be found in the MONITOR stream: that line is the marker that places the reply at an exact
 * point of the stream (DESIGN.md, "The ordered stream and markers").
 *
 * Commands that show up in the feed are queued in `pending` in send order; the applier takes the
 * head when it meets a line from this address. Replies may arrive before or after their line.
 *
 * A lost connection is replaced by a successor (a new address). Reads the lost one sent may still
 * show in the feed, or never: the successor first closes its predecessor on the server (CLIENT
 * KILL), then sends a unique ECHO; once the applier meets that ECHO, no line of the
 * predecessor can follow, and its reads still unplaced are void (re-copied, barriers placed again).
 */
import {killCommand, parseClientInfo, serverClient, type ServerClient} from '../redis/client-info';
import type {NodeEndpoint} from '../redis/endpoint';
import {RespConnection, RespError} from '../redis/resp-connection';
import {logicalFeedCommands, sendLogicalRead, type LogicalValue} from './logical-read';

export interface DumpRead {
	kind: 'dump';
	db: number;
	key: Buffer;
	/** DUMP then PTTL, pipelined: payload (null when the key is gone) and PTTL (-2 gone, -1 none). */
	reply: Promise<{payload: Buffer | null; pttl: number}>;
	/** A re-copy (not part of the initial scan). */
	recopy: boolean;
	/** The copier's request sequence when this read was sent: it covers every request up to it. */
	seq: number;
}

export interface LogicalRead {
	kind: 'logical';
	db: number;
	key: Buffer;
	reply: Promise<LogicalValue>;
	recopy: boolean;
	seq: number;
}

/** A verification read: the source's snapshot, compared with the target's at the same point. */
export interface SampleRead {
	kind: 'sample';
	db: number;
	key: Buffer;
	type: string;
	reply: Promise<LogicalValue>;
	/** Called by the applier with both snapshots once the target was read at the marker. */
	compare(source: LogicalValue, target: LogicalValue, sourceExpireAt: number | null, targetExpireAt: number | null): void;
}

export interface BarrierRead {
	kind: 'barrier';
	db: number;
	key: Buffer;
	/** Resolved by the applier once every write before this point is acknowledged by the target. */
	passed: () => void;
}

export type MarkedRead = DumpRead | LogicalRead | SampleRead | BarrierRead;

export interface PendingLine {
	command: string;
	/** The argument the line carries after the command (the key, the ECHO tag); undefined for MULTI, EXEC and XINFO STREAM. */
	arg: Buffer | undefined;
	read: MarkedRead;
	/** The line where the read's effect belongs in the stream. */
	first: boolean;
}

/** A line taken from the feed, and the reads whose lines never showed before it (refused before running). */
export interface TakenLine {
	line: PendingLine;
	voided: MarkedRead[];
}

/** Commands keyferry's own source connections send that carry no marker. */
export const unmarkedCommands: ReadonlySet<string> = new Set(['select', 'client', 'ping', 'info', 'scan', 'hello', 'auth', 'command', 'readonly']);

let nudges = 0;
/** Feed lines of marked reads whose first argument is not the key (XINFO STREAM key). */
const keyless = new Set(['multi', 'exec', 'xinfo']);

/** Reads a resync or a retirement voided: to re-copy, and barriers to place again on a live connection. */
export interface Voided {
	reads: Array<DumpRead | LogicalRead | SampleRead>;
	barriers: BarrierRead[];
}

export class MarkerConnection {
	readonly pending: PendingLine[] = [];
	private head = 0;
	private db = -1;
	private nudging = false;
	/** Set after a capture gap: this connection's lines are ignored until this ECHO shows. */
	private syncTag: Buffer | null = null;
	/** The lost connection this one replaced, until this one's first ECHO shows. */
	private predecessor: MarkerConnection | null = null;
	/** Voided for good: its lines (a connection that outlived its loss) are ignored. */
	retired = false;

	private constructor(
		readonly connection: RespConnection,
		readonly address: string,
		/** For the successor's CLIENT KILL. */
		readonly serverSide: ServerClient | null,
	) {}

	static async open(endpoint: NodeEndpoint): Promise<MarkerConnection> {
		const connection = await RespConnection.open({...endpoint, db: 0}, 'source', 'keyferry-marker');
		try {
			// `addr` as the server prints it in MONITOR lines (ip:port, [ipv6]:port).
			const info = await connection.send(['CLIENT', 'INFO']);
			if (info instanceof RespError) throw info;
			const address = parseClientInfo(String(info))['addr'];
			if (!address) throw new Error('CLIENT INFO returned no addr');
			return new MarkerConnection(connection, address, serverClient(String(info)));
		} catch (error) {
			connection.close();
			throw error;
		}
	}

	/**
	 * Takes over from a lost connection: closes it on the server, then sends the ECHO `tag` that
	 * ends it (see the file comment). The caller must already recognise this connection's address,
	 * or the ECHO's line could pass for application traffic. Resolves with why the server refused
	 * to close the predecessor, or null.
	 */
	async takeOver(predecessor: MarkerConnection, tag: Buffer): Promise<string | null> {
		const kill = predecessor.serverSide === null ? null : this.connection.send(killCommand(predecessor.serverSide));
		this.predecessor = predecessor;
		this.syncTag = tag;
		this.connection.write(['ECHO', tag]);
		const killed = await kill?.catch(() => null);
		return killed instanceof RespError ? killed.message.split('\n')[0]! : null;
	}

	get outstanding(): number {
		return this.pending.length - this.head + (this.predecessor?.outstanding ?? 0);
	}

	/** The connection is gone: nothing more is sent on it (its successor takes over). */
	get lost(): boolean {
		return this.connection.ended;
	}

	private select(db: number): void {
		if (db === this.db) return;
		this.db = db;
		// SELECT shows in the feed but carries no marker: the applier skips it.
		this.connection.write(['SELECT', db]);
	}

	/**
	 * Queues the feed lines a read will produce; `placeAt` is the line that marks its point. A
	 * failed read may have been refused before it ran (MOVED, ASK, LOADING…), which MONITOR never
	 * shows: a marked ECHO after it lets `take` see the gap at once instead of at the next read.
	 */
	private track(read: MarkedRead, commands: readonly string[], placeAt = 0): void {
		commands.forEach((command, index) => this.pending.push({command, arg: keyless.has(command) ? undefined : read.key, read, first: index === placeAt}));
		if (read.kind !== 'barrier') read.reply.catch(() => this.nudge());
	}

	private nudge(): void {
		// A lost connection's reads are voided with it: its successor takes over.
		if (this.nudging || this.lost) return;
		this.nudging = true;
		setImmediate(() => {
			this.nudging = false;
			this.barrier(Buffer.from(`keyferry:sync:${(++nudges).toString(36)}`)).catch(() => {});
		});
	}

	dump(db: number, key: Buffer, recopy: boolean, seq: number): DumpRead {
		this.select(db);
		const reply = new Promise<{payload: Buffer | null; pttl: number}>((resolve, reject) => {
			let payload: Buffer | null = null;
			this.connection.write(['DUMP', key], (error, dumped) => {
				if (error || dumped instanceof RespError) reject(error ?? dumped);
				else payload = dumped as Buffer | null;
			});
			// Replies come in order: the payload is known when PTTL answers.
			this.connection.write(['PTTL', key], (error, ttl) => {
				if (error || ttl instanceof RespError) reject(error ?? ttl);
				else resolve({payload, pttl: Number(ttl)});
			});
		});
		const read: DumpRead = {kind: 'dump', db, key, recopy, seq, reply};
		// A failed read must surface through the applier, not as an unhandled rejection here.
		read.reply.catch(() => {});
		this.track(read, ['dump', 'pttl']);
		return read;
	}

	/**
	 * A logical read of a key whose type was just read. MULTI shows when sent, the queued commands
	 * at EXEC: the read belongs at its first queued command (TYPE).
	 */
	logical(db: number, key: Buffer, type: string, recopy: boolean, seq: number): LogicalRead {
		this.select(db);
		const read: LogicalRead = {kind: 'logical', db, key, recopy, seq, reply: sendLogicalRead(this.connection, key, type)};
		read.reply.catch(() => {});
		this.track(read, logicalFeedCommands(type), 1);
		return read;
	}

	/** A marked snapshot of a small key for verification (same lines as a logical read). */
	sample(db: number, key: Buffer, type: string, compare: SampleRead['compare']): SampleRead {
		this.select(db);
		const read: SampleRead = {kind: 'sample', db, key, type, compare, reply: sendLogicalRead(this.connection, key, type)};
		read.reply.catch(() => {});
		this.track(read, logicalFeedCommands(type), 1);
		return read;
	}

	/** A unique ECHO: keyless, so any master runs it, and it shows in the feed like any command. */
	barrier(tag: Buffer): Promise<void> {
		return new Promise((resolve, reject) => {
			this.placeBarrier({kind: 'barrier', db: this.db, key: tag, passed: resolve}, reject);
		});
	}

	/**
	 * Sends a barrier's ECHO. A lost connection is not a failure: the line shows (the ECHO ran)
	 * or the barrier is voided and placed again on the successor.
	 */
	placeBarrier(read: BarrierRead, reject: (error: unknown) => void = () => {}): void {
		this.track(read, ['echo']);
		this.connection.write(['ECHO', read.key], (error, reply) => {
			if (!error && reply instanceof RespError) reject(reply);
		});
	}

	/**
	 * A capture gap: a read not placed yet may have run while MONITOR was down, so its line
	 * never comes, and the lines that do come can no longer be matched in order. Every such read
	 * (and every one of a predecessor) is voided and returned, for the caller to re-copy; a
	 * unique ECHO is sent and lines from this connection are skipped until it shows. Barriers
	 * are placed again after it; a lost connection returns them, for another connection.
	 */
	resync(tag: Buffer): Voided {
		const voided = this.void();
		if (this.lost) {
			this.retired = true;
			return voided;
		}
		this.syncTag = tag;
		this.connection.write(['ECHO', tag]);
		for (const read of voided.barriers) this.placeBarrier(read);
		return {reads: voided.reads, barriers: []};
	}

	/**
	 * While resyncing (or taking over), consumes one of this connection's lines; false once in
	 * step again. The line that ends a takeover returns the predecessor's void reads in `voided`.
	 */
	skipUntilSynced(args: Buffer[], voided: (retired: Voided) => void): boolean {
		if (!this.syncTag) return false;
		const command = (args[0] ?? Buffer.alloc(0)).toString('latin1').toLowerCase();
		if (command === 'echo' && args[1]?.equals(this.syncTag)) {
			this.syncTag = null;
			const predecessor = this.predecessor;
			this.predecessor = null;
			if (predecessor) {
				predecessor.retired = true;
				voided(predecessor.void());
			}
		}
		return true;
	}

	/** Empties `pending` (this connection's and its predecessors'): every read in it will never be placed. */
	private void(): Voided {
		const reads = new Set(this.pending.slice(this.head).map((line) => line.read));
		this.pending.length = 0;
		this.head = 0;
		const voided: Voided = {reads: [], barriers: []};
		if (this.predecessor) {
			const earlier = this.predecessor.void();
			this.predecessor.retired = true;
			voided.reads.push(...earlier.reads);
			voided.barriers.push(...earlier.barriers);
		}
		for (const read of reads) {
			if (read.kind === 'barrier') voided.barriers.push(read);
			else voided.reads.push(read);
		}
		return voided;
	}

	/**
	 * The pending line this feed line is, consumed. This connection's lines show in the order it
	 * sent them, so when the line matches a later pending line, the ones before it were refused
	 * before running and will never show: their reads are returned as voided, for the caller to
	 * read again (or place again, for a barrier).
	 */
	take(args: Buffer[]): TakenLine | undefined {
		const command = (args[0] ?? Buffer.alloc(0)).toString('latin1').toLowerCase();
		const matches = (line: PendingLine) => line.command === command && (line.arg === undefined || (args[1] !== undefined && line.arg.equals(args[1])));
		let index = this.head;
		if (unmarkedCommands.has(command)) return undefined;
		while (index < this.pending.length && !matches(this.pending[index]!)) index++;
		const line = this.pending[index];
		if (!line) return undefined;
		const voided = index === this.head ? [] : [...new Set(this.pending.slice(this.head, index).map((skipped) => skipped.read))];
		this.head = index + 1;
		if (this.head > 4096 && this.head * 2 > this.pending.length) {
			this.pending.splice(0, this.head);
			this.head = 0;
		}
		return {line, voided};
	}

	close(): void {
		this.connection.close();
	}
}
