/**
 * The journal of one source master: the raw MONITOR bytes, in order, in segment files named by
 * the absolute offset of their first byte (`<20 digits>.seg`). Offsets are absolute since the
 * journal was created and survive restarts and segment deletion.
 *
 * `append` never waits for the disk: chunks are written in order by one background writev at a
 * time. Memory holds the most recent `maxMemoryWindow` bytes; readers within it read memory, a
 * reader that fell behind reads the segment files. Only chunks already on disk leave memory, and
 * when the disk lags a whole window behind, append writes synchronously (briefly holding the
 * event loop) rather than letting the heap grow: memory stays bounded by about the window plus one
 * writev batch whatever the readers or the disk do.
 */
import {closeSync, fdatasync, fsyncSync, openSync, writev, writevSync} from 'node:fs';
import {mkdir, open, readdir, readFile, stat, truncate, unlink, type FileHandle} from 'node:fs/promises';
import {stateFileError, writeJsonAtomic} from '../engine/atomic-json';
import {join} from 'node:path';
import {KeyferryError} from '../errors';
import {MonitorParser, truncationMark, type MonitorEntry} from './monitor-parser';

export interface JournalOptions {
	/** Bytes of recent capture kept in memory, default 64 MiB. */
	maxMemoryWindow: number;
	/** A new segment file starts once the current one holds this many bytes, default 64 MiB. */
	segmentBytes?: number;
	/** A background write failed (disk full…). The next append throws the same error. */
	onError?(error: KeyferryError): void;
}

export interface JournalRecord {
	entry: MonitorEntry;
	/** Absolute offset of the line's first byte. */
	start: number;
	/** Absolute offset just after the line's LF. */
	end: number;
}

export interface JournalReader {
	/** Resolves with 1..max records as soon as at least one complete line is available; null after the journal is closed and drained. */
	read(max: number): Promise<JournalRecord[] | null>;
	close(): void;
}

export const defaultMaxMemoryWindow = 64 * 1024 * 1024;
const defaultSegmentBytes = 64 * 1024 * 1024;
/** Largest single background writev, so the chunks pinned by an in-flight write stay small. */
const maxWriteBatch = 8 * 1024 * 1024;
/** Bytes a lagging reader reads from disk at a time. */
const diskBlock = 1024 * 1024;
/** Bytes of memory chunks a reader takes from the window at a time. */
const memoryBatch = 1024 * 1024;
/**
 * Bytes a reader parses at a time, as its caller asks for records: a megabyte parsed at once is
 * ~14k records alive together, long enough for the GC to promote them all while the applier
 * works through them, and the old space then grows far past what is really live.
 */
const parseSlice = 64 * 1024;
const segmentPattern = /^(\d{20})\.seg$/;
const checkpointFile = 'checkpoint.json';

interface Segment {
	start: number;
	/** Bytes assigned to this segment (appended, not necessarily written yet). */
	size: number;
	path: string;
	/** Open for writing while it may still receive writes. */
	fd: number | null;
	sealed: boolean;
}

interface Pending {
	segment: Segment;
	/** Absolute offset of buf[0]. */
	start: number;
	buf: Buffer;
}

interface InFlight {
	segment: Segment;
	/** Offset in the segment file. */
	position: number;
	buffers: Buffer[];
	start: number;
	end: number;
}

interface Chunk {
	start: number;
	buf: Buffer;
}

function segmentName(start: number): string {
	return `${String(start).padStart(20, '0')}.seg`;
}

export class Journal {
	private readonly segments: Segment[];
	/** In-memory window, oldest first from `memHead`. */
	/** Evicted slots are cleared to undefined until the array is compacted. */
	private mem: (Chunk | undefined)[] = [];
	private memHead = 0;
	private memBytes = 0;
	private appended: number;
	/** Everything before this offset is written to the segment files. */
	private written: number;
	/** Queued for the background writer, oldest first from `queueHead`. */
	private queue: Pending[] = [];
	private queueHead = 0;
	private queuedBytes = 0;
	private inflight: InFlight | null = null;
	/** End of the last synchronous write (it may overtake a background write still in flight). */
	private syncWrittenEnd = 0;
	private idle: (() => void)[] = [];
	private waiters: (() => void)[] = [];
	private closing = false;
	private closed = false;
	private failed: KeyferryError | null = null;
	private savedCheckpoint: number;
	private checkpointChain: Promise<void> = Promise.resolve();
	private readonly window: number;
	private readonly segmentBytes: number;

