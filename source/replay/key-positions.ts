/**
 * Keys of a command line, found the way Redis finds them (db.c, getKeysUsingKeySpecs and the
 * getkeys procedures), so cluster routing and re-copies see exactly the server's keys. Also the
 * byte-level argument readers the planner shares: arguments are Buffers and are never decoded.
 */
import {lookupCommand, type CommandSpec, type KeySpec} from './command-table';

const lowerA = 0x61;
const upperA = 0x41;
const letters = 26;

/** Case-insensitive compare of an argument with an ASCII token (given in lower case). */
export function argIs(arg: Buffer | undefined, token: string): boolean {
	if (arg === undefined || arg.length !== token.length) return false;
	for (let i = 0; i < arg.length; i++) {
		const byte = arg[i]!;
		const lower = byte >= upperA && byte < upperA + letters ? byte + (lowerA - upperA) : byte;
		if (lower !== token.charCodeAt(i)) return false;
	}
	return true;
}

const int64Max = (1n << 63n) - 1n;
const int64Min = -(1n << 63n);
const digit0 = 0x30;
const digit9 = 0x39;
const minus = 0x2d;

/**
 * An argument as Redis's string2ll reads it: optional '-', no leading zeros, no '+', no spaces,
 * within int64. Null when Redis would reply "value is not an integer or out of range".
 */
export function parseInteger(arg: Buffer | undefined): bigint | null {
	if (arg === undefined || arg.length === 0 || arg.length > 20) return null;
	if (arg.length === 1 && arg[0] === digit0) return 0n;
	const negative = arg[0] === minus;
	const start = negative ? 1 : 0;
	if (start === arg.length) return null;
	const first = arg[start]!;
	if (first <= digit0 || first > digit9) return null;
	for (let i = start + 1; i < arg.length; i++) {
		const byte = arg[i]!;
		if (byte < digit0 || byte > digit9) return null;
	}
	const value = BigInt(arg.toString('latin1'));
	return value > int64Max || value < int64Min ? null : value;
}

/** Keys of a known command, in the order Redis lists them; null when the command is unknown. */
export function keysOf(args: Buffer[]): Buffer[] | null {
	const spec = lookupCommand(args);
	if (spec === undefined) return null;
	return keyIndexes(spec, args).map((index) => args[index]!);
}

/** Argument positions of the keys of `spec` in `args`. */
export function keyIndexes(spec: CommandSpec, args: Buffer[]): number[] {
	if (spec.keysProcedure === 'sort') return sortKeys(args);
	if (spec.keysProcedure === 'migrate') return migrateKeys(args);
	return spec.keySpecs.flatMap((keySpec) => specKeys(keySpec, args));
}

/**
 * One key spec, as getKeysUsingKeySpecs evaluates it. A spec that does not fit the arguments (the
 * command fails with a syntax error on the server) yields no keys rather than wrong ones.
 */
function specKeys(spec: KeySpec, args: Buffer[]): number[] {
	const argc = args.length;
	let first: number;
	if ('index' in spec.begin) {
		first = spec.begin.index;
	} else {
		const found = findKeyword(args, spec.begin.keyword.toLowerCase(), spec.begin.startFrom);
		if (found === null) return [];
		first = found + 1;
	}
	let last: number;
	let step: number;
	if ('range' in spec.find) {
		const {lastKey, limit} = spec.find.range;
		step = spec.find.range.step;
		if (lastKey >= 0) last = first + lastKey;
		else if (limit === 0) last = argc + lastKey;
		else last = first + (Math.trunc((argc - first) / limit) + lastKey);
	} else {
		const {keyNumIndex, firstKey} = spec.find.keyNum;
		step = spec.find.keyNum.step;
		const count = parseInteger(args[first + keyNumIndex]);
		if (count === null || count < 0n || count > BigInt(argc)) return [];
		first += firstKey;
		// numkeys 0 is valid for EVAL-style commands: no keys, not an error.
		if (count === 0n) return [];
		last = first + (Number(count) - 1) * step;
	}
	if (step < 1 || last >= argc || last < first || first >= argc) return [];
	const indexes: number[] = [];
	for (let i = first; i <= last; i += step) indexes.push(i);
	return indexes;
}

/** Like Redis: forward from startFrom, or backward from argc+startFrom; the far end is not examined. */
function findKeyword(args: Buffer[], word: string, startFrom: number): number | null {
	if (startFrom > 0) {
		for (let i = startFrom; i < args.length - 1; i++) if (argIs(args[i], word)) return i;
	} else {
		for (let i = args.length + startFrom; i > 1; i--) if (argIs(args[i], word)) return i;
	}
	return null;
}

/**
 * SORT key [BY p] [LIMIT o c] [GET p …] [ASC|DESC] [ALPHA] [STORE dst]: sortGetKeys. The last
 * STORE wins, as in sortCommand; BY/GET patterns name keys only through the data, so they are
 * not keys here (Redis cannot list them either).
 */
function sortKeys(args: Buffer[]): number[] {
	if (args.length < 2) return [];
	let store = -1;
	for (let i = 2; i < args.length; i++) {
		const arg = args[i];
		if (argIs(arg, 'limit')) i += 2;
		else if (argIs(arg, 'get') || argIs(arg, 'by')) i += 1;
		else if (argIs(arg, 'store') && i + 1 < args.length) store = i + 1;
	}
	return store === -1 ? [1] : [1, store];
}

/** MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw] [AUTH2 user pw] [KEYS k…]: migrateGetKeys. */
function migrateKeys(args: Buffer[]): number[] {
	for (let i = 6; i < args.length; i++) {
		const arg = args[i];
		if (argIs(arg, 'keys')) {
			// A key and KEYS together is a syntax error on the server.
			if (args[3]!.length > 0) return [];
			const indexes: number[] = [];
			for (let k = i + 1; k < args.length; k++) indexes.push(k);
			return indexes;
		}
		if (argIs(arg, 'auth')) i += 1;
		else if (argIs(arg, 'auth2')) i += 2;
	}
	return args.length > 3 ? [3] : [];
}
