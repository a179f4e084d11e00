/**
 * What a rollback would do to one key of the source, from the two sides' values: the target holds
 * the truth since cutover, the source what it had. Pure; table-tested. Diffs read in the direction
 * of the rollback (source now → source after), type-aware: which fields, members, elements or
 * stream entries change, cut after a few with a count of the rest.
 */
import {sameScore, ttlMatches} from '../verify/compare-key';
import {formatTtl, printableValue} from '../verify/discrepancy';

export type RollbackChange = 'added' | 'modified' | 'deleted';

/** One side's key: its type, PTTL and whole value (as the logical reads return it). */
export interface KeySnapshot {
	type: string;
	pttl: number;
	/** string: Buffer; hash/zset: flat pairs; list/set: elements; stream: XINFO STREAM FULL reply; other types: their DUMP body. */
	value: unknown;
}

export interface KeyChange {
	change: RollbackChange;
	/** The key's type on the source after the rollback (the removed type for a deletion). */
	keyType: string;
	diff: string;
}

/** Changes listed per key before "(+N more)". */
const shownChanges = 4;

export function describeChange(source: KeySnapshot | null, target: KeySnapshot | null, ttlToleranceMs: number): KeyChange | null {
	if (!source && !target) return null;
	if (!source) return {change: 'added', keyType: target!.type, diff: `adds ${sizeOf(target!)}${ttlNote(target!.pttl)}`};
	if (!target) return {change: 'deleted', keyType: source.type, diff: `removes ${sizeOf(source)}`};
	if (source.type !== target.type) return {change: 'modified', keyType: target.type, diff: `type ${source.type} → ${target.type}: ${sizeOf(target)}`};
	const parts = valueChanges(source, target);
	if (!ttlMatches(source.pttl, target.pttl, ttlToleranceMs)) parts.push(`ttl ${formatTtl(source.pttl)} → ${formatTtl(target.pttl)}`);
	if (parts.length === 0) return null;
	return {change: 'modified', keyType: target.type, diff: joinChanges(parts)};
}

function valueChanges(source: KeySnapshot, target: KeySnapshot): string[] {
	switch (source.type) {
		case 'string': {
			const a = source.value as Buffer;
			const b = target.value as Buffer;
			return a.equals(b) ? [] : [`${printableValue(a)} → ${printableValue(b)}`];
		}
		case 'hash':
			return mapChanges(pairs(source.value as Buffer[]), pairs(target.value as Buffer[]), 'field', (x, y) => x.equals(y), (v) => printableValue(v));
		case 'zset':
			return mapChanges(
				pairs(source.value as Buffer[]),
				pairs(target.value as Buffer[]),
				'member',
				(x, y) => sameScore(x.toString('latin1'), y.toString('latin1')),
				(v) => `score ${v.toString('latin1')}`,
			);
		case 'set':
			return setChanges(source.value as Buffer[], target.value as Buffer[]);
		case 'list':
			return listChanges(source.value as Buffer[], target.value as Buffer[]);
		case 'stream':
			return streamChanges(streamOf(source.value), streamOf(target.value));
		default: {
			const a = source.value as Buffer | null;
			const b = target.value as Buffer | null;
			return a !== null && b !== null && a.equals(b) ? [] : [`${source.type} value differs`];
		}
	}
}

function mapChanges(
	before: Map<string, Buffer>,
	after: Map<string, Buffer>,
	what: string,
	same: (x: Buffer, y: Buffer) => boolean,
	show: (value: Buffer) => string,
): string[] {
	const out: string[] = [];
	for (const [name, value] of after) {
		const old = before.get(name);
		const label = printableValue(Buffer.from(name, 'latin1'));
		if (old === undefined) out.push(`+${what} ${label} ${show(value)}`);
		else if (!same(old, value)) out.push(`${what} ${label} ${show(old)} → ${show(value)}`);
	}
	for (const name of before.keys()) if (!after.has(name)) out.push(`-${what} ${printableValue(Buffer.from(name, 'latin1'))}`);
	return out;
}

function setChanges(before: Buffer[], after: Buffer[]): string[] {
	const a = new Set(before.map((member) => member.toString('latin1')));
	const b = new Set(after.map((member) => member.toString('latin1')));
	const out: string[] = [];
	for (const member of b) if (!a.has(member)) out.push(`+member ${printableValue(Buffer.from(member, 'latin1'))}`);
	for (const member of a) if (!b.has(member)) out.push(`-member ${printableValue(Buffer.from(member, 'latin1'))}`);
	return out;
}

