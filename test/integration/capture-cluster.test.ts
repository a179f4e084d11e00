/**
 * One capture per cluster master: every write shows up exactly once, in the journal of the master
 * that owns its slot.
 */
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {Cluster} from 'ioredis';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {CaptureStream} from '../../source/capture/capture-stream';
import {Journal, type JournalReader} from '../../source/capture/journal';
import {Counters} from '../../source/engine/counters';
import {startCluster, type TestCluster} from '../helpers/redis';

describe('capture on a cluster', () => {
	let cluster: TestCluster;
	let stateDir: string;
	const streams: {port: number; journal: Journal; capture: CaptureStream; reader: JournalReader}[] = [];
	const counters = new Counters();
	const problems: string[] = [];

	beforeAll(async () => {
		stateDir = mkdtempSync(join(tmpdir(), 'keyferry-cluster-'));
		cluster = await startCluster();
		for (const master of cluster.masters) {
			const journal = await Journal.open(join(stateDir, String(master.port)), {maxMemoryWindow: 1 << 20});
			const capture = new CaptureStream({
				endpoint: {host: '127.0.0.1', port: master.port, db: 0},
				journal,
				counters,
				onGap: (gap) => problems.push(`gap on ${gap.node}`),
				onWarning: (code) => problems.push(code),
				onFatal: (code) => problems.push(code),
			});
			await capture.start();
			streams.push({port: master.port, journal, capture, reader: journal.reader(journal.end)});
		}
	});

	afterAll(async () => {
		for (const stream of streams) {
			stream.reader.close();
			await stream.capture.stop();
			await stream.journal.close();
		}
		await cluster?.stop();
		if (stateDir) rmSync(stateDir, {recursive: true, force: true});
	});

	it('sees each write once, on the master owning the key', async () => {
		const client = new Cluster([{host: '127.0.0.1', port: cluster.masters[0]!.port}]);
		try {
			const keys = Array.from({length: 300}, (_, i) => `key:${i}:${'\u00e9'.repeat(i % 3)}`);
			for (const key of keys) await client.set(key, key.length);
			const owners = new Map<string, number>();
			const slots = (await client.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
			for (const key of keys) {
				const slot = Number(await client.call('CLUSTER', 'KEYSLOT', key));
				owners.set(key, slots.find(([from, to]) => slot >= from && slot <= to)![2][1]);
			}
			const seen = new Map<string, number[]>();
			const deadline = Date.now() + 20_000;
			const total = () => [...seen.values()].reduce((sum, ports) => sum + ports.length, 0);
			await Promise.all(
				streams.map(async (stream) => {
					const expected = keys.filter((key) => owners.get(key) === stream.port).length;
					let mine = 0;
					while (mine < expected && Date.now() < deadline) {
						const batch = await stream.reader.read(1000);
						if (batch === null) break;
						for (const {entry} of batch) {
							if (entry.kind !== 'command' || entry.args[0]!.toString().toLowerCase() !== 'set') continue;
							const key = entry.args[1]!.toString('utf8');
							seen.set(key, [...(seen.get(key) ?? []), stream.port]);
							mine++;
						}
					}
				}),
			);
			expect(total()).toBe(keys.length);
			for (const key of keys) expect(seen.get(key), key).toEqual([owners.get(key)]);
			expect(new Set([...owners.values()]).size).toBe(3);
			expect(problems).toEqual([]);
		} finally {
			client.disconnect();
		}
	});
});
