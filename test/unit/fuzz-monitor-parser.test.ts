/**
 * The MONITOR parser and the journal reader against bad input: random bytes, random splits,
 * real-looking MONITOR lines truncated at every point, mutated, with LF/NUL/0xff injected, and
 * lines far over the length limit. Properties: nothing throws or hangs, every byte lands in exactly
 * one entry (line ends are contiguous and account for the whole input), a valid line parses the
 * same wherever it sits among garbage, and every malformed entry says why. Fixed seeds, printed on
 * failure; bounded rounds.
 */
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {Journal} from '../../source/capture/journal';
import {formatGapLine, MonitorParser, parseMonitorLine, type MonitorEntry} from '../../source/capture/monitor-parser';
import {JournalFiles} from '../../source/cutover/journal-files';
import {Random} from '../../source/demo/random';

/** Redis' sdscatrepr: how the server prints each argument. */
function repr(bytes: Buffer): string {
	let out = '"';
	for (const byte of bytes) {
		if (byte === 0x5c) out += '\\\\';
		else if (byte === 0x22) out += '\\"';
		else if (byte === 0x0a) out += '\\n';
		else if (byte === 0x0d) out += '\\r';
		else if (byte === 0x09) out += '\\t';
		else if (byte === 0x07) out += '\\a';
		else if (byte === 0x08) out += '\\b';
		else if (byte >= 0x20 && byte <= 0x7e) out += String.fromCharCode(byte);
		else out += `\\x${byte.toString(16).padStart(2, '0')}`;
	}
	return `${out}"`;
}

const clients = ['127.0.0.1:50312', '[::1]:6001', '[2001:db8::7]:40000', 'unix:/var/run/redis.sock', 'lua', '', '?:0', '10.0.0.5:1'];
const commands = ['SET', 'GET', 'HSET', 'DEL', 'EXPIRE', 'XADD', 'ZADD', 'EVAL', 'MULTI', 'EXEC', 'ECHO', 'set', 'restore'];

function randomArg(rng: Random): Buffer {
	const length = rng.chance(0.1) ? 0 : rng.int(rng.chance(0.05) ? 2000 : 40);
	const mode = rng.int(3);
	return Buffer.from(
		Array.from({length}, () => (mode === 0 ? rng.int(256) : mode === 1 ? rng.pick([0x22, 0x5c, 0x20, 0x5d, 0x5b, 0x0d, 0x0a, 0x00, 0xff]) : rng.range(0x20, 0x7e))),
	);
}

/** One line as a real server prints it (without CRLF). */
function realLine(rng: Random): Buffer {
	const sec = rng.range(1_600_000_000, 1_900_000_000);
	const usec = String(rng.int(1_000_000)).padStart(6, '0');
	const args = [Buffer.from(rng.pick(commands)), ...Array.from({length: rng.int(5)}, () => randomArg(rng))];
	return Buffer.from(`+${sec}.${usec} [${rng.int(16)} ${rng.pick(clients)}] ${args.map(repr).join(' ')}`, 'latin1');
}

function randomBytes(rng: Random, length: number): Buffer {
	return Buffer.from(Array.from({length}, () => (rng.chance(0.1) ? rng.pick([0x0a, 0x0d, 0x00, 0xff, 0x22, 0x5c, 0x2b, 0x23]) : rng.int(256))));
}

/** A real line damaged the ways a disk, a network or a bug could: flipped bytes, injected LF/NUL/0xff, cuts, duplicated runs. */
function corrupt(rng: Random, line: Buffer): Buffer {
	let out = Buffer.from(line);
	for (let n = rng.range(1, 3); n > 0; n--) {
		const at = rng.int(out.length + 1);
		switch (rng.int(5)) {
			case 0:
				if (out.length > 0) out[Math.min(at, out.length - 1)] = rng.int(256);
				break;
			case 1:
				out = Buffer.concat([out.subarray(0, at), Buffer.from([rng.pick([0x0a, 0x00, 0xff, 0x0d])]), out.subarray(at)]);
				break;
			case 2:
				out = out.subarray(0, at);
				break;
			case 3:
				out = Buffer.concat([out.subarray(0, at), out.subarray(rng.int(at + 1))]);
				break;
			default:
				out = Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + rng.range(1, 8)))]);
		}
	}
	return out;
}

