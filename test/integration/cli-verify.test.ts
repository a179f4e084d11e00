/**
 * `keyferry verify` end to end: the built CLI against real redis-servers, headless (JSON lines)
 * and in a pseudo-terminal. Every run is also checked to have written nothing to either server.
 */
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {Cluster, type Redis} from 'ioredis';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {bundlePath, runCli, type CliResult} from '../helpers/cli';
import {startCluster, startStandalone, type TestCluster, type TestServer} from '../helpers/redis';
import {openTerminal} from '../ui/pty';

const password = 'verify-Secret-Zq9';
let same: [TestServer, TestServer];
let planted: [TestServer, TestServer];
let mostly: [TestServer, TestServer];
let big: [TestServer, TestServer];
let cluster: TestCluster;
/** A standalone copy of the cluster's data, with three differences. */
let twin: TestServer;
let scratch: string;

const range = (count: number) => Array.from({length: count}, (_, i) => i);

/** The same data on any server: every type, TTLs, three dbs. */
async function fill(conn: Redis): Promise<void> {
	for (const db of [0, 2, 5]) {
		await conn.select(db);
		const p = conn.pipeline();
		for (const i of range(200)) p.set(`s:${i}`, `value ${i}`);
		for (const i of range(50)) p.set(`ttl:${i}`, `v${i}`, 'EX', 3600);
		for (const i of range(20)) {
			p.hset(`h:${i}`, {f1: `a${i}`, f2: `b${i}`, f3: `c${i}`});
			p.rpush(`l:${i}`, 'x', 'y', String(i));
			p.sadd(`set:${i}`, 'm1', 'm2', String(i));
			p.zadd(`z:${i}`, 1, 'one', 2.5, 'two', i, 'n');
			p.xadd(`st:${i}`, '1-1', 'k', String(i));
		}
		await p.exec();
	}
	await conn.select(0);
}

/** What is planted on the target of `planted`, and how verify must report it. */
const expectedPlanted = [
	{key: 'h:1', db: 0, kind: 'value'},
	{key: 's:5', db: 0, kind: 'missing'},
	{key: 'l:3', db: 2, kind: 'value'},
	{key: 'only:target', db: 0, kind: 'extra'},
	{key: 'ttl:7', db: 0, kind: 'ttl'},
	{key: 's:9', db: 5, kind: 'type'},
];

async function plant(conn: Redis): Promise<void> {
	await conn.hset('h:1', 'f2', 'changed');
	await conn.del('s:5');
	await conn.set('only:target', 'x');
	await conn.pexpire('ttl:7', 90_000_000);
	await conn.select(2);
	await conn.rpush('l:3', 'extra');
	await conn.select(5);
	await conn.del('s:9');
	await conn.sadd('s:9', 'value 9');
	await conn.select(0);
}

beforeAll(async () => {
	if (!existsSync(bundlePath)) throw new Error('dist/keyferry.js is missing: run `npm run build` (npm test does it)');
	const servers = await Promise.all([
		startStandalone(),
		startStandalone(),
		startStandalone({password}),
		startStandalone(),
		startStandalone(),
		startStandalone(),
		startStandalone(),
		startStandalone(),
		startStandalone(),
	]);
	same = [servers[0]!, servers[1]!];
	twin = servers[8]!;
	planted = [servers[2]!, servers[3]!];
	mostly = [servers[4]!, servers[5]!];
	big = [servers[6]!, servers[7]!];
	cluster = await startCluster();
	scratch = mkdtempSync(join(tmpdir(), 'keyferry-verify-'));
	await Promise.all([...same, ...planted].map((server) => fill(server.client())));
	await plant(planted[1].client());
	// Most keys differ: 80 of every 100 have another value on the target.
	await Promise.all(
		mostly.map(async (server, side) => {
			const p = server.client().pipeline();
			for (const i of range(2000)) p.set(`m:${i}`, side === 1 && i % 100 < 80 ? `other ${i}` : `value ${i}`);
			await p.exec();
		}),
	);
	const p = big[0].client().pipeline();
	for (const i of range(100_000)) p.set(`b:${i}`, String(i));
	await p.exec();
	const clusterClient = new Cluster([{host: '127.0.0.1', port: cluster.masters[0]!.port}]);
	try {
		for (const conn of [clusterClient, twin.client()]) {
			await Promise.all(range(300).map((i) => conn.set(`c:${i}`, `value ${i}`)));
			await Promise.all(range(20).map((i) => conn.hset(`ch:${i}`, {a: String(i), b: 'x'})));
		}
	} finally {
		clusterClient.disconnect();
	}
	const copy = twin.client();
	await copy.del('c:1');
	await copy.set('c:2', 'changed');
	await copy.set('only:twin', 'x');
});

