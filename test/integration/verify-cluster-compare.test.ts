/**
 * fullCompare with a cluster on either side: every master is scanned, snapshots and EXISTS are
 * split by owning node and slot, and planted differences on every master are found, no more.
 */
import Redis, {Cluster} from 'ioredis';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import type {DiscrepancyRecord} from '../../source/engine/events';
import {keySlot} from '../../source/replay/cluster-routing';
import {fullCompare, type CompareSide} from '../../source/verify/full-compare';
import {startCluster, startStandalone, type TestCluster, type TestServer} from '../helpers/redis';

const keys = 600;
let cluster: TestCluster;
let server: TestServer;
const conns: Redis[] = [];
let writer: Cluster;

function open(port: number, db = 0): Redis {
	const conn = new Redis({host: '127.0.0.1', port, db, maxRetriesPerRequest: 1});
	conns.push(conn);
	return conn;
}

/** The same small dataset on a client of either kind. */
async function fill(client: Redis | Cluster): Promise<void> {
	const writes: Promise<unknown>[] = [];
	for (let i = 0; i < keys; i++) {
		switch (i % 4) {
			case 0:
				writes.push(client.set(`s:${i}`, `value ${i}`));
				break;
			case 1:
				writes.push(client.hset(`h:${i}`, 'a', String(i), 'b', 'x'));
				break;
			case 2:
				writes.push(client.rpush(`l:${i}`, 'a', 'b', String(i)));
				break;
			default:
				writes.push(client.zadd(`z:${i}`, i, 'm', 1.5, 'n'));
		}
	}
	await Promise.all(writes);
}

beforeAll(async () => {
	[cluster, server] = await Promise.all([startCluster({masters: 3}), startStandalone()]);
	writer = new Cluster([{host: '127.0.0.1', port: cluster.masters[0]!.port}], {enableAutoPipelining: true});
	const target = open(server.port);
	await Promise.all([fill(writer), fill(target)]);
	// A sorted set that grew into a skiplist and shrank keeps a -0 score; its copy, rebuilt as a
	// listpack by RESTORE, holds 0: the same set as far as Redis is concerned.
	await writer.zadd('zero', ...Array.from({length: 200}, (_, i) => [i + 1, `m${i}`]).flat());
	await writer.zadd('zero', '-0', 'z');
	await writer.zremrangebyrank('zero', 2, -1);
	await target.restore('zero', 0, (await writer.dumpBuffer('zero'))!);
	// Differences, on keys of different masters.
	await writer.del('s:0');
	await target.set('only-on-target', 'x');
	await writer.hset('h:5', 'b', 'changed');
	await writer.pexpire('l:6', 600_000);
	await writer.zadd('z:7', 2, 'n');
});

afterAll(async () => {
	writer?.disconnect();
	for (const conn of conns) conn.disconnect();
	await Promise.all([cluster?.stop(), server?.stop()]);
});

function clusterSide(): CompareSide {
	return {cluster: {masters: cluster.masters.map((master) => open(master.port))}};
}

function serverSide(): CompareSide {
	return {connectionFor: async (db) => open(server.port, db)};
}

async function compare(source: CompareSide, target: CompareSide): Promise<{checked: number; records: DiscrepancyRecord[]}> {
	const records: DiscrepancyRecord[] = [];
	const result = await fullCompare({source, target}, {dbs: [0], ttlToleranceMs: 1000, scanCount: 50, onDiscrepancy: (record) => records.push(record)});
	records.sort((a, b) => (a.key < b.key ? -1 : 1));
	return {checked: result.checked, records};
}

describe('fullCompare with clusters', () => {
	it('plants its differences on more than one master', () => {
		const owners = new Set(['s:0', 'h:5', 'l:6', 'z:7'].map((key) => Math.floor(keySlot(Buffer.from(key)) / 5462)));
		expect(owners.size).toBeGreaterThan(1);
	});

	it('cluster → standalone: finds exactly the planted differences', async () => {
		const {checked, records} = await compare(clusterSide(), serverSide());
		expect(records.map((record) => [record.key, record.kind])).toEqual([
			['h:5', 'value'],
			['l:6', 'ttl'],
			['only-on-target', 'extra'],
			['s:0', 'extra'],
			['z:7', 'value'],
		]);
		expect(checked).toBeGreaterThanOrEqual(keys);
	});

	it('standalone → cluster: the same differences seen from the other side', async () => {
		const {records} = await compare(serverSide(), clusterSide());
		expect(records.map((record) => [record.key, record.kind])).toEqual([
			['h:5', 'value'],
			['l:6', 'ttl'],
			['only-on-target', 'missing'],
			['s:0', 'missing'],
			['z:7', 'value'],
		]);
	});

	it('cluster → cluster: a cluster equals itself', async () => {
		const {checked, records} = await compare(clusterSide(), clusterSide());
		expect(records).toEqual([]);
		expect(checked).toBeGreaterThanOrEqual(keys);
	});
});
