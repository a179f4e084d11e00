import {afterEach, describe, expect, it, vi} from 'vitest';
import {RespError, RespParser, RespProtocolError, type RespReply} from '../../source/redis/resp-parser';

const b = (text: string) => Buffer.from(text, 'latin1');

function parseChunks(chunks: Buffer[]): RespReply[] {
	const replies: RespReply[] = [];
	const parser = new RespParser((reply) => replies.push(reply));
	for (const chunk of chunks) parser.feed(chunk);
	expect(parser.partial).toBe(false);
	return replies;
}

/** A canonical text for a reply, for cheap exact comparisons in loops. */
function show(reply: RespReply): string {
	if (reply === null) return 'null';
	if (Buffer.isBuffer(reply)) return `b:${reply.toString('hex')}`;
	if (reply instanceof RespError) return `e:${reply.message}`;
	if (Array.isArray(reply)) return `[${reply.map(show).join(',')}]`;
	return `${typeof reply}:${reply}`;
}

const table: Array<[string, string, RespReply]> = [
	['simple string', '+PONG\r\n', 'PONG'],
	['OK', '+OK\r\n', 'OK'],
	['empty simple string', '+\r\n', ''],
	['simple string starting with OK', '+OKAY\r\n', 'OKAY'],
	['error', '-ERR unknown command\r\n', new RespError('ERR unknown command')],
	['WRONGTYPE error', '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n', new RespError('WRONGTYPE Operation against a key holding the wrong kind of value')],
	['zero', ':0\r\n', 0],
	['integer', ':1234567\r\n', 1234567],
	['negative integer', ':-2\r\n', -2],
	['integer beyond 15 digits', ':9007199254740993\r\n', Number('9007199254740993')],
	['large negative integer', ':-9223372036854775808\r\n', -9223372036854775808],
	['bulk string', '$5\r\nhello\r\n', b('hello')],
	['empty bulk string', '$0\r\n\r\n', b('')],
	['null bulk string', '$-1\r\n', null],
	['bulk with CRLF inside', '$6\r\na\r\nb\r\n\r\n', b('a\r\nb\r\n')],
	['bulk with high bytes', '$3\r\n\xff\x00\x80\r\n', b('\xff\x00\x80')],
	['empty array', '*0\r\n', []],
	['null array', '*-1\r\n', null],
	['flat array', '*3\r\n$1\r\na\r\n:2\r\n+c\r\n', [b('a'), 2, 'c']],
	['array with null and error', '*3\r\n$-1\r\n-ERR x\r\n*-1\r\n', [null, new RespError('ERR x'), null]],
	['nested arrays', '*2\r\n*2\r\n:1\r\n*1\r\n$1\r\nz\r\n*0\r\n', [[1, [b('z')]], []]],
	['array ending in an empty array', '*2\r\n:1\r\n*0\r\n', [1, []]],
	['EXEC reply', '*3\r\n+string\r\n:-1\r\n$2\r\nhi\r\n', ['string', -1, b('hi')]],
];

