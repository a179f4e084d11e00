/**
 * Replicas of a source master, for --read-from replicas: which one to read from, whether it is in
 * sync, and waiting until it holds everything its master did (before a barrier, so "the target
 * holds everything before the barrier" still means everything the master did).
 *
 * The replica's MONITOR shows the master's replication stream (already deterministic) and its own
 * clients' commands, so capture, marked reads, samples and barriers all go to the same replica.
 */
import type Redis from 'ioredis';
import {ExitCode, KeyferryError} from '../errors';
import {connectNode} from './connect';
import {endpointAddress, withAddress, type NodeEndpoint} from './endpoint';
import {infoNumber, parseInfo, type InfoFields} from './info';

/** A replica as its master lists it in INFO replication (`slave0:ip=…,port=…,state=online,offset=…,lag=…`). */
export interface ReplicaLink {
	host: string;
	port: number;
	state: string;
	offset: number;
	/** Seconds since the replica's last ack. */
	lagSeconds: number;
}

/** Pure: the replicas a master's INFO replication lists. */
export function replicaLinks(fields: InfoFields): ReplicaLink[] {
	const links: ReplicaLink[] = [];
	for (const [name, value] of Object.entries(fields)) {
		if (!/^slave\d+$/.test(name)) continue;
		const parts = Object.fromEntries(value.split(',').map((part) => [part.slice(0, part.indexOf('=')), part.slice(part.indexOf('=') + 1)]));
		const port = Number(parts['port']);
		if (!parts['ip'] || !Number.isInteger(port)) continue;
		links.push({host: parts['ip'], port, state: parts['state'] ?? 'unknown', offset: Number(parts['offset'] ?? 0), lagSeconds: Number(parts['lag'] ?? 0)});
	}
	return links;
}

/** What a node says about its own replication (INFO replication). */
export interface ReplicationRole {
	role: 'master' | 'replica';
	/** host:port of its master (replicas only). */
	master: string | null;
	linkUp: boolean;
	/** Replication offset processed: slave_repl_offset on a replica, master_repl_offset on a master. */
	offset: number;
}

/** Pure. */
export function replicationRole(fields: InfoFields): ReplicationRole {
	if (fields['role'] !== 'slave') return {role: 'master', master: null, linkUp: true, offset: infoNumber(fields, 'master_repl_offset')};
	const host = fields['master_host'] ?? '';
	return {
		role: 'replica',
		master: host === '' ? null : endpointAddress({host, port: Number(fields['master_port'] ?? 0)}),
		linkUp: fields['master_link_status'] === 'up' && fields['master_sync_in_progress'] !== '1',
		offset: infoNumber(fields, 'slave_repl_offset'),
	};
}

/** How long preflight lets a replica catch up with its master's offset before calling the rest lag. */
const catchUpMs = 1000;

/** The replica chosen to read a master from, and how far behind it is. */
export interface ReaderChoice {
	master: string;
	/** null: the master has no usable replica (see `problem`). */
	reader: NodeEndpoint | null;
	address: string | null;
	lagBytes: number;
	lagSeconds: number;
	/** Why no replica can be read: a blocking preflight finding. */
	problem: string | null;
}

/**
 * The in-sync replica of `master` that is furthest along (least lag). Cluster replicas get
 * READONLY on every keyferry connection; a standalone server has no such command.
 */
export async function chooseReader(master: NodeEndpoint, cluster: boolean): Promise<ReaderChoice> {
	const address = endpointAddress(master);
	const client = await connectNode(master, 'source');
	let fields: InfoFields;
	try {
		fields = parseInfo(await client.info('replication'));
	} finally {
		client.disconnect();
	}
	const masterOffset = infoNumber(fields, 'master_repl_offset');
	const links = replicaLinks(fields);
	const none = (problem: string): ReaderChoice => ({master: address, reader: null, address: null, lagBytes: 0, lagSeconds: 0, problem});
	if (links.length === 0) return none(`source master ${address} has no replica to read from`);
	const problems: string[] = [];
	let best: ReaderChoice | null = null;
	for (const link of links) {
		const endpoint: NodeEndpoint = {...withAddress(master, link.host, link.port), ...(cluster ? {readOnly: true} : {})};
		const label = endpointAddress(endpoint);
		let role: ReplicationRole;
		try {
			const replica = await connectNode(endpoint, 'source');
			try {
				role = replicationRole(parseInfo(await replica.info('replication')));
				// A burst of writes just before is not lag: give the replica a moment to reach the master's offset.
				for (const deadline = Date.now() + catchUpMs; role.linkUp && role.offset < masterOffset && Date.now() < deadline; ) {
					await new Promise((resolve) => setTimeout(resolve, 50));
					role = replicationRole(parseInfo(await replica.info('replication')));
				}
			} finally {
				replica.disconnect();
			}
		} catch (error) {
			problems.push(`${label}: ${error instanceof Error ? error.message : String(error)}`);
			continue;
		}
		if (role.role !== 'replica' || !role.linkUp || link.state !== 'online') {
			problems.push(`${label} is not in sync (master_link_status ${role.linkUp ? 'up' : 'down'}, state ${link.state})`);
			continue;
		}
		const choice: ReaderChoice = {
			master: address,
			reader: endpoint,
			address: label,
			lagBytes: Math.max(0, masterOffset - role.offset),
			lagSeconds: link.lagSeconds,
			problem: null,
		};
		if (!best || choice.lagBytes < best.lagBytes) best = choice;
	}
	return best ?? none(`no replica of source master ${address} can be read: ${problems.join('; ')}`);
}

/**
 * Resolves once `reader` has applied every write `master` made before this call: its offset
 * reached the master's. A reader that stopped being a replica (promoted) holds everything by
 * definition. Fails after `timeoutMs` with a clear error: a barrier placed before the replica
 * caught up would not cover the master's last writes.
 */
export async function waitForReplica(master: NodeEndpoint, reader: NodeEndpoint, timeoutMs = 30_000): Promise<void> {
	const [primary, replica] = await Promise.all([connectNode(master, 'source'), connectNode({...reader, db: 0}, 'source')]);
	try {
		const role = async (client: Redis) => replicationRole(parseInfo(await client.info('replication')));
		const target = (await role(primary)).offset;
		let state = await role(replica);
		const deadline = Date.now() + timeoutMs;
		while (state.role === 'replica' && state.offset < target) {
			if (Date.now() > deadline) {
				throw new KeyferryError(
					'replica-behind',
					`replica ${endpointAddress(reader)} did not catch up with ${endpointAddress(master)} within ${Math.round(timeoutMs / 1000)} s (${target - state.offset} bytes behind, link ${state.linkUp ? 'up' : 'down'})`,
					ExitCode.runtime,
				);
			}
			await new Promise((resolve) => setTimeout(resolve, 20));
			state = await role(replica);
		}
	} finally {
		primary.disconnect();
		replica.disconnect();
	}
}
