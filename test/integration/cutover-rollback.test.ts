/**
 * Cutover and rollback end to end with the built CLI: migrate, cut over (reverse capture starts),
 * make known changes on the target, preview the rollback from the reverse journal and, once the
 * migrate process is gone, from a full compare; apply it and find source and target identical.
 * Also the strict cutover (--pause-source-writes) and its refusal without CLIENT PAUSE rights.
 */
import {existsSync, mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import type {ChildProcess} from 'node:child_process';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {resolveCommand, type MigrateOptions} from '../../source/config/options';
import {runMigrate} from '../../source/engine/run-migrate';
import {createKeyferryStore} from '../../source/engine/store';
import {bundlePath, runCli, type CliResult} from '../helpers/cli';
import {compareStandalone} from '../helpers/migration';
import {startStandalone, type TestServer} from '../helpers/redis';

const servers: TestServer[] = [];
let stateRoot: string;

beforeAll(() => {
	if (!existsSync(bundlePath)) throw new Error('dist/keyferry.js is missing: run `npm run build` (npm test does it)');
	stateRoot = mkdtempSync(join(tmpdir(), 'keyferry-cutover-'));
});

afterAll(async () => {
	await Promise.all(servers.map((server) => server.stop()));
	rmSync(stateRoot, {recursive: true, force: true});
});

async function pair(): Promise<[TestServer, TestServer]> {
	const both = await Promise.all([startStandalone(), startStandalone()]);
	servers.push(...both);
	return both;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await check())) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await sleep(50);
	}
}

/** Fast stages: a few hundred verification samples, half a second of quiet before cutover. */
const quickFlags = ['--headless', '--yes', '--auto-cutover', '--verify-rate', '1000', '--verify-samples', '200', '--cutover-quiet', '500'];

async function seed(server: TestServer): Promise<void> {
	const client = server.client();
	const pipeline = client.pipeline();
	for (let i = 0; i < 300; i++) pipeline.set(`fill:${i}`, `value-${i}`);
	for (let i = 1; i <= 4; i++) pipeline.set(`str:${i}`, `s${i}`);
	for (let i = 1; i <= 2; i++) pipeline.hset(`hash:${i}`, {f1: 'a', f2: 'b'});
	pipeline.rpush('list:1', 'x', 'y', 'z');
	pipeline.sadd('set:1', 'm1', 'm2');
	pipeline.zadd('zset:1', 1, 'a', 2, 'b');
	pipeline.xadd('stream:1', '1-1', 'f', 'v1');
	pipeline.xadd('stream:1', '2-1', 'f', 'v2');
	await pipeline.exec();
}

/** The known changes made on the target after cutover, and what the rollback preview must say of each. */
const expected: Record<string, string> = {
	'new:str': 'added',
	'new:hash': 'added',
	'str:1': 'modified',
	'hash:1': 'modified',
	'list:1': 'modified',
	'set:1': 'modified',
	'zset:1': 'modified',
	'stream:1': 'modified',
	'str:2': 'deleted',
	'hash:2': 'deleted',
	'str:3': 'deleted',
};

async function changeTarget(server: TestServer): Promise<void> {
	const client = server.client();
	await client.set('new:str', 'fresh');
	await client.hset('new:hash', {g: '1'});
	await client.set('str:1', 'changed');
	await client.hset('hash:1', 'f1', 'changed');
	await client.lset('list:1', 1, 'Y');
	await client.sadd('set:1', 'm3');
	await client.zadd('zset:1', 9, 'a');
	await client.xadd('stream:1', '*', 'f', 'v3');
	await client.del('str:2', 'hash:2');
	await client.pexpire('str:3', 150);
	// Written, but to the value it already had: not a change.
	await client.set('str:4', 's4');
	await sleep(400);
}

function diffs(result: CliResult): Record<string, string> {
	return Object.fromEntries(result.events.filter((event) => event.type === 'rollback-diff').map((event) => [String(event['key']), String(event['change'])]));
}

/** Runs migrate until stage done (cutover recorded, reverse capture running); `atDone` runs then, with the child. */
function migrateToDone(args: string[], atDone: (child: ChildProcess) => Promise<void>, timeoutMs = 60_000): Promise<CliResult> {
	let reached = false;
	return runCli(['migrate', ...quickFlags, ...args], {
		timeoutMs,
		onEvent: (event, child) => {
			if (reached || event.type !== 'stage' || event['stage'] !== 'done') return;
			reached = true;
			void atDone(child).catch((error: unknown) => {
				child.kill('SIGKILL');
				throw error;
			});
		},
	});
}