const arg = String.raw`"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\\"nrtab]|\\x[0-9a-fA-F]{2})*)"`;
/** The MONITOR grammar as one regular expression (latin1 text): an oracle written apart from the parser. */
const grammar = new RegExp(String.raw`^\+(\d{1,10})\.(\d{6}) \[(\d{1,10}) ((?:(?!\] ")[\s\S])*)\] (${arg}(?: ${arg})*)$`);
const simple: Record<string, number> = {'\\': 0x5c, '"': 0x22, n: 0x0a, r: 0x0d, t: 0x09, a: 0x07, b: 0x08};

/** What the oracle makes of one line: the command's arguments, or null when it is not a command. */
function oracle(line: Buffer): {ts: number; db: number; client: string; args: Buffer[]} | null {
	const match = grammar.exec(line.toString('latin1'));
	if (!match) return null;
	const args = [...match[5]!.matchAll(new RegExp(arg, 'g'))].map((one) => {
		const bytes: number[] = [];
		const text = one[1]!;
		for (let i = 0; i < text.length; i++) {
			if (text[i] !== '\\') bytes.push(text.charCodeAt(i));
			else if (text[i + 1] === 'x') {
				bytes.push(parseInt(text.slice(i + 2, i + 4), 16));
				i += 3;
			} else bytes.push(simple[text[++i]!]!);
		}
		return Buffer.from(bytes);
	});
	return {ts: Number(match[1]) * 1_000_000 + Number(match[2]), db: Number(match[3]), client: match[4]!, args};
}

/** Each entry agrees with the oracle on the bytes of its line. */
function expectOracle(input: Buffer, parsed: Parsed, context: string, startOffset = 0): void {
	let start = 0;
	parsed.entries.forEach((entry, index) => {
		const end = parsed.ends[index]! - startOffset - 1;
		const line = input.subarray(start, end > start && input[end - 1] === 0x0d ? end - 1 : end);
		start = end + 1;
		const expected = oracle(line);
		if (expected === null) expect(entry.kind, `${context}: ${JSON.stringify(line.toString('latin1'))}`).not.toBe('command');
		else expect(entry, `${context}: ${JSON.stringify(line.toString('latin1'))}`).toMatchObject({kind: 'command', ...expected});
	});
}

interface Parsed {
	entries: MonitorEntry[];
	ends: number[];
	position: number;
	buffered: number;
}

/** Feeds `input` in chunks of random sizes (or whole when `rng` is null). */
function parse(input: Buffer, rng: Random | null, options: {maxLineBytes?: number; startOffset?: number} = {}): Parsed {
	const parser = new MonitorParser(options);
	const entries: MonitorEntry[] = [];
	const ends: number[] = [];
	for (let pos = 0; pos < input.length; ) {
		const size = rng ? rng.range(1, rng.chance(0.2) ? 4 : 300) : input.length;
		entries.push(...parser.push(input.subarray(pos, pos + size), ends));
		pos += size;
	}
	return {entries, ends, position: parser.position, buffered: parser.buffered};
}

/** Every byte in exactly one entry: one end per entry, strictly increasing, each at an LF, the last complete line at `position`, the rest buffered. */
function expectAccounted(input: Buffer, parsed: Parsed, context: string, startOffset = 0): void {
	const lfs: number[] = [];
	for (let i = input.indexOf(0x0a); i !== -1; i = input.indexOf(0x0a, i + 1)) lfs.push(startOffset + i + 1);
	expect(parsed.ends, context).toEqual(lfs);
	expect(parsed.entries.length, context).toBe(lfs.length);
	expect(parsed.position, context).toBe(lfs.at(-1) ?? startOffset);
	expect(parsed.position - startOffset + parsed.buffered, context).toBe(input.length);
	for (const entry of parsed.entries) {
		expect(['command', 'malformed', 'gap'], context).toContain(entry.kind);
		if (entry.kind === 'malformed') expect(entry.reason.length, context).toBeGreaterThan(0);
	}
}

const crlf = Buffer.from('\r\n');

