import {describe, expect, it} from 'vitest';
import {
	formatGapLine,
	MonitorParser,
	parseMonitorLine,
	truncationMark,
	type MonitorCommand,
	type MonitorEntry,
} from '../../source/capture/monitor-parser';
import {Random} from '../../source/demo/random';

/** Redis' sdscatrepr, for building lines the way the server does. */
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

function line(args: Buffer[], header = '+1700000000.123456 [0 127.0.0.1:5000]'): Buffer {
	return Buffer.from(`${header} ${args.map(repr).join(' ')}`, 'latin1');
}

function command(entry: MonitorEntry): MonitorCommand {
	if (entry.kind !== 'command') throw new Error(`expected a command, got ${entry.kind}: ${JSON.stringify(entry)}`);
	return entry;
}

const b = (text: string) => Buffer.from(text, 'latin1');

/** Deterministic PRNG so a failure reproduces. */
function random(seed: number): () => number {
	const generator = new Random(seed);
	return () => generator.next();
}

describe('parseMonitorLine: headers', () => {
	it.each([
		['+1700000000.123456 [0 127.0.0.1:5000] "GET" "k"', 1700000000123456, 0, '127.0.0.1:5000', 'tcp'],
		['+1700000000.000001 [15 10.1.2.3:65535] "GET" "k"', 1700000000000001, 15, '10.1.2.3:65535', 'tcp'],
		['+1700000000.999999 [0 [::1]:5000] "GET" "k"', 1700000000999999, 0, '[::1]:5000', 'tcp'],
		['+1700000000.123456 [2 [2001:db8::1:2]:6379] "GET" "k"', 1700000000123456, 2, '[2001:db8::1:2]:6379', 'tcp'],
		['+1700000000.123456 [0 unix:/tmp/redis.sock] "GET" "k"', 1700000000123456, 0, 'unix:/tmp/redis.sock', 'unix'],
		['+1700000000.123456 [0 unix:/tmp/with space/r.sock] "GET" "k"', 1700000000123456, 0, 'unix:/tmp/with space/r.sock', 'unix'],
		['+1700000000.123456 [3 lua] "set" "k" "v"', 1700000000123456, 3, 'lua', 'lua'],
		['+1700000000.123456 [0 ] "set" "k" "v"', 1700000000123456, 0, '', 'module'],
		['+1700000000.123456 [0 ?:0] "set" "k" "v"', 1700000000123456, 0, '?:0', 'module'],
		['+1.000000 [123456 1.1.1.1:1] "PING"', 1000000, 123456, '1.1.1.1:1', 'tcp'],
	])('%s', (text, ts, db, client, kind) => {
		const entry = command(parseMonitorLine(b(text)));
		expect(entry).toMatchObject({ts, db, client, clientKind: kind});
	});

	it('keeps the timestamp an exact integer of microseconds', () => {
		const entry = command(parseMonitorLine(b('+1900000000.999999 [0 a:1] "x"')));
		expect(entry.ts).toBe(1900000000999999);
		expect(Number.isSafeInteger(entry.ts)).toBe(true);
	});
});

describe('parseMonitorLine: arguments', () => {
	it.each([
		['"a" "b"', ['a', 'b']],
		['""', ['']],
		['"" ""', ['', '']],
		['"\\\\"', ['\\']],
		['"\\""', ['"']],
		['"\\n\\r\\t\\a\\b"', ['\n\r\t\x07\x08']],
		['"\\x00\\xff\\x7f\\x80"', ['\x00\xff\x7f\x80']],
		['"\\xAB\\xcd"', ['\xab\xcd']],
		['"] \\"x\\" ["', ['] "x" [']],
		['"a\\" \\"b"', ['a" "b']],
		['"12345" "-7"', ['12345', '-7']],
		['"  spaces  "', ['  spaces  ']],
	])('%s', (args, expected) => {
		const entry = command(parseMonitorLine(b(`+1700000000.123456 [0 127.0.0.1:1] ${args}`)));
		expect(entry.args.map((arg) => arg.toString('latin1'))).toEqual(expected);
	});

	it('round-trips every byte value', () => {
		const all = Buffer.from(Array.from({length: 256}, (_, i) => i));
		const entry = command(parseMonitorLine(line([b('SET'), all, Buffer.alloc(0), Buffer.from(all).reverse()])));
		expect(entry.args[1]!.equals(Buffer.from(Array.from({length: 256}, (_, i) => i)))).toBe(true);
		expect(entry.args[2]!.length).toBe(0);
		expect(entry.args[3]!.equals(Buffer.from(Array.from({length: 256}, (_, i) => 255 - i)))).toBe(true);
	});

	it('round-trips random binary arguments (property)', () => {
		const next = random(42);
		for (let round = 0; round < 2000; round++) {
			const argc = 1 + Math.floor(next() * 5);
			const args = Array.from({length: argc}, () => {
				const length = next() < 0.1 ? 0 : Math.floor(next() * 64);
				const mode = next();
				return Buffer.from(
					Array.from({length}, () => (mode < 0.3 ? Math.floor(next() * 256) : mode < 0.6 ? [0x22, 0x5c, 0x20, 0x5d, 0x5b, 0x0d, 0x0a][Math.floor(next() * 7)]! : 0x20 + Math.floor(next() * 95))),
				);
			});
			const entry = command(parseMonitorLine(line(args)));
			expect(entry.args).toEqual(args);
		}
	});

	it('gives each argument its own memory', () => {
		const raw = line([b('SET'), b('key'), b('value')]);
		const entry = command(parseMonitorLine(raw));
		raw.fill(0x41);
		expect(entry.args.map(String)).toEqual(['SET', 'key', 'value']);
	});
});