	private lastAppend: number | null;

	private constructor(
		readonly dir: string,
		private readonly options: JournalOptions,
		segments: Segment[],
		end: number,
		checkpointed: number,
		lastWriteMs: number,
	) {
		this.segments = segments;
		this.appended = end;
		this.written = end;
		this.savedCheckpoint = checkpointed;
		this.window = Math.max(1, options.maxMemoryWindow || defaultMaxMemoryWindow);
		this.segmentBytes = Math.max(1, options.segmentBytes ?? defaultSegmentBytes);
		this.lastAppend = end > 0 ? lastWriteMs : null;
	}

	/** Creates `dir` if needed; an existing journal continues at its end. */
	static async open(dir: string, options: JournalOptions): Promise<Journal> {
		try {
			await mkdir(dir, {recursive: true});
			const names = (await readdir(dir)).filter((name) => segmentPattern.test(name)).sort();
			const segments: Segment[] = [];
			let lastWriteMs = 0;
			for (const name of names) {
				const path = join(dir, name);
				const info = await stat(path);
				const start = Number(segmentPattern.exec(name)![1]);
				if (!info.isFile()) throw stateFileError(`journal segment ${path} is not a file`);
				if (!Number.isSafeInteger(start + info.size)) throw stateFileError(`journal segment ${path} has an offset no journal reaches: the journal is damaged`);
				segments.push({start, size: info.size, path, fd: null, sealed: true});
				lastWriteMs = Math.max(lastWriteMs, info.mtimeMs);
			}
			// A crash can leave a segment short of where the next one starts, by at most the bytes not
			// yet written (the memory window and one write). Zero-fill keeps every later offset valid;
			// the zeros end with an LF, so they read back as one malformed line of their own and
			// nothing passes silently or swallows the next segment's first line. Anything else
			// (overlapping segments, a hole no crash leaves) is damage keyferry does not guess about.
			const largestHole = 2 * Math.max(options.maxMemoryWindow || 0, defaultMaxMemoryWindow) + maxWriteBatch;
			for (let i = 0; i + 1 < segments.length; i++) {
				const segment = segments[i]!;
				const next = segments[i + 1]!;
				const expected = next.start - segment.start;
				if (segment.size > expected) throw stateFileError(`journal segment ${segment.path} runs past the start of ${next.path}: the journal is damaged`);
				if (expected - segment.size > largestHole) {
					throw stateFileError(`journal segment ${segment.path} ends ${expected - segment.size} bytes before ${next.path} starts, more than a crash leaves: the journal is damaged`);
				}
				if (segment.size < expected) {
					await truncate(segment.path, expected);
					await writeByte(segment.path, expected - 1, 0x0a);
					segment.size = expected;
				}
			}
			const last = segments.at(-1);
			const end = last ? last.start + last.size : 0;
			let checkpointed = last ? segments[0]!.start : 0;
			try {
				const saved = JSON.parse(await readFile(join(dir, checkpointFile), 'utf8')) as {applied?: unknown};
				if (typeof saved.applied === 'number' && Number.isSafeInteger(saved.applied)) checkpointed = saved.applied;
			} catch {
				// None yet, or unreadable: then no segment counts as applied and none is deleted until
				// the next checkpoint rewrites the file. Keeping too much is safe; deleting is not.
			}
			const journal = new Journal(dir, options, segments, end, checkpointed, Math.round(lastWriteMs));
			if (last && last.size > 0 && (await lastByte(last.path, last.size)) !== 0x0a) {
				// The previous run stopped mid-line: close that line so it reads as malformed instead
				// of merging with the next one.
				journal.append(Buffer.from(truncationMark));
				journal.lastAppend = Math.round(lastWriteMs);
			}
			return journal;
		} catch (error) {
			if (error instanceof KeyferryError) throw error;
			throw new KeyferryError('journal-open', `cannot open the journal in ${dir}: ${(error as Error).message}`);
		}
	}