describe('MonitorParser, fuzzed', () => {
	it('random bytes in random chunks: never throws, every byte accounted for, same entries as one push', () => {
		for (const seed of [101, 102, 103]) {
			const rng = new Random(seed);
			for (let round = 0; round < 150; round++) {
				const input = randomBytes(rng, rng.int(3000));
				const context = `seed ${seed} round ${round}`;
				const whole = parse(input, null);
				expectAccounted(input, whole, context);
				expectOracle(input, whole, context);
				const chunked = parse(input, rng, {startOffset: 77});
				expect(chunked.entries, context).toEqual(whole.entries);
				expect(chunked.ends, context).toEqual(whole.ends.map((end) => end + 77));
			}
		}
	});

	it('real lines survive garbage around them: each parses exactly as it does alone, at its own line end', () => {
		for (const seed of [111, 112]) {
			const rng = new Random(seed);
			for (let round = 0; round < 200; round++) {
				const context = `seed ${seed} round ${round}`;
				const parts: Buffer[] = [];
				const valid = new Map<number, MonitorEntry>();
				let offset = 0;
				for (let n = rng.range(1, 20); n > 0; n--) {
					const kind = rng.int(4);
					// Garbage never holds an LF here: each part must stay one line.
					const body =
						kind === 0
							? realLine(rng)
							: kind === 1
								? corrupt(rng, realLine(rng)).filter((byte) => byte !== 0x0a)
								: kind === 2
									? randomBytes(rng, rng.int(200)).filter((byte) => byte !== 0x0a)
									: formatGapLine({fromMs: rng.int(1e12), toMs: rng.int(1e12), reason: 'fuzz'}).subarray(0, -2);
					const line = Buffer.from(body);
					const end = rng.chance(0.8) ? crlf : Buffer.from('\n');
					offset += line.length + end.length;
					if (kind === 0) valid.set(offset, parseMonitorLine(line));
					parts.push(line, end);
				}
				const input = Buffer.concat(parts);
				const parsed = parse(input, rng);
				expectAccounted(input, parsed, context);
				expectOracle(input, parsed, context);
				for (const [end, entry] of valid) {
					expect(entry.kind, context).toBe('command');
					expect(parsed.entries[parsed.ends.indexOf(end)], `${context}: line ending at ${end}`).toEqual(entry);
				}
			}
		}
	});

	it('a real line cut at every point, then followed by a good line: the cut part is one entry, the good line parses', () => {
		const rng = new Random(121);
		for (let round = 0; round < 20; round++) {
			const line = realLine(rng);
			const next = realLine(rng);
			const expectedNext = parseMonitorLine(next);
			for (let cut = 0; cut <= line.length; cut++) {
				const input = Buffer.concat([line.subarray(0, cut), crlf, next, crlf]);
				const parsed = parse(input, null);
				const context = `seed 121 round ${round} cut ${cut}`;
				expectAccounted(input, parsed, context);
				expect(parsed.entries[1], context).toEqual(expectedNext);
				const first = parsed.entries[0]!;
				// Cut right after a closing quote, a shorter line is still well formed (the capture's
				// truncation mark is what keeps such a line out of the replay): then it is the real line's first arguments.
				const full = parseMonitorLine(line);
				if (first.kind === 'command' && full.kind === 'command') expect(first.args, context).toEqual(full.args.slice(0, first.args.length));
			}
		}
	});

	it('mutated real lines: never throw, malformed ones keep their bytes and a reason', () => {
		for (const seed of [131, 132]) {
			const rng = new Random(seed);
			for (let round = 0; round < 3000; round++) {
				const line = corrupt(rng, realLine(rng));
				const context = `seed ${seed} round ${round}`;
				const input = Buffer.concat([line, crlf]);
				const parsed = parse(input, rng);
				expectAccounted(input, parsed, context);
				expectOracle(input, parsed, context);
				for (const entry of parsed.entries) {
					if (entry.kind !== 'malformed') continue;
					expect(entry.reason, context).toMatch(/\w/);
					expect(entry.raw.length, context).toBeLessThanOrEqual(input.length);
				}
			}
		}
	});

	it('lines far over the limit become one malformed entry each, in bounded memory', () => {
		const rng = new Random(141);
		const limit = 4096;
		for (let round = 0; round < 10; round++) {
			const huge = Buffer.concat([Buffer.from('+1700000000.000001 [0 a:1] "SET" "k" "'), Buffer.alloc(rng.range(limit, 300_000), 0x61), Buffer.from('"')]);
			const good = realLine(rng);
			const input = Buffer.concat([huge, crlf, good, crlf, randomBytes(rng, 20_000).fill(0x78), crlf]);
			const parser = new MonitorParser({maxLineBytes: limit});
			const entries: MonitorEntry[] = [];
			const ends: number[] = [];
			for (let pos = 0; pos < input.length; pos += 1000) {
				entries.push(...parser.push(input.subarray(pos, pos + 1000), ends));
				expect(parser.buffered).toBeLessThanOrEqual(input.length);
			}
			const context = `seed 141 round ${round}`;
			expectAccounted(input, {entries, ends, position: parser.position, buffered: parser.buffered}, context);
			expect(entries[0], context).toMatchObject({kind: 'malformed', reason: expect.stringMatching(/longer than the 4096-byte limit/)});
			expect(entries[0]!.kind === 'malformed' && entries[0]!.raw.length, context).toBeLessThanOrEqual(1024);
			expect(entries[1], context).toEqual(parseMonitorLine(good));
			expect(entries[2]!.kind, context).toBe('malformed');
		}
	});

	it.each([
		['only LFs', Buffer.from('\n\n\n')],
		['only CRs', Buffer.from('\r\r\r')],
		['NULs', Buffer.alloc(100)],
		['0xff', Buffer.alloc(100, 0xff)],
		['a CR before every LF and none', Buffer.from('\r\n\n\r\r\n')],
		['a gap line with huge numbers', Buffer.from(`#gap ${'9'.repeat(400)} ${'9'.repeat(400)} x\r\n`)],
		['a timestamp of ten nines', Buffer.from('+9999999999.999999 [9999999999 a:1] "x"\r\n')],
	])('%s', (_name, input) => {
		const parsed = parse(input, null);
		expectAccounted(input, parsed, String(_name));
		expectOracle(input, parsed, String(_name));
	});
});

