import {describe, expect, it} from 'vitest';
import {meowUsageError, resolveCommand, type MigrateOptions} from '../../source/config/options';
import {UsageError} from '../../source/errors';

const base = {source: 'redis://127.0.0.1:6379', target: 'redis://127.0.0.1:6380', color: true};

function resolve(input: string[], flags: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) {
	return resolveCommand({input, flags, env, stdoutIsTTY: true});
}

describe('resolveCommand', () => {
	it('reads a migrate command with defaults', () => {
		const command = resolve(['migrate'], base) as MigrateOptions;
		expect(command).toMatchObject({
			command: 'migrate',
			headless: false,
			yes: false,
			copyMode: 'dump',
			preflightOnly: false,
			dbMap: null,
			readFrom: 'primaries',
			copyRate: null,
			maxMemoryWindow: 64 * 1024 * 1024,
			stateDir: null,
		});
		expect(command.source).toEqual({host: '127.0.0.1', port: 6379, db: 0});
	});

	it('goes headless when stdout is not a TTY', () => {
		const command = resolveCommand({input: ['migrate'], flags: base, env: {}, stdoutIsTTY: false}) as MigrateOptions;
		expect(command.headless).toBe(true);
	});

	it('takes passwords from the environment when the URL has none', () => {
		const command = resolve(['migrate'], base, {KEYFERRY_SOURCE_PASSWORD: 's1', KEYFERRY_TARGET_PASSWORD: 't1'}) as MigrateOptions;
		expect(command.source.password).toBe('s1');
		expect(command.target.password).toBe('t1');
	});

	it('parses option values', () => {
		const command = resolve(['migrate'], {...base, dbMap: '3:0,4:0', copyRate: '5000', maxMemoryWindow: '128mb', copyMode: 'logical'}) as MigrateOptions;
		expect([...command.dbMap!]).toEqual([
			[3, 0],
			[4, 0],
		]);
		expect(command.copyRate).toBe(5000);
		expect(command.maxMemoryWindow).toBe(128 * 1024 * 1024);
		expect(command.copyMode).toBe('logical');
		expect((resolve(['migrate'], {...base, readFrom: 'replicas'}) as MigrateOptions).readFrom).toBe('replicas');
	});

	it.each([
		[[], {}, 'missing subcommand'],
		[['copy'], {}, 'unknown subcommand "copy"'],
		[['migrate', 'extra'], base, 'unexpected argument "extra"'],
		[['migrate'], {target: base.target, color: true}, 'missing required flag --source'],
		[['migrate'], {source: base.source, color: true}, 'missing required flag --target'],
		[['migrate'], {...base, bogus: true}, 'unknown flag --bogus'],
		[['migrate'], {...base, sourceClustr: true}, 'unknown flag --source-clustr'],
		[['demo'], {source: 'redis://x:1', color: true}, '--source does not apply to "keyferry demo"'],
		[['migrate'], {...base, copyMode: 'fast'}, '--copy-mode must be dump or logical'],
		[['migrate'], {...base, readFrom: 'replica'}, '--read-from must be primaries or replicas, not "replica"'],
		[['verify'], {...base, readFrom: 'replicas'}, '--read-from does not apply to "keyferry verify"'],
		[['migrate'], {...base, copyRate: '0'}, '--copy-rate must be a whole number of at least 1'],
		[['migrate'], {...base, copyRate: '10k'}, '--copy-rate must be a whole number'],
		[['migrate'], {...base, maxMemoryWindow: 'lots'}, '--max-memory-window must be a size'],
		[['migrate'], {...base, maxMemoryWindow: '10kb'}, 'at least 1mb'],
		[['migrate'], {...base, dbMap: '3-0'}, '--db-map entries must look like SRC:DST'],
		[['migrate'], {...base, dbMap: '3:0,3:1'}, 'maps source db 3 twice'],
		[['migrate'], {...base, tlsInsecure: true}, '--tls-insecure needs a rediss:// URL'],
		[['migrate'], {...base, source: 'rediss://h:1', tlsCa: '/nonexistent/ca.pem'}, '--tls-ca: cannot read /nonexistent/ca.pem'],
		[['migrate'], {...base, source: 'http://h:1'}, '--source must start with redis://'],
		[['migrate'], {...base, stateDir: true}, '--state-dir needs a value'],
	])('rejects %j %j', (input, flags, message) => {
		expect(() => resolve(input as string[], flags)).toThrow(UsageError);
		expect(() => resolve(input as string[], flags)).toThrow(message);
	});

	it('answers help and version before anything else', () => {
		expect(resolve(['migrate'], {help: true})).toEqual({command: 'help'});
		expect(resolve([], {version: true})).toEqual({command: 'version'});
	});
});

describe('cutover under --yes', () => {
	it('needs --auto-cutover to cut over without an operator', () => {
		expect((resolve(['migrate'], {...base, yes: true}) as MigrateOptions).autoCutover).toBe(false);
		expect((resolve(['migrate'], {...base, yes: true, autoCutover: true}) as MigrateOptions).autoCutover).toBe(true);
		expect(() => resolve(['migrate'], {...base, autoCutover: true})).toThrow('--auto-cutover goes with --yes');
	});
});

describe('attach', () => {
	const attach = (flags: Record<string, unknown>, tty = {stdout: true, stdin: true}) =>
		resolveCommand({input: ['attach'], flags: {color: true, ...flags}, env: {}, stdoutIsTTY: tty.stdout, stdinIsTTY: tty.stdin});

	it('reads the state dir and the drawing flags', () => {
		expect(attach({stateDir: '.keyferry/kf-1', ascii: true})).toEqual({command: 'attach', stateDir: '.keyferry/kf-1', ascii: true, color: true});
	});

	it.each([
		[{}, {stdout: true, stdin: true}, 'missing required flag --state-dir DIR'],
		[{stateDir: 'd'}, {stdout: false, stdin: true}, 'keyferry attach needs a terminal'],
		[{stateDir: 'd'}, {stdout: true, stdin: false}, 'keyferry attach needs a terminal'],
		[{stateDir: 'd', headless: true}, {stdout: true, stdin: true}, '--headless does not apply to "keyferry attach"'],
		[{stateDir: 'd', yes: true}, {stdout: true, stdin: true}, '--yes does not apply to "keyferry attach"'],
		[{stateDir: 'd', source: 'redis://x:1'}, {stdout: true, stdin: true}, '--source does not apply to "keyferry attach"'],
	])('refuses %j (%j)', (flags, tty, message) => {
		expect(() => attach(flags, tty)).toThrow(UsageError);
		expect(() => attach(flags, tty)).toThrow(message);
	});
});

describe('meow refusals', () => {
	it('a repeated flag is named as the operator typed it', () => {
		const error = meowUsageError(new Error('The flag --verifySamples can only be set once.'));
		expect(error).toBeInstanceOf(UsageError);
		expect((error as Error).message).toBe('--verify-samples was given more than once');
	});

	it('anything else passes through', () => {
		const other = new Error('something else');
		expect(meowUsageError(other)).toBe(other);
	});
});