	/** Offset just after the last byte appended. */
	get end(): number {
		return this.appended;
	}

	/** Bytes of the segment files still on disk. */
	get diskBytes(): number {
		const first = this.segments[0];
		return first ? Math.max(0, this.written - first.start) : 0;
	}

	/** Bytes of captured data currently held in memory. */
	get memoryBytes(): number {
		return this.memBytes;
	}

	/** Offset of the oldest byte held in memory (== end when none). */
	get memoryStart(): number {
		return this.mem[this.memHead]?.start ?? this.appended;
	}

	/** Offset of the oldest byte still on disk. */
	get firstOffset(): number {
		return this.segments[0]?.start ?? this.appended;
	}

	/** When bytes were last appended (ms; from the files' mtime after a restart), null while empty. */
	get lastAppendMs(): number | null {
		return this.lastAppend;
	}

	get checkpointed(): number {
		return this.savedCheckpoint;
	}

	get failure(): KeyferryError | null {
		return this.failed;
	}

	/**
	 * Adds bytes at the end. The journal keeps `chunk` (no copy): the caller must not modify it.
	 * Throws only after a write failure or close.
	 */
	append(chunk: Buffer): void {
		if (this.failed) throw this.failed;
		if (this.closing) throw new KeyferryError('journal-closed', `the journal in ${this.dir} is closed`);
		if (chunk.length === 0) return;
		let segment = this.segments.at(-1);
		// Segments found at open are not reopened for writing: appends after a restart start a new one.
		if (!segment || segment.fd === null || segment.size >= this.segmentBytes) segment = this.roll();
		const start = this.appended;
		segment.size += chunk.length;
		this.appended += chunk.length;
		this.lastAppend = Date.now();
		this.mem.push({start, buf: chunk});
		this.memBytes += chunk.length;
		this.queue.push({segment, start, buf: chunk});
		this.queuedBytes += chunk.length;
		if (this.appended - this.written > this.window) this.writeQueueNow();
		else if (!this.inflight) this.writeNext();
		this.evict();
		if (this.waiters.length > 0) this.wake();
	}

	reader(fromOffset: number): JournalReader {
		return new Reader(this, fromOffset);
	}

	/**
	 * Records that everything before `appliedOffset` is applied (atomic write + fsync + rename),
	 * then deletes the segments wholly before it. Offsets below the last checkpoint are ignored.
	 */
	checkpoint(appliedOffset: number): Promise<void> {
		const run = async () => {
			if (!Number.isSafeInteger(appliedOffset) || appliedOffset < 0 || appliedOffset > this.appended) {
				throw new KeyferryError('journal-checkpoint', `checkpoint ${appliedOffset} is outside the journal (0..${this.appended})`);
			}
			if (appliedOffset <= this.savedCheckpoint && this.savedCheckpoint <= this.appended) return;
			await writeJsonAtomic(join(this.dir, checkpointFile), {applied: appliedOffset, at: Date.now()});
			this.savedCheckpoint = appliedOffset;
			// The newest segment stays: it is where appends go.
			while (this.segments.length > 1 && this.segments[0]!.start + this.segments[0]!.size <= appliedOffset) {
				// A segment still being written goes at the next checkpoint.
				if (this.segments[0]!.fd !== null) break;
				const segment = this.segments.shift()!;
				await unlink(segment.path).catch(() => {});
			}
		};
		const next = this.checkpointChain.then(run);
		this.checkpointChain = next.catch(() => {});
		return next;
	}

	/** Flushes everything to disk and closes the files. Readers drain what is left, then get null. */
	async close(): Promise<void> {
		if (this.closed) return;
		this.closing = true;
		await this.drainWrites();
		await this.checkpointChain;
		for (const segment of this.segments) {
			if (segment.fd !== null) {
				const fd = segment.fd;
				segment.fd = null;
				try {
					fsyncSync(fd);
				} finally {
					closeSync(fd);
				}
			}
		}
		this.closed = true;
		this.wake();
		if (this.failed) throw this.failed;
	}

