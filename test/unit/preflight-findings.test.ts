import {describe, expect, it} from 'vitest';
import {mergeGroups} from '../../source/preflight/db-collisions';
import {judge, type FindingInput} from '../../source/preflight/findings';
import type {DbCollision, EndpointFacts, NodeFacts, ReaderFacts} from '../../source/preflight/report-types';

function node(overrides: Partial<NodeFacts> = {}): NodeFacts {
	return {
		address: '127.0.0.1:6379',
		role: 'master',
		server: 'redis',
		version: '7.0.15',
		runId: 'a'.repeat(40),
		rdbVersion: 10,
		modules: [],
		usedMemory: 1_000_000,
		maxmemory: 0,
		maxmemoryPolicy: 'noeviction',
		evictedKeys: 0,
		keyspace: {},
		slots: [],
		...overrides,
	};
}

function side(nodes: NodeFacts[], overrides: Partial<EndpointFacts> = {}): EndpointFacts {
	const totalKeys = nodes.reduce((sum, item) => sum + Object.values(item.keyspace).reduce((acc, db) => acc + db.keys, 0), 0);
	return {label: 'redis://x', cluster: false, nodes, totalKeys, monitorPermitted: null, markers: null, ...overrides};
}

function reader(overrides: Partial<ReaderFacts> = {}): ReaderFacts {
	return {master: '127.0.0.1:6379', address: '127.0.0.1:6390', lagBytes: 0, lagSeconds: 0, problem: null, ...overrides};
}

function input(overrides: Partial<FindingInput> = {}): FindingInput {
	return {
		source: side([node({keyspace: {0: {keys: 10, expires: 0}}})], {monitorPermitted: true, markers: 'address'}),
		target: side([node({runId: 'b'.repeat(40), address: '127.0.0.1:6380'})]),
		clockSkewMs: 3,
		copyMode: 'dump',
		allowNonEmptyTarget: false,
		dbMap: null,
		...overrides,
	};
}

const codes = (findings: ReturnType<typeof judge>) => findings.map((finding) => `${finding.severity}:${finding.code}`);

