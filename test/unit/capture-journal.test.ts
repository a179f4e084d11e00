import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, describe, expect, it, vi} from 'vitest';
import {Journal, type JournalReader, type JournalRecord} from '../../source/capture/journal';
import {formatGapLine, MonitorParser, type MonitorCommand} from '../../source/capture/monitor-parser';

const dirs: string[] = [];
function tempDir(): string {
	const dir = mkdtempSync(join(tmpdir(), 'keyferry-journal-'));
	dirs.push(dir);
	return dir;
}
afterEach(() => {
	for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true});
});

function feedLine(i: number, valueBytes = 20): Buffer {
	return Buffer.from(`+1700000000.${String(i % 1_000_000).padStart(6, '0')} [0 127.0.0.1:5000] "SET" "key:${i}" "${'v'.repeat(valueBytes)}"\r\n`, 'latin1');
}

function keyOf(record: JournalRecord): string {
	if (record.entry.kind !== 'command') return `<${record.entry.kind}>`;
	return (record.entry as MonitorCommand).args[1]!.toString();
}

/** Reads until `count` records or a time limit. */
async function readN(reader: JournalReader, count: number, max = 1000): Promise<JournalRecord[]> {
	const out: JournalRecord[] = [];
	const deadline = Date.now() + 10_000;
	while (out.length < count && Date.now() < deadline) {
		const batch = await reader.read(Math.min(max, count - out.length));
		if (batch === null) break;
		out.push(...batch);
	}
	return out;
}