	/** @internal Used by readers. */
	get isClosed(): boolean {
		return this.closed;
	}

	/** @internal Offset before which everything is on disk. */
	get writtenEnd(): number {
		return this.written;
	}

	/** @internal Calls `wake` once, on the next append or on close. */
	onData(wake: () => void): void {
		if (this.closed) wake();
		else this.waiters.push(wake);
	}

	/** @internal Chunks in memory from `offset` on, up to about `limit` bytes; empty when offset is before the window. */
	memorySlice(offset: number, limit: number): Buffer[] {
		const mem = this.mem;
		let lo = this.memHead;
		let hi = mem.length - 1;
		if (lo > hi || offset < mem[lo]!.start) return [];
		while (lo < hi) {
			const mid = (lo + hi + 1) >> 1;
			if (mem[mid]!.start <= offset) lo = mid;
			else hi = mid - 1;
		}
		const out: Buffer[] = [];
		let taken = 0;
		for (let i = lo; i < mem.length && taken < limit; i++) {
			const chunk = mem[i]!;
			const part = i === lo ? chunk.buf.subarray(offset - chunk.start) : chunk.buf;
			out.push(part);
			taken += part.length;
		}
		return out;
	}

	/** @internal The segment holding `offset`, or null when it was deleted or not written yet. */
	segmentAt(offset: number): {path: string; start: number; end: number} | null {
		for (const segment of this.segments) {
			if (offset >= segment.start && offset < segment.start + segment.size) {
				return {path: segment.path, start: segment.start, end: Math.min(segment.start + segment.size, this.written)};
			}
		}
		return null;
	}

	private roll(): Segment {
		const previous = this.segments.at(-1);
		const path = join(this.dir, segmentName(this.appended));
		let fd: number;
		try {
			fd = openSync(path, 'w');
		} catch (error) {
			this.fail(error as Error);
			throw this.failed!;
		}
		const segment: Segment = {start: this.appended, size: 0, path, fd, sealed: false};
		this.segments.push(segment);
		if (previous) {
			previous.sealed = true;
			this.maybeCloseSealed();
		}
		return segment;
	}

	/** Starts one background writev of the oldest queued chunks of one segment. */
	private writeNext(): void {
		if (this.inflight || this.queueHead >= this.queue.length || this.failed) return;
		const first = this.queue[this.queueHead]!;
		const segment = first.segment;
		const limit = Math.min(maxWriteBatch, Math.max(64 * 1024, this.window / 4));
		const buffers: Buffer[] = [];
		let bytes = 0;
		while (this.queueHead < this.queue.length && bytes < limit && buffers.length < 1024) {
			const item = this.queue[this.queueHead]!;
			if (item.segment !== segment) break;
			buffers.push(item.buf);
			bytes += item.buf.length;
			this.queueHead++;
		}
		this.queuedBytes -= bytes;
		this.compactQueue();
		const inflight: InFlight = {segment, position: first.start - segment.start, buffers, start: first.start, end: first.start + bytes};
		this.inflight = inflight;
		writeAll(segment.fd!, buffers, inflight.position, bytes, (error) => {
			this.inflight = null;
			if (error) {
				this.fail(error);
			} else {
				this.written = Math.max(this.written, inflight.end, this.syncWrittenEnd);
				this.evict();
			}
			this.maybeCloseSealed();
			if (this.queueHead < this.queue.length && !this.failed) this.writeNext();
			else this.notifyIdle();
		});
	}

	/**
	 * The disk is a whole window behind: write everything unwritten now, in the caller's turn. The
	 * background write still in flight is written again too (same bytes, same place), so memory can
	 * be released without waiting for it.
	 */
	private writeQueueNow(): void {
		try {
			const inflight = this.inflight;
			if (inflight) writeAllSync(inflight.segment.fd!, inflight.buffers, inflight.position);
			while (this.queueHead < this.queue.length) {
				const first = this.queue[this.queueHead]!;
				const segment = first.segment;
				const buffers: Buffer[] = [];
				let bytes = 0;
				while (this.queueHead < this.queue.length && this.queue[this.queueHead]!.segment === segment && buffers.length < 1024) {
					const item = this.queue[this.queueHead++]!;
					buffers.push(item.buf);
					bytes += item.buf.length;
				}
				writeAllSync(segment.fd!, buffers, first.start - segment.start);
				this.queuedBytes -= bytes;
			}
			this.syncWrittenEnd = this.appended;
			this.written = this.appended;
			this.compactQueue();
			this.maybeCloseSealed();
		} catch (error) {
			this.fail(error as Error);
			throw this.failed!;
		}
	}