afterAll(async () => {
	await Promise.all([...(same ?? []), ...(planted ?? []), ...(mostly ?? []), ...(big ?? []), twin, cluster].map((server) => server?.stop()));
	if (scratch) rmSync(scratch, {recursive: true, force: true});
});

const dirty = async (server: TestServer) => Number(/rdb_changes_since_last_save:(\d+)/.exec(await server.client().info('persistence'))?.[1]);

/** Runs keyferry and checks it changed nothing on the servers named. */
async function verifyReadOnly(servers: TestServer[], args: string[], options: Parameters<typeof runCli>[1] = {}): Promise<CliResult> {
	const before = await Promise.all(servers.map(dirty));
	const result = await runCli(args, options);
	expect(await Promise.all(servers.map(dirty))).toEqual(before);
	return result;
}

const stateDir = (name: string) => join(scratch, name);

function fileRecords(path: string): Array<{key: string; db: number; kind: string; diff: string; ts: number}> {
	return readFileSync(path, 'utf8')
		.split('\n')
		.filter(Boolean)
		.map((line) => JSON.parse(line) as {key: string; db: number; kind: string; diff: string; ts: number});
}

const summaryOf = (result: CliResult) => result.events.at(-1) as Record<string, unknown> & {type: string};
const found = (records: ReadonlyArray<Record<string, unknown>>) =>
	records.map(({key, db, kind}) => ({key, db, kind})).sort((a, b) => String(a.key).localeCompare(String(b.key)));