describe('RespParser', () => {
	afterEach(() => vi.restoreAllMocks());

	it.each(table)('%s', (_name, wire, expected) => {
		expect(parseChunks([b(wire)])).toEqual([expected]);
	});

	it('gives error replies as RespError values', () => {
		const [reply] = parseChunks([b('-NOAUTH Authentication required.\r\n')]);
		expect(reply).toBeInstanceOf(RespError);
		expect((reply as RespError).message).toBe('NOAUTH Authentication required.');
	});

	const stream = b(table.map(([, wire]) => wire).join(''));
	const expected = table.map(([, , reply]) => reply);
	const expectedText = expected.map(show).join('|');

	it('parses a mixed stream split at every single point', () => {
		for (let at = 0; at <= stream.length; at++) {
			expect(parseChunks([stream.subarray(0, at), stream.subarray(at)])).toEqual(expected);
		}
	});

	it('parses a mixed stream split at every pair of points', () => {
		let checked = 0;
		for (let first = 0; first <= stream.length; first++) {
			for (let second = first; second <= stream.length; second++) {
				const replies = parseChunks([stream.subarray(0, first), stream.subarray(first, second), stream.subarray(second)]);
				const text = replies.map(show).join('|');
				if (text !== expectedText) expect({first, second, text}).toEqual({first, second, text: expectedText});
				checked++;
			}
		}
		expect(checked).toBe(((stream.length + 1) * (stream.length + 2)) / 2);
	});

	it('parses a mixed stream fed one byte at a time', () => {
		const bytes = Array.from({length: stream.length}, (_, index) => stream.subarray(index, index + 1));
		expect(parseChunks(bytes)).toEqual(expected);
	});

	it('delivers replies as soon as they are complete', () => {
		const replies: RespReply[] = [];
		const parser = new RespParser((reply) => replies.push(reply));
		parser.feed(b('+OK\r\n:1\r\n*2\r\n:1'));
		expect(replies).toEqual(['OK', 1]);
		expect(parser.partial).toBe(true);
		parser.feed(b('\r\n$-1\r\n'));
		expect(replies).toEqual(['OK', 1, [1, null]]);
		expect(parser.partial).toBe(false);
	});

	it('assembles a 5 MB bulk string from 64 KiB chunks with a single copy', () => {
		const body = Buffer.alloc(5 * 1024 * 1024);
		for (let i = 0; i < body.length; i++) body[i] = (i * 7919) & 0xff;
		const wire = Buffer.concat([b(`+before\r\n$${body.length}\r\n`), body, b('\r\n:7\r\n')]);
		const chunks: Buffer[] = [];
		for (let at = 0; at < wire.length; at += 65536) chunks.push(wire.subarray(at, at + 65536));
		const concat = vi.spyOn(Buffer, 'concat');
		const replies = parseChunks(chunks);
		expect(concat).toHaveBeenCalledTimes(1);
		expect(replies).toHaveLength(3);
		expect(replies[0]).toBe('before');
		expect((replies[1] as Buffer).equals(body)).toBe(true);
		expect(replies[2]).toBe(7);
	});

	it('resumes a large array across chunks without parsing it again', () => {
		const count = 50_000;
		const wire = b(`*${count}\r\n${Array.from({length: count}, (_, i) => `$${String(i).length}\r\n${i}\r\n`).join('')}`);
		const chunks: Buffer[] = [];
		for (let at = 0; at < wire.length; at += 1000) chunks.push(wire.subarray(at, at + 1000));
		const concat = vi.spyOn(Buffer, 'concat');
		const [reply] = parseChunks(chunks);
		// Only the element cut by each chunk boundary is joined, never the array so far.
		expect(concat.mock.calls.every(([parts]) => parts.reduce((sum, part) => sum + part.length, 0) <= 2000)).toBe(true);
		expect((reply as Buffer[]).map(String)).toEqual(Array.from({length: count}, (_, i) => String(i)));
	});

	it('parses deeply nested arrays', () => {
		const depth = 200;
		const wire = b(`${'*1\r\n'.repeat(depth)}:42\r\n`);
		let reply = parseChunks([wire.subarray(0, 333), wire.subarray(333)])[0];
		for (let level = 0; level < depth; level++) {
			expect(Array.isArray(reply)).toBe(true);
			reply = (reply as RespReply[])[0]!;
		}
		expect(reply).toBe(42);
	});

	it.each([
		['an unknown type byte', '?what\r\n'],
		['a length that is not a number', '$abc\r\n'],
		['an empty length', '*\r\n'],
		['a bulk string longer than announced', '$2\r\nabc\r\n'],
		['a line ending without LF', ':1\rx'],
	])('throws RespProtocolError on %s', (_name, wire) => {
		const parser = new RespParser(() => {});
		expect(() => parser.feed(b(wire))).toThrow(RespProtocolError);
	});
});