function listChanges(before: Buffer[], after: Buffer[]): string[] {
	const out: string[] = [];
	const shorter = Math.min(before.length, after.length);
	for (let i = 0; i < shorter; i++) {
		if (!before[i]!.equals(after[i]!)) out.push(`index ${i} ${printableValue(before[i]!)} → ${printableValue(after[i]!)}`);
	}
	if (before.length !== after.length) out.unshift(`length ${before.length} → ${after.length}`);
	return out;
}

interface StreamView {
	entries: Map<string, string>;
	lastId: string;
	groups: string;
}

function streamChanges(before: StreamView, after: StreamView): string[] {
	const out: string[] = [];
	for (const [id, fields] of after.entries) {
		const old = before.entries.get(id);
		if (old === undefined) out.push(`+entry ${id}`);
		else if (old !== fields) out.push(`entry ${id} fields differ`);
	}
	for (const id of before.entries.keys()) if (!after.entries.has(id)) out.push(`-entry ${id}`);
	if (before.lastId !== after.lastId) out.push(`last id ${before.lastId} → ${after.lastId}`);
	if (before.groups !== after.groups) out.push('consumer groups differ');
	return out;
}

function streamOf(value: unknown): StreamView {
	const info = flatMap(value);
	const entries = new Map<string, string>();
	for (const [id, fields] of (info.get('entries') as Array<[Buffer, Buffer[]]> | undefined) ?? []) {
		entries.set(id.toString('latin1'), fields.map((field) => field.toString('base64')).join(','));
	}
	const groups = ((info.get('groups') as unknown[] | undefined) ?? []).map((group) => {
		const fields = flatMap(group);
		return `${String(fields.get('name'))}@${String(fields.get('last-delivered-id'))}#${String(fields.get('pel-count'))}`;
	});
	return {entries, lastId: String(info.get('last-generated-id')), groups: groups.sort().join('|')};
}

/** `hash (3 fields)`: the key's type and size, for added and removed keys. */
export function sizeOf(snapshot: KeySnapshot): string {
	const count = (n: number, unit: string) => `${snapshot.type} (${n} ${unit}${n === 1 ? '' : 's'})`;
	switch (snapshot.type) {
		case 'string':
			return count((snapshot.value as Buffer).length, 'byte');
		case 'hash':
			return count((snapshot.value as Buffer[]).length / 2, 'field');
		case 'zset':
			return count((snapshot.value as Buffer[]).length / 2, 'member');
		case 'set':
			return count((snapshot.value as Buffer[]).length, 'member');
		case 'list':
			return count((snapshot.value as Buffer[]).length, 'element');
		case 'stream':
			return count(streamOf(snapshot.value).entries.size, 'entry');
		default:
			return snapshot.type;
	}
}

function ttlNote(pttl: number): string {
	return pttl >= 0 ? `, ttl ${formatTtl(pttl)}` : '';
}

function joinChanges(parts: string[]): string {
	const shown = parts.slice(0, shownChanges).join('; ');
	return parts.length > shownChanges ? `${shown}; (+${parts.length - shownChanges} more)` : shown;
}

function pairs(flat: Buffer[]): Map<string, Buffer> {
	const map = new Map<string, Buffer>();
	for (let i = 0; i + 1 < flat.length; i += 2) map.set(flat[i]!.toString('latin1'), flat[i + 1]!);
	return map;
}

function flatMap(value: unknown): Map<string, unknown> {
	const map = new Map<string, unknown>();
	if (!Array.isArray(value)) return map;
	for (let i = 0; i + 1 < value.length; i += 2) map.set(String(value[i]), value[i + 1]);
	return map;
}

export interface RollbackCounts {
	added: number;
	modified: number;
	deleted: number;
	byType: Record<string, number>;
	byPrefix: Record<string, number>;
}

/** The text before the first ':' of a key as printed; keys without one count under ''. */
export function keyPrefix(printableKey: string): string {
	const colon = printableKey.indexOf(':');
	return colon < 0 ? '' : printableKey.slice(0, colon);
}

export function countChanges(entries: ReadonlyArray<{key: string; change: RollbackChange; keyType: string}>): RollbackCounts {
	const counts: RollbackCounts = {added: 0, modified: 0, deleted: 0, byType: {}, byPrefix: {}};
	for (const entry of entries) {
		counts[entry.change]++;
		counts.byType[entry.keyType] = (counts.byType[entry.keyType] ?? 0) + 1;
		const prefix = keyPrefix(entry.key);
		counts.byPrefix[prefix] = (counts.byPrefix[prefix] ?? 0) + 1;
	}
	return counts;
}
