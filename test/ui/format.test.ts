import {describe, expect, it} from 'vitest';
import {toAscii} from '../../source/ui/ascii-stream';
import {padEnd, padStart, truncateEnd, truncateMiddle, truncateStart} from '../../source/ui/fit';
import {
	etaSeconds,
	formatBytes,
	formatCompact,
	formatCount,
	formatDuration,
	formatElapsed,
	formatLagSeconds,
	formatLatency,
	formatPercent,
	formatRate,
} from '../../source/ui/format';
import {printable} from '../../source/ui/printable';

describe('formatCount', () => {
	it.each([
		[0, '0'],
		[999, '999'],
		[1000, '1,000'],
		[1_234_567, '1,234,567'],
		[-4321, '-4,321'],
		[12.6, '13'],
	])('%d -> %s', (value, expected) => expect(formatCount(value)).toBe(expected));
});

describe('formatCompact and formatRate', () => {
	it.each([
		[0, '0'],
		[999, '999'],
		[999.6, '1.00k'],
		[1234, '1.23k'],
		[12_345, '12.3k'],
		[123_456, '123k'],
		[1_234_567, '1.23M'],
		[987_654_321, '988M'],
		[2_500_000_000, '2.50G'],
		[-1500, '-1.50k'],
	])('%d -> %s', (value, expected) => expect(formatCompact(value)).toBe(expected));

	it('appends /s', () => expect(formatRate(12_300)).toBe('12.3k/s'));
});

describe('formatBytes', () => {
	it.each([
		[0, '0 B'],
		[512, '512 B'],
		[1024, '1.0 KiB'],
		[1536, '1.5 KiB'],
		[13_002_342, '12.4 MiB'],
		[150 * 1024 * 1024, '150 MiB'],
		[4_294_967_296, '4.0 GiB'],
		[-5, '0 B'],
	])('%d -> %s', (value, expected) => expect(formatBytes(value)).toBe(expected));
});

describe('durations', () => {
	it.each([
		[0, '0s'],
		[45.4, '45s'],
		[62, '1m02s'],
		[3720, '1h02m'],
		[2 * 86_400 + 3 * 3600, '2d03h'],
		[-3, '0s'],
	])('formatDuration(%d) = %s', (seconds, expected) => expect(formatDuration(seconds)).toBe(expected));

	it.each([
		[0, '00:00:00'],
		[754_999, '00:12:34'],
		[86_400_000 + 3_723_000, '1d 01:02:03'],
	])('formatElapsed(%d) = %s', (ms, expected) => expect(formatElapsed(ms)).toBe(expected));

	it.each([
		[0, '0.0 s'],
		[0.44, '0.4 s'],
		[59.9, '59.9 s'],
		[125, '2m05s'],
	])('formatLagSeconds(%d) = %s', (seconds, expected) => expect(formatLagSeconds(seconds)).toBe(expected));
});

describe('progress', () => {
	it.each([
		[0, 0, '0.0%'],
		[5, 0, '100.0%'],
		[1_234_567, 1_980_000, '62.3%'],
		[1_979_999, 1_980_000, '99.9%'],
		[1_980_000, 1_980_000, '100.0%'],
		[3, 2, '100.0%'],
	])('formatPercent(%d, %d) = %s', (done, total, expected) => expect(formatPercent(done, total)).toBe(expected));

	it.each([
		[0, 100, 0],
		[1000, 0, null],
		[1000, 100, 10],
	])('etaSeconds(%d, %d) = %s', (remaining, rate, expected) => expect(etaSeconds(remaining, rate)).toBe(expected));

	it.each([
		[null, '--'],
		[0.42, '0.4 ms'],
		[12.4, '12 ms'],
		[1500, '1.5 s'],
	])('formatLatency(%s) = %s', (ms, expected) => expect(formatLatency(ms, '--')).toBe(expected));
});

describe('fit', () => {
	it.each([
		['short', 10, 'short'],
		['redis://10.0.1.15:6379', 12, 'redis://10.…'],
		['abc', 1, 'a'],
	])('truncateEnd(%s, %d)', (text, width, expected) => expect(truncateEnd(text, width, '…')).toBe(expected));

	it.each([
		['redis://10.0.1.15:6379', 12, '…', 'redis:…:6379'],
		['redis://10.0.1.15:6379', 22, '…', 'redis://10.0.1.15:6379'],
		['abcdefgh', 5, '...', 'a...h'],
	])('truncateMiddle(%s, %d, %s)', (text, width, ellipsis, expected) => expect(truncateMiddle(text, width, ellipsis)).toBe(expected));

	it.each([
		['kf-20261122-0912-a1b2', 10, '…', '…0912-a1b2'],
		['kf-20261122-0912-a1b2', 30, '…', 'kf-20261122-0912-a1b2'],
		['abcdef', 4, '...', '...f'],
	])('truncateStart(%s, %d, %s)', (text, width, ellipsis, expected) => expect(truncateStart(text, width, ellipsis)).toBe(expected));

	it('pads by characters', () => {
		expect(padEnd('ab', 4)).toBe('ab  ');
		expect(padStart('ab', 4)).toBe('  ab');
		expect(padEnd('abcdef', 4)).toBe('abcdef');
	});
});

describe('printable', () => {
	it.each([
		['plain:key', false, 'plain:key'],
		['clear\x1b[2J', false, 'clear\\x1b[2J'],
		['two\nlines\r\t', false, 'two\\x0alines\\x0d\\x09'],
		['del\x7f c1\x9b', false, 'del\\x7f c1\\x9b'],
		['café', false, 'café'],
		['café', true, 'caf\\xe9'],
		['键', true, '\\u{952e}'],
		['rtl\u202Eevil', false, 'rtl\\u{202e}evil'],
	])('%j (ascii %s) -> %j', (text, ascii, expected) => expect(printable(text, ascii)).toBe(expected));
});

describe('toAscii', () => {
	it('keeps ASCII and escapes, marks truncation with ~, replaces anything else', () => {
		expect(toAscii('\x1b[1mkey…\x1b[22m')).toBe('\x1b[1mkey~\x1b[22m');
		expect(toAscii('a→b')).toBe('a?b');
	});
});
