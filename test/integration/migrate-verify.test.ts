/**
 * The live verifier: marked samples during sync and verify report no false discrepancy under
 * heavy traffic, find differences planted on the target, and repair them with --repair.
 */
import type {ChildProcess} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {runCli} from '../helpers/cli';
import {migrationFixture} from '../helpers/migration';
import {seedDataset} from '../helpers/seed';
import {startTraffic} from '../helpers/traffic';

const {pair, stateDir} = migrationFixture();

describe('live verification', () => {
	it('reports no false discrepancy while traffic runs, and the verify stage becomes ready', async () => {
		const [source, target] = await pair();
		const dbs = [0, 1];
		await seedDataset({port: source.port, dbs, keys: 800, bigScale: 0.1, seed: 21});
		const traffic = startTraffic({port: source.port, dbs, connections: 6, opsPerSecond: 3000, seed: 22});
		let stopped = false;
		const result = await runCli(
			['migrate', '--headless', '--yes', '--verify-rate', '400', '--verify-samples', '1500', '--state-dir', stateDir(), '--source', source.url, '--target', target.url],
			{
				timeoutMs: 120_000,
				onEvent: (event, child) => {
					if (stopped || event.type !== 'stage' || event['stage'] !== 'verify' || event['status'] !== 'ready') return;
					stopped = true;
					void traffic.stop().then(() => child.kill('SIGTERM'));
				},
			},
		);
		const stats = await traffic.stop();
		expect(stats.unexpectedErrors).toEqual([]);
		expect(result.code, result.stderr).toBe(0);
		expect(result.events.filter((event) => event.type === 'discrepancy')).toEqual([]);
		const summary = result.events.at(-1)!;
		expect(summary).toMatchObject({type: 'summary', exitCode: 0, discrepancies: 0});
		expect(summary['samples']).toBeGreaterThanOrEqual(1500);
	}, 120_000);

	it('finds differences planted on the target, re-checks them, and repairs them with --repair', async () => {
		const [source, target] = await pair();
		const writer = source.client();
		const keys = Array.from({length: 300}, (_, i) => `planted:${i}`);
		for (const [i, key] of keys.entries()) {
			if (i % 3 === 0) await writer.set(key, `value-${i}`);
			if (i % 3 === 1) await writer.hset(key, {a: '1', b: '2'});
			if (i % 3 === 2) await writer.rpush(key, 'x', 'y', 'z');
		}
		const planted = async () => {
			const tamper = target.client();
			for (const [i, key] of keys.entries()) {
				if (i % 5 === 0) await tamper.del(key);
				else if (i % 3 === 0) await tamper.set(key, 'tampered');
				else if (i % 3 === 1) await tamper.hset(key, 'a', 'changed');
				else await tamper.expire(key, 3600);
			}
		};
		let phase: 'waiting' | 'planted' | 'stopping' = 'waiting';
		const kinds = new Set<string>();
		const stop = (child: ChildProcess) => {
			if (phase !== 'planted') return;
			phase = 'stopping';
			child.kill('SIGTERM');
		};
		const result = await runCli(['migrate', '--headless', '--yes', '--repair', '--verify-rate', '600', '--verify-samples', '100000', '--state-dir', stateDir(), '--source', source.url, '--target', target.url], {
			timeoutMs: 90_000,
			onEvent: (event, child) => {
				if (event.type === 'stage' && event['stage'] === 'sync' && phase === 'waiting') void planted().then(() => (phase = 'planted'));
				if (event.type === 'discrepancy') kinds.add(String(event['kind']));
				if (kinds.size >= 3) stop(child);
			},
		});
		expect(result.code, result.stderr).toBe(0);
		expect([...kinds].sort()).toEqual(expect.arrayContaining(['missing', 'ttl', 'value']));
		expect(result.events.at(-1)!['discrepancies']).toBeGreaterThan(0);
		const first = result.events.find((event) => event.type === 'discrepancy')!;
		expect(String(first['key'])).toMatch(/^planted:\d+$/);
		expect(result.stderr).toContain('to repair it');
		// Every repaired key now matches; keys the sampler had not reached yet may still differ.
		const repaired = result.events.filter((event) => event.type === 'discrepancy').map((event) => String(event['key']));
		const check = target.client();
		for (const key of repaired) {
			const index = Number(key.split(':')[1]);
			const type = await check.type(key);
			expect(type, key).toBe(index % 3 === 0 ? 'string' : index % 3 === 1 ? 'hash' : 'list');
			expect(await check.ttl(key), key).toBe(-1);
		}
	}, 120_000);

	it('exits 3 when a confirmed discrepancy was not repaired', async () => {
		const [source, target] = await pair();
		const writer = source.client();
		for (let i = 0; i < 50; i++) await writer.set(`k:${i}`, String(i));
		let planted = false;
		let stopping = false;
		const dir = stateDir();
		const result = await runCli(['migrate', '--headless', '--yes', '--verify-rate', '500', '--state-dir', dir, '--source', source.url, '--target', target.url], {
			timeoutMs: 60_000,
			onEvent: (event, child) => {
				if (event.type === 'stage' && event['stage'] === 'sync' && !planted) {
					planted = true;
					void target.client().del(...Array.from({length: 50}, (_, i) => `k:${i}`));
				}
				if (event.type === 'discrepancy' && !stopping) {
					stopping = true;
					child.kill('SIGTERM');
				}
			},
		});
		expect(result.code).toBe(3);
		expect(result.events.find((event) => event.type === 'discrepancy')).toMatchObject({kind: 'missing', db: 0});
		expect(result.events.at(-1)).toMatchObject({type: 'summary', exitCode: 3});
		const saved = readFileSync(join(dir, 'discrepancies.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as {key: string; kind: string});
		expect(saved.length).toBeGreaterThan(0);
		expect(saved[0]).toMatchObject({kind: 'missing'});
		expect(saved[0]!.key).toMatch(/^k:\d+$/);
	}, 120_000);
});
