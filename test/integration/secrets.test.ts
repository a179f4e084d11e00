/**
 * Passwords never reach logs, state files, the screen or JSON events. Real migrations with
 * password-protected servers (requirepass and an ACL user), the password in the URL in one run and
 * in KEYFERRY_SOURCE_PASSWORD / KEYFERRY_TARGET_PASSWORD in the other, through preflight, copy,
 * sync, verify and cutover, then `keyferry rollback --preview` (while migrate runs and after) and
 * `keyferry verify`; plus failing runs (wrong passwords, an unreachable host). Then every byte
 * they produced is searched: stdout, stderr, and every file under the directory they ran in
 * (state dirs, journals, reverse journals, discrepancy files, default ./.keyferry dirs), binary-safe,
 * for each password as typed, URL-encoded, JSON-escaped, as MONITOR would print it, and for a
 * distinctive core of it.
 */
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import type {ChildProcess} from 'node:child_process';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {bundlePath, runCli, type CliResult, type RunCliOptions} from '../helpers/cli';
import {freePort, startStandalone, type TestServer} from '../helpers/redis';

/** Each has a core no other text holds, and characters a URL must escape. */
const secrets = {
	sourceRequirepass: 'kfSrcReq71 p@ss/w:rd?#%&é+',
	sourceAcl: 'kfSrcAcl52:@/%20ü#=x',
	targetRequirepass: 'kfTgtReq33@%/?#é: y',
	targetAcl: 'kfTgtAcl84/@:%ß?&',
	wrong: 'kfWrong19@/:%#é',
} as const;
const cores = ['kfSrcReq71', 'kfSrcAcl52', 'kfTgtReq33', 'kfTgtAcl84', 'kfWrong19'];

const servers: TestServer[] = [];
let root: string;
const results: CliResult[] = [];

beforeAll(() => {
	if (!existsSync(bundlePath)) throw new Error('dist/keyferry.js is missing: run `npm run build` (npm test does it)');
	root = mkdtempSync(join(tmpdir(), 'keyferry-secrets-'));
});

afterAll(async () => {
	await Promise.all(servers.map((server) => server.stop()));
	rmSync(root, {recursive: true, force: true});
});

const enc = encodeURIComponent;
const quickFlags = ['--headless', '--yes', '--auto-cutover', '--verify-rate', '1000', '--verify-samples', '200', '--cutover-quiet', '500'];

/** Every run happens in `root`, so a default ./.keyferry state dir lands there too; every result is kept for the search. */
async function run(args: string[], options: RunCliOptions = {}): Promise<CliResult> {
	const result = await runCli(args, {cwd: root, timeoutMs: 40_000, ...options});
	results.push(result);
	return result;
}

async function securedPair(): Promise<{source: TestServer; target: TestServer}> {
	const [source, target] = await Promise.all([startStandalone({password: secrets.sourceRequirepass}), startStandalone({password: secrets.targetRequirepass})]);
	servers.push(source, target);
	await source.client().call('ACL', 'SETUSER', 'ferry-src', 'on', `>${secrets.sourceAcl}`, '~*', '&*', '+@all');
	await target.client().call('ACL', 'SETUSER', 'ferry-tgt', 'on', `>${secrets.targetAcl}`, '~*', '&*', '+@all');
	const pipeline = source.client().pipeline();
	for (let i = 0; i < 200; i++) pipeline.set(`user:${i}`, `value-${i}`);
	pipeline.hset('profile:1', {name: 'ada', plan: 'pro'});
	pipeline.rpush('feed:1', 'a', 'b', 'c');
	await pipeline.exec();
	return {source, target};
}

/** migrate to stage done; then `atDone` (changes on the target, a rollback preview from another process), then SIGTERM. */
function migrateThroughCutover(args: string[], env: NodeJS.ProcessEnv, atDone: () => Promise<void>): Promise<CliResult> {
	let reached = false;
	return run(['migrate', ...quickFlags, ...args], {
		env,
		timeoutMs: 60_000,
		onEvent: (event, child: ChildProcess) => {
			if (reached || event.type !== 'stage' || event['stage'] !== 'done') return;
			reached = true;
			void atDone()
				.catch(() => {})
				.finally(() => child.kill('SIGTERM'));
		},
	});
}

