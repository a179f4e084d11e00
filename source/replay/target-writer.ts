/**
 * Ordered writes to a standalone target on one connection: commands leave in exactly the order
 * the applier sends them (so per-key order is the stream's order), many in flight at once, with a
 * bound on how many replies may be outstanding. SELECT is issued only when the db changes.
 */
import {RespError, type RespConnection, type RespReply} from '../redis/resp-connection';
import type {Arg, ReplayWriter} from './writer';

/**
 * Enough to keep a target busy across a slow network (2000 per millisecond of round trip), few
 * enough that a backlog drain does not keep tens of thousands of commands and their replies'
 * callbacks alive at once: those live past young-generation GCs, and the old space then grows far
 * beyond what is live (bench/backlog.ts: 10,000 in flight peaked ~50 MB higher, no faster).
 */
const defaultMaxInFlight = 2000;

export interface TargetWriterOptions {
	maxInFlight?: number;
	/** A command the target refused. The same command may have failed on the source too (WRONGTYPE…). */
	onError(error: Error, command: Arg[]): void;
}

export class TargetWriter implements ReplayWriter {
	private db = -1;
	private inFlight = 0;
	private last: Promise<RespReply | Error> = Promise.resolve(null);
	private roomWaiters: Array<() => void> = [];
	private readonly maxInFlight: number;

	constructor(
		readonly connection: RespConnection,
		private readonly options: TargetWriterOptions,
	) {
		this.maxInFlight = options.maxInFlight ?? defaultMaxInFlight;
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

	private select(db: number): void {
		if (db === this.db) return;
		this.db = db;
		this.track(['SELECT', db]);
	}

	/** Sends `command`; its promise resolves with the reply or with the error (a refusal or a lost connection). */
	private track(command: Arg[], quiet = false): Promise<RespReply | Error> {
		this.inFlight++;
		const settled = new Promise<RespReply | Error>((resolve) => {
			this.connection.write(command, (lost, reply) => {
				this.settle();
				const error = lost ?? (reply instanceof RespError ? reply : null);
				if (!error) {
					resolve(reply);
					return;
				}
				if (!quiet) this.options.onError(error, command);
				resolve(error);
			});
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
}
