import {describe, expect, it} from 'vitest';
import {discrepancy, formatTtl, printableKey, printableValue} from '../../source/verify/discrepancy';
import {scanPageLimit, scoresEqual, ttlMatches} from '../../source/verify/compare-key';

describe('printableKey', () => {
	it('leaves printable ASCII as is', () => {
		expect(printableKey(Buffer.from('user:1 {a} ~x'))).toBe('user:1 {a} ~x');
	});

	it('escapes like sdscatrepr', () => {
		expect(printableKey(Buffer.from('a"b\\c\n\r\t\x07\x08'))).toBe('a\\"b\\\\c\\n\\r\\t\\a\\b');
		expect(printableKey(Buffer.from([0x00, 0x1f, 0x7f, 0x80, 0xff]))).toBe('\\x00\\x1f\\x7f\\x80\\xff');
	});

	it('escapes UTF-8 byte by byte instead of decoding it', () => {
		expect(printableKey(Buffer.from('é', 'utf8'))).toBe('\\xc3\\xa9');
	});

	it('is one-to-one over all 256 byte values', () => {
		const seen = new Set<string>();
		for (let byte = 0; byte < 256; byte++) seen.add(printableKey(Buffer.from([byte])));
		expect(seen.size).toBe(256);
		expect(printableKey(Buffer.from([0x5c, 0x78, 0x30, 0x30]))).not.toBe(printableKey(Buffer.from([0])));
	});

	it('handles the empty key', () => {
		expect(printableKey(Buffer.alloc(0))).toBe('');
	});
});

describe('printableValue', () => {
	it('quotes and cuts long values', () => {
		expect(printableValue(Buffer.from('bob'))).toBe('"bob"');
		expect(printableValue(Buffer.from('abcdef'), 4)).toBe('"abcd"…');
		expect(printableValue(Buffer.from([0xff, 0x0a]))).toBe('"\\xff\\n"');
	});
});

describe('discrepancy records', () => {
	it('carry the printable key', () => {
		expect(discrepancy(Buffer.from([0x6b, 0x00]), 3, 'missing', 'string missing on target')).toEqual({
			key: 'k\\x00',
			db: 3,
			kind: 'missing',
			diff: 'string missing on target',
		});
	});

	it('formats TTLs', () => {
		expect(formatTtl(-1)).toBe('none');
		expect(formatTtl(5000)).toBe('5000ms');
	});
});

describe('ttlMatches', () => {
	it('accepts both without expiry', () => {
		expect(ttlMatches(-1, -1, 1000)).toBe(true);
	});

	it('accepts expiries within the tolerance, inclusive', () => {
		expect(ttlMatches(5000, 6000, 1000)).toBe(true);
		expect(ttlMatches(6000, 5000, 1000)).toBe(true);
		expect(ttlMatches(0, 0, 0)).toBe(true);
	});

	it('rejects expiries further apart', () => {
		expect(ttlMatches(5000, 6001, 1000)).toBe(false);
	});

	it('rejects an expiry on one side only', () => {
		expect(ttlMatches(5000, -1, 1000)).toBe(false);
		expect(ttlMatches(-1, 10, 1000)).toBe(false);
	});
});

describe('scoresEqual', () => {
	it('accepts the same text', () => {
		expect(scoresEqual('1.5', '1.5')).toBe(true);
	});

	it('accepts the same double printed by different Redis versions', () => {
		expect(scoresEqual('1.1', '1.1000000000000001')).toBe(true);
		expect(scoresEqual('100', '100.0')).toBe(true);
		expect(scoresEqual('inf', '+inf')).toBe(true);
		expect(scoresEqual('-inf', '-inf')).toBe(true);
	});

	it('rejects different doubles, however close', () => {
		expect(scoresEqual('1.1', '1.1000000000000003')).toBe(false);
		expect(scoresEqual('inf', '-inf')).toBe(false);
		expect(scoresEqual('0', '-0')).toBe(false);
		expect(scoresEqual('1', '2')).toBe(false);
	});
});

describe('scanPageLimit', () => {
	it('leaves ample room above the expected page count', () => {
		expect(scanPageLimit(1_000_000, 1000)).toBeGreaterThan(1000 * 10);
		expect(scanPageLimit(0, 1000)).toBeGreaterThan(0);
	});
});
