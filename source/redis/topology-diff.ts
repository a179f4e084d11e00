/**
 * Which master serves which slot, as each node of a cluster sees it (CLUSTER NODES), whether the
 * nodes agree, and what changed since the topology keyferry follows. Pure; table-tested in
 * test/unit/topology-diff.test.ts.
 */
import {endpointAddress} from './endpoint';

export const clusterSlots = 16384;

/** The master address serving each slot (undefined: nobody). */
export type SlotOwners = ReadonlyArray<string | undefined>;

export interface NodesView {
	/** The node that answered (host:port). */
	node: string;
	owners: SlotOwners;
	/** Masters with slots, and which replicas follow each (host:port). */
	masters: string[];
	replicasOf: ReadonlyMap<string, string[]>;
	/** Slots the answering node itself is migrating or importing (the `[slot->-id]` entries of its own line). */
	moving: Array<{slot: number; direction: 'migrating' | 'importing'; peer: string}>;
}

/**
 * Parses a CLUSTER NODES reply. An empty host (a node that does not know its own address yet)
 * is the host `node` was reached at.
 */
export function parseClusterNodes(text: string, node: string, seedHost: string): NodesView {
	const owners = new Array<string | undefined>(clusterSlots);
	const byId = new Map<string, string>();
	const rows: Array<{id: string; address: string; flags: string[]; masterId: string; slots: string[]}> = [];
	for (const line of text.split('\n')) {
		const fields = line.trim().split(' ');
		if (fields.length < 8) continue;
		const [id, addressField, flagField, masterId] = fields as [string, string, string, string];
		const hostPort = addressField.split('@')[0]!.split(',')[0]!;
		const colon = hostPort.lastIndexOf(':');
		const host = hostPort.slice(0, colon) || seedHost;
		const address = endpointAddress({host: host.replace(/^\[|\]$/g, ''), port: Number(hostPort.slice(colon + 1))});
		byId.set(id, address);
		rows.push({id, address, flags: flagField.split(','), masterId, slots: fields.slice(8)});
	}
	const masters: string[] = [];
	const replicasOf = new Map<string, string[]>();
	const moving: NodesView['moving'] = [];
	for (const row of rows) {
		if (row.flags.includes('master')) {
			let serves = false;
			for (const entry of row.slots) {
				if (entry.startsWith('[')) {
					const match = /^\[(\d+)-([<>])-([0-9a-f]+)\]$/.exec(entry);
					if (match && row.flags.includes('myself')) {
						moving.push({slot: Number(match[1]), direction: match[2] === '>' ? 'migrating' : 'importing', peer: byId.get(match[3]!) ?? match[3]!});
					}
					continue;
				}
				const [first, last] = entry.split('-').map(Number) as [number, number | undefined];
				if (!Number.isInteger(first)) continue;
				owners.fill(row.address, first, (last ?? first) + 1);
				serves = true;
			}
			if (serves) masters.push(row.address);
		} else if (row.flags.includes('slave') && !row.flags.includes('fail') && !row.flags.includes('noaddr')) {
			const master = byId.get(row.masterId);
			if (master) replicasOf.set(master, [...(replicasOf.get(master) ?? []), row.address]);
		}
	}
	return {node, owners, masters: masters.sort(), replicasOf, moving};
}

export interface SettledTopology {
	settled: true;
	owners: SlotOwners;
	masters: string[];
	replicasOf: ReadonlyMap<string, string[]>;
}

export interface UnsettledTopology {
	settled: false;
	/** What keeps it from settling, for the operator. */
	reason: string;
	/** Slots being migrated or seen with different owners. */
	slots: number[];
}

/**
 * The topology is settled when every node that answered sees the same owner for every slot and
 * none is migrating or importing a slot: only then has each slot one master whose stream holds
 * all of its writes from now on.
 */
