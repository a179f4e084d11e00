/**
 * Shared setup for test files that start their own servers (standalone or clusters) and run
 * migrations: everything started is stopped after the file, admin connections closed, and a
 * state-dir root removed.
 */
import {existsSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import Redis from 'ioredis';
import {afterAll, beforeAll} from 'vitest';
import {bundlePath} from './cli';
import type {TestCluster, TestServer} from './redis';

export interface ServersFixture {
	/** Stopped (or closed) after the file's tests; returned as given. */
	track<T extends {stop(): Promise<unknown>} | {close(): Promise<unknown>}>(resource: T): T;
	/** A directory for the file's state dirs, removed after the file. */
	stateRoot(): string;
	/** An admin connection to a port on loopback (no retries: a stopped node fails at once), closed after the file. */
	admin(port: number): Redis;
	/** The replica of `cluster` following `master`. */
	replicaOf(cluster: TestCluster, master: TestServer): Promise<TestServer>;
}

/** Call at the top level of a test file. */
export function serversFixture(): ServersFixture {
	const resources: Array<{stop(): Promise<unknown>} | {close(): Promise<unknown>}> = [];
	const admins: Redis[] = [];
	let root = '';
	const admin = (port: number): Redis => {
		const client = new Redis({host: '127.0.0.1', port, maxRetriesPerRequest: 1, retryStrategy: () => null});
		client.on('error', () => {});
		admins.push(client);
		return client;
	};
	beforeAll(() => {
		if (!existsSync(bundlePath)) throw new Error('dist/keyferry.js is missing: run `npm run build` (npm test does it)');
		root = mkdtempSync(join(tmpdir(), 'keyferry-state-'));
	});
	afterAll(async () => {
		for (const client of admins) client.disconnect();
		await Promise.all(resources.map((resource) => ('stop' in resource ? resource.stop() : resource.close())));
		rmSync(root, {recursive: true, force: true});
	});
	return {
		track(resource) {
			resources.push(resource);
			return resource;
		},
		stateRoot: () => root,
		admin,
		async replicaOf(cluster, master) {
			for (const replica of cluster.replicas) {
				if ((await admin(replica.port).info('replication')).includes(`master_port:${master.port}`)) return replica;
			}
			throw new Error(`no replica follows ${master.port}`);
		},
	};
}
