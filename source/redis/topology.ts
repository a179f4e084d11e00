/** Cluster topology from CLUSTER SLOTS: the masters, their slot ranges and replicas. */
import type Redis from 'ioredis';

export interface ClusterNode {
	host: string;
	port: number;
	id: string;
}

export interface ClusterShard {
	master: ClusterNode;
	replicas: ClusterNode[];
	slots: Array<[number, number]>;
}

type SlotsReply = Array<[number, number, ...Array<[string, number, string?, ...unknown[]]>]>;

export async function readClusterShards(client: Redis): Promise<ClusterShard[]> {
	const reply = (await client.call('CLUSTER', 'SLOTS')) as SlotsReply;
	return shardsFromSlots(reply, client.options.host ?? '127.0.0.1');
}

/** Pure: groups CLUSTER SLOTS ranges by master. An empty host means "the address you used". */
export function shardsFromSlots(reply: SlotsReply, seedHost: string): ClusterShard[] {
	const byId = new Map<string, ClusterShard>();
	for (const [first, last, master, ...replicas] of reply) {
		if (!master) continue;
		const node = (entry: [string, number, string?, ...unknown[]]): ClusterNode => ({
			host: entry[0] === '' || entry[0] === '?' ? seedHost : entry[0],
			port: Number(entry[1]),
			id: String(entry[2] ?? `${entry[0]}:${entry[1]}`),
		});
		const masterNode = node(master);
		let shard = byId.get(masterNode.id);
		if (!shard) {
			shard = {master: masterNode, replicas: replicas.map(node), slots: []};
			byId.set(masterNode.id, shard);
		}
		shard.slots.push([Number(first), Number(last)]);
	}
	return [...byId.values()].sort((a, b) => (a.slots[0]?.[0] ?? 0) - (b.slots[0]?.[0] ?? 0));
}
