/**
 * Ordered writes to a standalone target on one connection: commands leave in exactly the order
 * the applier sends them (so per-key order is the stream's order), many in flight at once, with a
 * bound on how many replies may be outstanding. SELECT is issued only when the db changes.
 *
 * With `reconnect`, a lost connection (a restarted target, a reset, a connection that stopped
 * answering: liveness.ts) never loses a write:
 * - commands sent after the loss wait, in order, and leave first on the next connection (the
 *   applier stops at `waitForRoom` once the bound is reached, so the wait is bounded);
 * - commands whose reply never came may or may not have run: they are not resent (INCR would run
 *   twice), what they could change is re-copied (lost-write.ts);
 * - the next connection first closes the lost one on the server (CLIENT KILL), so no write of
 *   it still buffered somewhere can run after the writes that follow;
 * - a target whose run_id changed restarted: it lost whatever it had not persisted, so every key
 *   is read again (`onResync`).
 * Reconnecting never gives up: backoff up to 5 s, shown as warnings until the operator stops.
 */
import {KeyferryError} from '../errors';
import type {Side} from '../redis/connect';
import {killCommand, serverClient, type ServerClient} from '../redis/client-info';
import {endpointAddress, type NodeEndpoint} from '../redis/endpoint';
import {LivenessWatch} from '../redis/liveness';
import {RespConnection, RespError, type RespCallback, type RespReply} from '../redis/resp-connection';
import {lostWrite} from './lost-write';
import type {Arg, ReplayWriter} from './writer';

/**
 * Enough to keep a target busy across a slow network (2000 per millisecond of round trip), few
 * enough that a backlog drain does not keep tens of thousands of commands and their replies'
 * callbacks alive at once: those live past young-generation GCs, and the old space then grows far
 * beyond what is live (bench/backlog.ts: 10,000 in flight peaked ~50 MB higher, no faster).
 */
const defaultMaxInFlight = 2000;

export interface TargetWriterReconnect {
	endpoint: NodeEndpoint;
	side: Side;
	/** CLIENT SETNAME of the connection. */
	name: string;
	/** Keys whose last write may or may not have run, in a target db: read them again from the source. */
	onRecopy(db: number, keys: Buffer[]): void;
	/** The target may differ anywhere (it restarted; a FLUSHALL's outcome is unknown): read everything again. */
	onResync(reason: string): void;
	onWarning(code: string, message: string): void;
	onInfo(message: string): void;
}

export interface TargetWriterOptions {
	maxInFlight?: number;
	/** A command the target refused. The same command may have failed on the source too (WRONGTYPE…). */
	onError(error: Error, command: Arg[]): void;
	/** Without it, a lost connection fails every later write (reported through onError). */
	reconnect?: TargetWriterReconnect;
}

const minDelayMs = 100;
const maxDelayMs = 5000;
/** While reconnecting fails, how often the operator hears about it again. */
const remindEveryMs = 30_000;

export class TargetWriter implements ReplayWriter {
	private db = -1;
	private inFlight = 0;
	private last: Promise<RespReply | Error> = Promise.resolve(null);
	private roomWaiters: Array<() => void> = [];
	private readonly maxInFlight: number;
	private connection: RespConnection | null;
	/** Commands sent while the connection is down, in order, for the next one. */
	private held: Held[] = [];
	/** The db the first held command runs in. */
	private heldDb = -1;
	/** The current connection as the server knows it (CLIENT INFO), to close it there once lost. */
	private serverSide: ServerClient | null = null;
	private runId: string | null = null;
	private downSince: number | null = null;
	private attempt = 0;
	private lastReminder = 0;
	/** Writes re-copied since the connection was lost, for the message when it is back. */
	private uncertain = 0;
	private retryTimer: NodeJS.Timeout | null = null;
	private closed = false;
	private readonly watch: LivenessWatch | null;

	constructor(
		connection: RespConnection,
		private readonly options: TargetWriterOptions,
	) {
		this.maxInFlight = options.maxInFlight ?? defaultMaxInFlight;
		this.connection = connection;
		const reconnect = options.reconnect;
		this.watch = reconnect
			? new LivenessWatch({
					endpoint: reconnect.endpoint,
					side: reconnect.side,
					onUnanswered: (silentMs, pending) =>
						reconnect.onWarning(
							`${reconnect.side}-not-answering`,
							`the ${reconnect.side} ${this.address} has not answered for ${Math.round(silentMs / 1000)} s (${pending} write(s) waiting) and does not answer a probe either; waiting for it`,
						),
				})
			: null;
		this.attach(connection);
	}

