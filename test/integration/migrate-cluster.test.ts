/**
 * The core invariant with clusters on either side: a live migration under mixed traffic, stopped
 * with SIGTERM (drain to a barrier on every source master), leaves the target identical to the
 * source — standalone → cluster (with --db-map), cluster → cluster, cluster → standalone, each
 * with 3-master clusters.
 */
import {describe, expect, it} from 'vitest';
import {serversFixture} from '../helpers/servers-fixture';
import {startCluster, startStandalone, type TestCluster, type TestServer} from '../helpers/redis';
import {compareAll, expectDrained, expectIdentical, migrateUnderTraffic, type Run} from './migrate-cluster-run';

const {track, stateRoot} = serversFixture();

const standalone = (): Promise<TestServer> => startStandalone().then(track);
const cluster = (): Promise<TestCluster> => startCluster({masters: 3}).then(track);

function expectClean(run: Run): void {
	expectDrained(run);
	expect(run.stages).toEqual(expect.arrayContaining(['capture:ready', 'copy:ready', 'sync:running']));
	expect(run.traffic.unexpectedErrors).toEqual([]);
	expect(run.traffic.ops).toBeGreaterThan(3000);
	expect(run.result.events.at(-1)!['keysCopied']).toBeGreaterThan(700);
	expect(run.warnings).toEqual([]);
}

describe('keyferry migrate with clusters', () => {
	it('standalone (db 3, --db-map 3:0) → cluster: splits or re-copies cross-slot commands, loses no write', async () => {
		const [source, target] = await Promise.all([standalone(), cluster()]);
		const run = await migrateUnderTraffic({source: {server: source, db: 3}, target: {cluster: target}, stateRoot: stateRoot(), flags: ['--db-map', '3:0']});
		expectClean(run);
		// The traffic's multi-key commands spread over slots; some could only be re-copied.
		expect(run.result.events.at(-1)!['recopies']).toBeGreaterThan(0);
		expectIdentical(await compareAll({server: source, db: 3}, {cluster: target}));
		await Promise.all([source.stop(), target.stop()]);
	});

	it('cluster → cluster: one stream per source master, writes routed by slot', async () => {
		const [source, target] = await Promise.all([cluster(), cluster()]);
		const run = await migrateUnderTraffic({source: {cluster: source}, target: {cluster: target}, stateRoot: stateRoot()});
		expectClean(run);
		expectIdentical(await compareAll({cluster: source}, {cluster: target}));
		await Promise.all([source.stop(), target.stop()]);
	});

	it('cluster → standalone: three streams into one target', async () => {
		const [source, target] = await Promise.all([cluster(), standalone()]);
		const run = await migrateUnderTraffic({source: {cluster: source}, target: {server: target}, stateRoot: stateRoot()});
		expectClean(run);
		expectIdentical(await compareAll({cluster: source}, {server: target}));
		await Promise.all([source.stop(), target.stop()]);
	});
});
