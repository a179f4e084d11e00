/**
 * Reads everything preflight needs from both sides. Read-only: INFO, CLUSTER SLOTS, MODULE LIST,
 * TIME, DUMP of one existing key, CLIENT INFO, and a MONITOR probe with an ECHO. Nothing is ever written to either server.
 */
import {randomBytes} from 'node:crypto';
import type {Socket} from 'node:net';
import type Redis from 'ioredis';
import {MonitorParser} from '../capture/monitor-parser';
import {authCommand, handshake, openSocket} from '../capture/resp-handshake';
import {ExitCode, KeyferryError} from '../errors';
import {serverSideAddress} from '../redis/client-info';
import {connectionError, connectNode, type Side} from '../redis/connect';
import {endpointAddress, endpointLabel, withAddress, type NodeEndpoint} from '../redis/endpoint';
import {infoNumber, parseInfo, parseKeyspace, serverFlavor} from '../redis/info';
import {readClusterShards} from '../redis/topology';
import {rdbVersionFor, rdbVersionOfPayload} from '../redis/versions';
import type {EndpointFacts, NodeFacts} from './report-types';

export interface InspectedEndpoint {
	facts: EndpointFacts;
	/** Endpoints of the masters, in topology order (one for standalone). */
	masters: NodeEndpoint[];
}

export async function inspectEndpoint(endpoint: NodeEndpoint, side: Side, forceCluster: boolean | undefined): Promise<InspectedEndpoint> {
	const seed = await connectNode(endpoint, side);
	try {
		const seedInfo = parseInfo(await seed.info('cluster'));
		const cluster = forceCluster === true || seedInfo['cluster_enabled'] === '1';
		if (forceCluster === true && seedInfo['cluster_enabled'] !== '1') {
			throw new KeyferryError('not-a-cluster', `--${side}-cluster was given but ${endpointAddress(endpoint)} has cluster mode off`, ExitCode.usage);
		}
		if (cluster && endpoint.db !== 0) {
			throw new KeyferryError('cluster-db', `the ${side} is a cluster, which has only db 0; remove /${endpoint.db} from the URL`, ExitCode.usage);
		}
		const nodes: NodeFacts[] = [];
		const masters: NodeEndpoint[] = [];
		if (cluster) {
			for (const shard of await readClusterShards(seed)) {
				const master = withAddress(endpoint, shard.master.host, shard.master.port);
				masters.push(master);
				nodes.push({...(await inspectNode(master, side, 'master')), slots: shard.slots});
				for (const replica of shard.replicas) {
					nodes.push(await inspectNode(withAddress(endpoint, replica.host, replica.port), side, 'replica'));
				}
			}
		} else {
			masters.push(endpoint);
			nodes.push(await inspectNode(endpoint, side, 'master', seed));
		}
		const totalKeys = nodes
			.filter((node) => node.role === 'master')
			.reduce((sum, node) => sum + Object.values(node.keyspace).reduce((acc, db) => acc + db.keys, 0), 0);
		return {
			facts: {label: endpointLabel(endpoint), cluster, nodes, totalKeys, monitorPermitted: null, markers: null},
			masters,
		};
	} finally {
		seed.disconnect();
	}
}

async function inspectNode(endpoint: NodeEndpoint, side: Side, role: 'master' | 'replica', open?: Redis): Promise<NodeFacts> {
	const client = open ?? (await connectNode(endpoint, side));
	try {
		const info = parseInfo(await client.info());
		const {server, version} = serverFlavor(info);
		let rdbVersion = rdbVersionFor(server, version);
		if (side === 'source' && role === 'master') rdbVersion = (await sampledRdbVersion(client)) ?? rdbVersion;
		return {
			address: endpointAddress(endpoint),
			role,
			server,
			version,
			runId: info['run_id'] ?? '',
			rdbVersion,
			modules: await moduleNames(client),
			usedMemory: infoNumber(info, 'used_memory'),
			maxmemory: infoNumber(info, 'maxmemory'),
			maxmemoryPolicy: info['maxmemory_policy'] ?? 'unknown',
			evictedKeys: infoNumber(info, 'evicted_keys'),
			keyspace: parseKeyspace(info),
			slots: [],
		};
	} catch (error) {
		throw error instanceof KeyferryError ? error : connectionError(error, endpoint, side);
	} finally {
		if (!open) client.disconnect();
	}
}

