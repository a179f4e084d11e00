/**
 * Shared by the cluster migration tests: run `keyferry migrate` under live traffic, stop it with
 * SIGTERM after the sync has run a while, and compare both sides in full (either may be a cluster).
 */
import {mkdtempSync} from 'node:fs';
import {join} from 'node:path';
import type {ChildProcess} from 'node:child_process';
import Redis from 'ioredis';
import {expect} from 'vitest';
import type {DiscrepancyRecord} from '../../source/engine/events';
import {fullCompare, type CompareSide} from '../../source/verify/full-compare';
import {runCli, type CliResult} from '../helpers/cli';
import type {TestCluster, TestServer} from '../helpers/redis';
import {seedDataset} from '../helpers/seed';
import {startTraffic, type TrafficStats} from '../helpers/traffic';

/** A standalone server (optionally one of its dbs), or a cluster. */
export type Endpoint = {server: TestServer; db?: number} | {cluster: TestCluster};

export function urlOf(endpoint: Endpoint): string {
	return 'server' in endpoint ? endpoint.server.url : endpoint.cluster.url;
}

function seedPort(endpoint: Endpoint): number {
	return 'server' in endpoint ? endpoint.server.port : endpoint.cluster.masters[0]!.port;
}

export interface Run {
	result: CliResult;
	stages: string[];
	traffic: TrafficStats;
	warnings: string[];
	/** What `duringSync` threw, if it did. */
	duringSyncError?: string;
}

export interface RunOptions {
	source: Endpoint;
	target: Endpoint;
	stateRoot: string;
	flags?: string[];
	/** ms of traffic during the sync before stopping (default 2500). */
	syncMs?: number;
	/** Runs once the sync stage starts, while the traffic goes on (a failover…). */
	duringSync?: () => Promise<void>;
}

export async function migrateUnderTraffic(options: RunOptions): Promise<Run> {
	const {source, target} = options;
	const port = seedPort(source);
	const cluster = 'cluster' in source;
	const dbs = 'server' in source ? [source.db ?? 0] : [0];
	await seedDataset({port, cluster, dbs, keys: 500, bigScale: 0.1, seed: 5});
	// A standalone source writes keys of many slots in one command (MSET, SUNIONSTORE, RENAME,
	// MULTI blocks…): a cluster target must split or re-copy them. A cluster source uses hash tags.
	const traffic = startTraffic({port, cluster, dbs, connections: 4, opsPerSecond: 2000, seed: 13});
	let trafficStats: TrafficStats | undefined;
	let stopping = false;
	let duringSyncError: string | undefined;
	const stages: string[] = [];
	const warnings: string[] = [];
	const stop = async (child: ChildProcess) => {
		if (stopping) return;
		stopping = true;
		const started = Date.now();
		try {
			await options.duringSync?.();
		} catch (error) {
			duringSyncError = error instanceof Error ? error.message : String(error);
		}
		await new Promise((resolve) => setTimeout(resolve, Math.max(0, (options.syncMs ?? 2500) - (Date.now() - started))));
		trafficStats = await traffic.stop();
		child.kill('SIGTERM');
	};
	const stateDir = mkdtempSync(join(options.stateRoot, 'run-'));
	const result = await runCli(['migrate', '--headless', '--yes', '--state-dir', stateDir, '--source', urlOf(source), '--target', urlOf(target), ...(options.flags ?? [])], {
		timeoutMs: 60_000,
		onEvent: (event, child) => {
			if (event.type === 'stage') stages.push(`${String(event['stage'])}:${String(event['status'])}`);
			if (event.type === 'warning') warnings.push(`${String(event['code'])}: ${String(event['message'])}`);
			if (event.type === 'stage' && event['stage'] === 'sync') void stop(child);
		},
	});
	trafficStats ??= await traffic.stop();
	return {result, stages, traffic: trafficStats, warnings, duringSyncError};
}

/** The masters serving slots now (after a failover they are not the ones the cluster started with). */
async function currentMasters(cluster: TestCluster): Promise<number[]> {
	for (const server of [...cluster.masters, ...cluster.replicas]) {
		if (server.process.exitCode !== null || server.process.signalCode !== null) continue;
		const client = new Redis({host: '127.0.0.1', port: server.port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0});
		client.on('error', () => {});
		try {
			await client.connect();
			const slots = (await client.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
			return [...new Set(slots.map((range) => range[2][1]))];
		} catch {
			// Try the next node.
		} finally {
			client.disconnect();
		}
	}
	throw new Error('no cluster node answers');
}

/** Full comparison of the target's db 0 with the source (its db 0, or the db the endpoint names). */
export async function compareAll(source: Endpoint, target: Endpoint): Promise<{checked: number; discrepancies: DiscrepancyRecord[]}> {
	const found: DiscrepancyRecord[] = [];
	const clients: Redis[] = [];
	const open = (port: number, db: number) => {
		const client = new Redis({host: '127.0.0.1', port, db, maxRetriesPerRequest: 1});
		clients.push(client);
		return client;
	};
	const side = async (endpoint: Endpoint): Promise<CompareSide> => {
		if ('server' in endpoint) return {connectionFor: async (db) => open(endpoint.server.port, endpoint.db ?? db)};
		return {cluster: {masters: (await currentMasters(endpoint.cluster)).map((port) => open(port, 0))}};
	};
	try {
		const result = await fullCompare({source: await side(source), target: await side(target)}, {dbs: [0], ttlToleranceMs: 1000, onDiscrepancy: (record) => found.push(record)});
		return {checked: result.checked, discrepancies: found};
	} finally {
		for (const client of clients) client.disconnect();
	}
}

/** No difference, and the comparison saw the data (the seed alone is over a thousand keys). */
export function expectIdentical(result: {checked: number; discrepancies: DiscrepancyRecord[]}): void {
	expect(result.discrepancies).toEqual([]);
	expect(result.checked).toBeGreaterThan(1000);
}

/** Drained to a barrier and exited by itself, with no discrepancy from the live sampler. */
export function expectDrained(run: Run): void {
	// The live sampler runs during sync too: under traffic it must not flag anything.
	expect(run.result.events.filter((event) => event.type === 'discrepancy')).toEqual([]);
	expect(run.result.code, run.result.stderr).toBe(0);
	expect(run.result.events.at(-1)).toMatchObject({type: 'summary', exitCode: 0});
	expect(run.result.stderr).toContain('barrier passed');
}
