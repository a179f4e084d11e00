/**
 * Lost connections never lose a write: mid-sync, under live traffic, the target's and the
 * source's connections are reset, frozen, or their server is restarted; keyferry reconnects,
 * shows it, re-copies what became uncertain, and the drained target equals the source.
 */
import type {ChildProcess} from 'node:child_process';
import {afterAll, describe, expect, it} from 'vitest';
import {runCli, type CliResult} from '../helpers/cli';
import {compareStandalone, migrationFixture} from '../helpers/migration';
import {startProxy, type TcpProxy} from '../helpers/proxy';
import {startStandalone, waitFor, type TestServer} from '../helpers/redis';
import {seedDataset} from '../helpers/seed';
import {startTraffic, type TrafficStats} from '../helpers/traffic';

const {pair, stateDir} = migrationFixture();
const proxies: TcpProxy[] = [];
const extraServers: TestServer[] = [];

afterAll(async () => {
	await Promise.all([...proxies.map((proxy) => proxy.close()), ...extraServers.map((server) => server.stop())]);
});

type Event = Record<string, unknown> & {type: string};

interface Run {
	result: CliResult;
	traffic: TrafficStats;
	warnings: string[];
	infos: string[];
}

interface Disruption {
	source: TestServer;
	target: TestServer;
	/** Seen so far, for waiting on keyferry's reaction. */
	events: Event[];
}

/**
 * Seeds, runs traffic, migrates from `sourceUrl` to `targetUrl`; once in sync runs `disrupt`,
 * lets the traffic go on for a while, stops it and drains with SIGTERM.
 */
async function migrateThrough(
	source: TestServer,
	target: TestServer,
	urls: {source?: string; target?: string},
	disrupt: (context: Disruption) => Promise<void>,
): Promise<Run> {
	const dbs = [0, 1];
	await seedDataset({port: source.port, dbs, keys: 1000, bigScale: 0.1, seed: 3});
	const traffic = startTraffic({port: source.port, dbs, connections: 4, opsPerSecond: 1500, seed: 5});
	const events: Event[] = [];
	let trafficStats: TrafficStats | undefined;
	let disruptionError: unknown;
	let started = false;
	const run = async (child: ChildProcess) => {
		try {
			await new Promise((resolve) => setTimeout(resolve, 1000));
			await disrupt({source, target, events});
			await new Promise((resolve) => setTimeout(resolve, 2000));
		} catch (error) {
			disruptionError = error;
		}
		trafficStats = await traffic.stop();
		child.kill('SIGTERM');
	};
	const result = await runCli(['migrate', '--headless', '--yes', '--state-dir', stateDir(), '--source', urls.source ?? source.url, '--target', urls.target ?? target.url], {
		timeoutMs: 150_000,
		onEvent: (event, child) => {
			events.push(event);
			if (started || event.type !== 'stage' || event['stage'] !== 'sync') return;
			started = true;
			void run(child);
		},
	});
	trafficStats ??= await traffic.stop();
	if (disruptionError) throw disruptionError;
	const text = (type: string) => result.events.filter((event) => event.type === type).map((event) => `${String(event['code'] ?? '')} ${String(event['message'])}`.trim());
	return {result, traffic: trafficStats, warnings: text('warning'), infos: text('info')};
}

const said = (events: Event[], pattern: RegExp) => events.some((event) => pattern.test(String(event['message'])));

describe('keyferry migrate through lost target connections', () => {
	it('reconnects when the target connections are reset mid-sync, re-copying unanswered writes', async () => {
		const [source, target] = await pair();
		const proxy = await startProxy(target.port);
		proxies.push(proxy);
		const run = await migrateThrough(source, target, {target: proxy.url}, async ({events}) => {
			// Writes pile up unanswered on the paused target, then their connection is reset.
			await target.client().call('CLIENT', 'PAUSE', '1500', 'WRITE');
			await new Promise((resolve) => setTimeout(resolve, 500));
			expect(proxy.cut()).toBeGreaterThan(0);
			await waitFor(async () => said(events, /^reconnected to the target/), 'the writer to reconnect', 30_000);
		});
		expect(run.result.code, run.result.stderr).toBe(0);
		expect(run.traffic.unexpectedErrors).toEqual([]);
		expect(run.warnings.some((warning) => warning.startsWith('target-reconnecting'))).toBe(true);
		expect(run.infos.find((info) => info.startsWith('reconnected to the target'))).toMatch(/, [1-9]\d* unanswered write\(s\) re-copied/);
		expect(await compareStandalone(source, target)).toEqual([]);
	}, 180_000);

	it('declares a connection that stopped answering lost when the target answers a probe', async () => {
		const [source, target] = await pair();
		const proxy = await startProxy(target.port);
		proxies.push(proxy);
		const run = await migrateThrough(source, target, {target: proxy.url}, async ({events}) => {
			// The connections carried now hang; new ones (the probe, the next writer) get through.
			proxy.freeze('pass');
			await waitFor(async () => said(events, /^reconnected to the target/), 'the writer to give up on the silent connection', 60_000);
			proxy.thaw();
		});
		expect(run.result.code, run.result.stderr).toBe(0);
		expect(run.warnings.some((warning) => /target-reconnecting .*no reply for \d+ s while the server answers another connection/.test(warning))).toBe(true);
		expect(await compareStandalone(source, target)).toEqual([]);
	}, 180_000);

	it('waits through a route that stops forwarding for a few seconds', async () => {
		const [source, target] = await pair();
		const proxy = await startProxy(target.port);
		proxies.push(proxy);
		const run = await migrateThrough(source, target, {target: proxy.url}, async () => {
			proxy.freeze('hold');
			await new Promise((resolve) => setTimeout(resolve, 4000));
			proxy.thaw();
		});
		expect(run.result.code, run.result.stderr).toBe(0);
		expect(await compareStandalone(source, target)).toEqual([]);
	}, 180_000);

	it('re-copies everything into a target restarted empty mid-sync', async () => {
		const [source, target] = await pair();
		const run = await migrateThrough(source, target, {}, async ({events}) => {
			await target.restart({signal: 'SIGKILL', downMs: 1500});
			await waitFor(async () => said(events, /restarted \(its run_id changed\)/), 'the restart to be noticed', 30_000);
			await waitFor(async () => said(events, /^sweep of/) && said(events, /^every db of .* was read again/), 'the resync', 60_000);
		});
		expect(run.result.code, run.result.stderr).toBe(0);
		expect(run.traffic.unexpectedErrors).toEqual([]);
		expect(run.warnings.some((warning) => warning.startsWith('target-resync'))).toBe(true);
		expect(await compareStandalone(source, target)).toEqual([]);
	}, 180_000);
});

