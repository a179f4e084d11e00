/**
 * Shared setup for tests that run real migrations through the built CLI: fresh server pairs
 * stopped after the file, a state-dir root removed after the file, and a full comparison.
 */
import {existsSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import Redis from 'ioredis';
import {afterAll, beforeAll} from 'vitest';
import type {DiscrepancyRecord} from '../../source/engine/events';
import {fullCompare} from '../../source/verify/full-compare';
import {bundlePath} from './cli';
import {startStandalone, type TestServer} from './redis';

export interface MigrationFixture {
	/** A fresh source and target, stopped when the file's tests are done. */
	pair(): Promise<[TestServer, TestServer]>;
	/** A new, empty state directory. */
	stateDir(): string;
}

/** Call at the top level of a test file. */
export function migrationFixture(): MigrationFixture {
	const servers: TestServer[] = [];
	let root = '';
	beforeAll(() => {
		if (!existsSync(bundlePath)) throw new Error('dist/keyferry.js is missing: run `npm run build` (npm test does it)');
		root = mkdtempSync(join(tmpdir(), 'keyferry-state-'));
	});
	afterAll(async () => {
		await Promise.all(servers.map((server) => server.stop()));
		rmSync(root, {recursive: true, force: true});
	});
	return {
		async pair() {
			const both = await Promise.all([startStandalone(), startStandalone()]);
			servers.push(...both);
			return both;
		},
		stateDir: () => mkdtempSync(join(root, 'run-')),
	};
}

/** Every key of every db, both ways (type, value, TTL within 1 s). */
export async function compareStandalone(source: TestServer, target: TestServer): Promise<DiscrepancyRecord[]> {
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