describe('Journal', () => {
	it('reads back what was appended, across chunk splits, with exact offsets', async () => {
		const journal = await Journal.open(tempDir(), {maxMemoryWindow: 1 << 20});
		const lines = Array.from({length: 100}, (_, i) => feedLine(i));
		const all = Buffer.concat(lines);
		for (let pos = 0; pos < all.length; pos += 37) journal.append(all.subarray(pos, pos + 37));
		expect(journal.end).toBe(all.length);
		const records = await readN(journal.reader(0), 100);
		expect(records.map(keyOf)).toEqual(lines.map((_, i) => `key:${i}`));
		let offset = 0;
		for (const [i, record] of records.entries()) {
			expect(record.start).toBe(offset);
			offset += lines[i]!.length;
			expect(record.end).toBe(offset);
		}
		// A reader can start at any record boundary.
		const tail = await readN(journal.reader(records[60]!.start), 40);
		expect(tail.map(keyOf)).toEqual(lines.slice(60).map((_, i) => `key:${60 + i}`));
		await journal.close();
	});

	it('wakes a waiting reader on append, and ends it with null after close', async () => {
		const journal = await Journal.open(tempDir(), {maxMemoryWindow: 1 << 20});
		const reader = journal.reader(0);
		const pending = reader.read(10);
		journal.append(feedLine(1).subarray(0, 10));
		journal.append(feedLine(1).subarray(10));
		const first = await pending;
		expect(first?.map(keyOf)).toEqual(['key:1']);
		journal.append(feedLine(2));
		await journal.close();
		expect((await reader.read(10))?.map(keyOf)).toEqual(['key:2']);
		expect(await reader.read(10)).toBeNull();
	});

	it('resolves a pending read with null when the reader is closed', async () => {
		const journal = await Journal.open(tempDir(), {maxMemoryWindow: 1 << 20});
		const reader = journal.reader(0);
		const pending = reader.read(10);
		reader.close();
		expect(await pending).toBeNull();
		await journal.close();
	});

	it('keeps positions across a restart and continues at the end', async () => {
		const dir = tempDir();
		const first = await Journal.open(dir, {maxMemoryWindow: 1 << 20, segmentBytes: 500});
		for (let i = 0; i < 50; i++) first.append(feedLine(i));
		const end = first.end;
		await first.close();
		expect(readdirSync(dir).filter((name) => name.endsWith('.seg')).length).toBeGreaterThan(3);

		const second = await Journal.open(dir, {maxMemoryWindow: 1 << 20, segmentBytes: 500});
		expect(second.end).toBe(end);
		expect(second.diskBytes).toBe(end);
		expect(second.lastAppendMs).not.toBeNull();
		for (let i = 50; i < 60; i++) second.append(feedLine(i));
		const records = await readN(second.reader(0), 60);
		expect(records.map(keyOf)).toEqual(Array.from({length: 60}, (_, i) => `key:${i}`));
		expect(records.at(-1)!.end).toBe(second.end);
		await second.close();
	});

	it('closes a line torn by a crash so it reads as malformed, not merged with the next', async () => {
		const dir = tempDir();
		const first = await Journal.open(dir, {maxMemoryWindow: 1 << 20});
		first.append(feedLine(1));
		first.append(feedLine(2).subarray(0, 30));
		await first.close();
		const second = await Journal.open(dir, {maxMemoryWindow: 1 << 20});
		second.append(feedLine(3));
		const records = await readN(second.reader(0), 3);
		expect(records.map(keyOf)).toEqual(['key:1', '<malformed>', 'key:3']);
		expect(records[1]!.entry).toMatchObject({reason: 'line cut short by a dropped monitor connection'});
		await second.close();
	});

	it('checkpoints atomically, deletes applied segments and reads the checkpoint back', async () => {
		const dir = tempDir();
		const journal = await Journal.open(dir, {maxMemoryWindow: 1 << 20, segmentBytes: 1000});
		for (let i = 0; i < 100; i++) journal.append(feedLine(i));
		const records = await readN(journal.reader(0), 100);
		await new Promise((resolve) => setTimeout(resolve, 50));
		const before = readdirSync(dir).filter((name) => name.endsWith('.seg')).length;
		const applied = records[70]!.end;
		await journal.checkpoint(applied);
		expect(journal.checkpointed).toBe(applied);
		expect(JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')).applied).toBe(applied);
		const after = readdirSync(dir).filter((name) => name.endsWith('.seg'));
		expect(after.length).toBeLessThan(before);
		expect(Number(after[0]!.slice(0, 20))).toBeLessThanOrEqual(applied);
		expect(journal.firstOffset).toBe(Number(after[0]!.slice(0, 20)));
		expect(journal.diskBytes).toBe(journal.end - journal.firstOffset);
		// Lower checkpoints are ignored, beyond the end is refused.
		await journal.checkpoint(10);
		expect(journal.checkpointed).toBe(applied);
		await expect(journal.checkpoint(journal.end + 1)).rejects.toMatchObject({code: 'journal-checkpoint'});
		await journal.close();

		const reopened = await Journal.open(dir, {maxMemoryWindow: 100});
		expect(reopened.checkpointed).toBe(applied);
		expect(reopened.end).toBe(journal.end);
		const rest = await readN(reopened.reader(applied), 29);
		expect(rest.map(keyOf)).toEqual(Array.from({length: 29}, (_, i) => `key:${71 + i}`));
		// A position deleted by the checkpoint is an error, not silence.
		await expect(reopened.reader(0).read(1)).rejects.toMatchObject({code: 'journal-position'});
		await reopened.close();
	});

	it('keeps memory bounded by the window while a reader lags, and the reader still gets everything from disk', async () => {
		const window = 64 * 1024;
		const journal = await Journal.open(tempDir(), {maxMemoryWindow: window, segmentBytes: 256 * 1024});
		const reader = journal.reader(0);
		const count = 40_000;
		let peak = 0;
		let appended = 0;
		const chunk: Buffer[] = [];
		for (let i = 0; i < count; i++) {
			chunk.push(feedLine(i, i % 7 === 0 ? 200 : 10));
			if (chunk.length === 50 || i === count - 1) {
				const bytes = Buffer.concat(chunk.splice(0));
				// Split the chunk mid-line to cross line boundaries.
				journal.append(bytes.subarray(0, 33));
				journal.append(bytes.subarray(33));
				appended += bytes.length;
				peak = Math.max(peak, journal.memoryBytes);
			}
			if (i % 5000 === 0) await new Promise((resolve) => setImmediate(resolve));
		}
		expect(journal.end).toBe(appended);
		expect(peak).toBeLessThanOrEqual(window + 16 * 1024);
		expect(journal.memoryStart).toBeGreaterThan(0);
		const records: JournalRecord[] = [];
		const deadline = Date.now() + 20_000;
		while (records.length < count && Date.now() < deadline) {
			const batch = await reader.read(777);
			if (batch === null) break;
			records.push(...batch);
			// The capture goes on appending while the reader catches up.
			if (records.length % 7000 < 777) journal.append(feedLine(count + records.length));
			peak = Math.max(peak, journal.memoryBytes);
		}
		expect(records.slice(0, count).map(keyOf)).toEqual(Array.from({length: count}, (_, i) => `key:${i}`));
		expect(peak).toBeLessThanOrEqual(window + 16 * 1024);
		await journal.close();
	});

	it('parses as records are asked for, from memory and from disk, so few are alive at once', async () => {
		for (const maxMemoryWindow of [64 << 20, 64 << 10]) {
			const journal = await Journal.open(tempDir(), {maxMemoryWindow});
			const lines = Array.from({length: 50_000}, (_, i) => feedLine(i));
			for (let i = 0; i < lines.length; i += 1000) journal.append(Buffer.concat(lines.slice(i, i + 1000)));
			const parsed = vi.spyOn(MonitorParser.prototype, 'push');
			try {
				const reader = journal.reader(0);
				expect(await reader.read(100)).toHaveLength(100);
				const entries = parsed.mock.results.reduce((sum, result) => sum + (result.value as unknown[]).length, 0);
				// One 64 KiB slice of ~80-byte lines, not the megabyte (~13,000 lines) taken at once.
				expect(entries).toBeLessThan(1000);
				const rest = await readN(reader, lines.length - 100);
				expect(rest.map(keyOf)).toEqual(lines.slice(100).map((_, i) => `key:${100 + i}`));
			} finally {
				parsed.mockRestore();
			}
			await journal.close();
		}
	});

	it('stores gap lines in order', async () => {
		const journal = await Journal.open(tempDir(), {maxMemoryWindow: 1 << 20});
		journal.append(feedLine(1));
		journal.append(formatGapLine({fromMs: 10, toMs: 20, reason: 'closed by the server'}));
		journal.append(feedLine(2));
		const records = await readN(journal.reader(0), 3);
		expect(records.map((record) => record.entry.kind)).toEqual(['command', 'gap', 'command']);
		expect(records[1]!.entry).toEqual({kind: 'gap', fromMs: 10, toMs: 20, reason: 'closed by the server'});
		await journal.close();
	});

	it('refuses appends after close and reports an unwritable directory', async () => {
		const dir = tempDir();
		const journal = await Journal.open(dir, {maxMemoryWindow: 1 << 20});
		await journal.close();
		expect(() => journal.append(feedLine(1))).toThrow(/closed/);
		const file = join(dir, 'not-a-dir');
		writeFileSync(file, 'x');
		await expect(Journal.open(join(file, 'journal'), {maxMemoryWindow: 1 << 20})).rejects.toMatchObject({code: 'journal-open'});
	});
});
