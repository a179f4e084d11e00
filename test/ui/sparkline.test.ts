import {describe, expect, it} from 'vitest';
import {copyRateLadder, stepCopyRate} from '../../source/ui/copy-rate';
import {asciiGlyphs, unicodeGlyphs} from '../../source/ui/glyphs';
import {bucketFor, bucketize, sparkline} from '../../source/ui/sparkline';
import {trendOf} from '../../source/ui/trend';

describe('bucketize', () => {
	it('aligns buckets to the newest sample and pads missing history with null', () => {
		expect(bucketize([1, 2, 3, 4, 5], 4, 2)).toEqual([null, 1, 2.5, 4.5]);
		expect(bucketize([], 3, 1)).toEqual([null, null, null]);
		expect(bucketize([9, 1, 2, 3], 3, 1)).toEqual([1, 2, 3]);
	});
});

describe('sparkline', () => {
	it.each([
		{values: [0, 1, 2, 4, 8], width: 5, expected: ['▁▂▂▄█']},
		{values: [8, 8], width: 4, expected: ['  ██']},
		{values: [0, 0, 0], width: 3, expected: ['▁▁▁']},
		{values: [], width: 3, expected: ['   ']},
		{values: [1, 2, 4, 8, 16], width: 5, expected: ['▂▂▂▄█']},
	])('one row: $values', ({values, width, expected}) => expect(sparkline(values, unicodeGlyphs, {width})).toEqual(expected));

	it('draws two rows: the top fills once the bottom is full', () => {
		expect(sparkline([0, 4, 8, 12, 16], unicodeGlyphs, {width: 5, height: 2})).toEqual(['   ▄█', '▁▄███']);
	});

	it('uses a shared scale when given one', () => {
		expect(sparkline([4, 4], unicodeGlyphs, {width: 2, max: 8})).toEqual(['▄▄']);
	});

	it('has an ASCII ramp', () => {
		expect(sparkline([0, 1, 8], asciiGlyphs, {width: 4})).toEqual([' _:#']);
	});

	it('picks seconds per cell so the line spans about two minutes', () => {
		expect([bucketFor(120), bucketFor(60), bucketFor(23), bucketFor(1)]).toEqual([1, 2, 10, 60]);
	});
});

describe('trendOf', () => {
	it.each([
		{series: [], expected: 'steady'},
		{series: [5], expected: 'steady'},
		{series: [100, 100, 100, 100, 100, 100, 100, 100, 100, 100], expected: 'steady'},
		{series: [100, 100, 100, 100, 100, 200, 220, 240, 260, 280], expected: 'rising'},
		{series: [900, 880, 860, 840, 820, 300, 200, 100, 50, 0], expected: 'falling'},
		{series: [10, 12, 11, 10, 12, 14, 13, 15, 12, 14], expected: 'steady'},
	])('$series -> $expected', ({series, expected}) => expect(trendOf(series)).toBe(expected));
});

describe('stepCopyRate', () => {
	it.each([
		{current: null, observed: 12_300, direction: -1, expected: 10_000},
		{current: null, observed: 0, direction: -1, expected: 100_000},
		{current: null, observed: 50, direction: -1, expected: 100},
		{current: null, observed: 12_300, direction: 1, expected: null},
		{current: 10_000, observed: 9000, direction: 1, expected: 20_000},
		{current: 100_000, observed: 9000, direction: 1, expected: null},
		{current: 10_000, observed: 9000, direction: -1, expected: 5000},
		{current: 100, observed: 90, direction: -1, expected: 100},
		{current: 750, observed: 700, direction: 1, expected: 1000},
		{current: 750, observed: 700, direction: -1, expected: 500},
	] as const)('$current at $observed/s, $direction -> $expected', ({current, observed, direction, expected}) =>
		expect(stepCopyRate(current, observed, direction)).toBe(expected),
	);

	it('climbs in ascending steps', () => {
		expect([...copyRateLadder].sort((a, b) => a - b)).toEqual(copyRateLadder);
	});
});
