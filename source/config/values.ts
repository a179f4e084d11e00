/** Parsers for flag values. Each throws a UsageError that names the flag and the accepted form. */
import {UsageError} from '../errors';
import {inputText} from './input-text';

export function parsePositiveInteger(raw: string, flag: string): number {
	const text = raw.trim();
	if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
		throw new UsageError(`${flag} must be a whole number of at least 1, not "${inputText(raw)}"`);
	}
	return Number(text);
}

const sizeUnits: Record<string, number> = {'': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3};

/** 64mb, 512k, 1g, 1048576 (bytes). */
export function parseSize(raw: string, flag: string): number {
	const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(raw.trim());
	const unit = sizeUnits[match?.[2]?.toLowerCase() ?? 'x'];
	if (!match || unit === undefined) throw new UsageError(`${flag} must be a size like 64mb, 512kb or 1gb, not "${inputText(raw)}"`);
	const bytes = Math.floor(Number(match[1]) * unit);
	if (!Number.isSafeInteger(bytes)) throw new UsageError(`${flag} is too large: "${inputText(raw)}"`);
	if (bytes < 1024 * 1024) throw new UsageError(`${flag} must be at least 1mb, not "${inputText(raw)}"`);
	return bytes;
}

/** "3:0,4:1" → Map {3 → 0, 4 → 1}. */
export function parseDbMap(raw: string, flag: string): Map<number, number> {
	const map = new Map<number, number>();
	for (const part of raw.split(',').map((item) => item.trim()).filter(Boolean)) {
		const match = /^(\d+):(\d+)$/.exec(part);
		if (!match) throw new UsageError(`${flag} entries must look like SRC:DST (e.g. 3:0), not "${inputText(part)}"`);
		const from = Number(match[1]);
		if (!Number.isSafeInteger(from) || !Number.isSafeInteger(Number(match[2]))) throw new UsageError(`${flag} has a db number too large: "${inputText(part)}"`);
		if (map.has(from)) throw new UsageError(`${flag} maps source db ${from} twice`);
		map.set(from, Number(match[2]));
	}
	if (map.size === 0) throw new UsageError(`${flag} is empty; expected SRC:DST[,SRC:DST…]`);
	return map;
}
