/**
 * Watches the source's topology while keyferry follows it, every `intervalMs`: CLUSTER NODES on
 * every known node of a cluster (who serves which slot, migrations in progress), and INFO
 * replication (+ persistence) on every replica keyferry reads from (its role, its master, its link,
 * and whether it reloaded its data). Each poll's findings go to `onPoll`, awaited before the next
 * poll, so the reaction to one change finishes before the next is looked at. Read-only.
 */
import type Redis from 'ioredis';
import {connectNode} from './connect';
import {withAddress, type NodeEndpoint} from './endpoint';
import {parseInfo} from './info';
import {replicationRole, type ReplicationRole} from './replicas';
import {parseClusterNodes, settle, type SettledTopology, type UnsettledTopology} from './topology-diff';

export interface ReaderState extends ReplicationRole {
	/**
	 * Changes whenever the replica may have changed its data without showing it in MONITOR: a new
	 * replication id, a link that went down, an RDB loaded (a full resync).
	 */
	fingerprint: string;
}

export interface TopologyPoll {
	/** null for a standalone source. */
	cluster: SettledTopology | UnsettledTopology | null;
	/** By reader address; an Error when it did not answer. */
	readers: Map<string, ReaderState | Error>;
}

export interface TopologyWatchOptions {
	/** Login used for every node (the source URL's). */
	login: NodeEndpoint;
	cluster: boolean;
	/** host:port of the nodes to ask for CLUSTER NODES (known masters, readers). */
	nodes(): string[];
	/** Replicas read from (--read-from replicas), to check their role and link. */
	readers(): NodeEndpoint[];
	onPoll(poll: TopologyPoll): Promise<void>;
	intervalMs?: number;
}

export class TopologyWatch {
	private readonly clients = new Map<string, Promise<Redis>>();
	private timer: NodeJS.Timeout | null = null;
	private stopped = false;
	private running: Promise<void> = Promise.resolve();
	private soon = false;
	private polling = false;

	constructor(private readonly options: TopologyWatchOptions) {}

	start(): void {
		this.schedule(this.options.intervalMs ?? 1500);
	}

	/** Poll again without waiting the full interval (a read was refused: the topology may have moved). */
	pollSoon(): void {
		if (this.soon || this.stopped) return;
		this.soon = true;
		if (!this.polling) this.schedule(100);
	}

	async stop(): Promise<void> {
		this.stopped = true;
		if (this.timer) clearTimeout(this.timer);
		// A reaction waiting on a barrier is abandoned after a while: the pipeline is closing anyway.
		await Promise.race([this.running, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
		for (const client of this.clients.values()) void client.then((open) => open.disconnect(), () => {});
		this.clients.clear();
	}

	/** One poll at a time: the next is scheduled once the reaction to this one is done. */
	private schedule(delay: number): void {
		if (this.stopped) return;
		if (this.timer) clearTimeout(this.timer);
		this.timer = setTimeout(() => {
			this.timer = null;
			this.soon = false;
			this.polling = true;
			this.running = this.pollOnce()
				.then((poll) => (this.stopped ? undefined : this.options.onPoll(poll)))
				.catch(() => {})
				.finally(() => {
					this.polling = false;
					this.schedule(this.soon ? 100 : (this.options.intervalMs ?? 1500));
				});
		}, delay);
		this.timer.unref();
	}

	async pollOnce(): Promise<TopologyPoll> {
		const [cluster, readers] = await Promise.all([this.options.cluster ? this.pollCluster() : Promise.resolve(null), this.pollReaders()]);
		return {cluster, readers};
	}

	private async pollCluster(): Promise<SettledTopology | UnsettledTopology> {
		const nodes = [...new Set(this.options.nodes())];
		const views = await Promise.all(
			nodes.map(async (address) => {
				try {
					const client = await this.client(address, this.endpoint(address));
					return parseClusterNodes(String(await answer(client.call('CLUSTER', 'NODES'))), address, this.endpoint(address).host);
				} catch {
					this.drop(address);
					return null;
				}
			}),
		);
		return settle(views.filter((view) => view !== null));
	}

	private async pollReaders(): Promise<Map<string, ReaderState | Error>> {
		const states = new Map<string, ReaderState | Error>();
		await Promise.all(
			this.options.readers().map(async (endpoint) => {
				const address = `${endpoint.host}:${endpoint.port}`;
				try {
					const client = await this.client(address, endpoint);
					const replication = parseInfo(await answer(client.info('replication')));
					const persistence = parseInfo(await answer(client.info('persistence')));
					const role = replicationRole(replication);
					const fingerprint = [role.role, role.master, role.linkUp, replication['master_replid'], persistence['rdb_last_load_keys_loaded'], persistence['loading']].join('|');
					states.set(address, {...role, fingerprint});
				} catch (error) {
					this.drop(address);
					states.set(address, error instanceof Error ? error : new Error(String(error)));
				}
			}),
		);
		return states;
	}

	private endpoint(address: string): NodeEndpoint {
		const colon = address.lastIndexOf(':');
		return withAddress(this.options.login, address.slice(0, colon).replace(/^\[|\]$/g, ''), Number(address.slice(colon + 1)));
	}

	private client(address: string, endpoint: NodeEndpoint): Promise<Redis> {
		let client = this.clients.get(address);
		if (!client) {
			client = connectNode({...endpoint, db: 0}, 'source', {connectionName: 'keyferry-topology', connectTimeout: 2000});
			client.catch(() => {});
			this.clients.set(address, client);
		}
		return client;
	}

	private drop(address: string): void {
		const client = this.clients.get(address);
		this.clients.delete(address);
		void client?.then((open) => open.disconnect(), () => {});
	}
}

/** A node that stopped answering (a half-open connection) must not stall the watch. */
function answer<T>(reply: Promise<T>, ms = 3000): Promise<T> {
	return Promise.race([reply, new Promise<T>((_resolve, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref())]);
}
