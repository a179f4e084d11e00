/**
 * What MONITOR on a replica shows, pinned down against real servers (--read-from replicas rests on
 * it): the primary's replication stream under the primary's address, already deterministic, and
 * keyferry's own marker connections to the replica under their own addresses, so markers and
 * writes share one ordered stream. Also: a marked read a cluster node refuses before running it
 * (MOVED) never shows, and the marker connection voids it at the next line it does show.
 */
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {CaptureStream} from '../../source/capture/capture-stream';
import {Journal, type JournalReader} from '../../source/capture/journal';
import type {MonitorCommand} from '../../source/capture/monitor-parser';
import {MarkerConnection, unmarkedCommands} from '../../source/copy/marker-connection';
import {Counters} from '../../source/engine/counters';
import type {NodeEndpoint} from '../../source/redis/endpoint';
import {planCommand} from '../../source/replay/plan-command';
import {startCluster, startReplica, startStandalone, waitFor, type TestCluster, type TestServer} from '../helpers/redis';

let stateDir: string;
const servers: Array<TestServer | TestCluster> = [];
const closers: Array<() => Promise<void> | void> = [];

beforeAll(() => {
	stateDir = mkdtempSync(join(tmpdir(), 'keyferry-replica-'));
});

afterAll(async () => {
	for (const close of closers.reverse()) await close();
	await Promise.all(servers.map((server) => server.stop()));
	rmSync(stateDir, {recursive: true, force: true});
});

async function captureOn(endpoint: NodeEndpoint, name: string): Promise<JournalReader> {
	const journal = await Journal.open(join(stateDir, name), {maxMemoryWindow: 16 * 1024 * 1024});
	const capture = new CaptureStream({endpoint, journal, counters: new Counters(), onGap: () => {}, onWarning: () => {}, onFatal: () => {}, heartbeatMs: 0});
	await capture.start();
	closers.push(async () => {
		await capture.stop();
		await journal.close();
	});
	return journal.reader(journal.end);
}

/** Lines until one is `ECHO tag` (bounded in time). */
async function linesUntilEcho(reader: JournalReader, tag: string): Promise<MonitorCommand[]> {
	const lines: MonitorCommand[] = [];
	const deadline = Date.now() + 15_000;
	while (Date.now() < deadline) {
		const records = await reader.read(1000);
		if (records === null) break;
		for (const {entry} of records) {
			if (entry.kind !== 'command') continue;
			lines.push(entry);
			if (entry.args[0]!.toString().toLowerCase() === 'echo' && entry.args[1]?.toString() === tag) return lines;
		}
	}
	throw new Error(`ECHO ${tag} never showed`);
}

const text = (line: MonitorCommand) => line.args.map((arg, index) => (index === 0 ? arg.toString('latin1').toLowerCase() : arg.toString('latin1')));
/** Lines that are reads or barriers, not a connection's setup (CLIENT SETNAME, PING…). */
const marked = (line: MonitorCommand) => !unmarkedCommands.has(text(line)[0]!);

