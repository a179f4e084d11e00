import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {resolveCommand, type DemoOptions} from '../../source/config/options';
import {findRedisServer} from '../../source/demo/local-servers';
import {KeyferryError, UsageError} from '../../source/errors';

function resolve(input: string[], flags: Record<string, unknown>) {
	return resolveCommand({input, flags: {color: true, ...flags}, env: {}, stdoutIsTTY: true});
}

describe('demo options', () => {
	it('defaults to 20000 keys and 500 writes per second', () => {
		expect(resolve(['demo'], {})).toEqual({command: 'demo', headless: false, yes: false, ascii: false, color: true, keys: 20_000, rate: 500});
	});

	it('reads --keys and --rate, and --rate 0 turns traffic off', () => {
		expect(resolve(['demo'], {keys: '2000', rate: '200', headless: true, yes: true})).toMatchObject({keys: 2000, rate: 200, headless: true, yes: true});
		expect((resolve(['demo'], {rate: '0'}) as DemoOptions).rate).toBe(0);
	});

	it.each([
		[{keys: '10k'}, '--keys must be a whole number'],
		[{keys: '0'}, '--keys must be a whole number of at least 1'],
		[{keys: '99'}, '--keys must be at least 100'],
		[{keys: '5000001'}, '--keys must be at most 5000000'],
		[{rate: '-1'}, '--rate must be a whole number'],
		[{rate: '100001'}, '--rate must be at most 100000'],
		[{source: 'redis://127.0.0.1:1'}, '--source does not apply to "keyferry demo"'],
	])('rejects %j', (flags, message) => {
		expect(() => resolve(['demo'], flags)).toThrow(UsageError);
		expect(() => resolve(['demo'], flags)).toThrow(message);
	});

	it('keeps --keys and --rate to the demo', () => {
		expect(() => resolve(['migrate'], {source: 'redis://127.0.0.1:1', target: 'redis://127.0.0.1:2', keys: '5'})).toThrow('--keys does not apply to "keyferry migrate"');
	});
});

describe('findRedisServer', () => {
	const dir = mkdtempSync(join(tmpdir(), 'keyferry-path-'));
	afterAll(() => rmSync(dir, {recursive: true, force: true}));

	it('says how to install redis-server when PATH has none (exit 2)', () => {
		const error = (() => {
			try {
				findRedisServer({PATH: dir});
			} catch (caught) {
				return caught;
			}
			return null;
		})();
		expect(error).toBeInstanceOf(KeyferryError);
		expect(error).toMatchObject({code: 'redis-server-missing', exitCode: 2, message: 'redis-server not found: install it (apt-get install redis-server / brew install redis)'});
	});

	it('finds an executable on PATH, or the one KEYFERRY_REDIS_SERVER names', () => {
		const fake = join(dir, 'redis-server');
		writeFileSync(fake, '#!/bin/sh\n');
		chmodSync(fake, 0o755);
		expect(findRedisServer({PATH: `/nonexistent:${dir}`})).toBe(fake);
		expect(findRedisServer({PATH: '', KEYFERRY_REDIS_SERVER: fake})).toBe(fake);
		expect(() => findRedisServer({PATH: dir, KEYFERRY_REDIS_SERVER: 'valkey-server'})).toThrow('valkey-server not found');
	});
});