	private compactQueue(): void {
		if (this.queueHead === this.queue.length) {
			this.queue = [];
			this.queueHead = 0;
		} else if (this.queueHead > 4096) {
			this.queue = this.queue.slice(this.queueHead);
			this.queueHead = 0;
		}
	}

	/** Drops the oldest chunks that are on disk while memory is over the window. */
	private evict(): void {
		const mem = this.mem;
		while (this.memBytes > this.window && this.memHead < mem.length) {
			const chunk = mem[this.memHead]!;
			if (chunk.start + chunk.buf.length > this.written) break;
			this.memBytes -= chunk.buf.length;
			mem[this.memHead] = undefined;
			this.memHead++;
		}
		if (this.memHead > 4096 && this.memHead * 2 > mem.length) {
			this.mem = mem.slice(this.memHead);
			this.memHead = 0;
		}
	}

	/** Sealed segments whose bytes are all written get synced and closed (never under a write in flight). */
	private maybeCloseSealed(): void {
		for (const segment of this.segments) {
			if (!segment.sealed || segment.fd === null || this.inflight?.segment === segment) continue;
			if (segment.start + segment.size > this.written) continue;
			const fd = segment.fd;
			segment.fd = null;
			fdatasync(fd, () => closeQuietly(fd));
		}
	}

	private fail(error: Error): void {
		if (this.failed) return;
		this.failed = new KeyferryError('journal-write', `cannot write the journal in ${this.dir}: ${error.message}`);
		this.options.onError?.(this.failed);
		this.notifyIdle();
	}

	private drainWrites(): Promise<void> {
		if (this.failed || (!this.inflight && this.queueHead >= this.queue.length)) return Promise.resolve();
		return new Promise((resolve) => this.idle.push(resolve));
	}

	private notifyIdle(): void {
		const idle = this.idle;
		this.idle = [];
		for (const resolve of idle) resolve();
	}

	private wake(): void {
		const waiters = this.waiters;
		this.waiters = [];
		for (const resolve of waiters) resolve();
	}
}

class Reader implements JournalReader {
	private readonly parser: MonitorParser;
	/** Offset of the next byte to take from the journal. */
	private fetched: number;
	/** Taken from the journal, not parsed yet, oldest first. */
	private raw: Buffer[] = [];
	/** End of the last record handed out (start of the next one). */
	private position: number;
	private ready: JournalRecord[] = [];
	private readyHead = 0;
	private closed = false;
	private busy = false;
	private wakeSelf: (() => void) | null = null;

	constructor(
		private readonly journal: Journal,
		from: number,
	) {
		if (!Number.isSafeInteger(from) || from < 0 || from > journal.end) {
			throw new KeyferryError('journal-position', `position ${from} is outside the journal (0..${journal.end})`);
		}
		this.parser = new MonitorParser({startOffset: from});
		this.fetched = from;
		this.position = from;
	}

	async read(max: number): Promise<JournalRecord[] | null> {
		if (this.busy) throw new KeyferryError('journal-reader', 'read() called again before the previous read resolved');
		this.busy = true;
		try {
			const limit = Math.max(1, Math.floor(max));
			while (this.readyHead >= this.ready.length) {
				if (this.closed) return null;
				const journal = this.journal;
				if (this.raw.length > 0) {
					this.parse(limit);
				} else if (this.fetched < journal.end) {
					await this.fetch();
				} else if (journal.isClosed) {
					return null;
				} else {
					await this.waitForData();
				}
			}
			const out = this.ready.slice(this.readyHead, this.readyHead + limit);
			this.readyHead += out.length;
			if (this.readyHead >= this.ready.length) {
				this.ready = [];
				this.readyHead = 0;
			}
			return out;
		} finally {
			this.busy = false;
		}
	}