	/** Opens the connection and learns what a later reconnection compares with (CLIENT ID, run_id). */
	static async open(reconnect: TargetWriterReconnect, options: Omit<TargetWriterOptions, 'reconnect'>): Promise<TargetWriter> {
		const connection = await RespConnection.open(reconnect.endpoint, reconnect.side, reconnect.name);
		let identity: Identity;
		try {
			identity = await readIdentity(connection);
		} catch (error) {
			connection.close();
			throw error;
		}
		const writer = new TargetWriter(connection, {...options, reconnect});
		writer.serverSide = identity.client;
		writer.runId = identity.runId;
		return writer;
	}

	/**
	 * Sends one command; resolves with its reply, or with the Error the target answered (also
	 * reported to onError unless `quiet`: a command on a key whose re-copy is pending may fail
	 * on the target, and the re-copy makes it right).
	 */
	send(db: number, command: Arg[], quiet = false): Promise<RespReply | Error> {
		this.select(db);
		return this.track(command, quiet);
	}

	/** MULTI … EXEC on the target, so the block is applied atomically as on the source. */
	transaction(db: number, commands: Arg[][]): Promise<RespReply | Error> {
		this.select(db);
		this.track(['MULTI']);
		for (const command of commands) this.track(command);
		return this.track(['EXEC']);
	}

	/** Resolves when there is room for more in-flight commands (several appliers may wait at once). */
	async waitForRoom(): Promise<void> {
		while (this.inFlight >= this.maxInFlight) {
			await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
		}
	}

	/**
	 * Resolves once every command sent before the call has been answered: replies come back in
	 * order on the one connection, so the last one sent is the one to wait for.
	 */
	async drain(): Promise<void> {
		await this.last;
	}

	get pending(): number {
		return this.inFlight;
	}

	/** True while the connection is lost and being re-established. */
	get reconnecting(): boolean {
		return this.downSince !== null && !this.closed;
	}

	close(): void {
		this.closed = true;
		if (this.retryTimer) clearTimeout(this.retryTimer);
		this.watch?.stop();
		this.connection?.close();
		const held = this.held;
		this.held = [];
		const closed = new KeyferryError('connection-lost', `the connection to the target ${this.address} was closed`);
		for (const {callback} of held) callback(closed, null);
	}

	private get address(): string {
		return this.options.reconnect ? endpointAddress(this.options.reconnect.endpoint) : 'target';
	}

	private select(db: number): void {
		if (db === this.db) return;
		this.db = db;
		this.track(['SELECT', db]);
	}

	/** Sends `command`; its promise resolves with the reply or with the error (a refusal or a lost connection). */
	private track(command: Arg[], quiet = false): Promise<RespReply | Error> {
		this.inFlight++;
		const db = this.db;
		const settled = new Promise<RespReply | Error>((resolve) => {
			const sent: Held = {command, quiet, callback: () => {}};
			sent.callback = (lost, reply) => {
				this.settle();
				if (lost && this.options.reconnect) {
					if (!this.closed) this.uncertainOutcome(db, command);
					resolve(lost);
					return;
				}
				const error = lost ?? (reply instanceof RespError ? reply : null);
				if (!error) {
					resolve(reply);
					return;
				}
				if (!sent.quiet) this.options.onError(error, command);
				resolve(error);
			};
			if (this.connection) this.connection.write(command, sent.callback);
			else this.held.push(sent);
		});
		this.last = settled;
		return settled;
	}

	private settle(): void {
		this.inFlight--;
		if (this.roomWaiters.length > 0 && this.inFlight < this.maxInFlight / 2) {
			const waiters = this.roomWaiters;
			this.roomWaiters = [];
			for (const wake of waiters) wake();
		}
	}

	/** A write whose reply the lost connection took with it: re-copy what it could have changed. */
	private uncertainOutcome(db: number, command: Arg[]): void {
		const reconnect = this.options.reconnect!;
		const lost = lostWrite(db, command);
		if (lost.kind === 'none') return;
		this.uncertain++;
		if (lost.kind === 'everything') {
			reconnect.onResync(`the outcome of ${lost.command} on the target is unknown (the connection was lost before its reply)`);
			return;
		}
		for (const {db: keyDb, keys} of lost.keys) reconnect.onRecopy(keyDb, keys);
	}

	private attach(connection: RespConnection): void {
		this.connection = connection;
		if (!this.options.reconnect) return;
		this.watch?.watch(connection);
		connection.onClose((error) => {
			if (error === null || this.closed || this.connection !== connection) return;
			this.lost(error);
		});
	}

