/**
 * The MONITOR feed, byte-exact. Each feed line is a RESP simple string:
 *
 *   +<sec>.<usec> [<db> <addr>] "arg" "arg"…\r\n
 *
 * with every argument escaped by Redis' sdscatrepr: `\\ \" \n \r \t \a \b`, printable ASCII as
 * is, everything else as `\xHH`. Raw CR and LF therefore never occur inside a line, so lines are
 * framed by LF alone (an optional CR before it is dropped), and decoding is the exact inverse.
 *
 * Pure: no I/O. Never throws on input; a line that does not fit becomes a `malformed` entry with
 * its raw bytes, so the caller can count it and decide.
 */
import {constants as bufferConstants} from 'node:buffer';

export type ClientKind = 'tcp' | 'unix' | 'lua' | 'module';

export interface MonitorCommand {
	kind: 'command';
	/** Microseconds since the epoch, as printed by the server (integer). */
	ts: number;
	db: number;
	/** Address text as shown: '127.0.0.1:5000', '[::1]:5000', 'unix:/tmp/x.sock', 'lua', '' or '?:0'. */
	client: string;
	clientKind: ClientKind;
	/** Arguments as the client sent them, byte for byte. Each Buffer owns its memory. */
	args: Buffer[];
}

export interface MonitorMalformed {
	kind: 'malformed';
	raw: Buffer;
	reason: string;
}

/** A window in which the capture was not connected: commands executed then are missing. */
export interface MonitorGap {
	kind: 'gap';
	fromMs: number;
	toMs: number;
	reason: string;
}

export type MonitorEntry = MonitorCommand | MonitorMalformed | MonitorGap;

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const HASH = 0x23;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const OPEN = 0x5b;
const BACKSLASH = 0x5c;
const CLOSE = 0x5d;
const PLUS = 0x2b;

/**
 * Appended by the capture to a line cut short by a dropped connection. Wherever the cut fell
 * (header, inside an argument, inside an escape, between arguments) the result cannot parse, so
 * a truncated command is never mistaken for a shorter valid one.
 */
export const truncationMark = Buffer.from('"#truncated\r\n', 'latin1');
const truncationText = truncationMark.subarray(0, truncationMark.length - 2);

const gapPrefix = Buffer.from('#gap ', 'latin1');

/** The journal line recording a gap. It starts with '#', which no MONITOR line does. */
export function formatGapLine(gap: Omit<MonitorGap, 'kind'>): Buffer {
	const reason = gap.reason.replace(/[\r\n]+/g, ' ');
	return Buffer.from(`#gap ${Math.round(gap.fromMs)} ${Math.round(gap.toMs)} ${reason}\r\n`, 'utf8');
}

/** Parses one line (without its CRLF). */
export function parseMonitorLine(line: Buffer): MonitorEntry {
	return parseRange(line, 0, line.length);
}

export interface MonitorParserOptions {
	/** Absolute offset of the first byte pushed; line ends reported by `push` count from it. */
	startOffset?: number;
	/** A line longer than this becomes one malformed entry (its first KiB kept) instead of a Buffer too large to build. */
	maxLineBytes?: number;
}

/** Streaming parser: chunks may split a line, a CRLF or an escape anywhere. */
export class MonitorParser {
	private pending: Buffer[] = [];
	private pendingLength = 0;
	/** Bytes of an over-long line dropped so far (its first maxLineBytes stay in `pending`). */
	private skipped = 0;
	private offset: number;
	private readonly maxLineBytes: number;

	constructor(options: MonitorParserOptions = {}) {
		this.offset = options.startOffset ?? 0;
		this.maxLineBytes = Math.min(options.maxLineBytes ?? bufferConstants.MAX_LENGTH, bufferConstants.MAX_LENGTH);
	}

	/** Absolute offset just after the last complete line returned. */
	get position(): number {
		return this.offset;
	}

	/** Bytes held for a line not yet complete. */
	get buffered(): number {
		return this.pendingLength + this.skipped;
	}

