/**
 * The proof of the core invariant: a live standalone → standalone migration under heavy mixed
 * traffic (every command family, several dbs, binary data, blocking consumers, scripts,
 * transactions, short TTLs), stopped with SIGTERM after the traffic stops, leaves the target
 * identical to the source — key by key, type, value and TTL within 1 s.
 */
import {existsSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import type {ChildProcess} from 'node:child_process';
import Redis from 'ioredis';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import type {DiscrepancyRecord} from '../../source/engine/events';
import {fullCompare} from '../../source/verify/full-compare';
import {bundlePath, runCli} from '../helpers/cli';
import {startStandalone, type TestServer} from '../helpers/redis';
import {seedDataset} from '../helpers/seed';
import {startTraffic} from '../helpers/traffic';

let source: TestServer;
let target: TestServer;
let stateDir: string;

beforeAll(async () => {
	if (!existsSync(bundlePath)) throw new Error('dist/keyferry.js is missing: run `npm run build` (npm test does it)');
	[source, target] = await Promise.all([startStandalone(), startStandalone()]);
	stateDir = mkdtempSync(join(tmpdir(), 'keyferry-state-'));
});

afterAll(async () => {
	await Promise.all([source?.stop(), target?.stop()]);
	rmSync(stateDir, {recursive: true, force: true});
});

async function compareAll(): Promise<DiscrepancyRecord[]> {
	const found: DiscrepancyRecord[] = [];
	const clients: Redis[] = [];
	const open = (server: TestServer) => async (db: number) => {
		const client = new Redis({host: '127.0.0.1', port: server.port, db});
		clients.push(client);
		return client;
	};
	try {
		await fullCompare({sourceFor: open(source), targetFor: open(target)}, {ttlToleranceMs: 1000, onDiscrepancy: (record) => found.push(record)});
	} finally {
		for (const client of clients) client.disconnect();
	}
	return found;
}

describe('keyferry migrate, standalone → standalone', () => {
	it('loses no write under live traffic', async () => {
		const dbs = [0, 1, 2];
		await seedDataset({port: source.port, dbs, keys: 1500, bigScale: 0.25, seed: 7});
		const traffic = startTraffic({port: source.port, dbs, connections: 6, opsPerSecond: 3000, seed: 11});
		let trafficStats: Awaited<ReturnType<typeof traffic.stop>> | undefined;
		let stopping = false;
		const stages: string[] = [];
		const stop = async (child: ChildProcess) => {
			if (stopping) return;
			stopping = true;
			// Let traffic run through the live sync for a while, then stop it and ask keyferry to drain.
			await new Promise((resolve) => setTimeout(resolve, 4000));
			trafficStats = await traffic.stop();
			child.kill('SIGTERM');
		};
		const result = await runCli(['migrate', '--headless', '--yes', '--state-dir', stateDir, '--source', source.url, '--target', target.url], {
			timeoutMs: 120_000,
			onEvent: (event, child) => {
				if (event.type === 'stage') stages.push(`${String(event['stage'])}:${String(event['status'])}`);
				if (event.type === 'stage' && event['stage'] === 'sync') void stop(child);
				if (event.type === 'error') void traffic.stop();
			},
		});
		if (!stopping) await traffic.stop();
		expect(result.code, result.stderr).toBe(0);
		expect(stages).toEqual(expect.arrayContaining(['capture:running', 'capture:ready', 'copy:running', 'copy:ready', 'sync:running']));
		expect(trafficStats?.unexpectedErrors).toEqual([]);
		expect(trafficStats!.ops).toBeGreaterThan(5000);
		const summary = result.events.at(-1)!;
		expect(summary).toMatchObject({type: 'summary', exitCode: 0});
		expect(summary['keysCopied']).toBeGreaterThan(1500);
		expect(result.stderr).toContain('barrier passed');
		const differences = await compareAll();
		expect(differences).toEqual([]);
	});
});
