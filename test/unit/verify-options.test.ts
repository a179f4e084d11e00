import {describe, expect, it} from 'vitest';
import {helpText} from '../../source/config/help';
import {resolveCommand, type VerifyOptions} from '../../source/config/options';
import {UsageError} from '../../source/errors';

const base = {source: 'redis://127.0.0.1:6379', target: 'redis://127.0.0.1:6380', color: true};

function resolve(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = {}, input = ['verify']) {
	return resolveCommand({input, flags, env, stdoutIsTTY: true});
}

describe('resolveCommand for verify', () => {
	it('samples 10000 keys by default, with a 1 s TTL tolerance', () => {
		const command = resolve(base) as VerifyOptions;
		expect(command).toMatchObject({command: 'verify', samples: 10_000, stateDir: null, ttlToleranceMs: 1000, headless: false, yes: false});
		expect(command.source).toEqual({host: '127.0.0.1', port: 6379, db: 0});
	});

	it('reads --full, --sample, --state-dir and --ttl-tolerance', () => {
		expect(resolve({...base, full: true})).toMatchObject({samples: null});
		expect(resolve({...base, sample: '500', stateDir: '/tmp/v', ttlTolerance: '0'})).toMatchObject({samples: 500, stateDir: '/tmp/v', ttlToleranceMs: 0});
	});

	it('takes passwords from the environment', () => {
		const command = resolve(base, {KEYFERRY_SOURCE_PASSWORD: 's1'}) as VerifyOptions;
		expect(command.source.password).toBe('s1');
		expect(command.target.password).toBeUndefined();
	});

	it.each([
		[{...base, sample: '5', full: true}, '--sample and --full cannot be used together'],
		[{...base, sample: '0'}, '--sample must be a whole number of at least 1'],
		[{...base, sample: 'many'}, '--sample must be a whole number of at least 1'],
		[{...base, ttlTolerance: '-5'}, '--ttl-tolerance must be a whole number'],
		[{source: base.source, color: true}, 'missing required flag --target'],
		[{...base, yes: true}, '--yes does not apply to "keyferry verify"'],
		[{...base, copyMode: 'dump'}, '--copy-mode does not apply to "keyferry verify"'],
	])('%j is a usage error', (flags, message) => {
		expect(() => resolve(flags)).toThrow(UsageError);
		expect(() => resolve(flags)).toThrow(message);
	});

	it('keeps verify flags off migrate', () => {
		expect(() => resolve({...base, full: true}, {}, ['migrate'])).toThrow('--full does not apply to "keyferry migrate"');
		expect(() => resolve({...base, sample: '5'}, {}, ['migrate'])).toThrow('--sample does not apply to "keyferry migrate"');
	});

	it('lists the verify flags in --help', () => {
		const help = helpText();
		expect(help).toMatch(/--sample N .*\[verify\]/);
		expect(help).toMatch(/--full .*\[verify\]/);
		expect(help).toMatch(/--ttl-tolerance MS .*\[verify\]/);
		expect(help).toMatch(/^ {2}verify +compare two servers at rest/m);
		expect(help).not.toMatch(/^ {2}verify .*not built yet/m);
	});
});