	/**
	 * Returns the entries of every line completed by `chunk`. When `lineEnds` is given, the
	 * absolute offset just after each returned line's LF is pushed to it, in the same order.
	 */
	push(chunk: Buffer, lineEnds?: number[]): MonitorEntry[] {
		const out: MonitorEntry[] = [];
		let from = 0;
		let lf = chunk.indexOf(LF);
		if (this.pendingLength > 0 || this.skipped > 0) {
			if (lf === -1) {
				this.hold(chunk);
				return out;
			}
			this.hold(chunk.subarray(0, lf));
			this.offset += this.pendingLength + this.skipped + 1;
			out.push(this.takePending());
			lineEnds?.push(this.offset);
			from = lf + 1;
			lf = chunk.indexOf(LF, from);
		}
		while (lf !== -1) {
			const end = lf > from && chunk[lf - 1] === CR ? lf - 1 : lf;
			out.push(parseRange(chunk, from, end));
			this.offset += lf + 1 - from;
			lineEnds?.push(this.offset);
			from = lf + 1;
			lf = chunk.indexOf(LF, from);
		}
		if (from < chunk.length) this.hold(chunk.subarray(from));
		return out;
	}

	private hold(part: Buffer): void {
		if (part.length === 0) return;
		if (this.skipped > 0 || this.pendingLength + part.length > this.maxLineBytes) {
			this.skipped += part.length;
			return;
		}
		this.pending.push(part);
		this.pendingLength += part.length;
	}

	private takePending(): MonitorEntry {
		const consumed = this.pendingLength + this.skipped;
		const line = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingLength);
		this.pending = [];
		this.pendingLength = 0;
		if (this.skipped > 0) {
			this.skipped = 0;
			return malformed(line, 0, Math.min(line.length, 1024), `line of ${consumed} bytes is longer than the ${this.maxLineBytes}-byte limit`);
		}
		const end = line.length > 0 && line[line.length - 1] === CR ? line.length - 1 : line.length;
		return parseRange(line, 0, end);
	}
}

function malformed(buf: Buffer, start: number, end: number, reason: string): MonitorMalformed {
	const raw = Buffer.from(buf.subarray(start, end));
	const cut = raw.length >= truncationText.length && raw.subarray(raw.length - truncationText.length).equals(truncationText);
	return {kind: 'malformed', raw, reason: cut ? 'line cut short by a dropped monitor connection' : reason};
}

/**
 * Client address strings repeat on nearly every line; a small direct-mapped cache keyed by a hash
 * of the address bytes spares building a new string per line.
 */
interface AddressEntry {
	bytes: Buffer;
	client: string;
	kind: ClientKind;
}
const addressCache: (AddressEntry | undefined)[] = new Array(256);

function clientOf(buf: Buffer, start: number, end: number, hash: number): AddressEntry {
	const slot = hash & 255;
	const cached = addressCache[slot];
	if (cached !== undefined && cached.bytes.length === end - start) {
		const bytes = cached.bytes;
		let same = true;
		for (let i = 0; i < bytes.length; i++) {
			if (bytes[i] !== buf[start + i]) {
				same = false;
				break;
			}
		}
		if (same) return cached;
	}
	const client = buf.toString('latin1', start, end);
	const kind: ClientKind =
		client === 'lua' ? 'lua' : client === '' || client === '?:0' ? 'module' : client.startsWith('unix:') ? 'unix' : 'tcp';
	const entry = {bytes: Buffer.from(buf.subarray(start, end)), client, kind};
	addressCache[slot] = entry;
	return entry;
}

function hexValue(byte: number | undefined): number {
	if (byte === undefined) return -1;
	if (byte >= ZERO && byte <= NINE) return byte - ZERO;
	const lower = byte | 0x20;
	if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
	return -1;
}

/** The byte an escape `\c` stands for, or -1 when `c` is not a simple escape. */
function simpleEscape(byte: number | undefined): number {
	switch (byte) {
		case BACKSLASH:
			return BACKSLASH;
		case QUOTE:
			return QUOTE;
		case 0x6e: // n
			return 0x0a;
		case 0x72: // r
			return 0x0d;
		case 0x74: // t
			return 0x09;
		case 0x61: // a
			return 0x07;
		case 0x62: // b
			return 0x08;
		default:
			return -1;
	}
}

