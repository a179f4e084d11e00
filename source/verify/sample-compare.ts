/**
 * Compares the two snapshots of one sampled key taken at the same logical instant: the source's
 * marked read and the target's read issued in stream order right at that marker (DESIGN.md,
 * markers rule 5). Pure; the values are whole (the sampler only samples small keys).
 */
import type {LogicalValue} from '../copy/logical-read';
import type {DiscrepancyRecord} from '../engine/events';
import {sameScore} from './compare-key';
import {discrepancy, formatTtl, printableValue} from './discrepancy';

export interface SampleSnapshots {
	key: Buffer;
	db: number;
	source: LogicalValue;
	target: LogicalValue;
	/** Absolute expiries (target clock, ms) each side's PTTL stands for; null for none. */
	sourceExpireAt: number | null;
	targetExpireAt: number | null;
	ttlToleranceMs: number;
}

export function compareSnapshots(sample: SampleSnapshots): DiscrepancyRecord | null {
	const {key, db, source, target} = sample;
	const found = (kind: DiscrepancyRecord['kind'], diff: string) => discrepancy(key, db, kind, diff);
	const sourceGone = source.seen === 'none';
	const targetGone = target.seen === 'none';
	if (sourceGone && targetGone) return null;
	if (targetGone) return found('missing', `${source.seen} missing on target`);
	if (sourceGone) return found('extra', `${target.seen} exists only on target`);
	if (source.seen !== target.seen) return found('type', `type ${source.seen} ≠ ${target.seen}`);
	const valueDiff = compareValues(source, target);
	if (valueDiff) return found('value', valueDiff);
	const {sourceExpireAt: a, targetExpireAt: b} = sample;
	if ((a === null) !== (b === null) || (a !== null && b !== null && Math.abs(a - b) > sample.ttlToleranceMs)) {
		return found('ttl', `ttl ${formatTtl(source.pttl)} ≠ ${formatTtl(target.pttl)}`);
	}
	return null;
}

function compareValues(source: LogicalValue, target: LogicalValue): string | null {
	switch (source.type) {
		case 'string': {
			const a = source.value as Buffer;
			const b = target.value as Buffer;
			if (isHyperLogLog(a) && isHyperLogLog(b)) return sameRegisters(a, b) ? null : 'HyperLogLog registers differ';
			return a.equals(b) ? null : `${printableValue(a)} ≠ ${printableValue(b)}`;
		}
		case 'hash':
			return compareMaps(pairs(source.value as Buffer[]), pairs(target.value as Buffer[]), 'field', (x, y) => x.equals(y));
		case 'zset':
			return compareMaps(pairs(source.value as Buffer[]), pairs(target.value as Buffer[]), 'member', (x, y) => sameScore(x.toString(), y.toString()));
		case 'list': {
			const a = source.value as Buffer[];
			const b = target.value as Buffer[];
			if (a.length !== b.length) return `list length ${a.length} ≠ ${b.length}`;
			const index = a.findIndex((item, i) => !item.equals(b[i]!));
			return index < 0 ? null : `index ${index}: ${printableValue(a[index]!)} ≠ ${printableValue(b[index]!)}`;
		}
		case 'set': {
			const a = new Set((source.value as Buffer[]).map((item) => item.toString('latin1')));
			const b = new Set((target.value as Buffer[]).map((item) => item.toString('latin1')));
			if (a.size !== b.size) return `set size ${a.size} ≠ ${b.size}`;
			for (const member of a) if (!b.has(member)) return `member ${printableValue(Buffer.from(member, 'latin1'))} missing on target`;
			return null;
		}
		case 'stream':
			return compareStreams(source.value as unknown[], target.value as unknown[]);
		default:
			return null;
	}
}

const hllMagic = Buffer.from('HYLL');
/** Header: magic (4), encoding (1), unused (3), cached cardinality (8) — PFCOUNT rewrites the cache. */
const hllHeader = 16;

function isHyperLogLog(value: Buffer): boolean {
	return value.length >= hllHeader && value.subarray(0, 4).equals(hllMagic);
}

/** Same encoding and registers; the cached cardinality may differ (PFCOUNT is never replayed). */
function sameRegisters(a: Buffer, b: Buffer): boolean {
	return a.subarray(0, 8).equals(b.subarray(0, 8)) && a.subarray(hllHeader).equals(b.subarray(hllHeader));
}

function pairs(flat: Buffer[]): Map<string, Buffer> {
	const map = new Map<string, Buffer>();
	for (let i = 0; i + 1 < flat.length; i += 2) map.set(flat[i]!.toString('latin1'), flat[i + 1]!);
	return map;
}

function compareMaps(a: Map<string, Buffer>, b: Map<string, Buffer>, what: string, same: (x: Buffer, y: Buffer) => boolean): string | null {
	for (const [name, value] of a) {
		const other = b.get(name);
		const shown = printableValue(Buffer.from(name, 'latin1'));
		if (other === undefined) return `${what} ${shown} missing on target`;
		if (!same(value, other)) return `${what} ${shown}: ${printableValue(value)} ≠ ${printableValue(other)}`;
	}
	for (const name of b.keys()) if (!a.has(name)) return `${what} ${printableValue(Buffer.from(name, 'latin1'))} only on target`;
	return null;
}

/** Entries, last id and each group's delivery state; delivery and seen times differ by nature. */
function compareStreams(a: unknown[], b: unknown[]): string | null {
	const left = streamDigest(a);
	const right = streamDigest(b);
	if (left.lastId !== right.lastId) return `stream last id ${left.lastId} ≠ ${right.lastId}`;
	if (left.entries !== right.entries) return 'stream entries differ';
	if (left.groups !== right.groups) return 'stream consumer groups differ';
	return null;
}

function streamDigest(flat: unknown[]): {lastId: string; entries: string; groups: string} {
	const info = new Map<string, unknown>();
	for (let i = 0; i + 1 < flat.length; i += 2) info.set(String(flat[i]), flat[i + 1]);
	const entries = ((info.get('entries') as Array<[Buffer, Buffer[]]> | undefined) ?? []).map(([id, fields]) => `${id}:${fields.map((f) => f.toString('base64')).join(',')}`);
	const groups = ((info.get('groups') as unknown[][] | undefined) ?? []).map((group) => {
		const fields = new Map<string, unknown>();
		for (let i = 0; i + 1 < group.length; i += 2) fields.set(String(group[i]), group[i + 1]);
		return `${String(fields.get('name'))}@${String(fields.get('last-delivered-id'))}#${String(fields.get('pel-count'))}`;
	});
	return {lastId: String(info.get('last-generated-id')), entries: entries.join('|'), groups: groups.sort().join('|')};
}
