/**
 * The source cluster changes under a live migration, and keyferry follows: a master fails over to
 * its replica (CLUSTER FAILOVER), and slots holding keys migrate between masters (SETSLOT
 * IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE), both mid-sync under traffic. Each change is a
 * warning naming the slots and nodes, the moved slots are re-copied from their new master, and the
 * drained target equals the source.
 */
import type Redis from 'ioredis';
import {describe, expect, it} from 'vitest';
import {keySlot} from '../../source/replay/cluster-routing';
import {serversFixture} from '../helpers/servers-fixture';
import {startCluster, startStandalone, waitFor, type TestServer} from '../helpers/redis';
import {compareAll, expectIdentical, migrateUnderTraffic, type Run} from './migrate-cluster-run';

const {track, stateRoot, admin: adminPort, replicaOf} = serversFixture();
const fastReplicas = ['--repl-diskless-sync-delay', '0'];

const admin = (server: TestServer): Redis => adminPort(server.port);


/** Moves `slots` from one master to another the way redis-cli --cluster reshard does, keys included. */
async function migrateSlots(from: TestServer, to: TestServer, slots: number[]): Promise<number> {
	const [source, destination] = [admin(from), admin(to)];
	const [fromId, toId] = (await Promise.all([source.call('CLUSTER', 'MYID'), destination.call('CLUSTER', 'MYID')])) as [string, string];
	let moved = 0;
	for (const slot of slots) {
		await destination.call('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', fromId);
		await source.call('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', toId);
		const drain = async () => {
			for (let round = 0; round < 100; round++) {
				const keys = (await source.call('CLUSTER', 'GETKEYSINSLOT', String(slot), '50')) as string[];
				if (keys.length === 0) return;
				await source.call('MIGRATE', '127.0.0.1', String(to.port), '', '0', '5000', 'REPLACE', 'KEYS', ...keys);
				moved += keys.length;
			}
		};
		await drain();
		await destination.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', toId);
		try {
			await source.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', toId);
		} catch (error) {
			// A key that reached the old master after the last MIGRATE: the new owner's epoch reaches the
			// old master by gossip, which then drops the slot and its keys (silently, as redis-cli reshard leaves it).
			if (!/still hold keys/.test(String(error))) throw error;
			await waitFor(async () => (await ownerPort(source, slot)) === to.port, `slot ${slot} to leave ${from.port}`, 10_000);
		}
	}
	return moved;
}

