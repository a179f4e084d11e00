/**
 * kill -9 at any point, then the same command again: the migration continues from the state dir
 * and ends with zero differences, although MONITOR saw nothing while keyferry was down (the
 * application kept writing and deleting). Killed during copy, during sync, during the cutover
 * (where the application already writes to the target: its keys there are kept) and after it.
 */
import type {ChildProcess} from 'node:child_process';
import {existsSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {runCli, type CliResult} from '../helpers/cli';
import {compareStandalone, migrationFixture} from '../helpers/migration';
import type {TestServer} from '../helpers/redis';
import {startTraffic, type Traffic} from '../helpers/traffic';

const {pair, stateDir} = migrationFixture();

type CliEvent = CliResult['events'][number];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const quick = ['--headless', '--yes', '--verify-rate', '1000', '--verify-samples', '200'];

async function seed(source: TestServer, keys: number): Promise<void> {
	const client = source.client();
	for (let start = 0; start < keys; start += 5000) {
		const batch = client.pipeline();
		for (let i = start; i < Math.min(keys, start + 5000); i++) {
			batch.set(`seed:${i}`, `v${i}`);
			if (i % 10 === 0) batch.hset(`seed:h:${i}`, 'f', String(i));
		}
		await batch.exec();
	}
}

/** What the application does while keyferry is down: writes, deletes, a key that expires unseen. */
async function writeWhileDown(source: TestServer): Promise<void> {
	const batch = source.client().pipeline();
	for (let i = 0; i < 200; i++) batch.del(`seed:${i}`).set(`seed:${1000 + i}`, `changed-while-down-${i}`);
	batch.set('down:new', 'x').set('down:expiring', 'y', 'PX', 50);
	await batch.exec();
}

/**
 * Runs migrate until `killWhen` says so, then kill -9. Resolves with the events of the killed run.
 * The command is bounded: it always ends by the kill or the timeout.
 */
async function runUntilKilled(args: string[], killWhen: (event: CliEvent, seen: CliEvent[]) => boolean, onKill?: () => Promise<void>): Promise<CliEvent[]> {
	const seen: CliEvent[] = [];
	let killing = false;
	const result = await runCli(args, {
		timeoutMs: 90_000,
		onEvent: (event, child) => {
			seen.push(event);
			if (killing || !killWhen(event, seen)) return;
			killing = true;
			void (onKill ?? (() => Promise.resolve()))().then(() => child.kill('SIGKILL'));
		},
	});
	expect(result.code, result.stderr).toBeNull();
	return seen;
}

/** Runs migrate until `stopWhen`, then stops the traffic, lets keyferry catch up and drains it with SIGTERM. */
async function runToTheEnd(args: string[], traffic: Traffic, stopWhen: (event: CliEvent) => boolean): Promise<CliResult> {
	let stopping = false;
	const stop = async (child: ChildProcess) => {
		await traffic.stop();
		await sleep(1000);
		child.kill('SIGTERM');
	};
	const result = await runCli(args, {
		timeoutMs: 120_000,
		onEvent: (event, child) => {
			if (stopping || !stopWhen(event)) return;
			stopping = true;
			void stop(child);
		},
	});
	expect(result.code, result.stderr).toBe(0);
	return result;
}

const stageIs = (event: CliEvent, stage: string, status?: string) => event.type === 'stage' && event['stage'] === stage && (status === undefined || event['status'] === status);

describe('keyferry migrate after kill -9', () => {
	it('killed during the copy: the same command again copies every key and sweeps what was deleted meanwhile', async () => {
		const [source, target] = await pair();
		await seed(source, 30_000);
		const dir = stateDir();
		const args = ['migrate', ...quick, '--state-dir', dir, '--source', source.url, '--target', target.url];
		const traffic = startTraffic({port: source.port, connections: 4, opsPerSecond: 800, seed: 31});
		const killed = await runUntilKilled([...args, '--copy-rate', '3000'], (event) => event.type === 'stats' && event['stage'] === 'copy' && Number(event['keysCopied']) > 3000);
		expect(killed.some((event) => stageIs(event, 'copy', 'running'))).toBe(true);
		expect(JSON.parse(readFileSync(join(dir, 'progress.json'), 'utf8'))).toMatchObject({stage: 'copy'});
		await writeWhileDown(source);

		const resumed = await runToTheEnd(args, traffic, (event) => stageIs(event, 'verify', 'ready'));
		const info = resumed.events.find((event) => event.type === 'info' && String(event['message']).startsWith('resuming migration'));
		expect(info?.['message']).toMatch(/at copy .*every key is copied again/);
		expect(resumed.events.filter((event) => event.type === 'gap')).toHaveLength(1);
		expect(await target.client().exists('seed:0', 'down:expiring')).toBe(0);
		expect(await compareStandalone(source, target)).toEqual([]);
	}, 180_000);

	it('killed during the sync: resumes at sync with --resume and ends with zero differences', async () => {
		const [source, target] = await pair();
		await seed(source, 10_000);
		const dir = stateDir();
		const args = ['migrate', '--headless', '--yes', '--verify-rate', '1000', '--verify-samples', '1000000', '--state-dir', dir, '--source', source.url, '--target', target.url];
		const traffic = startTraffic({port: source.port, connections: 4, opsPerSecond: 1500, seed: 32});
		let syncedAt = 0;
		await runUntilKilled(args, (event) => {
			if (stageIs(event, 'sync', 'ready')) syncedAt = Date.now();
			return syncedAt > 0 && Date.now() - syncedAt > 1500;
		});
		await writeWhileDown(source);

		const resumed = await runToTheEnd([...args, '--resume'], traffic, (event) => stageIs(event, 'verify', 'running'));
		const stages = resumed.events.filter((event) => event.type === 'stage' && event['status'] === 'running').map((event) => event['stage']);
		expect(stages).toEqual(['preflight', 'capture', 'copy', 'sync', 'verify']);
		expect(resumed.events.find((event) => event.type === 'info' && String(event['message']).startsWith('resuming'))?.['message']).toMatch(/at verify/);
		expect(await compareStandalone(source, target)).toEqual([]);
	}, 180_000);

	it('killed during the cutover and after it: keeps what the application wrote to the target, then resumes in done', async () => {
		const [source, target] = await pair();
		await seed(source, 5000);
		const dir = stateDir();
		const args = ['migrate', ...quick, '--auto-cutover', '--cutover-quiet', '1500', '--state-dir', dir, '--source', source.url, '--target', target.url];
		const traffic = startTraffic({port: source.port, connections: 4, opsPerSecond: 1000, seed: 33});
		const app = target.client();
		// The cutover stage waits while the traffic keeps the source busy; the application starts writing to the target.
		const first = await runUntilKilled(
			args,
			(event) => event.type === 'info' && String(event['message']).startsWith('reverse capture running'),
			async () => {
				await app.set('seed:4000', 'written-on-the-target');
				await app.set('app:new', 'created-on-the-target');
				await sleep(300);
			},
		);
		expect(first.some((event) => stageIs(event, 'cutover', 'running'))).toBe(true);
		const progress = JSON.parse(readFileSync(join(dir, 'progress.json'), 'utf8')) as {stage: string; reverse: {fromOffset: number}};
		expect(progress.stage).toBe('cutover');
		await writeWhileDown(source);

		// Resumed: back in the cutover stage; the application stops writing to the source, the cutover completes.
		const second = await runUntilKilled(args, (event) => {
			if (stageIs(event, 'cutover', 'running')) void traffic.stop();
			return stageIs(event, 'done', 'running');
		});
		const resumedStages = second.filter((event) => event.type === 'stage' && event['status'] === 'running').map((event) => event['stage']);
		expect(resumedStages).toEqual(['preflight', 'capture', 'copy', 'sync', 'cutover', 'done']);
		expect(second.find((event) => event.type === 'info' && String(event['message']).includes('left as the application wrote them'))?.['message']).toMatch(/^2 copied key/);
		const point = JSON.parse(readFileSync(join(dir, 'cutover.json'), 'utf8')) as {reverse: Array<{fromOffset: number}>};
		expect(point.reverse[0]?.fromOffset).toBe(progress.reverse.fromOffset);

		// Killed again in done: the same command resumes in done, following the target for a rollback.
		const third = await runCli(args, {
			timeoutMs: 60_000,
			onEvent: (event, child) => {
				if (stageIs(event, 'done', 'running')) child.kill('SIGTERM');
			},
		});
		expect(third.code, third.stderr).toBe(0);
		expect(third.events.filter((event) => event.type === 'stage' && event['status'] === 'running').map((event) => event['stage'])).toEqual(['preflight', 'done']);
		expect(existsSync(join(dir, 'lock'))).toBe(false);

		const differences = await compareStandalone(source, target);
		expect(differences.map((record) => [record.key, record.kind]).sort()).toEqual([
			['app:new', 'extra'],
			['seed:4000', 'value'],
		]);
		expect(await app.get('seed:4000')).toBe('written-on-the-target');
	}, 240_000);
});