export function settle(views: NodesView[]): SettledTopology | UnsettledTopology {
	const first = views[0];
	if (!first) return {settled: false, reason: 'no source node answered CLUSTER NODES', slots: []};
	// Left over from a migration that ended another way (the slot's new owner won by epoch): a node
	// "migrating" a slot it no longer serves, or "importing" one it serves already, moves nothing.
	const inFlight = (view: NodesView, entry: NodesView['moving'][number]) => (entry.direction === 'migrating') === (view.owners[entry.slot] === view.node);
	const moving = views.flatMap((view) => view.moving.filter((entry) => inFlight(view, entry)).map((entry) => ({...entry, node: view.node})));
	if (moving.length > 0) {
		const migrating = moving.filter((entry) => entry.direction === 'migrating');
		const shown = migrating.length > 0 ? migrating : moving;
		const byPair = new Map<string, number[]>();
		for (const entry of shown) {
			const pair = entry.direction === 'migrating' ? `${entry.node} to ${entry.peer}` : `${entry.peer} to ${entry.node}`;
			byPair.set(pair, [...(byPair.get(pair) ?? []), entry.slot]);
		}
		const parts = [...byPair].map(([pair, slots]) => `slot${slots.length === 1 ? '' : 's'} ${formatRanges(toRanges(slots))} from ${pair}`);
		return {settled: false, reason: `slot migration in progress: ${parts.join('; ')}`, slots: [...new Set(moving.map((entry) => entry.slot))]};
	}
	for (const view of views.slice(1)) {
		const differ: number[] = [];
		for (let slot = 0; slot < clusterSlots; slot++) if (view.owners[slot] !== first.owners[slot]) differ.push(slot);
		const slot = differ[0];
		if (slot !== undefined) {
			return {
				settled: false,
				reason: `nodes disagree on who serves slot${differ.length === 1 ? '' : 's'} ${formatRanges(toRanges(differ))} (${first.node} says ${first.owners[slot] ?? 'nobody'}, ${view.node} says ${view.owners[slot] ?? 'nobody'})`,
				slots: differ,
			};
		}
	}
	return {settled: true, owners: first.owners, masters: first.masters, replicasOf: first.replicasOf};
}

/** Slots that changed master between two settled topologies, grouped by old and new master. */
export interface SlotMove {
	from: string | undefined;
	to: string | undefined;
	ranges: Array<[number, number]>;
	count: number;
}

export function diffOwners(before: SlotOwners, after: SlotOwners): SlotMove[] {
	const moves = new Map<string, {from: string | undefined; to: string | undefined; slots: number[]}>();
	for (let slot = 0; slot < clusterSlots; slot++) {
		const from = before[slot];
		const to = after[slot];
		if (from === to) continue;
		const id = `${from ?? ''}>${to ?? ''}`;
		let move = moves.get(id);
		if (!move) {
			move = {from, to, slots: []};
			moves.set(id, move);
		}
		move.slots.push(slot);
	}
	return [...moves.values()].map(({from, to, slots}) => ({from, to, ranges: toRanges(slots), count: slots.length}));
}

/** Sorted slots → contiguous ranges. */
export function toRanges(slots: number[]): Array<[number, number]> {
	const ranges: Array<[number, number]> = [];
	for (const slot of [...slots].sort((a, b) => a - b)) {
		const last = ranges[ranges.length - 1];
		if (last && slot === last[1] + 1) last[1] = slot;
		else if (!last || slot > last[1]) ranges.push([slot, slot]);
	}
	return ranges;
}

/** `0-5460, 10923` (at most eight ranges, then how many more). */
export function formatRanges(ranges: Array<[number, number]>): string {
	const shown = ranges.slice(0, 8).map(([first, last]) => (first === last ? String(first) : `${first}-${last}`));
	if (ranges.length > 8) shown.push(`and ${ranges.length - 8} more ranges`);
	return shown.join(', ');
}

/** One line per move, for the warning event. */
export function describeMove(move: SlotMove): string {
	const slots = `${move.count} slot${move.count === 1 ? '' : 's'} (${formatRanges(move.ranges)})`;
	if (move.to === undefined) return `${slots} of ${move.from} have no master now`;
	if (move.from === undefined) return `${slots} now served by ${move.to}`;
	return `${slots} moved from ${move.from} to ${move.to}`;
}
