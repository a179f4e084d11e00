/**
 * Where one Redis node is and how to log in to it. Built from a validated URL (config/redis-url.ts)
 * or from cluster topology. The password lives only here and in connection options; `label`
 * never contains it.
 */
import type {RedisOptions} from 'ioredis';

export interface TlsSettings {
	ca?: Buffer;
	/** --tls-insecure turns certificate checks off. */
	rejectUnauthorized: boolean;
	servername?: string;
}

export interface NodeEndpoint {
	host: string;
	port: number;
	username?: string;
	password?: string;
	tls?: TlsSettings;
	/** Database selected by the URL (standalone only). */
	db: number;
	/** A cluster replica read from (--read-from replicas): key reads need READONLY, or it redirects them. */
	readOnly?: boolean;
}

/** host:port, with IPv6 hosts bracketed. Safe to print. */
export function endpointAddress(endpoint: Pick<NodeEndpoint, 'host' | 'port'>): string {
	return endpoint.host.includes(':') ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}

/** redis[s]://[user@]host:port[/db], never the password. */
export function endpointLabel(endpoint: NodeEndpoint): string {
	const scheme = endpoint.tls ? 'rediss' : 'redis';
	const user = endpoint.username ? `${endpoint.username}@` : '';
	const db = endpoint.db ? `/${endpoint.db}` : '';
	return `${scheme}://${user}${endpointAddress(endpoint)}${db}`;
}

/** The same login on another node of the same deployment (cluster masters, replicas). */
export function withAddress(endpoint: NodeEndpoint, host: string, port: number): NodeEndpoint {
	const {readOnly: _readOnly, ...login} = endpoint;
	return {...login, host, port, db: 0};
}

/**
 * ioredis options for one node. Connections fail fast instead of queueing forever: keyferry
 * decides itself when to retry and tells the operator.
 */
export function ioredisOptions(endpoint: NodeEndpoint, extra: RedisOptions = {}): RedisOptions {
	return {
		host: endpoint.host,
		port: endpoint.port,
		username: endpoint.username,
		password: endpoint.password,
		db: endpoint.db,
		readOnly: endpoint.readOnly ?? false,
		tls: endpoint.tls
			? {ca: endpoint.tls.ca, rejectUnauthorized: endpoint.tls.rejectUnauthorized, servername: endpoint.tls.servername}
			: undefined,
		lazyConnect: true,
		connectTimeout: 5000,
		maxRetriesPerRequest: 1,
		enableReadyCheck: true,
		...extra,
	};
}