describe('parseMonitorLine: malformed input never throws', () => {
	it.each([
		['', 'empty line'],
		['+OK', 'bad timestamp'],
		['-ERR something', 'line does not start with +'],
		['1700000000.123456 [0 a:1] "x"', 'line does not start with +'],
		['+1700000000.12345 [0 a:1] "x"', 'bad timestamp'],
		['+1700000000.1234567 [0 a:1] "x"', 'bad timestamp'],
		['+.123456 [0 a:1] "x"', 'bad timestamp'],
		['+17000000000000.123456 [0 a:1] "x"', 'bad timestamp'],
		['+1700000000.123456 0 a:1] "x"', 'bad timestamp'],
		['+1700000000.123456 [x a:1] "x"', 'bad database number'],
		['+1700000000.123456 [0a:1] "x"', 'bad database number'],
		['+1700000000.123456 [0 a:1]', 'no arguments after the client address'],
		['+1700000000.123456 [0 a:1] ', 'no arguments after the client address'],
		['+1700000000.123456 [0 a:1] x', 'no arguments after the client address'],
		['+1700000000.123456 [0 a:1] "x', 'unterminated argument'],
		['+1700000000.123456 [0 a:1] "x\\"', 'unterminated argument'],
		['+1700000000.123456 [0 a:1] "\\q"', 'bad escape'],
		['+1700000000.123456 [0 a:1] "\\x4g"', 'bad escape'],
		['+1700000000.123456 [0 a:1] "\\x4"', 'bad escape'],
		['+1700000000.123456 [0 a:1] "\\', 'bad escape'],
		['+1700000000.123456 [0 a:1] "a""b"', 'bad argument separator'],
		['+1700000000.123456 [0 a:1] "a" ', 'bad argument separator'],
		['+1700000000.123456 [0 a:1] "a"  "b"', 'bad argument separator'],
		['+1700000000.123456 [0 a:1] "a" b', 'bad argument separator'],
		['+1700000000.123456 [0 a:1] "a\x00"', 'unescaped control or non-ASCII byte'],
		['+1700000000.123456 [0 a:1] "a\xe9"', 'unescaped control or non-ASCII byte'],
		['#nonsense', 'unknown journal line'],
		['#gap x y', 'unknown journal line'],
	])('%j → %s', (text, reason) => {
		const entry = parseMonitorLine(b(text));
		expect(entry).toEqual({kind: 'malformed', raw: b(text), reason});
	});

	it('survives random garbage', () => {
		const next = random(7);
		for (let round = 0; round < 3000; round++) {
			const valid = line([b('SET'), b('k\\"x'), Buffer.from([1, 2, 255])]);
			const garbage = Buffer.from(valid);
			for (let flips = 1 + Math.floor(next() * 4); flips > 0; flips--) {
				garbage[Math.floor(next() * garbage.length)] = Math.floor(next() * 256);
			}
			const cut = garbage.subarray(0, Math.floor(next() * (garbage.length + 1)));
			const entry = parseMonitorLine(cut);
			expect(['command', 'malformed', 'gap']).toContain(entry.kind);
		}
	});

	it('never reads a line cut anywhere and closed with the truncation mark as a command', () => {
		const full = line([b('SET'), b('k"\\'), Buffer.from([0, 0xff, 0x0a]), b('EX'), b('10')], '+1700000000.123456 [0 [::1]:5000]');
		expect(parseMonitorLine(full).kind).toBe('command');
		const mark = truncationMark.subarray(0, truncationMark.length - 2);
		for (let cut = 1; cut <= full.length; cut++) {
			const entry = parseMonitorLine(Buffer.concat([full.subarray(0, cut), mark]));
			expect(entry.kind, `cut at ${cut}`).toBe('malformed');
			if (entry.kind === 'malformed') expect(entry.reason).toBe('line cut short by a dropped monitor connection');
		}
	});
});

