/**
 * Ordered writes to a standalone target on one connection: commands leave in exactly the order
 * the applier sends them (so per-key order is the stream's order), many in flight at once, with a
 * bound on how many replies may be outstanding. SELECT is issued only when the db changes.
 */
import type Redis from 'ioredis';
import type {Arg, ReplayWriter} from './writer';

export interface TargetWriterOptions {
	maxInFlight?: number;
	/** A command the target refused. The same command may have failed on the source too (WRONGTYPE…). */
	onError(error: Error, command: Arg[]): void;
}

export class TargetWriter implements ReplayWriter {
	private db = -1;
	private inFlight = 0;
	private last: Promise<unknown> = Promise.resolve();
	private room: (() => void) | null = null;
	private readonly maxInFlight: number;

	constructor(
		readonly client: Redis,
		private readonly options: TargetWriterOptions,
	) {
		this.maxInFlight = options.maxInFlight ?? 10_000;
	}

	/**
	 * Sends one command; resolves with its reply, or with the Error the target answered (also
	 * reported to onError unless `quiet`: a command on a key whose re-copy is pending may fail
	 * on the target, and the re-copy makes it right).
	 */
	send(db: number, command: Arg[], quiet = false): Promise<unknown> {
		this.select(db);
		return this.track(this.client.callBuffer(String(command[0]), ...command.slice(1)), command, quiet);
	}

	/** MULTI … EXEC on the target, so the block is applied atomically as on the source. */
	transaction(db: number, commands: Arg[][]): Promise<unknown> {
		this.select(db);
		this.track(this.client.call('MULTI'), ['MULTI']);
		for (const command of commands) this.track(this.client.callBuffer(String(command[0]), ...command.slice(1)), command);
		return this.track(this.client.callBuffer('EXEC'), ['EXEC']);
	}

	/** Resolves when there is room for more in-flight commands. */
	async waitForRoom(): Promise<void> {
		while (this.inFlight >= this.maxInFlight) {
			await new Promise<void>((resolve) => {
				this.room = resolve;
			});
		}
	}

	/** Resolves once every command sent so far has been answered. */
	async drain(): Promise<void> {
		let last: Promise<unknown>;
		do {
			last = this.last;
			await last;
		} while (last !== this.last);
	}

	get pending(): number {
		return this.inFlight;
	}

	private select(db: number): void {
		if (db === this.db) return;
		this.db = db;
		this.track(this.client.select(db), ['SELECT', db]);
	}

	private track<T>(reply: Promise<T>, command: Arg[], quiet = false): Promise<T | Error> {
		this.inFlight++;
		const settled = reply.then(
			(value) => {
				this.settle();
				return value;
			},
			(error: Error) => {
				this.settle();
				if (!quiet) this.options.onError(error, command);
				return error;
			},
		);
		this.last = settled;
		return settled;
	}

	private settle(): void {
		this.inFlight--;
		if (this.room && this.inFlight < this.maxInFlight / 2) {
			const room = this.room;
			this.room = null;
			room();
		}
	}
}
