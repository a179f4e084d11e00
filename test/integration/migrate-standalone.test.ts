/**
 * The proof of the core invariant: a live standalone → standalone migration under heavy mixed
 * traffic (every command family, several dbs, binary data, blocking consumers, scripts,
 * transactions, short TTLs), stopped with a signal after the traffic stops, leaves the target
 * identical to the source — key by key, type, value and TTL within 1 s.
 */
import type {ChildProcess} from 'node:child_process';
import {describe, expect, it} from 'vitest';
import {runCli, type CliResult} from '../helpers/cli';
import {compareStandalone, migrationFixture} from '../helpers/migration';
import type {TestServer} from '../helpers/redis';
import {seedDataset} from '../helpers/seed';
import {startTraffic, type TrafficStats} from '../helpers/traffic';

const {pair, stateDir} = migrationFixture();

interface Run {
	result: CliResult;
	stages: string[];
	traffic: TrafficStats;
}

/** Seeds, starts traffic, migrates with `flags`, lets sync run, stops traffic, then sends `signal`. */
async function migrateUnderTraffic(source: TestServer, target: TestServer, flags: string[], signal: NodeJS.Signals = 'SIGTERM'): Promise<Run> {
	const dbs = [0, 1, 2];
	await seedDataset({port: source.port, dbs, keys: 1500, bigScale: 0.25, seed: 7});
	const traffic = startTraffic({port: source.port, dbs, connections: 6, opsPerSecond: 3000, seed: 11});
	let trafficStats: TrafficStats | undefined;
	let stopping = false;
	const stages: string[] = [];
	const stop = async (child: ChildProcess) => {
		if (stopping) return;
		stopping = true;
		// Let traffic run through the live sync for a while, then stop it and ask keyferry to drain.
		await new Promise((resolve) => setTimeout(resolve, 4000));
		trafficStats = await traffic.stop();
		child.kill(signal);
	};
	const result = await runCli(['migrate', '--headless', '--yes', '--state-dir', stateDir(), '--source', source.url, '--target', target.url, ...flags], {
		timeoutMs: 120_000,
		onEvent: (event, child) => {
			if (event.type === 'stage') stages.push(`${String(event['stage'])}:${String(event['status'])}`);
			if (event.type === 'stage' && event['stage'] === 'sync') void stop(child);
		},
	});
	trafficStats ??= await traffic.stop();
	return {result, stages, traffic: trafficStats};
}

describe('keyferry migrate, standalone → standalone', () => {
	it('loses no write under live traffic (DUMP/RESTORE at markers)', async () => {
		const [source, target] = await pair();
		const {result, stages, traffic} = await migrateUnderTraffic(source, target, []);
		expect(result.code, result.stderr).toBe(0);
		expect(stages).toEqual(expect.arrayContaining(['capture:running', 'capture:ready', 'copy:running', 'copy:ready', 'sync:running']));
		expect(traffic.unexpectedErrors).toEqual([]);
		expect(traffic.ops).toBeGreaterThan(5000);
		const summary = result.events.at(-1)!;
		expect(summary).toMatchObject({type: 'summary', exitCode: 0});
		expect(summary['keysCopied']).toBeGreaterThan(1500);
		expect(summary['recopies']).toBeGreaterThan(0);
		expect(result.stderr).toContain('barrier passed');
		expect(result.events.filter((event) => event.type === 'warning')).toEqual([]);
		expect(await compareStandalone(source, target)).toEqual([]);
	}, 120_000);

	it('loses no write with the logical (type-by-type) copy, stopped by SIGINT', async () => {
		const [source, target] = await pair();
		const {result, traffic} = await migrateUnderTraffic(source, target, ['--copy-mode', 'logical'], 'SIGINT');
		expect(result.code, result.stderr).toBe(0);
		expect(traffic.unexpectedErrors).toEqual([]);
		expect(result.events.find((event) => event.type === 'preflight')).toMatchObject({report: {copyMode: 'logical'}});
		expect(await compareStandalone(source, target)).toEqual([]);
	}, 120_000);

	it('aborts with 130 on a second signal during the drain', async () => {
		const [source, target] = await pair();
		await source.client().set('k', 'v');
		let signalled = false;
		const pause = async (child: ChildProcess) => {
			// A paused target holds the drain at its barrier long enough for the second signal.
			await target.client().call('CLIENT', 'PAUSE', '3000', 'ALL');
			await source.client().set('k', 'v2');
			await new Promise((resolve) => setTimeout(resolve, 200));
			child.kill('SIGINT');
			await new Promise((resolve) => setTimeout(resolve, 300));
			child.kill('SIGINT');
		};
		const result = await runCli(['migrate', '--headless', '--yes', '--state-dir', stateDir(), '--source', source.url, '--target', target.url], {
			timeoutMs: 30_000,
			onEvent: (event, child) => {
				if (signalled || event.type !== 'stage' || event['stage'] !== 'sync') return;
				signalled = true;
				void pause(child);
			},
		});
		expect(result.code).toBe(130);
		expect(result.stderr).toContain('stopping: draining to a barrier');
		expect(result.events.at(-1)).toMatchObject({type: 'summary', exitCode: 130});
	}, 120_000);
});
