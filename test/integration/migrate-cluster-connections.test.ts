/**
 * A cluster target whose connections break without a failover: every master is reached through
 * a TCP proxy (the masters announce the proxies' ports); one proxy resets its connections,
 * another stops forwarding on the connections it carries while new ones get through (a half-open
 * connection). keyferry reconnects, gives the silent connection up, closes lost connections on the
 * server, re-copies what they never answered, and the drained target equals the source.
 */
import {existsSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import Redis from 'ioredis';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {bundlePath} from '../helpers/cli';
import {startProxy, type TcpProxy} from '../helpers/proxy';
import {startCluster, startStandalone, waitFor, type TestCluster, type TestServer} from '../helpers/redis';
import {compareAll, expectDrained, expectIdentical, migrateUnderTraffic} from './migrate-cluster-run';

let stateRoot: string;
let source: TestServer | undefined;
let target: TestCluster | undefined;
const proxies: TcpProxy[] = [];
const admins: Redis[] = [];

beforeAll(() => {
	if (!existsSync(bundlePath)) throw new Error('dist/keyferry.js is missing: run `npm run build` (npm test does it)');
	stateRoot = mkdtempSync(join(tmpdir(), 'keyferry-state-'));
});

afterAll(async () => {
	for (const admin of admins) admin.disconnect();
	await Promise.all([...proxies.map((proxy) => proxy.close()), source?.stop(), target?.stop()]);
	rmSync(stateRoot, {recursive: true, force: true});
});

function admin(port: number): Redis {
	const client = new Redis({host: '127.0.0.1', port, maxRetriesPerRequest: 1, retryStrategy: () => null});
	client.on('error', () => {});
	admins.push(client);
	return client;
}

/** Each master announces its proxy's port to clients (the cluster bus keeps the real one). */
async function behindProxies(cluster: TestCluster): Promise<TcpProxy[]> {
	const started = await Promise.all(cluster.masters.map((master) => startProxy(master.port)));
	proxies.push(...started);
	for (const [index, master] of cluster.masters.entries()) {
		const client = admin(master.port);
		await client.config('SET', 'cluster-announce-bus-port', String(master.port + 10000));
		await client.config('SET', 'cluster-announce-port', String(started[index]!.port));
	}
	const announced = new Set(started.map((proxy) => proxy.port));
	await waitFor(async () => {
		const views = await Promise.all(cluster.masters.map((master) => admin(master.port).call('CLUSTER', 'SLOTS') as Promise<[number, number, [string, number]][]>));
		return views.every((ranges) => ranges.every((range) => announced.has(range[2][1])));
	}, 'the proxies to be announced');
	return started;
}

describe('keyferry migrate into a cluster whose connections break', () => {
	it('reconnects a reset master and gives up a half-open connection to another, re-copying what they never answered', async () => {
		[source, target] = await Promise.all([startStandalone(), startCluster({masters: 3})]);
		const routes = await behindProxies(target);
		const run = await migrateUnderTraffic({
			source: {server: source},
			target: {cluster: {...target, url: routes[0]!.url}},
			stateRoot,
			syncMs: 3000,
			duringSync: async () => {
				await new Promise((resolve) => setTimeout(resolve, 500));
				// One master's connections reset, another's left hanging.
				expect(routes[2]!.cut()).toBeGreaterThan(0);
				routes[1]!.freeze('pass');
				// keyferry waits 20 s of silence before it gives a connection up.
				await new Promise((resolve) => setTimeout(resolve, 25_000));
				routes[1]!.thaw();
			},
		});
		expect(run.duringSyncError).toBeUndefined();
		expectDrained(run);
		expect(run.traffic.unexpectedErrors).toEqual([]);
		expect(run.warnings.some((warning) => /^target-stalled: .* answers a new connection but not keyferry's/.test(warning))).toBe(true);
		expect(run.warnings.filter((warning) => warning.startsWith('target-connection-lost'))).toHaveLength(2);
		expectIdentical(await compareAll({server: source}, {cluster: target}));
	}, 120_000);
});