describe('keyferry migrate through lost source connections', () => {
	it('takes over from marker connections killed mid-sync, with MONITOR still running', async () => {
		const [source, target] = await pair();
		const run = await migrateThrough(source, target, {}, async ({events}) => {
			const admin = source.client();
			// Reads pile up unanswered behind a paused source, then their connections are killed.
			await admin.call('CLIENT', 'PAUSE', '800', 'ALL');
			await new Promise((resolve) => setTimeout(resolve, 300));
			const list = String(await admin.call('CLIENT', 'LIST'));
			const ids = [...list.matchAll(/id=(\d+) [^\n]*name=keyferry-marker/g)].map((match) => match[1]!);
			expect(ids.length).toBeGreaterThan(0);
			for (const id of ids) await admin.call('CLIENT', 'KILL', 'ID', id);
			await waitFor(async () => said(events, /^reconnected to the source/), 'the marker connections to be replaced', 30_000);
		});
		expect(run.result.code, run.result.stderr).toBe(0);
		expect(run.traffic.unexpectedErrors).toEqual([]);
		expect(run.warnings.some((warning) => warning.startsWith('source-reconnecting'))).toBe(true);
		// MONITOR never dropped: the takeover alone placed what the lost connections had read.
		expect(run.result.events.filter((event) => event.type === 'gap')).toEqual([]);
		expect(await compareStandalone(source, target)).toEqual([]);
	}, 180_000);

	it('reconnects every source connection reset mid-sync (MONITOR too: a gap)', async () => {
		const [source, target] = await pair();
		const proxy = await startProxy(source.port);
		proxies.push(proxy);
		const run = await migrateThrough(source, target, {source: proxy.url}, async ({events}) => {
			expect(proxy.cut()).toBeGreaterThan(0);
			await waitFor(async () => said(events, /^reconnected to the source/) && said(events, /^every db of .* was read again/) && said(events, /^sweep of/), 'the resync', 60_000);
		});
		expect(run.result.code, run.result.stderr).toBe(0);
		expect(run.traffic.unexpectedErrors).toEqual([]);
		expect(run.result.events.filter((event) => event.type === 'gap').length).toBeGreaterThan(0);
		expect(await compareStandalone(source, target)).toEqual([]);
	}, 180_000);

	it('replaces source connections that stop answering while the source answers new ones', async () => {
		const [source, target] = await pair();
		const proxy = await startProxy(source.port);
		proxies.push(proxy);
		const run = await migrateThrough(source, target, {source: proxy.url}, async ({events}) => {
			proxy.freeze('pass');
			try {
				await waitFor(async () => said(events, /^reconnected to the source/) && said(events, /^every db of .* was read again/), 'the silent connections to be replaced', 60_000);
			} finally {
				proxy.thaw();
			}
		});
		expect(run.result.code, run.result.stderr).toBe(0);
		expect(run.traffic.unexpectedErrors).toEqual([]);
		expect(run.result.events.filter((event) => event.type === 'gap').length).toBeGreaterThan(0);
		expect(await compareStandalone(source, target)).toEqual([]);
	}, 180_000);

	it('resyncs a source restarted with persistence: later writes arrive, deleted keys are swept', async () => {
		const [, target] = await pair();
		const source = await startStandalone({args: ['--appendonly', 'yes']});
		extraServers.push(source);
		// keyferry reaches the source through a proxy that keeps it away while the test writes unseen.
		const proxy = await startProxy(source.port);
		proxies.push(proxy);
		const run = await migrateThrough(source, target, {source: proxy.url}, async ({events}) => {
			const restarted = source.restart({signal: 'SIGTERM', downMs: 1000});
			await new Promise((resolve) => setTimeout(resolve, 300));
			proxy.freeze('hold');
			try {
				await restarted;
				// MONITOR cannot be back yet: only the rescan and the sweep can see these.
				const client = source.client();
				const gone = (await client.keys('seed:*')).slice(0, 100);
				expect(gone).toHaveLength(100);
				await client.del(...gone);
				await client.set('after-restart', 'x');
			} finally {
				proxy.thaw();
			}
			await waitFor(async () => said(events, /^every db of .* was read again/) && said(events, /^sweep of/), 'the resync', 60_000);
		});
		expect(run.result.code, run.result.stderr).toBe(0);
		expect(run.result.events.filter((event) => event.type === 'gap').length).toBeGreaterThan(0);
		expect(run.infos.find((info) => info.startsWith('sweep of'))).toMatch(/: ([5-9]\d|\d{3,}) target key\(s\) gone/);
		expect(await target.client().get('after-restart')).toBe('x');
		expect(await compareStandalone(source, target)).toEqual([]);
	}, 180_000);
});