	private lost(error: KeyferryError): void {
		const reconnect = this.options.reconnect!;
		this.connection = null;
		this.heldDb = this.db;
		this.downSince = Date.now();
		this.lastReminder = this.downSince;
		this.attempt = 0;
		reconnect.onWarning(`${reconnect.side}-reconnecting`, `${error.message}; reconnecting, writes wait in order and the keys of ${this.uncertain} unanswered write(s) are re-copied`);
		this.scheduleReconnect();
	}

	private scheduleReconnect(): void {
		const delay = Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(this.attempt, 16));
		this.retryTimer = setTimeout(() => void this.reconnect(), delay);
	}

	private async reconnect(): Promise<void> {
		this.retryTimer = null;
		if (this.closed) return;
		const reconnect = this.options.reconnect!;
		this.attempt++;
		let connection: RespConnection | null = null;
		let identity: Identity;
		try {
			connection = await RespConnection.open(reconnect.endpoint, reconnect.side, reconnect.name);
			identity = await readIdentity(connection, this.serverSide);
		} catch (error) {
			connection?.close();
			if (this.closed) return;
			const now = Date.now();
			if (now - this.lastReminder >= remindEveryMs) {
				this.lastReminder = now;
				const message = error instanceof Error ? error.message : String(error);
				reconnect.onWarning(
					`${reconnect.side}-reconnecting`,
					`still reconnecting to the ${reconnect.side} ${this.address} after ${Math.round((now - this.downSince!) / 1000)} s (${message}); ${this.inFlight} write(s) wait in order`,
				);
			}
			this.scheduleReconnect();
			return;
		}
		if (this.closed) {
			connection.close();
			return;
		}
		if (identity.killRefused) {
			reconnect.onWarning(
				`${reconnect.side}-client-kill`,
				`the ${reconnect.side} refused CLIENT KILL (${identity.killRefused}): writes the lost connection still held could run late; run verify after sync`,
			);
		}
		// A run_id that cannot be read cannot prove the target kept its data.
		const restarted = this.runId === null || identity.runId === null || identity.runId !== this.runId;
		if (restarted) {
			const why = identity.runId === null || this.runId === null ? 'its run_id cannot be read, so it may have restarted' : 'restarted (its run_id changed)';
			reconnect.onResync(`the ${reconnect.side} ${this.address} ${why} and may have lost writes it had acknowledged`);
		}
		this.serverSide = identity.client;
		this.runId = identity.runId ?? this.runId;
		const downMs = Date.now() - this.downSince!;
		this.downSince = null;
		const uncertain = this.uncertain;
		this.uncertain = 0;
		// The held commands assume the db the lost connection had selected.
		if (this.heldDb >= 0) connection.write(['SELECT', this.heldDb]);
		const held = this.held;
		this.held = [];
		this.attach(connection);
		for (const sent of held) {
			// An emptied target refuses writes to keys it lost (XGROUP…); the re-copy makes them right.
			if (restarted) sent.quiet = true;
			connection.write(sent.command, sent.callback);
		}
		reconnect.onInfo(`reconnected to the ${reconnect.side} ${this.address} after ${(downMs / 1000).toFixed(1)} s; ${held.length} waiting write(s) sent, ${uncertain} unanswered write(s) re-copied`);
	}
}

/** A command sent while the connection was down; made `quiet` when the target turns out to have restarted. */
interface Held {
	command: Arg[];
	quiet: boolean;
	callback: RespCallback;
}

interface Identity {
	client: ServerClient | null;
	runId: string | null;
	/** Why CLIENT KILL was refused, when it was. */
	killRefused: string | null;
}

/**
 * This connection as the server knows it (to close it there after a loss) and the server's
 * run_id (a restart changes it). With `kill`, first closes that lost connection on the server:
 * nothing it still holds can run after what this connection sends.
 */
async function readIdentity(connection: RespConnection, kill: ServerClient | null = null): Promise<Identity> {
	const killed = kill === null ? null : connection.send(killCommand(kill));
	const [info, server] = await Promise.all([connection.send(['CLIENT', 'INFO']), connection.send(['INFO', 'server'])]);
	const killReply = await killed;
	return {
		client: isText(info) ? serverClient(String(info)) : null,
		runId: isText(server) ? (/run_id:([0-9a-f]+)/.exec(String(server))?.[1] ?? null) : null,
		killRefused: killReply instanceof RespError ? killReply.message.split('\n')[0]! : null,
	};
}

function isText(reply: RespReply): boolean {
	return typeof reply === 'string' || Buffer.isBuffer(reply);
}
