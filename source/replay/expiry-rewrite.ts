/**
 * Relative expiries → absolute ones. A MONITOR line keeps `EX 10` as the client sent it; replayed
 * later it would expire later on the target. Each rewrite anchors the expiry at the line's
 * timestamp and adds the clock skew (target minus source), so the key expires at the same
 * instant on both sides. All arithmetic is BigInt on int64 like the server's; only the timestamp
 * is rounded to a millisecond.
 *
 * A rewrite returns null whenever the line is not one the server accepted in a form this module
 * knows (bad integer, overflow, unknown option): the caller then re-copies the key, which is right
 * whatever the server did with the line.
 */
import {argIs, parseInteger} from './key-positions';

export interface ExpiryClock {
	/** The line's timestamp in ms (may be fractional). */
	tsMs: number;
	/** Target clock minus source clock, ms. */
	skewMs: number;
}

const int64Max = (1n << 63n) - 1n;
const int64Min = -(1n << 63n);
const secondsMax = int64Max / 1000n;
const secondsMin = int64Min / 1000n;

const token = (text: string): Buffer => Buffer.from(text, 'latin1');
const number = (value: bigint): Buffer => Buffer.from(value.toString(), 'latin1');

function roundMs(value: number): bigint | null {
	return Number.isFinite(value) ? BigInt(Math.round(value)) : null;
}

type Unit = 'ex' | 'px' | 'exat' | 'pxat';
const units: readonly Unit[] = ['ex', 'px', 'exat', 'pxat'];

function unitOf(arg: Buffer | undefined): Unit | null {
	return units.find((unit) => argIs(arg, unit)) ?? null;
}

/**
 * Absolute target ms for an expiry. `positive` is the option form (SET EX…), which the server
 * rejects at <= 0; the EXPIRE family accepts any value (past times delete the key).
 */
function absolute(unit: Unit, value: bigint, clock: ExpiryClock, positive: boolean): bigint | null {
	if (positive && value <= 0n) return null;
	const seconds = unit === 'ex' || unit === 'exat';
	if (seconds && (value > secondsMax || value < secondsMin)) return null;
	const ms = seconds ? value * 1000n : value;
	const relative = unit === 'ex' || unit === 'px';
	const base = roundMs(relative ? clock.tsMs + clock.skewMs : clock.skewMs);
	if (base === null) return null;
	const result = base + ms;
	if (result > int64Max || result < int64Min) return null;
	return positive && result <= 0n ? null : result;
}

interface OptionGrammar {
	/** Options without a value. */
	flags: readonly string[];
	/** Options with one value that is not a time. */
	valued?: readonly string[];
	/** `FIELDS numfields …`: args per field (2 for field value pairs). */
	argsPerField?: number;
}

/**
 * Rewrites the one EX/PX/EXAT/PXAT option found from `start` to `PXAT <absolute>`, leaving every
 * other argument as it is. No expiry option: the args unchanged.
 */
function rewriteOptions(args: Buffer[], start: number, grammar: OptionGrammar, clock: ExpiryClock): Buffer[] | null {
	let expiryAt = -1;
	for (let i = start; i < args.length; i++) {
		const arg = args[i];
		if (grammar.flags.some((flag) => argIs(arg, flag))) continue;
		if (grammar.valued?.some((option) => argIs(arg, option))) {
			if (i + 1 >= args.length) return null;
			i++;
		} else if (grammar.argsPerField !== undefined && argIs(arg, 'fields')) {
			const count = parseInteger(args[i + 1]);
			if (count === null || count <= 0n || BigInt(i + 1) + count * BigInt(grammar.argsPerField) >= BigInt(args.length)) return null;
			i += 1 + Number(count) * grammar.argsPerField;
		} else if (unitOf(arg) !== null) {
			if (expiryAt !== -1 || i + 1 >= args.length) return null;
			expiryAt = i;
			i++;
		} else {
			return null;
		}
	}
	if (expiryAt === -1) return args;
	const value = parseInteger(args[expiryAt + 1]);
	const at = value === null ? null : absolute(unitOf(args[expiryAt])!, value, clock, true);
	if (at === null) return null;
	const out = [...args];
	out[expiryAt] = token('PXAT');
	out[expiryAt + 1] = number(at);
	return out;
}

/** EXPIRE key time [NX|XX|GT|LT]… → PEXPIREAT key abs [flags]. */
function rewriteKeyExpire(args: Buffer[], unit: Unit, clock: ExpiryClock): Buffer[] | null {
	const value = parseInteger(args[2]);
	if (value === null) return null;
	const flags = args.slice(3);
	const has = (flag: string) => flags.some((arg) => argIs(arg, flag));
	if (!flags.every((arg) => ['nx', 'xx', 'gt', 'lt'].some((flag) => argIs(arg, flag)))) return null;
	if ((has('nx') && (has('xx') || has('gt') || has('lt'))) || (has('gt') && has('lt'))) return null;
	const at = absolute(unit, value, clock, false);
	if (at === null) return null;
	return [token('PEXPIREAT'), args[1]!, number(at), ...flags];
}

