/** What preflight learned about one server (one node of a cluster). */
export interface NodeFacts {
	address: string;
	role: 'master' | 'replica';
	server: 'redis' | 'valkey';
	version: string;
	runId: string;
	/** RDB version of this server's DUMP payloads (what it writes and the newest it accepts). */
	rdbVersion: number | null;
	modules: string[];
	usedMemory: number;
	maxmemory: number;
	maxmemoryPolicy: string;
	evictedKeys: number;
	/** Keys per db, from INFO keyspace. */
	keyspace: Record<number, {keys: number; expires: number}>;
	/** Slot ranges served, for cluster masters. */
	slots: Array<[number, number]>;
}

export interface EndpointFacts {
	/** URL with the password removed. */
	label: string;
	cluster: boolean;
	/** Masters (and, for a cluster, their replicas with role 'replica'). */
	nodes: NodeFacts[];
	totalKeys: number;
	/** MONITOR answered +OK on every master (source only). */
	monitorPermitted: boolean | null;
	/** How keyferry's own commands are recognised in the MONITOR feed (source only). */
	markers: 'address' | 'transaction' | null;
	/** With --read-from replicas (source only): the replica read for each master. */
	readers?: ReaderFacts[];
	/** With --db-map merging source dbs (source only): key names found in more than one of them. */
	dbCollisions?: DbCollision[];
}

/** Source dbs that --db-map merges into one target db, and the key names more than one of them holds. */
export interface DbCollision {
	targetDb: number;
	dbs: number[];
	count: number;
	/** The first few, escaped like redis-cli prints them. */
	examples: string[];
	/** Keys scanned to find them. */
	scanned: number;
	/** Every key was checked (the check stops after a bound). */
	complete: boolean;
}

/** The replica keyferry captures and reads a source master from (--read-from replicas). */
export interface ReaderFacts {
	master: string;
	/** null when the master has no replica that can be read (`problem` says why). */
	address: string | null;
	/** Bytes of the master's replication offset the replica had still not reached a second later, at preflight. */
	lagBytes: number;
	/** Seconds since the replica's last ack, as the master reports it. */
	lagSeconds: number;
	problem: string | null;
}

export type FindingSeverity = 'blocking' | 'warning' | 'info';

export interface Finding {
	severity: FindingSeverity;
	code: string;
	message: string;
}

export interface PreflightReport {
	source: EndpointFacts;
	target: EndpointFacts;
	/** Target clock minus source clock, in ms; added to every absolute expiry keyferry writes. */
	clockSkewMs: number;
	copyMode: 'dump' | 'logical';
	findings: Finding[];
	/** No blocking finding. */
	ok: boolean;
}
