/**
 * Target failovers in the middle of the sync never lose a write: one master hands over to its
 * replica gracefully (CLUSTER FAILOVER: MOVED, resent in order), another is killed and its replica
 * takes over (replies that never came, and writes the dead master acknowledged but may not have
 * replicated: re-copied). Traffic runs throughout; the drained target equals the source.
 */
import type Redis from 'ioredis';
import {describe, expect, it} from 'vitest';
import {serversFixture} from '../helpers/servers-fixture';
import {startCluster, startStandalone, waitFor, type TestServer} from '../helpers/redis';
import {compareAll, expectDrained, expectIdentical, migrateUnderTraffic} from './migrate-cluster-run';

const {track, stateRoot, admin: adminPort, replicaOf} = serversFixture();
/** Replicas sync at once instead of after the default 5 s diskless-sync delay. */
const fastReplicas = ['--repl-diskless-sync-delay', '0'];

const admin = (server: TestServer): Redis => adminPort(server.port);


async function promoted(server: TestServer): Promise<void> {
	await waitFor(async () => (await admin(server).info('replication')).includes('role:master'), `${server.port} to become a master`, 10_000);
}

describe('keyferry migrate into a cluster whose masters fail over', () => {
	it('loses no write through a graceful failover and a killed master', async () => {
		const [source, target] = await Promise.all([startStandalone().then(track), startCluster({masters: 3, replicasPerMaster: 1, args: fastReplicas}).then(track)]);
		const cluster = target;
		const graceful = await replicaOf(cluster, cluster.masters[1]!);
		const victim = cluster.masters[2]!;
		const heir = await replicaOf(cluster, victim);
		const run = await migrateUnderTraffic({
			source: {server: source},
			target: {cluster},
			stateRoot: stateRoot(),
			syncMs: 3000,
			duringSync: async () => {
				await new Promise((resolve) => setTimeout(resolve, 800));
				await admin(graceful).call('CLUSTER', 'FAILOVER');
				await promoted(graceful);
				await new Promise((resolve) => setTimeout(resolve, 800));
				victim.process.kill('SIGKILL');
				await admin(heir).call('CLUSTER', 'FAILOVER', 'TAKEOVER');
				await promoted(heir);
			},
		});
		expect(run.duringSyncError).toBeUndefined();
		expectDrained(run);
		expect(run.traffic.unexpectedErrors).toEqual([]);
		// The killed master is reported, with the keys re-copied for it; nothing else goes wrong.
		expect(run.warnings.some((warning) => warning.startsWith('target-connection-lost'))).toBe(true);
		expect(run.warnings.filter((warning) => !/^target-(connection-lost|unavailable)/.test(warning))).toEqual([]);
		expectIdentical(await compareAll({server: source}, {cluster}));
	});
});