async function ownerPort(client: Redis, slot: number): Promise<number | undefined> {
	const ranges = (await client.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
	return ranges.find(([first, last]) => slot >= first && slot <= last)?.[2][1];
}

/** Slots that master serves: a range of plain slots and the slots of a few of the traffic's hash tags. */
async function slotsToMove(master: TestServer): Promise<number[]> {
	const ranges = (await admin(master).call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
	const own = ranges.filter((range) => range[2][1] === master.port);
	const serves = (slot: number) => own.some(([first, last]) => slot >= first && slot <= last);
	const tagged = Array.from({length: 32}, (_, group) => keySlot(Buffer.from(`{t${group}}`))).filter(serves).slice(0, 4);
	const first = own[0]![0];
	return [...new Set([...tagged, ...Array.from({length: 60}, (_, index) => first + index)])];
}

/** `0-3` → 0, 1, 2, 3. */
function slotsOf(range: string): number[] {
	const [first, last] = range.split('-').map(Number) as [number, number | undefined];
	return Array.from({length: (last ?? first) - first + 1}, (_, index) => first + index);
}

function expectFollowed(run: Run, pattern: RegExp): void {
	expect(run.duringSyncError).toBeUndefined();
	expect(run.result.code, run.result.stderr).toBe(0);
	expect(run.result.events.at(-1)).toMatchObject({type: 'summary', exitCode: 0});
	// A failover unblocks the old master's blocked clients and the new master has not cached the traffic's scripts yet; a multi-key command on a slot half migrated is refused (TRYAGAIN).
	expect(run.traffic.unexpectedErrors.filter((error) => !/UNBLOCKED|NOSCRIPT|TRYAGAIN/.test(error))).toEqual([]);
	expect(run.warnings.some((warning) => pattern.test(warning)), run.warnings.join('\n')).toBe(true);
	// No sample taken during the change may report a difference: moved slots are left alone until re-copied.
	expect(run.result.events.filter((event) => event.type === 'discrepancy')).toEqual([]);
}

describe('keyferry migrate follows a source cluster that changes', () => {
	it('a source master fails over to its replica mid-sync: the new master gets its own stream, its slots are re-copied', async () => {
		const [source, target] = await Promise.all([startCluster({masters: 3, replicasPerMaster: 1, args: fastReplicas}), startStandalone()]);
		track(source);
		track(target);
		const old = source.masters[1]!;
		const heir = await replicaOf(source, old);
		const run = await migrateUnderTraffic({
			source: {cluster: source},
			target: {server: target},
			stateRoot: stateRoot(),
			syncMs: 7000,
			duringSync: async () => {
				await new Promise((resolve) => setTimeout(resolve, 700));
				await admin(heir).call('CLUSTER', 'FAILOVER');
				await waitFor(async () => (await admin(heir).info('replication')).includes('role:master'), 'the replica to take over', 10_000);
			},
		});
		expectFollowed(run, new RegExp(`^source-topology: source topology changed: \\d+ slots \\([\\d, -]+\\) moved from 127\\.0\\.0\\.1:${old.port} to 127\\.0\\.0\\.1:${heir.port}`));
		expect(run.result.stderr).toContain(`following source master 127.0.0.1:${heir.port}`);
		expect(run.result.stderr).toContain(`stopped following 127.0.0.1:${old.port}`);
		expectIdentical(await compareAll({cluster: source}, {server: target}));
	});

	it('--read-from replicas: the replica read is promoted mid-sync; its stream goes on as the master, the slots are re-copied', async () => {
		const [source, target] = await Promise.all([startCluster({masters: 3, replicasPerMaster: 1, args: fastReplicas}), startStandalone()]);
		track(source);
		track(target);
		const old = source.masters[2]!;
		const heir = await replicaOf(source, old);
		const run = await migrateUnderTraffic({
			source: {cluster: source},
			target: {server: target},
			stateRoot: stateRoot(),
			flags: ['--read-from', 'replicas'],
			syncMs: 7000,
			duringSync: async () => {
				await new Promise((resolve) => setTimeout(resolve, 700));
				await admin(heir).call('CLUSTER', 'FAILOVER');
				await waitFor(async () => (await admin(heir).info('replication')).includes('role:master'), 'the replica to take over', 10_000);
			},
		});
		expectFollowed(run, new RegExp(`^source-topology: source topology changed: \\d+ slots \\([\\d, -]+\\) moved from 127\\.0\\.0\\.1:${old.port} to 127\\.0\\.0\\.1:${heir.port}`));
		expect(run.warnings).toContainEqual(expect.stringMatching(new RegExp(`^source-replica: replica 127\\.0\\.0\\.1:${heir.port} .*was promoted to master`)));
		// The stream read from the replica simply goes on: no new stream, none stopped.
		expect(run.result.stderr).not.toContain('following source master');
		expect(run.result.stderr).not.toContain('stopped following');
		expectIdentical(await compareAll({cluster: source}, {server: target}));
	});

	it('slots holding keys migrate between source masters mid-sync: re-copied from their new master, the old one fenced', async () => {
		const [source, target] = await Promise.all([startCluster({masters: 3}), startCluster({masters: 3})]);
		track(source);
		track(target);
		const [from, to] = [source.masters[0]!, source.masters[2]!];
		let moved = 0;
		let slots: number[] = [];
		const run = await migrateUnderTraffic({
			source: {cluster: source},
			target: {cluster: target},
			stateRoot: stateRoot(),
			syncMs: 8000,
			duringSync: async () => {
				slots = await slotsToMove(from);
				await new Promise((resolve) => setTimeout(resolve, 500));
				moved = await migrateSlots(from, to, slots);
			},
		});
		expect(run.duringSyncError).toBeUndefined();
		expect(moved).toBeGreaterThan(0);
		const change = new RegExp(`^source-topology: source topology changed: \\d+ slots? \\(([\\d, -]+)\\) moved from 127\\.0\\.0\\.1:${from.port} to 127\\.0\\.0\\.1:${to.port}`);
		expectFollowed(run, change);
		// The warnings name every slot that moved (polls may see them settle in several steps).
		const named = run.warnings.flatMap((warning) => (change.exec(warning)?.[1] ?? '').split(', ').filter(Boolean).flatMap(slotsOf));
		expect(new Set(named)).toEqual(new Set(slots));
		expectIdentical(await compareAll({cluster: source}, {cluster: target}));
	});
});
