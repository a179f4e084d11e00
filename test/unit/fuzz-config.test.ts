/**
 * Bad input to URL and flag parsing, fuzzed: random strings, random unicode, out-of-range ports,
 * percent-encoding, IPv6 brackets, huge inputs. Every input gives either a valid result or a
 * UsageError with a one-line message that never holds the password; nothing else is ever thrown.
 * Fixed seeds (printed on failure), bounded rounds.
 */
import {describe, expect, it} from 'vitest';
import {inputText} from '../../source/config/input-text';
import {resolveCommand} from '../../source/config/options';
import {parseRedisUrl} from '../../source/config/redis-url';
import {Random} from '../../source/demo/random';
import {describeError, UsageError} from '../../source/errors';

const pieces = [
	'a', 'Z', '0', '9', ':', '@', '/', '?', '#', '[', ']', '%', '%4', '%zz', '%40', '%2F', ' ', '\n', '\t', '\r', '\u0000', '\u001b[2J',
	'é', '日', '😀', '\u202e', '-', '.', '_', '+', '~', '!', '$', '&', "'", '(', ')', '*', ',', ';', '=', '\\', '"', '<', '>', '^', '`', '{', '|', '}',
	'redis://', 'rediss://', '::1', '65536', '0', '-1',
];

function randomText(rng: Random, max: number): string {
	let out = '';
	for (let n = rng.int(max + 1); n > 0; n--) {
		out += rng.chance(0.85) ? rng.pick(pieces) : String.fromCodePoint(rng.chance(0.5) ? rng.range(0x20, 0x7e) : rng.chance(0.5) ? rng.range(0xa0, 0xd7ff) : rng.range(0xe000, 0x2ffff));
	}
	return out;
}

/** A password worth finding: distinctive ends, a middle full of characters a URL must escape. */
function randomPassword(rng: Random): string {
	return `Kf${randomText(rng, 8)}Zq`;
}

function randomUrl(rng: Random, password: string): string {
	const user = rng.pick(['', 'app', 'ops-user', randomText(rng, 3)]);
	const secret = rng.chance(0.5) ? encodeURIComponent(password) : password;
	const credentials = rng.pick(['', `${user}:${secret}@`, `:${secret}@`, `${user}:${secret}@`]);
	const host = rng.pick(['127.0.0.1', 'localhost', '[::1]', '[2001:db8::1]', '[::1', '::1', 'redis.internal', '', randomText(rng, 6)]);
	const port = rng.pick(['', ':6379', ':1', ':65535', ':0', ':65536', ':99999', ':-1', ':', `:${randomText(rng, 3)}`, `:${'9'.repeat(40)}`]);
	const db = rng.pick(['', '/', '/0', '/15', '/10000', '/10001', '/x', `/${randomText(rng, 4)}`, '?db=1', '#x']);
	const scheme = rng.pick(['redis://', 'rediss://', 'REDIS://', '', 'http://', 'redis:/', 'unix://']);
	return `${scheme}${credentials}${host}${port}${db}`;
}

/** What an operator may see: describeError's line. It must be one line without raw control characters, and name the flag. */
function expectCleanUsageError(error: unknown, context: string, secrets: string[]): string {
	if (!(error instanceof UsageError)) throw new Error(`${context}: threw ${String(error)} instead of a UsageError`);
	const {message} = describeError(error);
	expect(message, context).not.toMatch(/[\u0000-\u001f\u007f]/);
	expect(message.length, context).toBeLessThan(400);
	for (const secret of secrets) {
		expect(message, `${context}: the password is in the message`).not.toContain(secret);
		expect(message, `${context}: the encoded password is in the message`).not.toContain(encodeURIComponent(secret));
	}
	return message;
}

function attempt<T>(run: () => T): {value: T} | {error: unknown} {
	try {
		return {value: run()};
	} catch (error) {
		return {error};
	}
}

