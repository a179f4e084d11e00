/**
 * Pure judgement of preflight facts: what blocks the migration and what the operator should know.
 * Table-tested in test/unit/preflight-findings.test.ts.
 */
import {compareVersions} from '../redis/versions';
import type {EndpointFacts, Finding, NodeFacts} from './report-types';

export interface FindingInput {
	source: EndpointFacts;
	target: EndpointFacts;
	clockSkewMs: number;
	copyMode: 'dump' | 'logical';
	allowNonEmptyTarget: boolean;
	dbMap: Map<number, number> | null;
}

/** A replica further behind than this is shown as a warning (--read-from replicas). */
const replicaLagBytes = 1024 * 1024;
const replicaLagSeconds = 10;

const evictingPolicy = (policy: string) => policy !== 'noeviction' && policy !== 'unknown';
const masters = (facts: EndpointFacts) => facts.nodes.filter((node) => node.role === 'master');

export function judge(input: FindingInput): Finding[] {
	const {source, target} = input;
	const findings: Finding[] = [];
	const blocking = (code: string, message: string) => findings.push({severity: 'blocking', code, message});
	const warning = (code: string, message: string) => findings.push({severity: 'warning', code, message});
	const info = (code: string, message: string) => findings.push({severity: 'info', code, message});

	const targetIds = new Set(target.nodes.map((node) => node.runId).filter(Boolean));
	const shared = source.nodes.find((node) => node.runId && targetIds.has(node.runId));
	if (shared) blocking('same-server', `source and target are the same server (run_id ${shared.runId.slice(0, 12)}… at ${shared.address})`);

	for (const node of masters(source)) {
		if (compareVersions(node.version, '6.2.0') < 0) {
			blocking('source-too-old', `source ${node.address} runs ${node.server} ${node.version}; keyferry needs 6.2 or newer (CLIENT INFO, MONITOR format)`);
		}
	}

	const sourceRdb = maxOf(masters(source).map((node) => node.rdbVersion));
	const targetRdb = minOf(masters(target).map((node) => node.rdbVersion));
	if (input.copyMode === 'dump') {
		if (sourceRdb !== null && targetRdb !== null && targetRdb < sourceRdb) {
			blocking(
				'rdb-version',
				`target accepts DUMP payloads up to RDB ${targetRdb} but the source writes RDB ${sourceRdb}; use --copy-mode logical`,
			);
		} else if (sourceRdb === null || targetRdb === null) {
			warning('rdb-version-unknown', 'RDB versions could not be established; a refused payload falls back to the logical copy');
		}
	} else {
		info('copy-mode', 'logical copy: keys are rebuilt type by type instead of DUMP/RESTORE');
	}

	if (target.totalKeys > 0 && !input.allowNonEmptyTarget) {
		blocking('target-not-empty', `target already holds ${target.totalKeys} keys; empty it or pass --allow-non-empty-target`);
	}

	const sourceDbs = dbsWithKeys(masters(source));
	if (target.cluster) {
		const unmapped = sourceDbs.filter((db) => db !== 0 && !input.dbMap?.has(db));
		if (unmapped.length > 0) {
			blocking('db-map-required', `source db ${unmapped.join(', ')} cannot go into a cluster (db 0 only); map it with --db-map ${unmapped[0]}:0`);
		}
		for (const [from, to] of input.dbMap ?? []) {
			if (to !== 0) blocking('db-map-cluster', `--db-map ${from}:${to}: a cluster target has only db 0`);
		}
	}
	if (input.dbMap) {
		const byTarget = new Map<number, number[]>();
		for (const db of sourceDbs) {
			const to = input.dbMap.get(db) ?? db;
			byTarget.set(to, [...(byTarget.get(to) ?? []), db]);
		}
		const collisions = new Map((source.dbCollisions ?? []).map((collision) => [collision.targetDb, collision]));
		for (const [to, from] of byTarget) {
			if (from.length < 2) continue;
			const found = collisions.get(to);
			const dbs = `source dbs ${listed(from)} all go to target db ${to}`;
			if (found && found.count > 0) {
				const examples = `${found.examples.join(', ')}${found.count > found.examples.length ? ', …' : ''}`;
				blocking('db-map-collision', `${dbs}, and ${found.count} key name(s) are in more than one of them (${examples}): one would overwrite the other; rename them, or map those dbs apart`);
			} else if (found) {
				const checked = found.complete ? 'no key name is in more than one of them now' : `no key name among the first ${found.scanned} checked is in more than one of them`;
				warning('db-map-merge', `${dbs}; ${checked}, but one written into more than one later would collide`);
			} else {
				warning('db-map-merge', `${dbs}; a key present in both would collide`);
			}
		}
	}

	for (const reader of source.readers ?? []) {
		if (reader.problem !== null) blocking('no-replica', `${reader.problem}; --read-from replicas needs an in-sync replica of every master`);
		else if (reader.lagBytes > replicaLagBytes || reader.lagSeconds > replicaLagSeconds) {
			warning('replica-lag', `replica ${reader.address} is behind ${reader.master} (${reader.lagBytes} bytes, last ack ${reader.lagSeconds} s ago); the target follows the replica`);
		} else info('read-from', `reading ${reader.master} from its replica ${reader.address} (${reader.lagBytes} bytes behind)`);
	}

	if (source.monitorPermitted === false) {
		blocking('monitor-denied', 'the source refuses MONITOR for this user; grant +monitor (ACL SETUSER … +monitor)');
	} else if (source.monitorPermitted === true && source.markers === null) {
		blocking('markers-unrecognised', 'keyferry cannot recognise its own commands in the MONITOR feed (a proxy in between?); connect to the server directly');
	}

	const sourceModules = new Set(masters(source).flatMap((node) => node.modules));
	const targetModules = new Set(masters(target).flatMap((node) => node.modules));
	const missing = [...sourceModules].filter((name) => !targetModules.has(name));
	if (missing.length > 0) blocking('module-missing', `the source loads module ${missing.join(', ')} which the target lacks; load it on the target first`);

	for (const node of masters(target)) {
		if (evictingPolicy(node.maxmemoryPolicy) && node.maxmemory > 0) {
			warning('target-evicts', `target ${node.address} evicts keys (maxmemory-policy ${node.maxmemoryPolicy}); migrated keys could silently vanish — noeviction is safer`);
		}
	}
	const sourceUsed = masters(source).reduce((sum, node) => sum + node.usedMemory, 0);
	const targetLimit = masters(target).reduce((sum, node) => (node.maxmemory > 0 ? sum + node.maxmemory : Number.POSITIVE_INFINITY), 0);
	if (Number.isFinite(targetLimit) && targetLimit < sourceUsed) {
		warning('target-memory', `target maxmemory (${formatMb(targetLimit)}) is below the source's used memory (${formatMb(sourceUsed)})`);
	}
	for (const node of masters(source)) {
		if (node.maxmemory > 0 && evictingPolicy(node.maxmemoryPolicy)) {
			warning('source-evicts', `source ${node.address} evicts under memory pressure (${node.maxmemoryPolicy}); the MONITOR output buffer counts toward maxmemory — keyferry watches it and stops capture before it matters`);
		}
		if (node.evictedKeys > 0) info('source-evicted', `source ${node.address} has evicted ${node.evictedKeys} keys since it started`);
	}
	if (Math.abs(input.clockSkewMs) >= 1000) {
		warning('clock-skew', `target clock is ${input.clockSkewMs} ms ${input.clockSkewMs > 0 ? 'ahead of' : 'behind'} the source; expiries are corrected for it`);
	}
	return findings;
}

/** 3 and 4; 0, 3 and 4. */
function listed(values: number[]): string {
	return values.length < 2 ? values.join('') : `${values.slice(0, -1).join(', ')} and ${values.at(-1)}`;
}

function dbsWithKeys(nodes: NodeFacts[]): number[] {
	const dbs = new Set<number>();
	for (const node of nodes) for (const [db, stats] of Object.entries(node.keyspace)) if (stats.keys > 0) dbs.add(Number(db));
	return [...dbs].sort((a, b) => a - b);
}

function maxOf(values: Array<number | null>): number | null {
	return values.some((value) => value === null) || values.length === 0 ? null : Math.max(...(values as number[]));
}

function minOf(values: Array<number | null>): number | null {
	return values.some((value) => value === null) || values.length === 0 ? null : Math.min(...(values as number[]));
}

function formatMb(bytes: number): string {
	return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
