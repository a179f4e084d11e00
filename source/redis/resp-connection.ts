/**
 * A minimal, fast, ordered RESP2 connection for keyferry's hot paths (marked reads on the source,
 * replay writes on the target), where ioredis costs ~7 µs of CPU per command.
 *
 * Commands are encoded straight into a shared output buffer and leave once per event-loop turn
 * (setImmediate, so an applier awaiting between commands still batches), or as soon as 64 KiB are
 * waiting: thousands of commands go out in a few writes. Replies are matched to commands in
 * order. Error replies are RespError values that resolve, never reject, so fire-and-forget callers
 * cannot cause unhandled rejections from a refused command; only a lost connection rejects (every
 * pending command, with KeyferryError 'connection-lost'). Reply types: see resp-parser.ts.
 */
import type {Socket} from 'node:net';
import {authCommand, openSocket} from '../capture/resp-handshake';
import {KeyferryError} from '../errors';
import {connectionError, type Side} from './connect';
import {endpointAddress, type NodeEndpoint} from './endpoint';
import {RespError, RespParser, RespProtocolError, type RespReply} from './resp-parser';

export {RespError, type RespReply} from './resp-parser';

export type RespArg = Buffer | string | number;

/** Called once per command with its reply, or with the error that lost the connection. */
export type RespCallback = (error: KeyferryError | null, reply: RespReply) => void;

const connectTimeoutMs = 5000;
const slabSize = 64 * 1024;
/** Arguments at least this large are written as they are instead of copied. */
const directSize = 16 * 1024;
const progressSlice = 1024 * 1024;
/** Replies to AUTH that ioredis ignores too: a password given to a server that needs none. */
const noPasswordConfigured = /without any password configured|no password is set/i;
const lostReasons: Record<string, string> = {
	ECONNRESET: 'connection reset',
	EPIPE: 'connection reset',
	ETIMEDOUT: 'timed out',
	EHOSTUNREACH: 'host unreachable',
};

export class RespConnection {
	private out = Buffer.allocUnsafe(slabSize);
	/** Encoded and not yet handed to the socket: out[outStart, outEnd), after `segments`. */
	private outStart = 0;
	private outEnd = 0;
	private segments: Buffer[] = [];
	private flushScheduled = false;
	private readonly queue: Array<RespCallback | undefined> = [];
	private head = 0;
	private readonly parser: RespParser;
	private failure: KeyferryError | null = null;
	/** What ended the connection, as the socket reported it (for connectionError during open). */
	private cause: unknown = null;
	private closedByUs = false;
	private readonly closeListeners: Array<(error: KeyferryError | null) => void> = [];
	/** Last sign the connection moves: bytes received, or a slice of a large value the kernel took from us. */
	private lastProgressAt = Date.now();
	/** When the oldest unanswered command was sent with nothing else pending. */
	private busySince = 0;

	private constructor(
		private readonly socket: Socket,
		private readonly endpoint: NodeEndpoint,
		private readonly side: Side,
	) {
		this.parser = new RespParser(this.onReply);
		socket.on('data', this.onData);
		socket.on('error', (error) => {
			this.cause ??= error;
		});
		socket.on('close', () => this.lose(this.cause ?? new Error('closed by the server')));
	}

	/**
	 * Connects, logs in (AUTH), names the connection, selects endpoint.db (and sends READONLY to a
	 * cluster replica), then PINGs, so a
	 * refused login surfaces here with the same message connectNode gives.
	 */
	static async open(endpoint: NodeEndpoint, side: Side, name?: string): Promise<RespConnection> {
		let socket: Socket;
		try {
			socket = await openSocket(endpoint, connectTimeoutMs);
		} catch (error) {
			throw connectionError(error, endpoint, side);
		}
		const connection = new RespConnection(socket, endpoint, side);
		const auth = authCommand(endpoint);
		const steps: RespArg[][] = [];
		if (auth) steps.push(auth);
		if (name) steps.push(['CLIENT', 'SETNAME', name]);
		if (endpoint.db) steps.push(['SELECT', endpoint.db]);
		if (endpoint.readOnly) steps.push(['READONLY']);
		steps.push(['PING']);
		const timer = setTimeout(() => {
			connection.lose(Object.assign(new Error(`no answer within ${connectTimeoutMs} ms`), {code: 'ETIMEDOUT'}));
		}, connectTimeoutMs);
		const outcomes = await Promise.allSettled(steps.map((step) => connection.send(step)));
		clearTimeout(timer);
		// The first failure in order: a refusal (maxclients, NOAUTH) comes before the closed connection it may cause.
		let failure: unknown = null;
		outcomes.forEach((outcome, index) => {
			if (failure) return;
			if (outcome.status === 'rejected') failure = connection.cause ?? outcome.reason;
			else if (outcome.value instanceof RespError && !(steps[index] === auth && noPasswordConfigured.test(outcome.value.message))) failure = outcome.value;
		});
		if (!failure) return connection;
		connection.close();
		throw connectionError(failure, endpoint, side);
	}