describe('keyferry verify --full', () => {
	it('finds every planted difference, nothing else, saves them and exits 3', async () => {
		const dir = stateDir('planted-full');
		const args = ['verify', '--full', '--headless', '--source', planted[0].url, '--target', planted[1].url, '--state-dir', dir];
		const result = await verifyReadOnly(planted, args, {env: {KEYFERRY_SOURCE_PASSWORD: password}});
		expect(result.code, result.stderr).toBe(3);
		const discrepancies = result.events.filter((event) => event.type === 'discrepancy');
		expect(found(discrepancies)).toEqual(found(expectedPlanted));
		for (const event of discrepancies) expect(typeof event['diff']).toBe('string');
		expect(discrepancies.find((event) => event['key'] === 'h:1')?.['diff']).toContain('changed');

		const file = join(dir, 'discrepancies.jsonl');
		expect(statSync(file).mode & 0o777).toBe(0o600);
		const records = fileRecords(file);
		expect(found(records)).toEqual(found(expectedPlanted));
		expect(records.map(({key, diff}) => ({key, diff})).sort((a, b) => a.key.localeCompare(b.key))).toEqual(
			discrepancies.map(({key, diff}) => ({key, diff})).sort((a, b) => String(a.key).localeCompare(String(b.key))),
		);

		const summary = summaryOf(result);
		expect(summary).toMatchObject({type: 'summary', exitCode: 3, stage: 'verify', discrepancies: 6});
		const keysOnSource = 3 * (200 + 50 + 5 * 20);
		expect(summary['keysChecked']).toBe(keysOnSource + 1);
		expect(summary['discrepancyRate']).toBeCloseTo(6 / (keysOnSource + 1), 5);
		expect(summary['sampleRate']).toBeGreaterThan(0);
		expect(result.events.find((event) => event.type === 'info' && String(event['message']).includes(file))).toBeDefined();

		// The password came from the environment and appears nowhere.
		for (const text of [result.stdout, result.stderr, readFileSync(file, 'utf8')]) expect(text).not.toContain(password);
	});

	it('exits 0 for identical servers and keeps its file in ./.keyferry/<id> by default', async () => {
		const cwd = stateDir('default-dir');
		mkdirSync(cwd, {recursive: true});
		const result = await verifyReadOnly(same, ['verify', '--full', '--source', same[0].url, '--target', same[1].url], {cwd});
		expect(result.code, result.stderr).toBe(0);
		expect(result.events.filter((event) => event.type === 'discrepancy')).toEqual([]);
		expect(summaryOf(result)).toMatchObject({type: 'summary', exitCode: 0, discrepancies: 0, keysChecked: 3 * 350});
		const ids = readdirSync(join(cwd, '.keyferry'));
		expect(ids).toHaveLength(1);
		expect(ids[0]).toMatch(/^kf-\d{8}-\d{4}-[0-9a-f]{4}$/);
		expect(readFileSync(join(cwd, '.keyferry', ids[0]!, 'discrepancies.jsonl'), 'utf8')).toBe('');
	});

	it('stops early on SIGTERM: what it found stands (exit 3), the summary is last', async () => {
		const dir = stateDir('stopped');
		let signalled = false;
		const result = await verifyReadOnly(big, ['verify', '--full', '--headless', '--source', big[0].url, '--target', big[1].url, '--state-dir', dir], {
			timeoutMs: 60_000,
			onEvent: (event, child) => {
				if (event.type !== 'discrepancy' || signalled) return;
				signalled = true;
				child.kill('SIGTERM');
			},
		});
		expect(signalled).toBe(true);
		expect(result.code, result.stderr).toBe(3);
		expect(result.events.find((event) => event.type === 'warning')).toMatchObject({code: 'verify-incomplete'});
		const summary = summaryOf(result);
		expect(summary).toMatchObject({type: 'summary', exitCode: 3});
		expect(summary['keysChecked']).toBeLessThan(100_000);
		expect(fileRecords(join(dir, 'discrepancies.jsonl'))).toHaveLength(Number(summary['discrepancies']));
	});
});

describe('keyferry verify --sample', () => {
	it('finds a difference planted in most keys, each sampled key once', async () => {
		const dir = stateDir('mostly');
		const result = await verifyReadOnly(mostly, ['verify', '--sample', '500', '--source', mostly[0].url, '--target', mostly[1].url, '--state-dir', dir]);
		expect(result.code, result.stderr).toBe(3);
		const summary = summaryOf(result);
		expect(summary).toMatchObject({type: 'summary', exitCode: 3, samples: 500, keysChecked: 500});
		const discrepancies = result.events.filter((event) => event.type === 'discrepancy');
		expect(discrepancies).toHaveLength(Number(summary['discrepancies']));
		// 80% of the keys differ: 400 expected, and a binomial spread far inside these bounds.
		expect(discrepancies.length).toBeGreaterThan(300);
		expect(discrepancies.length).toBeLessThan(480);
		for (const event of discrepancies) expect(event).toMatchObject({db: 0, kind: 'value'});
		const keys = fileRecords(join(dir, 'discrepancies.jsonl')).map((record) => record.key);
		expect(keys).toHaveLength(discrepancies.length);
		expect(new Set(keys).size).toBe(keys.length);
	});

	it('samples 10000 keys by default and stops at the keys that exist, exit 0 when identical', async () => {
		const result = await verifyReadOnly(same, ['verify', '--source', same[0].url, '--target', same[1].url, '--state-dir', stateDir('same-sample')]);
		expect(result.code, result.stderr).toBe(0);
		const summary = summaryOf(result);
		expect(summary).toMatchObject({exitCode: 0, discrepancies: 0});
		// 1050 keys on each side, the same ones: RANDOMKEY finds nearly all of them, never more.
		expect(Number(summary['keysChecked'])).toBeGreaterThan(900);
		expect(Number(summary['keysChecked'])).toBeLessThanOrEqual(3 * 350);
		expect(result.events.find((event) => event.type === 'info' && String(event['message']).includes('only'))).toBeDefined();
	});

	it('finds planted differences by sampling, with the password in the URL kept out of every output', async () => {
		const dir = stateDir('planted-sample');
		const source = planted[0].url.replace('redis://', `redis://:${password}@`);
		const result = await verifyReadOnly(planted, ['verify', '--sample', '3000', '--source', source, '--target', planted[1].url, '--state-dir', dir]);
		expect(result.code, result.stderr).toBe(3);
		const discrepancies = result.events.filter((event) => event.type === 'discrepancy');
		expect(discrepancies.length).toBeGreaterThan(0);
		const known = new Set(expectedPlanted.map((item) => `${item.db}:${item.key}:${item.kind}`));
		for (const event of discrepancies) expect(known.has(`${String(event['db'])}:${String(event['key'])}:${String(event['kind'])}`)).toBe(true);
		for (const text of [result.stdout, result.stderr, readFileSync(join(dir, 'discrepancies.jsonl'), 'utf8')]) expect(text).not.toContain(password);
	});
});