describe('gap lines', () => {
	it('round-trip through formatGapLine', () => {
		const text = formatGapLine({fromMs: 1700000000123, toMs: 1700000005000, reason: 'closed by the server\r\nreally'});
		expect(text.subarray(-2).toString()).toBe('\r\n');
		expect(parseMonitorLine(text.subarray(0, -2))).toEqual({
			kind: 'gap',
			fromMs: 1700000000123,
			toMs: 1700000005000,
			reason: 'closed by the server really',
		});
	});
});

describe('MonitorParser (streaming)', () => {
	const lines = [
		line([b('SET'), b('a'), b('1')]),
		line([b('SET'), Buffer.from([0x0d, 0x0a, 0x5c, 0x22, 0xff]), Buffer.alloc(0)], '+1700000000.654321 [1 [::1]:6000]'),
		b('garbage line'),
		line([b('set'), b('x'), b('y')], '+1700000001.000000 [0 lua]'),
		formatGapLine({fromMs: 1, toMs: 2, reason: 'test'}).subarray(0, -2),
		line([b('GET'), Buffer.alloc(300, 0x5c)], '+1700000001.000001 [0 unix:/tmp/r.sock]'),
	];
	const feed = Buffer.concat(lines.flatMap((one) => [one, b('\r\n')]));
	const expected = lines.map(parseMonitorLine);

	it('gives the same entries for every single split point', () => {
		for (let split = 0; split <= feed.length; split++) {
			const parser = new MonitorParser();
			const got = [...parser.push(feed.subarray(0, split)), ...parser.push(feed.subarray(split))];
			expect(got, `split at ${split}`).toEqual(expected);
		}
	});

	it('gives the same entries for byte-by-byte and random chunking, with exact line ends', () => {
		const ends: number[] = [];
		let offset = 0;
		for (const one of lines) {
			offset += one.length + 2;
			ends.push(offset + 1000);
		}
		const next = random(3);
		for (let round = 0; round < 200; round++) {
			const parser = new MonitorParser({startOffset: 1000});
			const got: MonitorEntry[] = [];
			const gotEnds: number[] = [];
			for (let pos = 0; pos < feed.length; ) {
				const size = round === 0 ? 1 : 1 + Math.floor(next() * 40);
				got.push(...parser.push(feed.subarray(pos, pos + size), gotEnds));
				pos += size;
			}
			expect(got).toEqual(expected);
			expect(gotEnds).toEqual(ends);
			expect(parser.position).toBe(1000 + feed.length);
			expect(parser.buffered).toBe(0);
		}
	});

	it('keeps a partial line until its LF arrives', () => {
		const parser = new MonitorParser();
		expect(parser.push(feed.subarray(0, 10))).toEqual([]);
		expect(parser.buffered).toBe(10);
		expect(parser.position).toBe(0);
	});

	it('accepts a bare LF as the end of a line', () => {
		const parser = new MonitorParser();
		expect(parser.push(Buffer.concat([lines[0]!, b('\n'), lines[3]!, b('\r\n')]))).toEqual([expected[0], expected[3]]);
	});

	it('turns an over-long line into one malformed entry and goes on', () => {
		const parser = new MonitorParser({maxLineBytes: 100});
		const long = line([b('SET'), b('k'), Buffer.alloc(5000, 0x61)]);
		const got: MonitorEntry[] = [];
		const ends: number[] = [];
		const input = Buffer.concat([long, b('\r\n'), lines[0]!, b('\r\n')]);
		for (let pos = 0; pos < input.length; pos += 64) got.push(...parser.push(input.subarray(pos, pos + 64), ends));
		expect(got).toHaveLength(2);
		expect(got[0]).toMatchObject({kind: 'malformed'});
		expect(got[0]!.kind === 'malformed' && got[0]!.reason).toMatch(/longer than the 100-byte limit/);
		expect(got[1]).toEqual(expected[0]);
		expect(ends).toEqual([long.length + 2, input.length]);
	});

	it('parses a 4 MB line (a 1 MB binary value) split in small chunks', () => {
		const value = Buffer.from(Array.from({length: 1024 * 1024}, (_, i) => (i * 131) & 255));
		const big = Buffer.concat([line([b('SET'), b('big'), value]), b('\r\n')]);
		const parser = new MonitorParser();
		const got: MonitorEntry[] = [];
		for (let pos = 0; pos < big.length; pos += 65536) got.push(...parser.push(big.subarray(pos, pos + 65536)));
		expect(got).toHaveLength(1);
		expect(command(got[0]!).args[2]!.equals(value)).toBe(true);
	});
});