/** HEXPIRE key time [NX|XX|GT|LT] FIELDS n field… → HPEXPIREAT; the server refuses negative times. */
function rewriteFieldExpire(args: Buffer[], unit: Unit, clock: ExpiryClock): Buffer[] | null {
	const value = parseInteger(args[2]);
	if (value === null || value < 0n) return null;
	const at = absolute(unit, value, clock, false);
	if (at === null || at < 0n) return null;
	return [token('HPEXPIREAT'), args[1]!, number(at), ...args.slice(3)];
}

/** SETEX/PSETEX key time value → SET key value PXAT abs. */
function rewriteSetex(args: Buffer[], unit: Unit, clock: ExpiryClock): Buffer[] | null {
	const value = parseInteger(args[2]);
	const at = value === null ? null : absolute(unit, value, clock, true);
	if (at === null || args.length !== 4) return null;
	return [token('SET'), args[1]!, args[3]!, token('PXAT'), number(at)];
}

/** RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f]: a relative ttl becomes ABSTTL. */
function rewriteRestore(args: Buffer[], clock: ExpiryClock): Buffer[] | null {
	let absTtl = false;
	for (let i = 4; i < args.length; i++) {
		const arg = args[i];
		if (argIs(arg, 'absttl')) absTtl = true;
		else if (argIs(arg, 'idletime') || argIs(arg, 'freq')) {
			if (i + 1 >= args.length) return null;
			i++;
		} else if (!argIs(arg, 'replace')) return null;
	}
	const ttl = parseInteger(args[2]);
	if (ttl === null || ttl < 0n) return null;
	if (ttl === 0n) return args;
	const at = absolute(absTtl ? 'pxat' : 'px', ttl, clock, true);
	if (at === null) return null;
	const out = [...args];
	out[2] = number(at);
	if (!absTtl) out.push(token('ABSTTL'));
	return out;
}

/** MSETEX numkeys key value … [NX|XX] [EX|PX|EXAT|PXAT|KEEPTTL]. */
function rewriteMsetex(args: Buffer[], clock: ExpiryClock): Buffer[] | null {
	const count = parseInteger(args[1]);
	if (count === null || count <= 0n || 2n + count * 2n > BigInt(args.length)) return null;
	return rewriteOptions(args, 2 + Number(count) * 2, {flags: ['nx', 'xx', 'keepttl']}, clock);
}

/**
 * The line with every expiry absolute (target clock), for the commands the table marks 'expiry';
 * null when it cannot be rewritten safely. `name` is the table name (lower case).
 */
export function rewriteExpiry(name: string, args: Buffer[], clock: ExpiryClock): Buffer[] | null {
	switch (name) {
		case 'set':
			return rewriteOptions(args, 3, {flags: ['nx', 'xx', 'get', 'keepttl'], valued: ['ifeq', 'ifne', 'ifdeq', 'ifdne']}, clock);
		case 'getex':
			return rewriteOptions(args, 2, {flags: ['persist']}, clock);
		case 'setex':
			return rewriteSetex(args, 'ex', clock);
		case 'psetex':
			return rewriteSetex(args, 'px', clock);
		case 'expire':
			return rewriteKeyExpire(args, 'ex', clock);
		case 'pexpire':
			return rewriteKeyExpire(args, 'px', clock);
		case 'expireat':
			return rewriteKeyExpire(args, 'exat', clock);
		case 'pexpireat':
			return rewriteKeyExpire(args, 'pxat', clock);
		case 'restore':
		case 'restore-asking':
			return rewriteRestore(args, clock);
		case 'hexpire':
			return rewriteFieldExpire(args, 'ex', clock);
		case 'hpexpire':
			return rewriteFieldExpire(args, 'px', clock);
		case 'hexpireat':
			return rewriteFieldExpire(args, 'exat', clock);
		case 'hpexpireat':
			return rewriteFieldExpire(args, 'pxat', clock);
		case 'hsetex':
			return rewriteOptions(args, 2, {flags: ['fnx', 'fxx', 'nx', 'xx', 'keepttl'], argsPerField: 2}, clock);
		case 'hgetex':
			return rewriteOptions(args, 2, {flags: ['persist'], argsPerField: 1}, clock);
		case 'msetex':
			return rewriteMsetex(args, clock);
		default:
			return null;
	}
}