describe('parseRedisUrl, fuzzed', () => {
	it('random text: a valid endpoint or a clean UsageError', () => {
		for (const seed of [1, 2, 3]) {
			const rng = new Random(seed);
			for (let round = 0; round < 3000; round++) {
				const raw = randomText(rng, 24);
				const context = `seed ${seed} round ${round}: ${JSON.stringify(raw)}`;
				const outcome = attempt(() => parseRedisUrl(raw, '--source'));
				if ('error' in outcome) {
					expect(expectCleanUsageError(outcome.error, context, [])).toContain('--source');
					continue;
				}
				const {host, port, db} = outcome.value.endpoint;
				expect(host.length, context).toBeGreaterThan(0);
				expect(Number.isInteger(port) && port >= 1 && port <= 65535, context).toBe(true);
				expect(Number.isInteger(db) && db >= 0 && db <= 10_000, context).toBe(true);
			}
		}
	});

	it('URL-shaped input with a password: never the password in a message, the exact password when it parses', () => {
		for (const seed of [11, 12, 13]) {
			const rng = new Random(seed);
			for (let round = 0; round < 3000; round++) {
				const password = randomPassword(rng);
				const raw = randomUrl(rng, password);
				const context = `seed ${seed} round ${round}: ${JSON.stringify(raw)}`;
				const outcome = attempt(() => parseRedisUrl(raw, '--target'));
				if ('error' in outcome) {
					expectCleanUsageError(outcome.error, context, [password]);
					continue;
				}
				const endpoint = outcome.value.endpoint;
				expect(Number.isInteger(endpoint.port) && endpoint.port >= 1 && endpoint.port <= 65535, context).toBe(true);
				// A random user name may hold a ':' too, which moves the password's start, never its end (the last '@').
				const encoded = `${encodeURIComponent(password)}@`;
				const at = raw.lastIndexOf(encoded);
				if (endpoint.password !== undefined && at !== -1 && at + encoded.length - 1 === raw.lastIndexOf('@')) {
					expect(endpoint.password.endsWith(password), context).toBe(true);
				}
			}
		}
	});

	it('round-trips any percent-encoded unicode user and password', () => {
		const rng = new Random(21);
		for (let round = 0; round < 2000; round++) {
			const username = `u${randomText(rng, 6)}`;
			const password = randomPassword(rng);
			const raw = `redis://${encodeURIComponent(username)}:${encodeURIComponent(password)}@[::1]:${rng.range(1, 65535)}/${rng.range(0, 15)}`;
			const {endpoint} = parseRedisUrl(raw, '--source');
			expect({username: endpoint.username, password: endpoint.password, host: endpoint.host}, `seed 21 round ${round}: ${raw}`).toEqual({username, password, host: '::1'});
		}
	});

	it('huge inputs fail fast with a short message', () => {
		const secret = 'Huge-Secret-%@/';
		for (const raw of [
			`redis://u:${secret}@${'h'.repeat(1_000_000)}:99999`,
			`redis://u:${encodeURIComponent(secret)}@h:1/${'9'.repeat(100_000)}`,
			`${'x'.repeat(1_000_000)}`,
			`redis://u:${'p'.repeat(500_000)}@h:0`,
			`redis://[${'1:'.repeat(100_000)}]:1`,
		]) {
			const started = Date.now();
			const outcome = attempt(() => parseRedisUrl(raw, '--source'));
			expect(Date.now() - started).toBeLessThan(2000);
			if ('error' in outcome) expectCleanUsageError(outcome.error, `${raw.slice(0, 40)}…`, [secret, 'p'.repeat(200)]);
		}
	});

	// Each case below once leaked (part of) the password into the message, or printed a raw control character.
	it.each([
		['a "/" in the password, unescaped', 'redis://app:Pa/ss-Kf9@h:1', 'Pa/ss-Kf9', 'must be percent-encoded'],
		['a "?" in the password, unescaped', 'redis://:Pa?ss-Kf9@h:1', 'Pa?ss-Kf9', 'must be percent-encoded'],
		['a "#" in the password, unescaped', 'redis://:Pa#ss-Kf9@h:1', 'Pa#ss-Kf9', 'must be percent-encoded'],
		['digits and a "/" read as port and db', 'redis://u:12/34-Kf9@h:1', '12/34-Kf9', 'must be percent-encoded'],
		['an "@" in the user name and a bad port', 'redis://me@corp:Pw-Kf9@h:0', 'Pw-Kf9', 'invalid port'],
		['an "@" in the password and no host', 'redis://:Pw@Kf9@', 'Pw@Kf9', 'not a valid URL'],
		['no scheme, two "@"', 'a:Pw@x-Kf9@h:99999', 'Pw@x-Kf9', 'not a valid URL'],
	])('%s', (_name, raw, password, message) => {
		const outcome = attempt(() => parseRedisUrl(raw, '--source'));
		expect('error' in outcome).toBe(true);
		if ('error' in outcome) expect(expectCleanUsageError(outcome.error, raw, [password])).toContain(message);
	});

	it.each([
		['a carriage return', 'redis://h:\r9x', 'redis://h:\\x0d9x'],
		['an escape sequence', 'redis://\u001b[2Jh:9x', 'redis://\\x1b[2Jh:9x'],
	])('shows %s escaped', (_name, raw, shown) => {
		const outcome = attempt(() => parseRedisUrl(raw, '--source'));
		expect('error' in outcome && describeError(outcome.error).message).toContain(shown);
	});
});

describe('inputText', () => {
	it.each([
		['plain', 'plain'],
		['redis://u:secret@h:1', 'redis://u:***@h:1'],
		['redis://u:se@cr/et@h:1', 'redis://u:***@h:1'],
		['x@y', 'x@y'],
		['tab\there', 'tab\\x09here'],
		['z'.repeat(200), `${'z'.repeat(120)}… (200 characters)`],
	])('%j → %j', (raw, shown) => expect(inputText(raw)).toBe(shown));
});

