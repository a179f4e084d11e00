import {describe, expect, it} from 'vitest';
import {commandByName, commandTable, lookupCommand} from '../../source/replay/command-table';
import {argIs, keysOf, parseInteger} from '../../source/replay/key-positions';

const line = (...args: string[]): Buffer[] => args.map((arg) => Buffer.from(arg, 'latin1'));
const keys = (...args: string[]): string[] | null => keysOf(line(...args))?.map((key) => key.toString('latin1')) ?? null;

describe('command table', () => {
	it('has one row per name, lower case', () => {
		const names = commandTable.map((spec) => spec.name);
		expect(new Set(names).size).toBe(names.length);
		for (const name of names) expect(name).toBe(name.toLowerCase());
	});

	it('gives every row the field its replay class needs', () => {
		for (const spec of commandTable) {
			expect(spec.dropReason !== undefined, spec.name).toBe(spec.replay === 'drop');
			expect(spec.recopyReason !== undefined, spec.name).toBe(spec.replay === 'recopy');
			if (spec.unknownSubcommands) expect(spec.keySpecs, spec.name).toEqual([]);
			if (spec.name.includes('|')) expect(commandByName(spec.name.split('|')[0]!)?.unknownSubcommands, spec.name).toBeDefined();
			for (const keySpec of spec.keySpecs) {
				if ('index' in keySpec.begin) expect(keySpec.begin.index, spec.name).toBeGreaterThan(0);
			}
		}
	});

	it('classifies reads as drops and writes as replayed', () => {
		for (const name of ['get', 'srandmember', 'randomkey', 'pfcount', 'touch', 'object|freq', 'xread', 'dump', 'scan', 'sort_ro']) {
			expect(commandByName(name)?.dropReason, name).toBe('read');
		}
		for (const name of ['del', 'hset', 'rename', 'zrangestore', 'geosearchstore', 'xgroup|create', 'xgroup|setid', 'xgroup|delconsumer', 'xgroup|createconsumer', 'xgroup|destroy', 'function|load']) {
			expect(commandByName(name)?.replay, name).toBe('verbatim');
		}
	});

	it('looks commands up in any case', () => {
		expect(lookupCommand(line('GeT', 'k'))?.name).toBe('get');
		expect(lookupCommand(line('SET', 'k', 'v'))?.name).toBe('set');
	});

	it('resolves subcommands in any case', () => {
		expect(lookupCommand(line('XGROUP', 'CREATE', 's', 'g', '$'))?.name).toBe('xgroup|create');
		expect(lookupCommand(line('xgroup', 'SetId', 's', 'g', '0'))?.name).toBe('xgroup|setid');
		expect(lookupCommand(line('object', 'encoding', 'k'))?.name).toBe('object|encoding');
		expect(lookupCommand(line('CLIENT', 'SETINFO', 'lib-name', 'x'))?.name).toBe('client|setinfo');
	});

	it('does not resolve a container alone or an unknown subcommand', () => {
		expect(lookupCommand(line('XGROUP'))).toBeUndefined();
		expect(lookupCommand(line('XGROUP', 'NOPE', 's'))).toBeUndefined();
		expect(lookupCommand(line('NOSUCHCOMMAND'))).toBeUndefined();
		expect(lookupCommand([])).toBeUndefined();
	});
});