	/** Sends one command; resolves with its reply (a RespError too), rejects only if the connection is lost. */
	send(args: RespArg[]): Promise<RespReply> {
		return new Promise((resolve, reject) => {
			this.write(args, (error, reply) => (error ? reject(error) : resolve(reply)));
		});
	}

	/**
	 * Sends one command without a promise: `callback` gets its reply (never called synchronously),
	 * or nothing happens with the reply when there is no callback.
	 */
	write(args: RespArg[], callback?: RespCallback): void {
		if (this.failure) {
			if (callback) process.nextTick(callback, this.failure, null);
			return;
		}
		this.encode(args);
		if (this.queue.length === this.head) this.busySince = Date.now();
		this.queue.push(callback);
		if (!this.flushScheduled) {
			this.flushScheduled = true;
			setImmediate(this.flushTick);
		}
	}

	/** Commands sent and not yet answered. */
	get pending(): number {
		return this.queue.length - this.head;
	}

	/**
	 * Since when commands wait with nothing moving on the connection (no reply byte came, no slice
	 * of a large value left); null when nothing waits. See liveness.ts.
	 */
	get silentSince(): number | null {
		if (this.failure || this.queue.length === this.head) return null;
		return Math.max(this.lastProgressAt, this.busySince);
	}

	/** True once the connection ended (lost or closed). */
	get ended(): boolean {
		return this.failure !== null;
	}

	/** Called once when the connection ends: with the error when it was lost, null after close(). */
	onClose(listener: (error: KeyferryError | null) => void): void {
		if (this.failure) queueMicrotask(() => listener(this.closedByUs ? null : this.failure));
		else this.closeListeners.push(listener);
	}

	/** Declares the connection lost (it stopped answering): like a reset, listeners get the error. */
	fail(reason: string): void {
		this.lose(new Error(reason));
	}

	/** Closes at once; commands not answered yet reject with 'connection-lost'. */
	close(): void {
		if (this.failure) return;
		this.closedByUs = true;
		this.end(new KeyferryError('connection-lost', `the connection to the ${this.side} ${endpointAddress(this.endpoint)} was closed`));
	}

	private lose(cause: unknown): void {
		if (this.failure) return;
		this.cause ??= cause;
		const code = (cause as {code?: string} | null)?.code;
		const reason = (code && lostReasons[code]) ?? (cause instanceof Error ? cause.message : String(cause));
		this.end(new KeyferryError('connection-lost', `lost the connection to the ${this.side} ${endpointAddress(this.endpoint)}: ${reason}`));
	}

	private end(failure: KeyferryError): void {
		this.failure = failure;
		this.socket.destroy();
		this.segments = [];
		this.outStart = this.outEnd;
		const callbacks = this.queue.slice(this.head);
		this.queue.length = 0;
		this.head = 0;
		for (const callback of callbacks) callback?.(failure, null);
		const error = this.closedByUs ? null : failure;
		for (const listener of this.closeListeners.splice(0)) listener(error);
	}

	private readonly onData = (chunk: Buffer): void => {
		this.lastProgressAt = Date.now();
		try {
			this.parser.feed(chunk);
		} catch (error) {
			// A callback's own exception is a bug in the caller: let it surface as one.
			if (!(error instanceof RespProtocolError)) throw error;
			this.lose(error);
		}
	};

	private readonly onReply = (reply: RespReply): void => {
		if (this.head === this.queue.length) throw new RespProtocolError('the server sent a reply to no command');
		const callback = this.queue[this.head];
		this.queue[this.head++] = undefined;
		if (this.head === this.queue.length) {
			this.queue.length = 0;
			this.head = 0;
		} else if (this.head >= 4096 && this.head * 2 >= this.queue.length) {
			this.queue.splice(0, this.head);
			this.head = 0;
		}
		callback?.(null, reply);
	};

