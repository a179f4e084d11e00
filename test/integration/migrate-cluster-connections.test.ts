/**
 * A cluster target whose connections break without a failover: every master is reached through
 * a TCP proxy (the masters announce the proxies' ports); one proxy resets its connections,
 * another stops forwarding on the connections it carries while new ones get through (a half-open
 * connection). keyferry reconnects, gives the silent connection up, closes lost connections on the
 * server, re-copies what they never answered, and the drained target equals the source.
 */
import {describe, expect, it} from 'vitest';
import {startProxy, type TcpProxy} from '../helpers/proxy';
import {serversFixture} from '../helpers/servers-fixture';
import {startCluster, startStandalone, waitFor, type TestCluster} from '../helpers/redis';
import {compareAll, expectDrained, expectIdentical, migrateUnderTraffic} from './migrate-cluster-run';

const {track, stateRoot, admin} = serversFixture();

/** Each master announces its proxy's port to clients (the cluster bus keeps the real one). */
async function behindProxies(cluster: TestCluster): Promise<TcpProxy[]> {
	const started = await Promise.all(cluster.masters.map((master) => startProxy(master.port)));
	for (const proxy of started) track(proxy);
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
		const [source, target] = await Promise.all([startStandalone().then(track), startCluster({masters: 3}).then(track)]);
		const routes = await behindProxies(target);
		const run = await migrateUnderTraffic({
			source: {server: source},
			target: {cluster: {...target, url: routes[0]!.url}},
			stateRoot: stateRoot(),
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