describe('keysOf', () => {
	it('finds single and ranged keys', () => {
		expect(keys('GET', 'a')).toEqual(['a']);
		expect(keys('DEL', 'a', 'b', 'c')).toEqual(['a', 'b', 'c']);
		expect(keys('MSET', 'a', '1', 'b', '2')).toEqual(['a', 'b']);
		expect(keys('BLPOP', 'a', 'b', '0')).toEqual(['a', 'b']);
		expect(keys('BITOP', 'AND', 'dst', 'a', 'b')).toEqual(['dst', 'a', 'b']);
		expect(keys('PFMERGE', 'dst', 'a', 'b')).toEqual(['dst', 'a', 'b']);
		expect(keys('LCS', 'a', 'b', 'LEN')).toEqual(['a', 'b']);
		expect(keys('LMOVE', 'a', 'b', 'LEFT', 'RIGHT')).toEqual(['a', 'b']);
		expect(keys('RENAME', 'a', 'b')).toEqual(['a', 'b']);
	});

	it('finds subcommand keys', () => {
		expect(keys('XGROUP', 'CREATE', 's', 'g', '$', 'MKSTREAM')).toEqual(['s']);
		expect(keys('OBJECT', 'ENCODING', 'k')).toEqual(['k']);
		expect(keys('MEMORY', 'USAGE', 'k', 'SAMPLES', '5')).toEqual(['k']);
		expect(keys('XINFO', 'STREAM', 's', 'FULL')).toEqual(['s']);
	});

	it('finds numkeys-style keys', () => {
		expect(keys('ZUNIONSTORE', 'dst', '2', 'a', 'b', 'WEIGHTS', '1', '2')).toEqual(['dst', 'a', 'b']);
		expect(keys('ZINTERSTORE', 'dst', '1', 'a')).toEqual(['dst', 'a']);
		expect(keys('ZDIFFSTORE', 'dst', '2', 'a', 'b')).toEqual(['dst', 'a', 'b']);
		expect(keys('ZUNION', '2', 'a', 'b', 'WITHSCORES')).toEqual(['a', 'b']);
		expect(keys('EVAL', 'return 1', '2', 'a', 'b', 'arg')).toEqual(['a', 'b']);
		expect(keys('EVALSHA', 'abc', '0', 'arg')).toEqual([]);
		expect(keys('FCALL', 'f', '1', 'a', 'arg')).toEqual(['a']);
		expect(keys('LMPOP', '2', 'a', 'b', 'LEFT', 'COUNT', '3')).toEqual(['a', 'b']);
		expect(keys('BLMPOP', '0', '2', 'a', 'b', 'RIGHT')).toEqual(['a', 'b']);
		expect(keys('ZMPOP', '1', 'a', 'MIN')).toEqual(['a']);
		expect(keys('BZMPOP', '1.5', '2', 'a', 'b', 'MAX')).toEqual(['a', 'b']);
		expect(keys('SINTERCARD', '2', 'a', 'b', 'LIMIT', '1')).toEqual(['a', 'b']);
		expect(keys('ZINTERCARD', '2', 'a', 'b')).toEqual(['a', 'b']);
		expect(keys('MSETEX', '2', 'a', '1', 'b', '2', 'EX', '10')).toEqual(['a', 'b']);
	});

	it('yields no keys from a numkeys that does not fit', () => {
		expect(keys('ZUNION', 'x', 'a')).toEqual([]);
		expect(keys('ZUNION', '-1', 'a')).toEqual([]);
		expect(keys('ZUNION', '3', 'a', 'b')).toEqual([]);
		expect(keys('ZUNIONSTORE', 'dst', '5', 'a')).toEqual(['dst']);
	});

	it('finds keys after STREAMS', () => {
		expect(keys('XREAD', 'COUNT', '2', 'BLOCK', '0', 'STREAMS', 'a', 'b', '0', '$')).toEqual(['a', 'b']);
		expect(keys('xread', 'streams', 'a', '0')).toEqual(['a']);
		expect(keys('XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 's', '>')).toEqual(['s']);
		// A group named STREAMS is skipped: the search starts after GROUP g c.
		expect(keys('XREADGROUP', 'GROUP', 'streams', 'c', 'COUNT', '1', 'STREAMS', 'x', 'y', '>', '>')).toEqual(['x', 'y']);
		expect(keys('XREAD', 'COUNT', '1')).toEqual([]);
	});

	it('finds the SORT store key like the server', () => {
		expect(keys('SORT', 'k')).toEqual(['k']);
		expect(keys('SORT', 'k', 'BY', 'w_*', 'LIMIT', '0', '10', 'GET', '#', 'ALPHA', 'STORE', 'dst')).toEqual(['k', 'dst']);
		expect(keys('sort', 'k', 'store', 'a', 'STORE', 'b')).toEqual(['k', 'b']);
		expect(keys('SORT', 'k', 'GET', 'store')).toEqual(['k']);
		expect(keys('SORT', 'k', 'BY', 'store', 'DESC')).toEqual(['k']);
		expect(keys('SORT_RO', 'k', 'BY', 'w_*')).toEqual(['k']);
	});

	it('finds GEORADIUS STORE and STOREDIST keys', () => {
		expect(keys('GEORADIUS', 'k', '15', '37', '200', 'km')).toEqual(['k']);
		expect(keys('GEORADIUS', 'k', '15', '37', '200', 'km', 'ASC', 'COUNT', '3', 'STORE', 'dst')).toEqual(['k', 'dst']);
		expect(keys('GEORADIUS', 'k', '15', '37', '200', 'km', 'storedist', 'dst')).toEqual(['k', 'dst']);
		expect(keys('GEORADIUSBYMEMBER', 'k', 'm', '100', 'km', 'STORE', 'dst')).toEqual(['k', 'dst']);
	});

	it('finds MIGRATE keys like the server', () => {
		expect(keys('MIGRATE', 'h', '6379', 'k', '0', '5000')).toEqual(['k']);
		expect(keys('MIGRATE', 'h', '6379', 'k', '0', '5000', 'COPY', 'REPLACE')).toEqual(['k']);
		expect(keys('MIGRATE', 'h', '6379', '', '0', '5000', 'AUTH', 'keys', 'KEYS', 'a', 'b')).toEqual(['a', 'b']);
		expect(keys('MIGRATE', 'h', '6379', '', '0', '5000', 'AUTH2', 'keys', 'keys', 'KEYS', 'a')).toEqual(['a']);
		expect(keys('MIGRATE', 'h', '6379', 'k', '0', '5000', 'KEYS', 'a')).toEqual([]);
	});

	it('returns the very argument buffers (binary keys intact)', () => {
		const key = Buffer.from([0x00, 0xff, 0x0a, 0x22, 0x80]);
		const args = [Buffer.from('HSET'), key, Buffer.from('f'), Buffer.from([0xc3, 0x28])];
		const found = keysOf(args);
		expect(found).toHaveLength(1);
		expect(found![0]).toBe(key);
	});

	it('is null for unknown commands and commands without a row', () => {
		expect(keys('NOSUCHCOMMAND', 'a')).toBeNull();
		expect(keys('JSON.SET', 'doc', '$', '{}')).toBeNull();
		expect(keys('XGROUP', 'NOPE', 's')).toBeNull();
	});

	it('is empty for commands without keys', () => {
		expect(keys('PING')).toEqual([]);
		expect(keys('FLUSHALL', 'ASYNC')).toEqual([]);
		expect(keys('FUNCTION', 'LOAD', 'code')).toEqual([]);
	});
});

describe('argument readers', () => {
	it('compares tokens case-insensitively, bytes only', () => {
		expect(argIs(Buffer.from('PxAt'), 'pxat')).toBe(true);
		expect(argIs(Buffer.from('pxa'), 'pxat')).toBe(false);
		expect(argIs(Buffer.from([0xd0, 0x58]), 'px')).toBe(false);
		expect(argIs(undefined, 'px')).toBe(false);
	});

	it.each([
		['0', 0n],
		['10', 10n],
		['-5', -5n],
		['9223372036854775807', 9223372036854775807n],
		['-9223372036854775808', -9223372036854775808n],
	])('reads %s as an integer', (text, value) => {
		expect(parseInteger(Buffer.from(text))).toBe(value);
	});

	it.each(['', '-', '-0', '007', '+1', ' 1', '1 ', '1.0', '1e3', '0x10', '9223372036854775808', '-9223372036854775809', '123456789012345678901'])(
		'refuses %j like string2ll',
		(text) => {
			expect(parseInteger(Buffer.from(text))).toBeNull();
		},
	);
});