	/** The kernel took a write: a large payload still uploading is progress, not silence. */
	private readonly progressed = (): void => {
		this.lastProgressAt = Date.now();
	};

	private readonly flushTick = (): void => {
		this.flushScheduled = false;
		this.flush();
	};

	private flush(): void {
		this.commit();
		const segments = this.segments;
		if (segments.length === 0 || this.failure) return;
		this.segments = [];
		// A large value is progress as the kernel takes it; small commands are judged by their replies.
		const progress = (segment: Buffer) => (segment.length >= directSize ? this.progressed : undefined);
		if (segments.length === 1) {
			this.socket.write(segments[0]!, progress(segments[0]!));
			return;
		}
		// One writev instead of a write per segment.
		this.socket.cork();
		for (const segment of segments) this.socket.write(segment, progress(segment));
		this.socket.uncork();
	}

	/** Moves what is encoded in the output buffer to the segments to write. */
	private commit(): void {
		if (this.outEnd === this.outStart) return;
		this.segments.push(this.out.subarray(this.outStart, this.outEnd));
		this.outStart = this.outEnd;
	}

	private encode(args: RespArg[]): void {
		let bound = 16;
		for (const arg of args) {
			if (typeof arg === 'string') bound += 16 + arg.length * 3;
			else if (typeof arg === 'number') bound += 40;
			else bound += 16 + (arg.length >= directSize ? 0 : arg.length);
		}
		if (this.out.length - this.outEnd < bound) {
			// The buffer is full: what is in it leaves now, the rest goes to a fresh one.
			this.flush();
			this.out = Buffer.allocUnsafe(Math.max(slabSize, bound));
			this.outStart = 0;
			this.outEnd = 0;
		}
		const out = this.out;
		let pos = this.outEnd;
		out[pos++] = 0x2a; // *
		pos = writeDecimal(out, pos, args.length);
		out[pos++] = 13;
		out[pos++] = 10;
		for (const arg of args) {
			if (typeof arg === 'string') {
				pos = writeString(out, pos, arg);
			} else if (typeof arg === 'number') {
				pos = writeString(out, pos, String(arg));
			} else {
				out[pos++] = 0x24; // $
				pos = writeDecimal(out, pos, arg.length);
				out[pos++] = 13;
				out[pos++] = 10;
				if (arg.length >= directSize) {
					this.outEnd = pos;
					this.commit();
					// In slices, so each one the kernel takes shows as progress while a large value uploads.
					for (let at = 0; at < arg.length; at += progressSlice) this.segments.push(arg.subarray(at, at + progressSlice));
				} else {
					out.set(arg, pos);
					pos += arg.length;
				}
				out[pos++] = 13;
				out[pos++] = 10;
			}
		}
		this.outEnd = pos;
	}
}

/** `$<bytes>\r\n<utf-8>\r\n`; ASCII (nearly every argument) is copied without a native call. */
function writeString(out: Buffer, start: number, text: string): number {
	const length = text.length;
	let pos = start;
	out[pos++] = 0x24; // $
	pos = writeDecimal(out, pos, length);
	out[pos++] = 13;
	out[pos++] = 10;
	for (let i = 0; i < length; i++) {
		const code = text.charCodeAt(i);
		if (code > 0x7f) return writeUtf8(out, start, text);
		out[pos++] = code;
	}
	out[pos++] = 13;
	out[pos++] = 10;
	return pos;
}

function writeUtf8(out: Buffer, start: number, text: string): number {
	const bytes = Buffer.byteLength(text, 'utf8');
	let pos = start;
	out[pos++] = 0x24; // $
	pos = writeDecimal(out, pos, bytes);
	out[pos++] = 13;
	out[pos++] = 10;
	pos += out.write(text, pos, 'utf8');
	out[pos++] = 13;
	out[pos++] = 10;
	return pos;
}

function writeDecimal(out: Buffer, pos: number, value: number): number {
	if (value < 10) {
		out[pos] = 0x30 + value;
		return pos + 1;
	}
	let digits = 1;
	for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
	let at = pos + digits;
	let rest = value;
	while (rest >= 10) {
		const next = Math.floor(rest / 10);
		out[--at] = 0x30 + rest - next * 10;
		rest = next;
	}
	out[--at] = 0x30 + rest;
	return pos + digits;
}