async function changeTarget(target: TestServer): Promise<void> {
	const client = target.client();
	await client.set('user:1', 'changed-after-cutover');
	await client.del('user:2');
	await client.hset('profile:2', {name: 'bob'});
}

/** The forms a password could take in what keyferry writes. */
function forms(secret: string): string[] {
	const monitor = [...Buffer.from(secret, 'utf8')]
		.map((byte) => (byte === 0x22 || byte === 0x5c ? `\\${String.fromCharCode(byte)}` : byte >= 0x20 && byte <= 0x7e ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`))
		.join('');
	return [...new Set([secret, enc(secret), encodeURI(secret), JSON.stringify(secret).slice(1, -1), monitor])];
}

function filesUnder(dir: string): string[] {
	return readdirSync(dir, {withFileTypes: true}).flatMap((entry) => {
		const path = join(dir, entry.name);
		return entry.isDirectory() ? filesUnder(path) : entry.isFile() ? [path] : [];
	});
}

const noEnv = {KEYFERRY_SOURCE_PASSWORD: '', KEYFERRY_TARGET_PASSWORD: ''};

describe('secrets', () => {
	it('no password reaches stdout, stderr, events, state files or journals, in good runs and failing ones', async () => {
		const [urlPair, envPair] = await Promise.all([securedPair(), securedPair()]);
		const urlSource = `redis://ferry-src:${enc(secrets.sourceAcl)}@127.0.0.1:${urlPair.source.port}`;
		const urlTarget = `redis://:${enc(secrets.targetRequirepass)}@127.0.0.1:${urlPair.target.port}`;
		const urlStateDir = join(root, 'state-url');
		const envStateDir = join(root, 'state-env');
		// The env run: the source's default user (requirepass), the target's ACL user, both passwords from the environment.
		const envSourceUrl = `redis://127.0.0.1:${envPair.source.port}`;
		const envTargetUrl = `redis://ferry-tgt@127.0.0.1:${envPair.target.port}`;
		const passwordsEnv = {KEYFERRY_SOURCE_PASSWORD: secrets.sourceRequirepass, KEYFERRY_TARGET_PASSWORD: secrets.targetAcl};

		const previews: CliResult[] = [];
		const [byUrl, byEnv] = await Promise.all([
			migrateThroughCutover(['--state-dir', urlStateDir, '--source', urlSource, '--target', urlTarget], noEnv, async () => {
				await changeTarget(urlPair.target);
				previews.push(await run(['rollback', '--state-dir', urlStateDir, '--preview', '--headless', '--source', urlSource, '--target', urlTarget], {env: noEnv}));
			}),
			migrateThroughCutover(['--state-dir', envStateDir, '--source', envSourceUrl, '--target', envTargetUrl], passwordsEnv, async () => {
				await changeTarget(envPair.target);
				previews.push(await run(['rollback', '--state-dir', envStateDir, '--preview', '--headless'], {env: passwordsEnv}));
			}),
		]);
		for (const migrated of [byUrl, byEnv]) {
			expect(migrated.code, migrated.stderr).toBe(0);
			const stages = migrated.events.filter((event) => event.type === 'stage').map((event) => `${String(event['stage'])}:${String(event['status'])}`);
			expect(stages).toEqual(expect.arrayContaining(['preflight:ready', 'copy:ready', 'sync:ready', 'verify:ready', 'cutover:ready', 'done:running']));
		}
		// The previews while migrate ran read the reverse journal, which keyferry's own logins on the target passed through.
		expect(previews.map((preview) => preview.code)).toEqual([0, 0]);
		for (const preview of previews) expect(preview.events.find((event) => event.type === 'rollback-summary')).toMatchObject({basis: 'journal', total: 3});

		const afterwards = await Promise.all([
			// After migrate stopped: a full compare, with the passwords from the environment for the recorded addresses.
			run(['rollback', '--state-dir', urlStateDir, '--preview'], {env: {KEYFERRY_SOURCE_PASSWORD: secrets.sourceAcl, KEYFERRY_TARGET_PASSWORD: secrets.targetRequirepass}}),
			run(['verify', '--source', urlSource, '--target', urlTarget, '--full', '--state-dir', join(root, 'verify-url')], {env: noEnv}),
			// No --state-dir: the discrepancy file goes to ./.keyferry/<id> in root, searched too.
			run(['verify', '--source', envSourceUrl, '--target', envTargetUrl, '--full'], {env: passwordsEnv}),
		]);
		expect(afterwards.map((result) => result.code)).toEqual([0, 3, 3]);
		expect(afterwards[0]!.events.find((event) => event.type === 'rollback-summary')).toMatchObject({basis: 'compare', total: 3});
		expect(existsSync(join(root, '.keyferry'))).toBe(true);

		const unreachable = await freePort();
		const failures = await Promise.all([
			run(['migrate', ...quickFlags, '--source', `redis://ferry-src:${enc(secrets.wrong)}@127.0.0.1:${urlPair.source.port}`, '--target', urlTarget], {env: noEnv}),
			run(['migrate', ...quickFlags, '--source', urlSource, '--target', `redis://:${enc(secrets.targetRequirepass)}@127.0.0.1:${unreachable}`], {env: noEnv}),
			run(['migrate', ...quickFlags, '--source', envSourceUrl, '--target', envTargetUrl], {env: {...passwordsEnv, KEYFERRY_TARGET_PASSWORD: secrets.wrong}}),
			run(['verify', '--source', `redis://:${secrets.wrong}@127.0.0.1:${envPair.source.port}`, '--target', envTargetUrl], {env: passwordsEnv}),
			run(['rollback', '--state-dir', envStateDir, '--preview'], {env: {...passwordsEnv, KEYFERRY_SOURCE_PASSWORD: secrets.wrong}}),
			// A password with an unescaped '/' is refused before anything is connected to.
			run(['migrate', '--source', `redis://:${secrets.sourceRequirepass}@127.0.0.1:${urlPair.source.port}`, '--target', urlTarget], {env: noEnv}),
		]);
		expect(failures.map((result) => result.code)).toEqual([2, 2, 2, 2, 2, 2]);
		expect(failures[0]!.stderr).toContain('authentication to the source');
		expect(failures[1]!.stderr).toContain('cannot connect to the target');
		expect(failures[5]!.stderr).toContain('must be percent-encoded');
		for (const result of failures) expect(result.stderr).not.toMatch(/\n\s+at /);

		// The search: every run's output, then every file under root.
		const needles = [...Object.values(secrets).flatMap(forms), ...cores].map((text) => Buffer.from(text, 'utf8'));
		const haystacks: Array<[string, Buffer]> = results.map((result, index) => [`run ${index} output`, Buffer.from(result.stdout + result.stderr, 'utf8')]);
		const written = filesUnder(root);
		for (const path of written) haystacks.push([path, readFileSync(path)]);
		expect(written.some((path) => /journal\/.*\.seg$/.test(path))).toBe(true);
		expect(written.some((path) => /reverse\/.*\.seg$/.test(path))).toBe(true);
		expect(written.filter((path) => path.endsWith('discrepancies.jsonl')).length).toBeGreaterThanOrEqual(2);
		expect(written.filter((path) => path.endsWith('migration.json') || path.endsWith('cutover.json'))).toHaveLength(4);
		const leaks = haystacks.flatMap(([where, bytes]) => needles.filter((needle) => bytes.includes(needle)).map((needle) => `${needle.toString()} in ${where}`));
		expect(leaks).toEqual([]);
		expect(haystacks.reduce((sum, [, bytes]) => sum + bytes.length, 0)).toBeGreaterThan(10_000);
		expect(statSync(join(urlStateDir, 'migration.json')).mode & 0o777).toBe(0o600);
	});
});
