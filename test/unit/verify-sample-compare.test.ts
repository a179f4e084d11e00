import {describe, expect, it} from 'vitest';
import type {LogicalValue} from '../../source/copy/logical-read';
import {compareSnapshots} from '../../source/verify/sample-compare';

const b = (text: string) => Buffer.from(text);
const value = (type: LogicalValue['type'], data: unknown, pttl = -1): LogicalValue => ({type, seen: type === 'changed' ? 'hash' : type, pttl, value: data});

function diff(source: LogicalValue, target: LogicalValue, sourceExpireAt: number | null = null, targetExpireAt: number | null = null) {
	return compareSnapshots({key: b('k'), db: 0, source, target, sourceExpireAt, targetExpireAt, ttlToleranceMs: 1000});
}

const hll = (cache: number, registers: string) => Buffer.concat([b('HYLL'), Buffer.from([1, 0, 0, 0]), Buffer.from([cache, 0, 0, 0, 0, 0, 0, 0x80]), b(registers)]);

describe('compareSnapshots', () => {
	it.each<[string, LogicalValue, LogicalValue, string | null]>([
		['equal strings', value('string', b('a')), value('string', b('a')), null],
		['different strings', value('string', b('a')), value('string', b('b')), 'value:"a" ≠ "b"'],
		['hash field order does not matter', value('hash', [b('f'), b('1'), b('g'), b('2')]), value('hash', [b('g'), b('2'), b('f'), b('1')]), null],
		['hash field changed', value('hash', [b('f'), b('1')]), value('hash', [b('f'), b('2')]), 'value:field "f": "1" ≠ "2"'],
		['hash field only on target', value('hash', [b('f'), b('1')]), value('hash', [b('f'), b('1'), b('x'), b('y')]), 'value:field "x" only on target'],
		['list order matters', value('list', [b('a'), b('b')]), value('list', [b('b'), b('a')]), 'value:index 0: "a" ≠ "b"'],
		['set order does not matter', value('set', [b('a'), b('b')]), value('set', [b('b'), b('a')]), null],
		['set member missing', value('set', [b('a'), b('b')]), value('set', [b('a'), b('c')]), 'value:member "b" missing on target'],
		['zset scores compared as numbers', value('zset', [b('m'), b('0.33333333333333331')]), value('zset', [b('m'), b('0.3333333333333333')]), null],
		['zset score changed', value('zset', [b('m'), b('1')]), value('zset', [b('m'), b('2')]), 'value:member "m": "1" ≠ "2"'],
		['missing on target', value('string', b('a')), value('none', null), 'missing:string missing on target'],
		['extra on target', value('none', null), value('string', b('a')), 'extra:string exists only on target'],
		['type changed', value('string', b('a')), value('changed', []), 'type:type string ≠ hash'],
		['HyperLogLog cache bytes ignored', value('string', hll(5, 'regs')), value('string', hll(0, 'regs')), null],
		['HyperLogLog registers compared', value('string', hll(5, 'regs')), value('string', hll(5, 'regz')), 'value:HyperLogLog registers differ'],
	])('%s', (_name, source, target, expected) => {
		const record = diff(source, target);
		expect(record === null ? null : `${record.kind}:${record.diff}`).toBe(expected);
	});

	it('compares absolute expiries within the tolerance', () => {
		expect(diff(value('string', b('a'), 5000), value('string', b('a'), 4200), 10_000, 10_600)).toBeNull();
		expect(diff(value('string', b('a'), 5000), value('string', b('a'), 1000), 10_000, 12_500)?.kind).toBe('ttl');
		expect(diff(value('string', b('a'), 5000), value('string', b('a'), -1), 10_000, null)?.diff).toBe('ttl 5000ms ≠ none');
	});
});
