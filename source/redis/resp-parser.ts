/**
 * An incremental RESP2 reply parser for RespConnection: bytes go in as they arrive, whole replies
 * come out in order. It resumes exactly where a chunk ended (inside a line, a bulk string or a
 * nested array) without parsing anything twice, and collects a large bulk string's chunks until
 * it is complete, so a reply of many MB costs one copy, not one per chunk.
 *
 * Reply types: bulk strings are Buffers (binary-safe, views into the received chunk), simple
 * strings are strings (always short ASCII status words: OK, QUEUED, PONG, type names), integers
 * are numbers, null bulks and arrays are null, errors are RespError values (not thrown).
 */

export type RespReply = Buffer | string | number | null | RespError | RespReply[];

/** An error reply (`-ERR …`): a value, so a pipeline of replies stays in order. */
export class RespError extends Error {
	override readonly name = 'RespError';
}

/** Bytes that are not RESP2: the connection cannot be trusted any more. */
export class RespProtocolError extends Error {
	override readonly name = 'RespProtocolError';
}

interface Frame {
	items: RespReply[];
	filled: number;
}

const cr = 13;
const empty = Buffer.alloc(0);
/** Doubles hold integers exactly up to 2^53 (16 digits); longer ones go through Number(). */
const exactDigits = 15;

export class RespParser {
	private buffer: Buffer = empty;
	private offset = 0;
	/** Arrays being filled, innermost last; they survive chunk boundaries. */
	private readonly stack: Frame[] = [];
	/** Chunks of an incomplete reply kept until `needed` bytes are there (a big bulk string). */
	private parts: Buffer[] = [];
	private partsLength = 0;
	private needed = 0;

	constructor(private readonly onReply: (reply: RespReply) => void) {}

	/** Parses what `chunk` completes; throws RespProtocolError on bytes that are not RESP2. */
	feed(chunk: Buffer): void {
		if (this.needed > 0) {
			this.parts.push(chunk);
			this.partsLength += chunk.length;
			if (this.partsLength < this.needed) return;
			chunk = Buffer.concat(this.parts, this.partsLength);
			this.parts = [];
			this.partsLength = 0;
			this.needed = 0;
		}
		this.buffer = chunk;
		this.offset = 0;
		this.parse();
	}

	/** A reply started and not complete: bytes held, or arrays partly filled. */
	get partial(): boolean {
		return this.stack.length > 0 || this.needed > 0;
	}

	private parse(): void {
		const buf = this.buffer;
		const end = buf.length;
		let pos = this.offset;
		while (pos < end) {
			const start = pos;
			const type = buf[pos]!;
			let value: RespReply;
			if (type === 0x24 /* $ */ || type === 0x3a /* : */ || type === 0x2a /* * */) {
				let i = pos + 1;
				const negative = buf[i] === 0x2d;
				if (negative) i++;
				const digitsStart = i;
				let n = 0;
				for (; i < end; i++) {
					const c = buf[i]!;
					if (c === cr) break;
					if (c < 0x30 || c > 0x39) throw this.protocolError(start);
					n = n * 10 + (c - 0x30);
				}
				if (i + 1 >= end) break;
				if (i === digitsStart || buf[i + 1] !== 0x0a) throw this.protocolError(start);
				pos = i + 2;
				if (i - digitsStart > exactDigits) n = Number(buf.toString('latin1', digitsStart, i));
				if (negative) n = -n;
				if (type === 0x3a) {
					value = n;
				} else if (n < 0) {
					value = null;
				} else if (type === 0x24) {
					const bodyEnd = pos + n;
					if (bodyEnd + 2 > end) {
						this.offset = start;
						this.wait(bodyEnd + 2 - start);
						return;
					}
					if (buf[bodyEnd] !== cr || buf[bodyEnd + 1] !== 0x0a) throw this.protocolError(start);
					value = buf.subarray(pos, bodyEnd);
					pos = bodyEnd + 2;
				} else if (n === 0) {
					value = [];
				} else {
					this.stack.push({items: new Array<RespReply>(n), filled: 0});
					this.offset = pos;
					continue;
				}
			} else if (type === 0x2b /* + */ || type === 0x2d /* - */) {
				let i = pos + 1;
				while (i < end && buf[i] !== cr) i++;
				if (i + 1 >= end) break;
				if (buf[i + 1] !== 0x0a) throw this.protocolError(start);
				if (type === 0x2d) value = replyError(buf.toString('utf8', pos + 1, i));
				else if (i === pos + 3 && buf[pos + 1] === 0x4f && buf[pos + 2] === 0x4b) value = 'OK';
				else value = buf.toString('utf8', pos + 1, i);
				pos = i + 2;
			} else {
				throw this.protocolError(start);
			}
			this.offset = pos;
			this.deliver(value);
		}
		if (this.offset >= end) {
			this.buffer = empty;
			this.offset = 0;
		} else {
			// Part of a line: wait for any further bytes.
			this.wait(end - this.offset + 1);
		}
	}

	/** Keeps the bytes from `offset` until at least `needed` of them are there. */
	private wait(needed: number): void {
		const rest = this.buffer.subarray(this.offset);
		this.buffer = empty;
		this.offset = 0;
		this.parts = [rest];
		this.partsLength = rest.length;
		this.needed = needed;
	}

	private deliver(value: RespReply): void {
		for (;;) {
			const top = this.stack[this.stack.length - 1];
			if (!top) {
				this.onReply(value);
				return;
			}
			top.items[top.filled++] = value;
			if (top.filled < top.items.length) return;
			this.stack.pop();
			value = top.items;
		}
	}

	private protocolError(at: number): RespProtocolError {
		const sample = JSON.stringify(this.buffer.toString('latin1', at, Math.min(this.buffer.length, at + 40)));
		return new RespProtocolError(`the server sent something that is not a RESP2 reply: ${sample}`);
	}
}

/** Error replies are values, not failures thrown here: a stack trace would only cost time. */
function replyError(message: string): RespError {
	const limit = Error.stackTraceLimit;
	Error.stackTraceLimit = 0;
	const error = new RespError(message);
	Error.stackTraceLimit = limit;
	return error;
}
