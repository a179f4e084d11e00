/**
 * --read-from replicas: every source master is captured and read on one of its replicas (MONITOR,
 * the copy's marked reads, samples and barriers), so no primary carries a MONITOR; the drained
 * target still equals the source, for a 3-master cluster with replicas and for a standalone
 * server with a replica.
 */
import Redis from 'ioredis';
import {describe, expect, it} from 'vitest';
import {serversFixture} from '../helpers/servers-fixture';
import {startCluster, startReplica, startStandalone} from '../helpers/redis';
import {compareAll, expectDrained, expectIdentical, migrateUnderTraffic} from './migrate-cluster-run';

const {track, stateRoot} = serversFixture();

/** Connections in MONITOR mode on a server (CLIENT LIST flag O), and keyferry's connections by name. */
async function clientsOf(port: number): Promise<{monitors: number; keyferry: string[]}> {
	const client = new Redis({host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0});
	client.on('error', () => {});
	try {
		await client.connect();
		const lines = String(await client.call('CLIENT', 'LIST')).trim().split('\n');
		return {
			monitors: lines.filter((line) => /(?:^|\s)flags=\S*O/.test(line)).length,
			keyferry: lines.map((line) => /(?:^|\s)name=(keyferry-\S+)/.exec(line)?.[1]).filter((name): name is string => name !== undefined),
		};
	} finally {
		client.disconnect();
	}
}

describe('keyferry migrate --read-from replicas', () => {
	it('cluster (3 masters with replicas) → standalone: every stream on a replica, no MONITOR on any primary', async () => {
		const [source, target] = await Promise.all([startCluster({masters: 3, replicasPerMaster: 1, args: ['--repl-diskless-sync-delay', '0']}), startStandalone()]);
		track(source);
		track(target);
		let primaries: Array<{monitors: number; keyferry: string[]}> = [];
		let replicas: Array<{monitors: number; keyferry: string[]}> = [];
		const run = await migrateUnderTraffic({
			source: {cluster: source},
			target: {server: target},
			stateRoot: stateRoot(),
			flags: ['--read-from', 'replicas'],
			duringSync: async () => {
				primaries = await Promise.all(source.masters.map((master) => clientsOf(master.port)));
				replicas = await Promise.all(source.replicas.map((replica) => clientsOf(replica.port)));
			},
		});
		expectDrained(run);
		expect(run.traffic.unexpectedErrors).toEqual([]);
		expect(run.warnings).toEqual([]);
		expect(primaries.map((primary) => primary.monitors)).toEqual([0, 0, 0]);
		// The primaries only answer the catch-up checks before barriers (INFO), never a read.
		expect(primaries.flatMap((primary) => primary.keyferry).filter((name) => name !== 'keyferry-topology')).toEqual([]);
		expect(replicas.map((replica) => replica.monitors)).toEqual([1, 1, 1]);
		for (const replica of replicas) expect(replica.keyferry).toEqual(expect.arrayContaining(['keyferry-monitor', 'keyferry-marker', 'keyferry-scan']));
		const preflight = run.result.events.find((event) => event.type === 'preflight')!['report'] as {source: {readers: Array<{master: string; address: string}>}};
		expect(preflight.source.readers.map((reader) => reader.address).sort()).toEqual(source.replicas.map((replica) => `127.0.0.1:${replica.port}`).sort());
		expectIdentical(await compareAll({cluster: source}, {server: target}));
	});

	it('standalone with a replica → standalone: captured and read on the replica', async () => {
		const [source, target] = await Promise.all([startStandalone(), startStandalone()]);
		track(source);
		track(target);
		const replica = await startReplica(source);
		track(replica);
		let primary = {monitors: -1, keyferry: [] as string[]};
		let onReplica = {monitors: -1, keyferry: [] as string[]};
		const run = await migrateUnderTraffic({
			source: {server: source},
			target: {server: target},
			stateRoot: stateRoot(),
			flags: ['--read-from', 'replicas'],
			duringSync: async () => {
				[primary, onReplica] = await Promise.all([clientsOf(source.port), clientsOf(replica.port)]);
			},
		});
		expectDrained(run);
		expect(run.traffic.unexpectedErrors).toEqual([]);
		expect(run.warnings).toEqual([]);
		expect(primary.monitors).toBe(0);
		expect(onReplica.monitors).toBe(1);
		expect(onReplica.keyferry).toEqual(expect.arrayContaining(['keyferry-monitor', 'keyferry-marker', 'keyferry-scan', 'keyferry-guard']));
		// The replica's stream is deterministic: scripts, SPOP, XADD * and blocking pops need no re-copy.
		const copied = run.result.events.at(-1)!;
		expect(copied['keysCopied']).toBeGreaterThan(700);
		expectIdentical(await compareAll({server: source}, {server: target}));
	});
});