describe('cutover and rollback', () => {
	it('previews exactly the changes made on the target since cutover, then rolls them back', async () => {
		const [source, target] = await pair();
		await seed(source);
		const stateDir = mkdtempSync(join(stateRoot, 'rollback-'));
		const rollback = (...args: string[]) => runCli(['rollback', '--state-dir', stateDir, '--headless', ...args], {timeoutMs: 30_000});
		let journalPreview: CliResult | undefined;
		const migrated = await migrateToDone(['--state-dir', stateDir, '--source', source.url, '--target', target.url], async (child) => {
			await changeTarget(target);
			journalPreview = await rollback('--preview');
			child.kill('SIGTERM');
		});
		expect(migrated.code, migrated.stderr).toBe(0);
		const stages = migrated.events.filter((event) => event.type === 'stage').map((event) => `${String(event['stage'])}:${String(event['status'])}`);
		expect(stages).toEqual(expect.arrayContaining(['verify:ready', 'cutover:running', 'cutover:ready', 'done:running']));

		const point = JSON.parse(readFileSync(join(stateDir, 'cutover.json'), 'utf8')) as Record<string, unknown>;
		expect(point).toMatchObject({version: 1, pausedSourceWritesMs: null, barriers: [{master: `127.0.0.1:${source.port}`}], reverse: [{master: `127.0.0.1:${target.port}`}]});
		const record = readFileSync(join(stateDir, 'migration.json'), 'utf8');
		expect(record).toContain(`"port": ${target.port}`);
		expect(statSync(join(stateDir, 'migration.json')).mode & 0o777).toBe(0o600);

		// While migrate ran, from the reverse journal.
		expect(journalPreview!.code, journalPreview!.stderr).toBe(0);
		expect(diffs(journalPreview!)).toEqual(expected);
		expect(journalPreview!.events.find((event) => event.type === 'rollback-summary')).toMatchObject({basis: 'journal', total: 11, added: 2, modified: 6, deleted: 3});
		const hashDiff = journalPreview!.events.find((event) => event.type === 'rollback-diff' && event['key'] === 'hash:1')!;
		expect(hashDiff).toMatchObject({keyType: 'hash', db: 0, diff: 'field "f1" "a" → "changed"'});

		// migrate is gone: the reverse journal cannot prove it holds everything, so a full compare decides.
		const comparePreview = await rollback('--preview');
		expect(comparePreview.code, comparePreview.stderr).toBe(0);
		expect(diffs(comparePreview)).toEqual(expected);
		expect(comparePreview.events.find((event) => event.type === 'rollback-summary')).toMatchObject({basis: 'compare', total: 11});

		let ready = false;
		const applied = await runCli(['rollback', '--state-dir', stateDir, '--headless', '--apply', '--yes'], {
			timeoutMs: 30_000,
			onEvent: (event, child) => {
				if (event.type !== 'stage' || event['stage'] !== 'rollback' || event['status'] !== 'ready' || ready) return;
				ready = true;
				child.kill('SIGTERM');
			},
		});
		expect(applied.code, applied.stderr).toBe(0);
		expect(ready).toBe(true);
		expect(diffs(applied)).toEqual(expected);
		expect(applied.events.filter((event) => event.type === 'warning')).toEqual([]);
		expect(await compareStandalone(source, target)).toEqual([]);
		expect(applied.stdout + applied.stderr + journalPreview!.stdout).not.toContain('password');
	});

	it('applies from another process while the migration still runs (reverse journal basis)', async () => {
		const [source, target] = await pair();
		await seed(source);
		const stateDir = mkdtempSync(join(stateRoot, 'live-'));
		let applied: CliResult | undefined;
		const migrated = await migrateToDone(['--state-dir', stateDir, '--source', source.url, '--target', target.url], async (child) => {
			await changeTarget(target);
			let stopping = false;
			applied = await runCli(['rollback', '--state-dir', stateDir, '--headless', '--apply', '--yes'], {
				timeoutMs: 30_000,
				onEvent: (event, rollbackChild) => {
					if (stopping || event.type !== 'stage' || event['stage'] !== 'rollback' || event['status'] !== 'ready') return;
					stopping = true;
					rollbackChild.kill('SIGTERM');
				},
			});
			child.kill('SIGTERM');
		});
		expect(migrated.code, migrated.stderr).toBe(0);
		expect(applied!.code, applied!.stderr).toBe(0);
		expect(diffs(applied!)).toEqual(expected);
		expect(applied!.events.find((event) => event.type === 'rollback-summary')).toMatchObject({basis: 'journal'});
		expect([...migrated.events, ...applied!.events].filter((event) => event.type === 'warning')).toEqual([]);
		expect(await compareStandalone(source, target)).toEqual([]);
	});

	it('keeps the console preview current after cutover and rolls back in the migrate process', async () => {
		const [source, target] = await pair();
		await seed(source);
		const flags = {source: source.url, target: target.url, stateDir: mkdtempSync(join(stateRoot, 'console-')), headless: true, yes: true, autoCutover: true, verifyRate: '1000', verifySamples: '200', cutoverQuiet: '500', color: true};
		const options = resolveCommand({input: ['migrate'], flags, env: {}, stdoutIsTTY: false}) as MigrateOptions;
		const store = createKeyferryStore({migrationId: 'in-process'});
		const run = runMigrate(options, store);
		try {
			await until(() => store.getState().stage === 'done', 'stage done');
			await changeTarget(target);
			const previewed = () => Object.fromEntries((store.getState().rollback?.entries ?? []).map((entry) => [entry.key, entry.change]));
			await until(() => JSON.stringify(previewed()) === JSON.stringify(Object.fromEntries(Object.entries(expected).sort())), 'the preview to list the changes');
			expect(store.getState().rollback).toMatchObject({total: 11, ready: true, counts: {basis: 'journal', added: 2, modified: 6, deleted: 3, byPrefix: {str: 3, new: 2}}});

			store.getState().controls.rollback();
			await until(() => store.getState().stage === 'rollback' && store.getState().stageStatus === 'ready', 'the rollback to land');
			// Reverse sync: the source keeps following the target.
			await target.client().set('after:rollback', 'yes');
			await until(async () => (await source.client().get('after:rollback')) === 'yes', 'reverse sync');
		} finally {
			store.getState().controls.quit();
		}
		expect(await run).toBe(0);
		const applied = store.getState().feed.filter((item) => item.event.type === 'rollback-diff').map((item) => item.event as {key: string; change: string});
		expect(Object.fromEntries(applied.map((event) => [event.key, event.change]))).toEqual(expected);
		expect(store.getState().feed.filter((item) => item.event.type === 'warning' || item.event.type === 'error')).toEqual([]);
		expect(await compareStandalone(source, target)).toEqual([]);
	});

	it('strict cutover: source writes wait out the pause placed before the barrier', async () => {
		const [source, target] = await pair();
		await seed(source);
		const stateDir = mkdtempSync(join(stateRoot, 'pause-'));
		let latency = 0;
		const result = await migrateToDone(['--pause-source-writes', '1500', '--state-dir', stateDir, '--source', source.url, '--target', target.url], async (child) => {
			const started = Date.now();
			await source.client().set('late:write', '1');
			latency = Date.now() - started;
			child.kill('SIGTERM');
		});
		expect(result.code, result.stderr).toBe(0);
		expect(result.stderr).toContain('source writes paused for 1500 ms');
		expect(latency).toBeGreaterThan(700);
		expect(JSON.parse(readFileSync(join(stateDir, 'cutover.json'), 'utf8'))).toMatchObject({pausedSourceWritesMs: 1500});
	});

	it('refuses a strict cutover where CLIENT PAUSE is not allowed, and does not cut over', async () => {
		const [source, target] = await pair();
		await seed(source);
		await source.client().call('ACL', 'SETUSER', 'limited', 'on', '>limited-secret-pw', '~*', '&*', '+@all', '-client|pause');
		const stateDir = mkdtempSync(join(stateRoot, 'refused-'));
		const result = await runCli(['migrate', ...quickFlags, '--pause-source-writes', '1000', '--state-dir', stateDir, '--source', `redis://limited@127.0.0.1:${source.port}`, '--target', target.url], {
			timeoutMs: 60_000,
			env: {KEYFERRY_SOURCE_PASSWORD: 'limited-secret-pw'},
		});
		expect(result.code, result.stderr).toBe(2);
		const error = result.events.find((event) => event.type === 'error')!;
		expect(error).toMatchObject({code: 'pause-refused'});
		expect(String(error['message'])).toMatch(/does not allow CLIENT PAUSE for user 'limited'.*not cut over/);
		expect(result.events).toContainEqual(expect.objectContaining({type: 'stage', stage: 'cutover', status: 'failed'}));
		expect(result.events.some((event) => event.type === 'stage' && event['stage'] === 'done')).toBe(false);
		expect(existsSync(join(stateDir, 'cutover.json'))).toBe(false);
		expect(result.stdout + result.stderr).not.toContain('limited-secret-pw');
	});
});