const flagNames = [
	'source', 'target', 'sourceCluster', 'targetCluster', 'tlsCa', 'tlsInsecure', 'stateDir', 'preflightOnly', 'copyMode',
	'allowNonEmptyTarget', 'dbMap', 'copyRate', 'maxMemoryWindow', 'verifyRate', 'verifySamples', 'autoCutover', 'cutoverQuiet',
	'pauseSourceWrites', 'preview', 'apply', 'repair', 'sample', 'full', 'ttlTolerance', 'keys', 'rate', 'headless', 'yes', 'ascii', 'color',
	'frobnicate', 'redis://u:Kf-flag-Zq@h',
];
const numberLike = ['0', '1', '5000', '-1', '1.5', '1e3', '64mb', '1gb', '9'.repeat(30), '0x10', ' 7 ', '', '3:0,4:1', '3:0,3:1', `${'9'.repeat(30)}:0`];

function randomValue(rng: Random, password: string): unknown {
	switch (rng.int(7)) {
		case 0:
			return rng.chance(0.5);
		case 1:
			return rng.pick(numberLike);
		case 2:
			return randomUrl(rng, password);
		case 3:
			return randomText(rng, 12);
		case 4:
			return [rng.pick(numberLike), randomUrl(rng, password)];
		case 5:
			return rng.pick(['dump', 'logical', 'DUMP', '/nonexistent/ca.pem']);
		default:
			return rng.range(-5, 1e9);
	}
}

describe('resolveCommand, fuzzed', () => {
	it('random flags, arguments and environment: options or a clean UsageError, never a password in the message', () => {
		for (const seed of [31, 32, 33]) {
			const rng = new Random(seed);
			for (let round = 0; round < 3000; round++) {
				const password = randomPassword(rng);
				const envPassword = randomPassword(rng);
				const input = [
					rng.pick(['migrate', 'verify', 'rollback', 'demo', 'migrate', 'verify', 'rollback', randomText(rng, 5)]),
					...(rng.chance(0.1) ? [rng.pick([randomUrl(rng, password), randomText(rng, 6)])] : []),
				];
				const flags: Record<string, unknown> = {color: true};
				const base = rng.pick([
					{},
					{source: 'redis://127.0.0.1:6379', target: 'redis://127.0.0.1:6380'},
					{stateDir: '/tmp/x', preview: true},
				]);
				Object.assign(flags, base);
				for (let n = rng.int(4); n > 0; n--) flags[rng.pick(flagNames)] = randomValue(rng, password);
				const env = rng.chance(0.5) ? {KEYFERRY_SOURCE_PASSWORD: envPassword, KEYFERRY_TARGET_PASSWORD: envPassword} : {};
				const context = `seed ${seed} round ${round}: ${JSON.stringify({input, flags})}`;
				const outcome = attempt(() => resolveCommand({input, flags, env, stdoutIsTTY: rng.chance(0.5)}));
				if ('error' in outcome) expectCleanUsageError(outcome.error, context, [password, envPassword]);
			}
		}
	});

	// Each case below once passed or leaked before it was refused cleanly.
	it.each([
		[['migrate', 'redis://u:Kf-pos-Zq@h:1'], {}, 'Kf-pos-Zq', 'unexpected argument "redis://u:***@h:1"'],
		[['migrate'], {'redis://u:Kf-flag-Zq@h': true}, 'Kf-flag-Zq', 'unknown flag --redis://u:***@h'],
		[['migrate'], {maxMemoryWindow: `${'9'.repeat(400)}gb`}, '', '--max-memory-window is too large'],
		[['migrate'], {cutoverQuiet: '9'.repeat(30)}, '', '--cutover-quiet must be a whole number'],
		[['migrate'], {verifyRate: '9'.repeat(30)}, '', '--verify-rate must be a whole number'],
		[['migrate'], {dbMap: `${'9'.repeat(30)}:0`}, '', '--db-map has a db number too large'],
		[['verify'], {ttlTolerance: '9'.repeat(400)}, '', '--ttl-tolerance must be a whole number'],
		[['demo'], {rate: '9'.repeat(30)}, '', '--rate must be a whole number'],
		[['frob\u001b[31m'], {}, '', 'unknown subcommand "frob\\x1b[31m"'],
	])('%j %j', (input, extra, password, message) => {
		const flags = {source: 'redis://127.0.0.1:6379', target: 'redis://127.0.0.1:6380', color: true, ...extra};
		const outcome = attempt(() => resolveCommand({input, flags: input[0] === 'demo' ? {color: true, ...extra} : flags, env: {}, stdoutIsTTY: true}));
		expect('error' in outcome, JSON.stringify(outcome)).toBe(true);
		if ('error' in outcome) expect(expectCleanUsageError(outcome.error, JSON.stringify(input), password ? [password] : [])).toContain(message);
	});
});

describe('describeError', () => {
	it.each([
		['two\nlines', 'two lines'],
		['carriage\rreturn', 'carriage return'],
		['tab\tand bell\u0007', 'tab and bell\\x07'],
	])('%j → %j', (raw, line) => expect(describeError(new Error(raw)).message).toBe(line));
});