describe('keyferry verify with a cluster', () => {
	const servers = () => [...cluster.masters, twin];
	const kinds = (result: CliResult) => found(result.events.filter((event) => event.type === 'discrepancy'));

	it('compares every key of a cluster with a standalone server, both ways', async () => {
		const forward = await verifyReadOnly(servers(), ['verify', '--full', '--source', cluster.url, '--target', twin.url, '--state-dir', stateDir('cluster-forward')]);
		expect(forward.code, forward.stderr).toBe(3);
		expect(kinds(forward)).toEqual(
			found([
				{key: 'c:1', db: 0, kind: 'missing'},
				{key: 'c:2', db: 0, kind: 'value'},
				{key: 'only:twin', db: 0, kind: 'extra'},
			]),
		);
		expect(summaryOf(forward)).toMatchObject({exitCode: 3, keysChecked: 321});

		const backward = await verifyReadOnly(servers(), ['verify', '--full', '--source', twin.url, '--target', cluster.url, '--target-cluster', '--state-dir', stateDir('cluster-backward')]);
		expect(backward.code, backward.stderr).toBe(3);
		expect(kinds(backward)).toEqual(
			found([
				{key: 'c:1', db: 0, kind: 'extra'},
				{key: 'c:2', db: 0, kind: 'value'},
				{key: 'only:twin', db: 0, kind: 'missing'},
			]),
		);
	});

	it('samples keys from every master of a cluster', async () => {
		const result = await verifyReadOnly(servers(), ['verify', '--sample', '2000', '--source', cluster.url, '--target', twin.url, '--state-dir', stateDir('cluster-sample')]);
		expect(result.code, result.stderr).toBe(3);
		const planted = new Set(['c:1', 'c:2', 'only:twin']);
		for (const event of result.events.filter((item) => item.type === 'discrepancy')) expect(planted.has(String(event['key']))).toBe(true);
		expect(Number(summaryOf(result)['keysChecked'])).toBeGreaterThan(280);
	});

	it('refuses a standalone side with keys outside db 0', async () => {
		const result = await verifyReadOnly(servers(), ['verify', '--full', '--source', cluster.url, '--target', same[1].url, '--state-dir', stateDir('cluster-dbs')]);
		expect(result.code).toBe(2);
		expect(result.events.find((event) => event.type === 'error')?.['message']).toBe('the target holds keys in db 2, but a cluster has only db 0 and verify cannot map dbs yet');
		expect(result.events.at(-1)).toMatchObject({type: 'summary', exitCode: 2});
		expect(result.stderr).not.toMatch(/\n\s+at /);
		expect(existsSync(stateDir('cluster-dbs'))).toBe(false);
	});
});

