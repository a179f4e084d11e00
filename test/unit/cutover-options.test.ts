import {describe, expect, it} from 'vitest';
import {helpText} from '../../source/config/help';
import {resolveCommand, type MigrateOptions, type RollbackOptions} from '../../source/config/options';
import {UsageError} from '../../source/errors';

const base = {source: 'redis://127.0.0.1:6379', target: 'redis://127.0.0.1:6380', color: true};

function resolve(input: string[], flags: Record<string, unknown>, env: NodeJS.ProcessEnv = {}, stdoutIsTTY = true) {
	return resolveCommand({input, flags, env, stdoutIsTTY});
}

describe('cutover flags on migrate', () => {
	it('waits 5 s of quiet and does not pause the source by default', () => {
		expect(resolve(['migrate'], base)).toMatchObject({cutoverQuietMs: 5000, pauseSourceWritesMs: null});
	});

	it('reads --cutover-quiet and --pause-source-writes', () => {
		const command = resolve(['migrate'], {...base, cutoverQuiet: '0', pauseSourceWrites: '2000'}) as MigrateOptions;
		expect(command).toMatchObject({cutoverQuietMs: 0, pauseSourceWritesMs: 2000});
	});

	it.each([
		[{...base, pauseSourceWrites: '0'}, '--pause-source-writes must be a whole number of at least 1'],
		[{...base, pauseSourceWrites: 'long'}, '--pause-source-writes must be a whole number of at least 1'],
		[{...base, pauseSourceWrites: '600001'}, '--pause-source-writes must be at most 600000 ms'],
		[{...base, cutoverQuiet: 'soon'}, '--cutover-quiet must be a whole number'],
	])('%j is a usage error', (flags, message) => {
		expect(() => resolve(['migrate'], flags)).toThrow(UsageError);
		expect(() => resolve(['migrate'], flags)).toThrow(message);
	});
});

describe('resolveCommand for rollback', () => {
	it('previews with the state dir, passwords from the environment, no endpoints given', () => {
		const command = resolve(['rollback'], {stateDir: '/tmp/k', preview: true, color: true}, {KEYFERRY_SOURCE_PASSWORD: 's1', KEYFERRY_TARGET_PASSWORD: ''}) as RollbackOptions;
		expect(command).toMatchObject({command: 'rollback', stateDir: '/tmp/k', apply: false, endpoints: null, passwords: {source: 's1', target: undefined}, tls: {ca: undefined, insecure: false}});
	});

	it('applies, and takes --source/--target when given both', () => {
		const command = resolve(['rollback'], {...base, stateDir: '/tmp/k', apply: true, yes: true}, {KEYFERRY_TARGET_PASSWORD: 't1'}, false) as RollbackOptions;
		expect(command).toMatchObject({apply: true, yes: true, headless: true});
		expect(command.endpoints?.source).toEqual({host: '127.0.0.1', port: 6379, db: 0});
		expect(command.endpoints?.target.password).toBe('t1');
	});

	it.each([
		[{preview: true, color: true}, true, 'missing required flag --state-dir'],
		[{stateDir: '/d', color: true}, true, 'give one of --preview or --apply'],
		[{stateDir: '/d', preview: true, apply: true, color: true}, true, 'give one of --preview or --apply'],
		[{stateDir: '/d', apply: true, color: true}, false, '--apply without a terminal needs --yes'],
		[{stateDir: '/d', preview: true, source: base.source, color: true}, true, 'give both --source and --target, or neither'],
		[{stateDir: '/d', preview: true, copyMode: 'dump', color: true}, true, '--copy-mode does not apply to "keyferry rollback"'],
		[{...base, preview: true, color: true}, true, '--preview does not apply to "keyferry migrate"'],
	])('%j is a usage error', (flags, tty, message) => {
		const input = 'preview' in flags && 'source' in flags && 'target' in flags ? ['migrate'] : ['rollback'];
		expect(() => resolve(input, flags, {}, tty)).toThrow(UsageError);
		expect(() => resolve(input, flags, {}, tty)).toThrow(message);
	});

	it('documents the subcommand and its flags', () => {
		const help = helpText();
		expect(help).toMatch(/^ {2}rollback {2}.*preview/m);
		expect(help).not.toMatch(/^ {2}rollback .*not built yet/m);
		expect(help).toContain('--pause-source-writes MS');
		expect(help).toContain('--cutover-quiet MS');
	});
});
