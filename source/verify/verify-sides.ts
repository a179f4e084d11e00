/**
 * The two servers as `keyferry verify` reads them. A standalone server gets one connection per db
 * (concurrent reads never race each other's SELECT); a cluster one connection per master, and each
 * key goes to the master serving its slot. Every connection is tracked so one `close()` ends them
 * all, whatever failed halfway.
 */
import type Redis from 'ioredis';
import {KeyferryError, UsageError} from '../errors';
import {connectNode, type Side} from '../redis/connect';
import {endpointAddress, endpointLabel, withAddress, type NodeEndpoint} from '../redis/endpoint';
import {parseInfo, parseKeyspace, serverFlavor} from '../redis/info';
import {readClusterShards} from '../redis/topology';
import {keySlot, slotCount} from '../replay/cluster-routing';
import type {CompareSide} from './full-compare';

/** Where RANDOMKEY can pick from: one db of a server, or one master of a cluster (db 0). */
export interface KeyPool {
	db: number;
	keys: number;
	connection(): Promise<Redis>;
}

export interface VerifySide {
	name: Side;
	shown: {label: string; version: string};
	cluster: boolean;
	/** Only the pools that hold keys. */
	pools: KeyPool[];
	/** The connection that serves `key` in `db`. */
	connectionFor(db: number, key: Buffer): Promise<Redis>;
	/** The same side as the full compare takes it. */
	compareSide: CompareSide;
}

/** Every connection verify opens, so a failure anywhere still closes them all. */
export class Connections {
	private readonly opened: Promise<Redis>[] = [];

	open(endpoint: NodeEndpoint, side: Side): Promise<Redis> {
		const conn = connectNode(endpoint, side);
		// Awaited by the caller; this only keeps a failure from being reported as unhandled here.
		conn.catch(() => {});
		this.opened.push(conn);
		return conn;
	}

	async close(): Promise<void> {
		for (const result of await Promise.allSettled(this.opened)) {
			if (result.status === 'fulfilled') result.value.disconnect();
		}
	}
}

/** `forced`: --source-cluster / --target-cluster was given. */
export async function openSide(connections: Connections, endpoint: NodeEndpoint, name: Side, forced: boolean): Promise<VerifySide> {
	const seed = await connections.open({...endpoint, db: 0}, name);
	const info = parseInfo(await seed.info());
	const cluster = info['cluster_enabled'] === '1';
	if (forced && !cluster) throw new UsageError(`--${name}-cluster was given but ${endpointAddress(endpoint)} has cluster mode off`);
	const {server, version} = serverFlavor(info);
	const shown = {label: endpointLabel(endpoint), version: `${server} ${version}`};
	return cluster ? clusterSide(connections, endpoint, name, seed, shown) : standaloneSide(connections, endpoint, name, seed, info, shown);
}

function standaloneSide(
	connections: Connections,
	endpoint: NodeEndpoint,
	name: Side,
	seed: Redis,
	info: Record<string, string>,
	shown: VerifySide['shown'],
): VerifySide {
	const byDb = new Map<number, Promise<Redis>>([[0, Promise.resolve(seed)]]);
	const forDb = (db: number): Promise<Redis> => {
		let conn = byDb.get(db);
		if (!conn) {
			conn = connections.open({...endpoint, db}, name);
			byDb.set(db, conn);
		}
		return conn;
	};
	const pools = Object.entries(parseKeyspace(info))
		.filter(([, {keys}]) => keys > 0)
		.map(([db, {keys}]) => ({db: Number(db), keys, connection: () => forDb(Number(db))}));
	return {name, shown, cluster: false, pools, connectionFor: (db) => forDb(db), compareSide: {connectionFor: forDb}};
}

async function clusterSide(connections: Connections, endpoint: NodeEndpoint, name: Side, seed: Redis, shown: VerifySide['shown']): Promise<VerifySide> {
	if (endpoint.db !== 0) throw new UsageError(`the ${name} is a cluster, which has only db 0; remove /${endpoint.db} from the URL`);
	const shards = await readClusterShards(seed);
	const masters = await Promise.all(shards.map((shard) => connections.open(withAddress(endpoint, shard.master.host, shard.master.port), name)));
	const owners = new Array<Redis | undefined>(slotCount);
	shards.forEach((shard, i) => {
		for (const [from, to] of shard.slots) owners.fill(masters[i], from, to + 1);
	});
	const counts = await Promise.all(masters.map(async (conn) => parseKeyspace(parseInfo(await conn.info('keyspace')))[0]?.keys ?? 0));
	const pools = masters.map((conn, i) => ({db: 0, keys: counts[i] ?? 0, connection: async () => conn})).filter((pool) => pool.keys > 0);
	return {
		name,
		shown: {...shown, label: `${shown.label} (cluster, ${masters.length} masters)`},
		cluster: true,
		pools,
		async connectionFor(_db, key) {
			const conn = owners[keySlot(key)];
			if (conn === undefined) throw new KeyferryError('verify-cluster', `slot ${keySlot(key)} of the ${name} has no master: the cluster does not serve every slot`);
			return conn;
		},
		compareSide: {cluster: {masters}},
	};
}