function parseRange(buf: Buffer, start: number, end: number): MonitorEntry {
	if (start >= end) return malformed(buf, start, end, 'empty line');
	const first = buf[start];
	if (first === HASH) return parseSpecial(buf, start, end);
	if (first !== PLUS) return malformed(buf, start, end, 'line does not start with +');

	// <sec>.<usec>
	let i = start + 1;
	let sec = 0;
	const secStart = i;
	let b = buf[i];
	while (i < end && b !== undefined && b >= ZERO && b <= NINE) {
		sec = sec * 10 + (b - ZERO);
		b = buf[++i];
	}
	if (i === secStart || i - secStart > 10 || b !== DOT) return malformed(buf, start, end, 'bad timestamp');
	b = buf[++i];
	const usecStart = i;
	let usec = 0;
	while (i < end && b !== undefined && b >= ZERO && b <= NINE) {
		usec = usec * 10 + (b - ZERO);
		b = buf[++i];
	}
	if (i - usecStart !== 6 || b !== SPACE || buf[i + 1] !== OPEN) return malformed(buf, start, end, 'bad timestamp');
	i += 2;

	// [<db> <addr>]
	const dbStart = i;
	let db = 0;
	b = buf[i];
	while (i < end && b !== undefined && b >= ZERO && b <= NINE) {
		db = db * 10 + (b - ZERO);
		b = buf[++i];
	}
	if (i === dbStart || i - dbStart > 10 || b !== SPACE) return malformed(buf, start, end, 'bad database number');
	i++;
	// The address ends at the first `] "`: no argument can contain that sequence unescaped (a quote
	// inside an argument is `\"`), and IPv6 brackets are followed by ':'.
	const addrStart = i;
	let hash = 0;
	for (;;) {
		if (i + 2 >= end) return malformed(buf, start, end, 'no arguments after the client address');
		b = buf[i]!;
		if (b === CLOSE && buf[i + 1] === SPACE && buf[i + 2] === QUOTE) break;
		hash = (hash * 31 + b) | 0;
		i++;
	}
	const address = clientOf(buf, addrStart, i, hash ^ (hash >>> 8) ^ (i - addrStart));
	i += 2;

	// "arg" "arg"…
	const args: Buffer[] = [];
	for (;;) {
		// buf[i] is the opening quote.
		const argStart = i + 1;
		let k = argStart;
		let escapes = 0;
		for (;;) {
			if (k >= end) return malformed(buf, start, end, 'unterminated argument');
			b = buf[k]!;
			if (b === QUOTE) break;
			if (b === BACKSLASH) {
				const next = buf[k + 1];
				if (k + 1 < end && simpleEscape(next) !== -1) {
					k += 2;
					escapes += 1;
				} else if (next === 0x78 && k + 3 < end && hexValue(buf[k + 2]) !== -1 && hexValue(buf[k + 3]) !== -1) {
					k += 4;
					escapes += 3;
				} else {
					return malformed(buf, start, end, 'bad escape');
				}
			} else if (b < SPACE || b > 0x7e) {
				return malformed(buf, start, end, 'unescaped control or non-ASCII byte');
			} else {
				k++;
			}
		}
		args.push(escapes === 0 ? copy(buf, argStart, k) : unescape(buf, argStart, k, k - argStart - escapes));
		k++;
		if (k === end) break;
		if (buf[k] !== SPACE || buf[k + 1] !== QUOTE || k + 1 >= end) return malformed(buf, start, end, 'bad argument separator');
		i = k + 1;
	}
	return {kind: 'command', ts: sec * 1_000_000 + usec, db, client: address.client, clientKind: address.kind, args};
}

function copy(buf: Buffer, start: number, end: number): Buffer {
	const length = end - start;
	const out = Buffer.allocUnsafe(length);
	if (length < 64) {
		for (let j = 0; j < length; j++) out[j] = buf[start + j]!;
	} else {
		buf.copy(out, 0, start, end);
	}
	return out;
}

/** Decodes an argument already validated by the scan in parseRange. */
function unescape(buf: Buffer, start: number, end: number, length: number): Buffer {
	const out = Buffer.allocUnsafe(length);
	let o = 0;
	let k = start;
	while (k < end) {
		const b = buf[k]!;
		if (b !== BACKSLASH) {
			out[o++] = b;
			k++;
			continue;
		}
		const next = buf[k + 1];
		if (next === 0x78) {
			out[o++] = (hexValue(buf[k + 2]) << 4) | hexValue(buf[k + 3]);
			k += 4;
		} else {
			out[o++] = simpleEscape(next);
			k += 2;
		}
	}
	return out;
}

function parseSpecial(buf: Buffer, start: number, end: number): MonitorEntry {
	if (end - start > gapPrefix.length && buf.compare(gapPrefix, 0, gapPrefix.length, start, start + gapPrefix.length) === 0) {
		const match = /^(\d+) (\d+) ?(.*)$/s.exec(buf.toString('utf8', start + gapPrefix.length, end));
		if (match) return {kind: 'gap', fromMs: Number(match[1]), toMs: Number(match[2]), reason: match[3]!};
	}
	return malformed(buf, start, end, 'unknown journal line');
}