/** The real RDB version of this server's payloads: DUMP one existing key, if there is one. */
async function sampledRdbVersion(client: Redis): Promise<number | null> {
	const key = await client.randomkeyBuffer();
	if (key === null) return null;
	const payload = await client.dumpBuffer(key);
	return payload === null ? null : rdbVersionOfPayload(payload);
}

async function moduleNames(client: Redis): Promise<string[]> {
	try {
		const reply = (await client.call('MODULE', 'LIST')) as unknown[][];
		return reply.map((entry) => {
			const index = entry.indexOf('name');
			return String(entry[index + 1] ?? '?');
		});
	} catch {
		// ACL users without MODULE rights: modules are then unknown, not absent.
		return [];
	}
}

/** Target clock minus source clock in ms, from the TIME sample with the shortest round trip. */
export async function measureClockSkew(source: NodeEndpoint, target: NodeEndpoint): Promise<number> {
	const [a, b] = await Promise.all([connectNode(source, 'source'), connectNode(target, 'target')]);
	try {
		const offset = async (client: Redis) => {
			let best = {rtt: Number.POSITIVE_INFINITY, offset: 0};
			for (let i = 0; i < 5; i++) {
				const before = performance.now();
				const wall = Date.now();
				const [seconds, micros] = await client.time();
				const rtt = performance.now() - before;
				const serverMs = Number(seconds) * 1000 + Number(micros) / 1000;
				if (rtt < best.rtt) best = {rtt, offset: serverMs - (wall + rtt / 2)};
			}
			return best.offset;
		};
		return Math.round((await offset(b)) - (await offset(a)));
	} finally {
		a.disconnect();
		b.disconnect();
	}
}

export interface MonitorProbe {
	permitted: boolean;
	markers: 'address' | null;
	detail: string;
}

/**
 * Opens MONITOR (a raw socket, as the capture does) and checks that an ECHO sent on another
 * connection shows up under the address CLIENT INFO reported for it: that is what lets the
 * engine place its own reads in the stream.
 */
export async function probeMonitor(endpoint: NodeEndpoint): Promise<MonitorProbe> {
	const tag = `keyferry:probe:${randomBytes(8).toString('hex')}`;
	let socket: Socket;
	try {
		socket = await openSocket(endpoint, 5000);
	} catch (error) {
		throw connectionError(error, endpoint, 'source');
	}
	try {
		const auth = authCommand(endpoint);
		const {replies, rest} = await handshake(socket, [...(auth ? [auth] : []), ['CLIENT', 'SETNAME', 'keyferry-probe'], ['MONITOR']], 5000);
		const refused = replies.find((reply) => reply.kind === 'error');
		if (refused) return {permitted: false, markers: null, detail: refused.value};
		const parser = new MonitorParser();
		const seen = new Promise<string | null>((resolve) => {
			const timer = setTimeout(() => resolve(null), 3000);
			const look = (chunk: Buffer) => {
				for (const entry of parser.push(chunk)) {
					if (entry.kind === 'command' && entry.args[0]?.toString('latin1').toLowerCase() === 'echo' && entry.args[1]?.toString('latin1') === tag) {
						clearTimeout(timer);
						resolve(entry.client);
					}
				}
			};
			look(rest);
			socket.on('data', look);
			socket.resume();
		});
		const probe = await connectNode(endpoint, 'source');
		try {
			const address = await serverSideAddress(probe);
			// ECHO has no key, so a cluster master runs it whatever slots it serves.
			await probe.echo(tag);
			const source = await seen;
			if (source === null) return {permitted: true, markers: null, detail: 'the probe command never appeared in the MONITOR feed'};
			if (source !== address) return {permitted: true, markers: null, detail: `MONITOR shows ${source} for a connection the server calls ${address}`};
			return {permitted: true, markers: 'address', detail: 'marker connections recognised by address'};
		} finally {
			probe.disconnect();
		}
	} finally {
		socket.destroy();
	}
}