const dirs: string[] = [];
afterAll(() => {
	for (const dir of dirs) rmSync(dir, {recursive: true, force: true});
});

async function readAll(journal: Journal): Promise<{entries: MonitorEntry[]; ends: number[]}> {
	const reader = journal.reader(0);
	const entries: MonitorEntry[] = [];
	const ends: number[] = [];
	for (let batch = await reader.read(100); batch !== null; batch = await reader.read(100)) {
		for (const record of batch) {
			entries.push(record.entry);
			ends.push(record.end);
		}
	}
	return {entries, ends};
}

describe('journal readers, fuzzed', () => {
	it('the journal reader and the segment-file reader give what the parser gives, across segments, memory and disk', async () => {
		for (const seed of [151, 152, 153]) {
			const rng = new Random(seed);
			const dir = mkdtempSync(join(tmpdir(), 'keyferry-fuzz-journal-'));
			dirs.push(dir);
			const parts: Buffer[] = [];
			for (let n = 0; n < 200; n++) {
				const kind = rng.int(3);
				parts.push(kind === 0 ? realLine(rng) : kind === 1 ? corrupt(rng, realLine(rng)) : randomBytes(rng, rng.int(100)), rng.chance(0.9) ? crlf : Buffer.alloc(0));
			}
			parts.push(crlf);
			const input = Buffer.concat(parts);
			// Small segments and a small memory window: readers cross segment files and fall back to disk.
			const journal = await Journal.open(dir, {maxMemoryWindow: 2048, segmentBytes: 4096});
			for (let pos = 0; pos < input.length; ) {
				const size = rng.range(1, 700);
				journal.append(Buffer.from(input.subarray(pos, pos + size)));
				pos += size;
			}
			await journal.close();
			const expected = parse(input, null);
			const context = `seed ${seed}`;
			const read = await readAll(journal);
			expect(read.ends, context).toEqual(expected.ends);
			expect(read.entries, context).toEqual(expected.entries);

			const files = new JournalFiles(dir, 0);
			const fromFiles: MonitorEntry[] = [];
			await files.readNew((record) => fromFiles.push(record.entry));
			expect(fromFiles, context).toEqual(expected.entries);
			expect(files.offset, context).toBe(input.length);
		}
	});
});
