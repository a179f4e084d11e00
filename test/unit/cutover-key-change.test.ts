import {describe, expect, it} from 'vitest';
import {countChanges, describeChange, keyPrefix, type KeySnapshot} from '../../source/cutover/key-change';

const b = (text: string) => Buffer.from(text);
const flat = (...items: string[]) => items.map(b);
const snap = (type: string, value: unknown, pttl = -1): KeySnapshot => ({type, pttl, value});
const stream = (entries: Array<[string, string[]]>, lastId: string, groups: unknown[] = []) =>
	snap('stream', ['length', entries.length, 'last-generated-id', b(lastId), 'entries', entries.map(([id, fields]) => [b(id), flat(...fields)]), 'groups', groups]);

describe('describeChange: what the rollback does to the source (source → target)', () => {
	it.each<[string, KeySnapshot | null, KeySnapshot | null, ReturnType<typeof describeChange>]>([
		['both gone', null, null, null],
		['only on the target: added', null, snap('hash', flat('f', '1', 'g', '2')), {change: 'added', keyType: 'hash', diff: 'adds hash (2 fields)'}],
		['added with its ttl', null, snap('string', b('abc'), 5000), {change: 'added', keyType: 'string', diff: 'adds string (3 bytes), ttl 5000ms'}],
		['gone from the target: deleted', snap('list', flat('a')), null, {change: 'deleted', keyType: 'list', diff: 'removes list (1 element)'}],
		['equal: nothing', snap('string', b('v')), snap('string', b('v')), null],
		['string', snap('string', b('old')), snap('string', b('new')), {change: 'modified', keyType: 'string', diff: '"old" → "new"'}],
		['type', snap('string', b('x')), snap('set', flat('a', 'b')), {change: 'modified', keyType: 'set', diff: 'type string → set: set (2 members)'}],
		[
			'hash fields',
			snap('hash', flat('a', '1', 'b', '2', 'c', '3')),
			snap('hash', flat('a', '1', 'b', '9', 'd', '4')),
			{change: 'modified', keyType: 'hash', diff: 'field "b" "2" → "9"; +field "d" "4"; -field "c"'},
		],
		['list elements', snap('list', flat('x', 'y')), snap('list', flat('x', 'Y', 'z')), {change: 'modified', keyType: 'list', diff: 'length 2 → 3; index 1 "y" → "Y"'}],
		['set members', snap('set', flat('m1', 'm2')), snap('set', flat('m2', 'm3')), {change: 'modified', keyType: 'set', diff: '+member "m3"; -member "m1"'}],
		['zset scores', snap('zset', flat('a', '1', 'b', '2')), snap('zset', flat('a', '9', 'b', '2.0')), {change: 'modified', keyType: 'zset', diff: 'member "a" score 1 → score 9'}],
		[
			'stream entries',
			stream([['1-1', ['f', 'v']], ['2-1', ['f', 'w']]], '2-1'),
			stream([['1-1', ['f', 'v']], ['3-1', ['f', 'x']]], '3-1'),
			{change: 'modified', keyType: 'stream', diff: '+entry 3-1; -entry 2-1; last id 2-1 → 3-1'},
		],
		['ttl only', snap('string', b('v')), snap('string', b('v'), 300), {change: 'modified', keyType: 'string', diff: 'ttl none → 300ms'}],
		['ttl within tolerance', snap('string', b('v'), 10_000), snap('string', b('v'), 9_500), null],
		['module type by payload', snap('MBbloom--', b('p1')), snap('MBbloom--', b('p2')), {change: 'modified', keyType: 'MBbloom--', diff: 'MBbloom-- value differs'}],
	])('%s', (_name, source, target, expected) => {
		expect(describeChange(source, target, 1000)).toEqual(expected);
	});

	it('lists a few changes, then counts the rest', () => {
		const before = snap('set', flat('a'));
		const after = snap('set', flat('a', 'b', 'c', 'd', 'e', 'f', 'g'));
		expect(describeChange(before, after, 1000)?.diff).toBe('+member "b"; +member "c"; +member "d"; +member "e"; (+2 more)');
	});

	it('escapes binary bytes like redis-cli', () => {
		expect(describeChange(snap('string', Buffer.from([0, 0xff])), snap('string', b('ok')), 1000)?.diff).toBe('"\\x00\\xff" → "ok"');
	});
});

describe('counts by change, type and prefix', () => {
	it('counts every entry once per dimension', () => {
		const counts = countChanges([
			{key: 'user:1', change: 'added', keyType: 'hash'},
			{key: 'user:2', change: 'modified', keyType: 'hash'},
			{key: 'session:9:x', change: 'deleted', keyType: 'string'},
			{key: 'plain', change: 'modified', keyType: 'string'},
		]);
		expect(counts).toEqual({added: 1, modified: 2, deleted: 1, byType: {hash: 2, string: 2}, byPrefix: {user: 2, session: 1, '': 1}});
	});

	it.each([
		['user:1', 'user'],
		['a:b:c', 'a'],
		[':lead', ''],
		['none', ''],
	])('prefix of %s is %j', (key, prefix) => expect(keyPrefix(key)).toBe(prefix));
});