describe('MONITOR on a replica', () => {
	it("shows the primary's writes under the primary's address, deterministic, and keyferry's marked reads under their own", async () => {
		const primary = await startStandalone();
		servers.push(primary);
		const replica = await startReplica(primary);
		servers.push(replica);
		const endpoint = {host: '127.0.0.1', port: replica.port, db: 0};
		const reader = await captureOn(endpoint, 'standalone');
		const marker = await MarkerConnection.open(endpoint);
		closers.push(() => marker.close());

		const app = primary.client();
		await app.set('session', 'v', 'EX', 100);
		await app.sadd('tags', 'a', 'b', 'c');
		await app.spop('tags');
		await app.xadd('events', '*', 'f', 'v');
		await app.eval("redis.call('SET', KEYS[1], 'x') redis.call('INCR', KEYS[2]) return 1", 2, 'script:a', 'script:b');
		await app.multi().set('tx', '1').incr('tx').exec();
		await app.set('short', 'v', 'PX', 50);
		// The replica never expires keys itself: the primary's DEL shows once it notices.
		await waitFor(async () => (await app.exists('short')) === 0, 'the key to expire on the primary');
		await app.select(3);
		await app.set('db3', 'v');
		await waitFor(async () => (await replica.client().info('keyspace')).includes('db3:keys=1'), 'the replica to receive the writes');

		const read = marker.dump(0, Buffer.from('session'), false, 0);
		await read.reply;
		// Passed only by an applier, which this test plays itself: not awaited.
		marker.barrier(Buffer.from('keyferry:test:standalone')).catch(() => {});
		const lines = await linesUntilEcho(reader, 'keyferry:test:standalone');

		const fromPrimary = lines.filter((line) => line.client === `127.0.0.1:${primary.port}`);
		const own = lines.filter((line) => line.client === marker.address && marked(line));
		expect(marker.address).not.toBe(`127.0.0.1:${primary.port}`);
		expect(own.map(text)).toEqual([
			['dump', 'session'],
			['pttl', 'session'],
			['echo', 'keyferry:test:standalone'],
		]);
		const shown = fromPrimary.map(text);
		// SET … EX becomes an absolute PXAT, SPOP an SREM, XADD * carries the id, the script its effects in MULTI/EXEC.
		expect(shown).toContainEqual(['set', 'session', 'v', 'PXAT', expect.stringMatching(/^\d{13}$/)]);
		expect(shown.some((args) => args[0] === 'srem' && args[1] === 'tags')).toBe(true);
		expect(shown.some((args) => args[0] === 'xadd' && /^\d+-\d+$/.test(args[2]!))).toBe(true);
		expect(shown.some((args) => args[0] === 'spop')).toBe(false);
		expect(shown.some((args) => args[0]!.startsWith('eval'))).toBe(false);
		const scripted = shown.findIndex((args) => args[0] === 'set' && args[1] === 'script:a');
		expect(shown[scripted - 1]).toEqual(['multi']);
		expect(shown).toContainEqual(['del', 'short']);
		expect(fromPrimary.find((line) => text(line)[1] === 'db3')!.db).toBe(3);
		// Replicated lines need no re-copy: every one is applied, dropped, or a transaction boundary.
		const plans = fromPrimary.map((line) => planCommand(line.args, {tsMs: line.ts / 1000, skewMs: 0}).action);
		expect(plans.filter((action) => action === 'recopy' || action === 'block')).toEqual([]);

		// The marker connection matches its own lines in order.
		const dumpLine = own[0]!;
		expect(marker.take(dumpLine.args)).toMatchObject({line: {command: 'dump', read}, voided: []});
		expect(marker.take(own[1]!.args)).toMatchObject({line: {command: 'pttl', first: false}, voided: []});
	});

	it('voids a marked read a cluster replica refused (MOVED without READONLY) at the next line, and reads with READONLY', async () => {
		const cluster = await startCluster({masters: 1, replicasPerMaster: 1, args: ['--repl-diskless-sync-delay', '0']});
		servers.push(cluster);
		const replica = cluster.replicas[0]!;
		await cluster.masters[0]!.client().set('k', 'v');
		await waitFor(async () => (await replica.client().dbsize()) === 1, 'the replica to receive k');
		const endpoint = {host: '127.0.0.1', port: replica.port, db: 0};
		const reader = await captureOn(endpoint, 'cluster');
		const plain = await MarkerConnection.open(endpoint);
		const readOnly = await MarkerConnection.open({...endpoint, readOnly: true});
		closers.push(() => plain.close(), () => readOnly.close());

		const refused = plain.dump(0, Buffer.from('k'), false, 0);
		await expect(refused.reply).rejects.toThrow(/MOVED/);
		const served = readOnly.dump(0, Buffer.from('k'), false, 0);
		expect((await served.reply).payload).not.toBeNull();
		// The refused read sends a marked ECHO after it: that line voids it.
		readOnly.barrier(Buffer.from('keyferry:test:cluster')).catch(() => {});
		const lines = await linesUntilEcho(reader, 'keyferry:test:cluster');
		expect(lines.filter((line) => line.client === plain.address && text(line)[0] === 'dump')).toEqual([]);
		expect(lines.some((line) => line.client === readOnly.address && text(line)[0] === 'readonly')).toBe(true);
		expect(lines.filter((line) => line.client === readOnly.address && marked(line)).map(text)).toEqual([
			['dump', 'k'],
			['pttl', 'k'],
			['echo', 'keyferry:test:cluster'],
		]);
		const nudge = lines.find((line) => line.client === plain.address && marked(line)) ?? (await waitForNudge(reader, plain.address));
		const taken = plain.take(nudge.args);
		expect(taken?.line.command).toBe('echo');
		expect(taken?.voided).toEqual([refused]);
		expect(plain.outstanding).toBe(0);
	});
});

/** The marked ECHO a refused read makes its connection send. */
async function waitForNudge(reader: JournalReader, address: string): Promise<MonitorCommand> {
	const deadline = Date.now() + 10_000;
	while (Date.now() < deadline) {
		const records = await reader.read(100);
		if (records === null) break;
		for (const {entry} of records) if (entry.kind === 'command' && entry.client === address && marked(entry)) return entry;
	}
	throw new Error('the refused read was never followed by a marked ECHO');
}
