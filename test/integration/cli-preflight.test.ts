import {copyFileSync, existsSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {bundlePath, runCli, type CliResult} from '../helpers/cli';
import {freePort, startCluster, startStandalone, type TestCluster, type TestServer} from '../helpers/redis';

let source: TestServer;
let target: TestServer;
let filledTarget: TestServer;
let secured: TestServer;
let cluster: TestCluster;

beforeAll(async () => {
	if (!existsSync(bundlePath)) throw new Error('dist/keyferry.js is missing: run `npm run build` (npm test does it)');
	[source, target, filledTarget, secured, cluster] = await Promise.all([
		startStandalone(),
		startStandalone(),
		startStandalone(),
		startStandalone({password: 'hunter2-secret'}),
		startCluster(),
	]);
	const writer = source.client();
	await writer.mset('user:1', 'alice', 'user:2', 'bob');
	await writer.select(2);
	await writer.set('session:1', 'x', 'EX', 600);
	await filledTarget.client().set('already', 'here');
	await secured.client().set('k', 'v');
});

afterAll(async () => {
	await Promise.all([source, target, filledTarget, secured, cluster].map((server) => server?.stop()));
});

const dirty = async (server: TestServer) => Number(/rdb_changes_since_last_save:(\d+)/.exec(await server.client().info('persistence'))?.[1]);

function expectCleanFailure(result: CliResult, message: string): void {
	expect(result.code).toBe(2);
	expect(result.stderr).toContain(message);
	expect(result.stderr.trim().split('\n')).toHaveLength(1);
	expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe('keyferry migrate --preflight-only --headless', () => {
	it('prints a JSON-lines report and exits 0 for a healthy pair, writing nothing', async () => {
		const before = await Promise.all([dirty(source), dirty(target)]);
		const result = await runCli(['migrate', '--preflight-only', '--headless', '--source', source.url, '--target', target.url]);
		expect(result.code, result.stderr).toBe(0);
		const types = result.events.map((event) => event.type);
		expect(types[0]).toBe('stage');
		expect(types).toContain('preflight');
		expect(types.at(-1)).toBe('summary');
		for (const event of result.events) expect(typeof event['ts']).toBe('number');
		const report = result.events.find((event) => event.type === 'preflight')!['report'] as {
			ok: boolean;
			source: {totalKeys: number; markers: string; monitorPermitted: boolean; nodes: Array<{version: string; rdbVersion: number; keyspace: object}>};
			target: {totalKeys: number};
			clockSkewMs: number;
		};
		expect(report.ok).toBe(true);
		expect(report.source.totalKeys).toBe(3);
		expect(report.source.nodes[0]!.keyspace).toEqual({0: {keys: 2, expires: 0}, 2: {keys: 1, expires: 1}});
		expect(report.source.monitorPermitted).toBe(true);
		expect(report.source.markers).toBe('address');
		expect(report.source.nodes[0]!.rdbVersion).toBeGreaterThanOrEqual(9);
		expect(Math.abs(report.clockSkewMs)).toBeLessThan(100);
		expect(result.events.at(-1)).toMatchObject({type: 'summary', exitCode: 0});
		expect(await Promise.all([dirty(source), dirty(target)])).toEqual(before);
	});

	it('goes headless by itself when stdout is not a terminal', async () => {
		const result = await runCli(['migrate', '--preflight-only', '--source', source.url, '--target', target.url]);
		expect(result.code).toBe(0);
		expect(result.events.at(-1)?.type).toBe('summary');
	});

	it('refuses the same server under another URL (run_id, not URL)', async () => {
		const result = await runCli(['migrate', '--preflight-only', '--headless', '--source', source.url, '--target', `redis://localhost:${source.port}`]);
		expect(result.code).toBe(2);
		expect(result.events.find((event) => event.type === 'error')).toMatchObject({code: 'same-server'});
		expect(result.events.at(-1)).toMatchObject({type: 'summary', exitCode: 2});
	});

	it('refuses a non-empty target unless allowed', async () => {
		const refused = await runCli(['migrate', '--preflight-only', '--headless', '--source', source.url, '--target', filledTarget.url]);
		expect(refused.code).toBe(2);
		expect(refused.stderr).toContain('target already holds 1 keys');
		const allowed = await runCli(['migrate', '--preflight-only', '--headless', '--allow-non-empty-target', '--source', source.url, '--target', filledTarget.url]);
		expect(allowed.code).toBe(0);
	});

	it('refuses source dbs other than 0 into a cluster without --db-map', async () => {
		const refused = await runCli(['migrate', '--preflight-only', '--headless', '--source', source.url, '--target', cluster.url]);
		expect(refused.code).toBe(2);
		expect(refused.events.find((event) => event.type === 'error')).toMatchObject({code: 'db-map-required'});
		const preflight = refused.events.find((event) => event.type === 'preflight')!['report'] as {target: {cluster: boolean; nodes: unknown[]}};
		expect(preflight.target.cluster).toBe(true);
		expect(preflight.target.nodes).toHaveLength(3);
		const mapped = await runCli(['migrate', '--preflight-only', '--headless', '--db-map', '2:0', '--source', source.url, '--target', cluster.url]);
		expect(mapped.code, mapped.stderr).toBe(0);
	});

	it('refuses a --db-map merge whose dbs hold the same key name, naming it, with reads only', async () => {
		const merged = await startStandalone();
		try {
			const writer = merged.client();
			await writer.mset('shared:1', 'in db 0', 'only:0', 'x');
			await writer.select(3);
			await writer.mset('shared:1', 'in db 3', 'only:3', 'y');
			const before = await dirty(merged);
			const refused = await runCli(['migrate', '--preflight-only', '--headless', '--db-map', '3:0', '--source', merged.url, '--target', target.url]);
			expect(refused.code, refused.stderr).toBe(2);
			expect(refused.events.find((event) => event.type === 'error')).toMatchObject({
				code: 'db-map-collision',
				message: expect.stringContaining('source dbs 0 and 3 all go to target db 0, and 1 key name(s) are in more than one of them (shared:1)'),
			});
			expect(refused.stderr).not.toMatch(/\n\s+at /);
			expect(await dirty(merged)).toBe(before);
			await writer.del('shared:1');
			const clean = await runCli(['migrate', '--preflight-only', '--headless', '--db-map', '3:0', '--source', merged.url, '--target', target.url]);
			expect(clean.code, clean.stderr).toBe(0);
			expect(clean.events.find((event) => event.type === 'warning')).toMatchObject({code: 'db-map-merge', message: expect.stringContaining('no key name is in more than one of them now')});
		} finally {
			await merged.stop();
		}
	});

	it('inspects a cluster source master by master', async () => {
		const result = await runCli(['migrate', '--preflight-only', '--headless', '--source', cluster.url, '--target', target.url]);
		expect(result.code, result.stderr).toBe(0);
		const report = result.events.find((event) => event.type === 'preflight')!['report'] as {source: {cluster: boolean; markers: string; nodes: Array<{slots: unknown[]}>}};
		expect(report.source.cluster).toBe(true);
		expect(report.source.markers).toBe('address');
		expect(report.source.nodes.map((node) => node.slots.length)).toEqual([1, 1, 1]);
	});

	it('refuses --read-from replicas when a master has no replica, naming it', async () => {
		for (const [url, port] of [
			[source.url, source.port],
			[cluster.url, cluster.masters[0]!.port],
		] as const) {
			const refused = await runCli(['migrate', '--preflight-only', '--headless', '--read-from', 'replicas', '--db-map', '2:0', '--source', url, '--target', target.url]);
			expect(refused.code).toBe(2);
			expect(refused.events.find((event) => event.type === 'error')).toMatchObject({
				code: 'no-replica',
				message: `source master 127.0.0.1:${port} has no replica to read from; --read-from replicas needs an in-sync replica of every master`,
			});
			const report = refused.events.find((event) => event.type === 'preflight')!['report'] as {source: {readers: unknown[]}};
			expect(report.source.readers).toHaveLength(url === source.url ? 1 : 3);
		}
	});

	it('fails clearly when it cannot connect', async () => {
		const port = await freePort();
		const result = await runCli(['migrate', '--preflight-only', '--headless', '--source', `redis://127.0.0.1:${port}`, '--target', target.url]);
		expect(result.code).toBe(2);
		expect(result.stderr).toContain(`cannot connect to the source 127.0.0.1:${port}: connection refused`);
		expect(result.stderr).not.toMatch(/\n\s+at /);
	});

	it('fails clearly on a wrong password and never prints any password', async () => {
		const result = await runCli(['migrate', '--preflight-only', '--headless', '--source', `redis://:wrong-pass-123@127.0.0.1:${secured.port}`, '--target', target.url]);
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('authentication to the source');
		expect(result.stdout + result.stderr).not.toContain('wrong-pass-123');
		const missing = await runCli(['migrate', '--preflight-only', '--headless', '--source', secured.url, '--target', target.url]);
		expect(missing.code).toBe(2);
		expect(missing.stderr).toContain('authentication to the source');
	});

	it('takes the password from KEYFERRY_SOURCE_PASSWORD and keeps it out of every output', async () => {
		const result = await runCli(['migrate', '--preflight-only', '--headless', '--allow-non-empty-target', '--source', secured.url, '--target', target.url], {
			env: {KEYFERRY_SOURCE_PASSWORD: 'hunter2-secret'},
		});
		expect(result.code, result.stderr).toBe(0);
		expect(result.stdout + result.stderr).not.toContain('hunter2-secret');
	});
});

describe('bad input', () => {
	it.each([
		[['migrate', '--target', 'redis://127.0.0.1:1'], 'missing required flag --source'],
		[['migrate', '--source', 'redis://127.0.0.1:1'], 'missing required flag --target'],
		[['migrate', '--source', 'redis://127.0.0.1:1', '--target', 'redis://127.0.0.1:2', '--frobnicate'], 'unknown flag --frobnicate'],
		[['migrate', '--source', 'mysql://127.0.0.1:1', '--target', 'redis://127.0.0.1:2'], '--source must start with redis://'],
		[['migrate', '--source', 'redis://127.0.0.1:1', '--target', 'redis://127.0.0.1:2/abc'], 'invalid db'],
		[['migrate', '--source', 'redis://127.0.0.1:1', '--target', 'redis://127.0.0.1:2', '--copy-rate', 'fast'], '--copy-rate must be a whole number'],
		[['migrate', '--source', 'redis://127.0.0.1:1', '--target', 'redis://127.0.0.1:2', '--db-map', 'x'], '--db-map entries must look like SRC:DST'],
		[['frobnicate'], 'unknown subcommand "frobnicate"'],
		[[], 'missing subcommand'],
		[['verify'], 'missing required flag --source'],
		[['rollback'], 'missing required flag --state-dir'],
		[['rollback', '--state-dir', '/nonexistent-keyferry'], 'give one of --preview or --apply'],
	])('%j exits 2 with one line', async (args, message) => {
		const result = await runCli(args);
		expectCleanFailure(result, message);
		expect(result.stderr).toMatch(/^keyferry: /);
	});

	it('prints help and version', async () => {
		const help = await runCli(['--help']);
		expect(help.code).toBe(0);
		expect(help.stdout).toContain('keyferry <command>');
		expect(help.stdout).toContain('--preflight-only');
		const version = await runCli(['--version']);
		expect(version.code).toBe(0);
		expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
	});
});

describe('the bundle', () => {
	it('runs from a directory without node_modules', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'keyferry-bundle-'));
		try {
			const copy = join(dir, 'keyferry.js');
			copyFileSync(bundlePath, copy);
			const version = await runCli(['--version'], {script: copy, cwd: dir});
			expect(version.code, version.stderr).toBe(0);
			const preflight = await runCli(['migrate', '--preflight-only', '--headless', '--source', source.url, '--target', target.url], {script: copy, cwd: dir});
			expect(preflight.code, preflight.stderr).toBe(0);
			expect(preflight.events.at(-1)).toMatchObject({type: 'summary', exitCode: 0});
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	});
});