	close(): void {
		this.closed = true;
		this.wakeSelf?.();
	}

	private waitForData(): Promise<void> {
		return new Promise((resolve) => {
			this.wakeSelf = resolve;
			this.journal.onData(resolve);
		});
	}

	private async fetch(): Promise<void> {
		const journal = this.journal;
		const parts = journal.memorySlice(this.fetched, memoryBatch);
		if (parts.length > 0) {
			for (const part of parts) this.take(part);
			return;
		}
		const segment = journal.segmentAt(this.fetched);
		if (!segment || this.fetched >= journal.writtenEnd) {
			if (this.fetched < journal.firstOffset) {
				throw new KeyferryError(
					'journal-position',
					`journal position ${this.fetched} was deleted by a checkpoint (oldest kept: ${journal.firstOffset})`,
				);
			}
			// Between the window and the disk (cannot last: evicted bytes are always written first).
			await this.waitForData();
			return;
		}
		// Opened per block: an abandoned reader never holds a file open.
		let handle: FileHandle;
		try {
			handle = await open(segment.path, 'r');
		} catch (error) {
			throw new KeyferryError('journal-position', `cannot read journal segment ${segment.path}: ${(error as Error).message}`);
		}
		const length = Math.min(diskBlock, segment.end - this.fetched);
		const block = Buffer.allocUnsafe(length);
		let bytesRead: number;
		try {
			({bytesRead} = await handle.read(block, 0, length, this.fetched - segment.start));
		} finally {
			await handle.close();
		}
		if (bytesRead <= 0) {
			throw new KeyferryError('journal-read', `journal segment ${segment.path} ends before offset ${this.fetched}`);
		}
		this.take(block.subarray(0, bytesRead));
	}

	private take(part: Buffer): void {
		this.raw.push(part);
		this.fetched += part.length;
	}

	/** Parses what was taken, a slice at a time, until `limit` records are ready or nothing is left. */
	private parse(limit: number): void {
		while (this.raw.length > 0 && this.ready.length - this.readyHead < limit) {
			const part = this.raw[0]!;
			if (part.length > parseSlice) {
				this.raw[0] = part.subarray(parseSlice);
				this.feed(part.subarray(0, parseSlice));
			} else {
				this.raw.shift();
				this.feed(part);
			}
		}
	}

	private feed(part: Buffer): void {
		const ends: number[] = [];
		const entries = this.parser.push(part, ends);
		for (let i = 0; i < entries.length; i++) {
			const end = ends[i]!;
			this.ready.push({entry: entries[i]!, start: this.position, end});
			this.position = end;
		}
	}

}

/** writev until every byte is written (writev may write less than asked). */
function writeAll(fd: number, buffers: Buffer[], position: number, bytes: number, done: (error: Error | null) => void): void {
	writev(fd, buffers, position, (error, count) => {
		if (error) return done(error);
		if (count >= bytes) return done(null);
		writeAll(fd, [Buffer.concat(buffers).subarray(count)], position + count, bytes - count, done);
	});
}

function writeAllSync(fd: number, buffers: Buffer[], position: number): void {
	const bytes = buffers.reduce((sum, buf) => sum + buf.length, 0);
	let done = writevSync(fd, buffers, position);
	while (done < bytes) done += writevSync(fd, [Buffer.concat(buffers).subarray(done)], position + done);
}

function closeQuietly(fd: number): void {
	try {
		closeSync(fd);
	} catch {
		// Already closed; nothing left to release.
	}
}

async function writeByte(path: string, position: number, byte: number): Promise<void> {
	const file = await open(path, 'r+');
	try {
		await file.write(Buffer.from([byte]), 0, 1, position);
	} finally {
		await file.close();
	}
}

async function lastByte(path: string, size: number): Promise<number | undefined> {
	const file = await open(path, 'r');
	try {
		const buf = Buffer.alloc(1);
		await file.read(buf, 0, 1, size - 1);
		return buf[0];
	} finally {
		await file.close();
	}
}
