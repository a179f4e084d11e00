/**
 * How keys and values appear in discrepancy records: escaped like redis-cli and MONITOR
 * (`sdscatrepr`), so an operator can paste a key into redis-cli, and binary data never turns into
 * replacement characters.
 */
import type {DiscrepancyRecord} from '../engine/events';

export type DiscrepancyKind = DiscrepancyRecord['kind'];

const namedEscapes: Record<number, string> = {
	0x5c: '\\\\',
	0x22: '\\"',
	0x0a: '\\n',
	0x0d: '\\r',
	0x09: '\\t',
	0x07: '\\a',
	0x08: '\\b',
};

/**
 * The key as `sdscatrepr` prints it, without the surrounding quotes: printable ASCII as is,
 * `\\ \" \n \r \t \a \b`, every other byte as `\xhh` (lowercase, as Redis writes it).
 */
export function printableKey(key: Buffer): string {
	return escapeBytes(key, key.length);
}

/** A value for a diff line: quoted, escaped, cut after `max` bytes with an ellipsis. */
export function printableValue(value: Buffer, max = 32): string {
	const shown = escapeBytes(value, max);
	return value.length > max ? `"${shown}"…` : `"${shown}"`;
}

function escapeBytes(bytes: Buffer, max: number): string {
	let text = '';
	const end = Math.min(bytes.length, max);
	for (let i = 0; i < end; i++) {
		const byte = bytes[i]!;
		const named = namedEscapes[byte];
		if (named !== undefined) text += named;
		else if (byte >= 0x20 && byte <= 0x7e) text += String.fromCharCode(byte);
		else text += `\\x${byte.toString(16).padStart(2, '0')}`;
	}
	return text;
}

/** `5000ms` or `none`, for ttl diff lines. */
export function formatTtl(pttl: number): string {
	return pttl < 0 ? 'none' : `${pttl}ms`;
}

export function discrepancy(key: Buffer, db: number, kind: DiscrepancyKind, diff: string): DiscrepancyRecord {
	return {key: printableKey(key), db, kind, diff};
}