describe('keyferry verify in a terminal', () => {
	it('prints a progress line, then the discrepancies and the file', async () => {
		const dir = stateDir('terminal');
		const terminal = openTerminal([process.execPath, bundlePath, 'verify', '--full', '--source', planted[0].url, '--target', planted[1].url, '--state-dir', dir], {
			columns: 120,
			rows: 40,
			env: {KEYFERRY_SOURCE_PASSWORD: password, NO_COLOR: '1'},
		});
		expect(await terminal.exit(30_000)).toBe(3);
		const text = terminal.text();
		expect(text).toMatch(/verify · [\d,]+ keys checked · [\d,]+ discrepanc/);
		expect(text).toContain('keyferry verify: 6 discrepancies in 1,051 keys checked (every key, both ways)');
		for (const item of expectedPlanted) expect(text).toMatch(new RegExp(`db${item.db} +${item.kind} +${item.key} `));
		expect(text).toContain(`discrepancy file: ${join(dir, 'discrepancies.jsonl')}`);
		expect(text).not.toContain(password);
		expect(text).not.toContain('{"type"');
	});
});

describe('keyferry verify refuses bad input', () => {
	it.each([
		[['--sample', '10', '--full'], '--sample and --full cannot be used together'],
		[['--sample', '0'], '--sample must be a whole number of at least 1'],
		[['--ttl-tolerance', 'soon'], '--ttl-tolerance must be a whole number'],
		[['--yes'], '--yes does not apply to "keyferry verify"'],
	])('%j exits 2 with one line, touching nothing', async (extra, message) => {
		const result = await verifyReadOnly(same, ['verify', '--source', same[0].url, '--target', same[1].url, ...extra]);
		expect(result.code).toBe(2);
		const lines = result.stderr.trimEnd().split('\n');
		expect(lines).toHaveLength(1);
		expect(lines[0]!.startsWith(`keyferry: ${message}`)).toBe(true);
		expect(lines[0]!.endsWith('(see keyferry --help)')).toBe(true);
		expect(result.events.at(-1)).toMatchObject({type: 'summary', exitCode: 2});
	});

	it('exits 2 without --target', async () => {
		const result = await runCli(['verify', '--source', same[0].url]);
		expect(result.code).toBe(2);
		expect(result.stderr).toBe('keyferry: missing required flag --target URL (see keyferry --help)\n');
	});

	it('refuses --source-cluster, and a state dir it cannot write, before comparing anything', async () => {
		const forced = await runCli(['verify', '--source', same[0].url, '--target', same[1].url, '--source-cluster']);
		expect(forced.code).toBe(2);
		expect(forced.events.find((event) => event.type === 'error')?.['message']).toBe(`--source-cluster was given but 127.0.0.1:${same[0].port} has cluster mode off`);
		const file = join(scratch, 'a-file');
		writeFileSync(file, '');
		const unwritable = await verifyReadOnly(same, ['verify', '--source', same[0].url, '--target', same[1].url, '--state-dir', join(file, 'state')]);
		expect(unwritable.code).toBe(2);
		expect(unwritable.events.find((event) => event.type === 'error')?.['message']).toMatch(/^cannot write the discrepancy file in .*a-file\/state \(ENOTDIR\)/);
		expect(unwritable.events.some((event) => event.type === 'discrepancy')).toBe(false);
	});

	it('reports a wrong password as bad input, without the password', async () => {
		const result = await runCli(['verify', '--source', planted[0].url, '--target', planted[1].url], {env: {KEYFERRY_SOURCE_PASSWORD: 'not-the-Password-77'}});
		expect(result.code).toBe(2);
		expect(result.events.find((event) => event.type === 'error')).toMatchObject({code: 'auth-failed'});
		expect(result.stdout + result.stderr).not.toContain('not-the-Password-77');
	});
});