describe('preflight findings', () => {
	it('finds nothing wrong with a healthy pair', () => {
		expect(judge(input())).toEqual([]);
	});

	it.each<[string, Partial<FindingInput>, string[]]>([
		['same server', {target: side([node()])}, ['blocking:same-server']],
		['old target RDB', {target: side([node({runId: 'b', version: '6.2.14', rdbVersion: 9})])}, ['blocking:rdb-version']],
		['old target RDB, logical copy', {copyMode: 'logical', target: side([node({runId: 'b', rdbVersion: 9})])}, ['info:copy-mode']],
		['unknown RDB', {target: side([node({runId: 'b', rdbVersion: null})])}, ['warning:rdb-version-unknown']],
		['non-empty target', {target: side([node({runId: 'b', keyspace: {0: {keys: 5, expires: 0}}})])}, ['blocking:target-not-empty']],
		['non-empty target allowed', {allowNonEmptyTarget: true, target: side([node({runId: 'b', keyspace: {0: {keys: 5, expires: 0}}})])}, []],
		[
			'db 3 into a cluster',
			{
				source: side([node({keyspace: {0: {keys: 1, expires: 0}, 3: {keys: 1, expires: 0}}})], {monitorPermitted: true, markers: 'address'}),
				target: side([node({runId: 'b'})], {cluster: true}),
			},
			['blocking:db-map-required'],
		],
		[
			'db 3 mapped into a cluster',
			{
				source: side([node({keyspace: {0: {keys: 1, expires: 0}, 3: {keys: 1, expires: 0}}})], {monitorPermitted: true, markers: 'address'}),
				target: side([node({runId: 'b'})], {cluster: true}),
				dbMap: new Map([[3, 0]]),
			},
			['warning:db-map-merge'],
		],
		[
			'dbs merged with a key name in both',
			{
				source: side([node({keyspace: {0: {keys: 1, expires: 0}, 3: {keys: 1, expires: 0}}})], {monitorPermitted: true, markers: 'address', dbCollisions: [{targetDb: 0, dbs: [0, 3], count: 2, examples: ['a', 'b'], scanned: 1, complete: true}]}),
				dbMap: new Map([[3, 0]]),
			},
			['blocking:db-map-collision'],
		],
		[
			'dbs merged, none in both',
			{
				source: side([node({keyspace: {0: {keys: 1, expires: 0}, 3: {keys: 1, expires: 0}}})], {monitorPermitted: true, markers: 'address', dbCollisions: [{targetDb: 0, dbs: [0, 3], count: 0, examples: [], scanned: 1, complete: false}]}),
				dbMap: new Map([[3, 0]]),
			},
			['warning:db-map-merge'],
		],
		['monitor refused', {source: side([node()], {monitorPermitted: false})}, ['blocking:monitor-denied']],
		['markers not recognised', {source: side([node()], {monitorPermitted: true, markers: null})}, ['blocking:markers-unrecognised']],
		['module missing on target', {source: side([node({modules: ['ReJSON']})], {monitorPermitted: true, markers: 'address'})}, ['blocking:module-missing']],
		['evicting target', {target: side([node({runId: 'b', maxmemory: 1e9, maxmemoryPolicy: 'allkeys-lru'})])}, ['warning:target-evicts']],
		['small target', {target: side([node({runId: 'b', maxmemory: 1000})])}, ['warning:target-memory']],
		['clock skew', {clockSkewMs: -2500}, ['warning:clock-skew']],
		['old source', {source: side([node({version: '6.0.9', rdbVersion: 9})], {monitorPermitted: true, markers: 'address'})}, ['blocking:source-too-old']],
		[
			'read from a replica in sync',
			{source: side([node({keyspace: {0: {keys: 1, expires: 0}}})], {monitorPermitted: true, markers: 'address', readers: [reader()]})},
			['info:read-from'],
		],
		[
			'read from replicas, a master without one',
			{source: side([node()], {monitorPermitted: true, markers: 'address', readers: [reader(), reader({master: '127.0.0.1:7001', address: null, problem: 'source master 127.0.0.1:7001 has no replica to read from'})]})},
			['info:read-from', 'blocking:no-replica'],
		],
		[
			'read from a lagging replica',
			{source: side([node()], {monitorPermitted: true, markers: 'address', readers: [reader({lagBytes: 5_000_000})]})},
			['warning:replica-lag'],
		],
		['read from a replica not acked lately', {source: side([node()], {monitorPermitted: true, markers: 'address', readers: [reader({lagSeconds: 30})]})}, ['warning:replica-lag']],
	])('%s', (_name, overrides, expected) => {
		expect(codes(judge(input(overrides)))).toEqual(expected);
	});

	it('names the colliding keys of a merge, and how far an unfinished check got', () => {
		const merge = (collision: Partial<DbCollision>) =>
			judge(
				input({
					source: side([node({keyspace: {0: {keys: 1, expires: 0}, 3: {keys: 1, expires: 0}, 4: {keys: 1, expires: 0}}})], {
						monitorPermitted: true,
						markers: 'address',
						dbCollisions: [{targetDb: 0, dbs: [0, 3, 4], count: 0, examples: [], scanned: 10, complete: true, ...collision}],
					}),
					dbMap: new Map([
						[3, 0],
						[4, 0],
					]),
				}),
			).map((finding) => finding.message);
		expect(merge({count: 4, examples: ['k1', 'k2', 'k3']})).toEqual(['source dbs 0, 3 and 4 all go to target db 0, and 4 key name(s) are in more than one of them (k1, k2, k3, …): one would overwrite the other; rename them, or map those dbs apart']);
		expect(merge({complete: false, scanned: 1_000_000})).toEqual(['source dbs 0, 3 and 4 all go to target db 0; no key name among the first 1000000 checked is in more than one of them, but one written into more than one later would collide']);
	});

	it('explains a blocking RDB mismatch with the way out', () => {
		const [finding] = judge(input({target: side([node({runId: 'b', rdbVersion: 9})])}));
		expect(finding?.message).toBe('target accepts DUMP payloads up to RDB 9 but the source writes RDB 10; use --copy-mode logical');
	});
});

describe('--db-map merge groups', () => {
	it.each<[string, Array<[number, number]>, Array<[number, number]> | null, Array<{targetDb: number; dbs: number[]}>]>([
		['no map', [[0, 10], [3, 5]], null, []],
		['a map without a merge', [[0, 10], [3, 5]], [[3, 1]], []],
		['3 into 0: the smaller db first, the largest (not scanned) last', [[0, 10], [3, 5]], [[3, 0]], [{targetDb: 0, dbs: [3, 0]}]],
		['two into a third', [[1, 7], [2, 9], [5, 1]], [[1, 5], [2, 5]], [{targetDb: 5, dbs: [5, 1, 2]}]],
		['dbs without keys are left out', [[0, 10]], [[3, 0]], []],
	])('%s', (_name, keysByDb, dbMap, expected) => {
		expect(mergeGroups(new Map(keysByDb), dbMap && new Map(dbMap))).toEqual(expected);
	});
});
