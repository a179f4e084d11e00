/**
 * What to do on the target with one application line of the source's MONITOR stream. Pure: the
 * decision depends on the line's arguments and clock only. The rule (DESIGN.md, "The ordered
 * stream and markers"): apply what the line determines, re-copy what it does not.
 */
import {commandByName, commandName, lookupCommand, type CommandSpec} from './command-table';
import {rewriteExpiry} from './expiry-rewrite';
import {argIs, keyIndexes, parseInteger} from './key-positions';

export interface PlanContext {
	/** The MONITOR line's timestamp, ms (may be fractional). */
	tsMs: number;
	/** Target clock minus source clock; added to every absolute expiry written. */
	skewMs: number;
	/**
	 * The line ran inside MULTI…EXEC or a script, where blocking commands never block: they are
	 * then as deterministic as their non-blocking forms and are applied.
	 */
	nonBlocking?: boolean;
}

export type Plan =
	| {action: 'drop'; reason: 'read' | 'admin' | 'script' | 'select' | 'noop'}
	| {action: 'apply'; args: Buffer[]; keys: Buffer[]}
	| {action: 'recopy'; keys: Buffer[] | null; reason: string}
	| {action: 'block'; keys: Buffer[]; timeoutMs: number | null; reason: string}
	| {action: 'transaction'; kind: 'multi' | 'exec' | 'discard'}
	| {action: 'flush'; scope: 'db' | 'all'; args: Buffer[]}
	| {action: 'swapdb'; a: number; b: number; args: Buffer[]}
	| {action: 'move'; key: Buffer; toDb: number; args: Buffer[]}
	| {action: 'copy'; from: Buffer; to: Buffer; toDb: number | null; args: Buffer[]}
	| {action: 'migrate'; keys: Buffer[]; copy: boolean};

/** The server rejected the line while executing it (bad db index…): nothing changed. */
const failed: Plan = {action: 'drop', reason: 'noop'};

export function planCommand(args: Buffer[], context: PlanContext): Plan {
	const spec = lookupCommand(args);
	if (spec === undefined) return planUnknown(args);
	// The server refuses a wrong argument count before running the command, so MONITOR never
	// shows one for a command it has; a line that does is from a server whose command differs.
	if (spec.arity >= 0 ? args.length !== spec.arity : args.length < -spec.arity) {
		return {action: 'recopy', keys: null, reason: `${spec.name} with an argument count keyferry does not know`};
	}
	const keys = keyIndexes(spec, args).map((index) => args[index]!);
	switch (spec.replay) {
		case 'drop':
			return {action: 'drop', reason: spec.dropReason ?? 'noop'};
		case 'verbatim':
			return {action: 'apply', args, keys};
		case 'expiry': {
			const rewritten = rewriteExpiry(spec.name, args, context);
			if (rewritten === null) return {action: 'recopy', keys, reason: `${spec.name} with arguments keyferry cannot rewrite`};
			return {action: 'apply', args: rewritten, keys};
		}
		case 'recopy':
			return {action: 'recopy', keys, reason: spec.recopyReason ?? spec.name};
		case 'block':
			if (context.nonBlocking) return {action: 'apply', args, keys};
			return {action: 'block', keys, timeoutMs: blockTimeout(spec.name, args), reason: `${spec.name} may block; the pop that ends it is never shown`};
		case 'special':
			return planSpecial(spec, args, keys, context);
	}
}

/** Not in the table: a module command, or one newer than this table. The applier asks the source. */
function planUnknown(args: Buffer[]): Plan {
	const first = args[0];
	const name = first === undefined ? '' : commandName(first);
	const container = commandByName(name);
	if (container?.unknownSubcommands === 'drop') return {action: 'drop', reason: 'admin'};
	const shown = container === undefined ? name : `${name} ${args[1] === undefined ? '' : commandName(args[1])}`.trim();
	return {action: 'recopy', keys: null, reason: `unknown command '${shown.slice(0, 80)}'`};
}

function planSpecial(spec: CommandSpec, args: Buffer[], keys: Buffer[], context: PlanContext): Plan {
	switch (spec.name) {
		case 'multi':
		case 'exec':
		case 'discard':
			return {action: 'transaction', kind: spec.name};
		case 'flushdb':
			return {action: 'flush', scope: 'db', args};
		case 'flushall':
			return {action: 'flush', scope: 'all', args};
		case 'swapdb': {
			const a = dbIndex(args[1]);
			const b = dbIndex(args[2]);
			return a === null || b === null ? failed : {action: 'swapdb', a, b, args};
		}
		case 'move': {
			const toDb = dbIndex(args[2]);
			return toDb === null ? failed : {action: 'move', key: args[1]!, toDb, args};
		}
		case 'copy':
			return planCopy(args, keys);
		case 'migrate':
			return {action: 'migrate', keys, copy: migrateCopies(args)};
		// Without STORE these are reads; with it, the result is determined by the keys' state
		// (SORT even sorts a set's members when BY nosort, so replicas agree).
		case 'sort':
		case 'georadius':
		case 'georadiusbymember':
			return keys.length > 1 ? {action: 'apply', args, keys} : {action: 'drop', reason: 'read'};
		case 'xadd':
			return planStreamWrite(args, keys, true);
		case 'xtrim':
			return planStreamWrite(args, keys, false);
		case 'xreadgroup':
			return planReadGroup(args, keys, context);
		default:
			return {action: 'recopy', keys, reason: `${spec.name} has no replay rule`};
	}
}

/** A db index as the server reads one (an int, not negative); null when it refused the line. */
function dbIndex(arg: Buffer | undefined): number | null {
	const value = parseInteger(arg);
	return value === null || value < 0n || value > 2147483647n ? null : Number(value);
}

/** COPY source destination [DB db] [REPLACE]. */
function planCopy(args: Buffer[], keys: Buffer[]): Plan {
	let toDb: number | null = null;
	for (let i = 3; i < args.length; i++) {
		if (argIs(args[i], 'replace')) continue;
		if (argIs(args[i], 'db') && i + 1 < args.length) {
			toDb = dbIndex(args[++i]);
			if (toDb === null) return failed;
			continue;
		}
		return {action: 'recopy', keys: keys.slice(1), reason: 'copy with an option keyferry does not know'};
	}
	return {action: 'copy', from: args[1]!, to: args[2]!, toDb, args};
}

/** MIGRATE … [COPY] [REPLACE] [AUTH pw] [AUTH2 user pw] [KEYS …]: whether the source keeps the keys. */
function migrateCopies(args: Buffer[]): boolean {
	for (let i = 6; i < args.length; i++) {
		const arg = args[i];
		if (argIs(arg, 'copy')) return true;
		if (argIs(arg, 'keys')) return false;
		if (argIs(arg, 'auth')) i += 1;
		else if (argIs(arg, 'auth2')) i += 2;
	}
	return false;
}

/**
 * XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT n]] [KEEPREF|DELREF|ACKED] id|* …
 * and XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT n] [KEEPREF|DELREF|ACKED], parsed like
 * streamParseAddOrTrimArgsOrReply. A server-chosen id (`*`, `<ms>-*`) is the source's clock; an
 * approximate trim (`~`) depends on the stream's node layout, which the target need not share
 * (Redis itself replicates both rewritten). Either way the stream is re-copied.
 */
function planStreamWrite(args: Buffer[], keys: Buffer[], xadd: boolean): Plan {
	const recopy = (reason: string): Plan => ({action: 'recopy', keys, reason});
	// A replica's feed shows an approximate trim made exact (`MAXLEN = n LIMIT l`), which only a
	// master's link may send: exact trimming to n needs no LIMIT, so it is left out.
	let limit = -1;
	const exact = (): Buffer[] => (limit === -1 ? args : [...args.slice(0, limit), ...args.slice(limit + 2)]);
	for (let i = 2; i < args.length; i++) {
		const arg = args[i]!;
		const more = args.length - 1 - i;
		if ((argIs(arg, 'maxlen') || argIs(arg, 'minid')) && more > 0) {
			const operator = args[i + 1];
			if (more >= 2 && argIs(operator, '~')) return recopy(`${xadd ? 'xadd' : 'xtrim'} with an approximate trim`);
			if (more >= 2 && argIs(operator, '=')) i++;
			i++;
		} else if (argIs(arg, 'limit') && more > 0) {
			limit = i;
			i++;
		} else if (argIs(arg, 'keepref') || argIs(arg, 'delref') || argIs(arg, 'acked') || (xadd && argIs(arg, 'nomkstream'))) {
			continue;
		} else if (xadd) {
			const auto = argIs(arg, '*') || (arg.length >= 2 && arg[arg.length - 2] === 0x2d && arg[arg.length - 1] === 0x2a);
			return auto ? recopy('xadd with a server-generated id') : {action: 'apply', args: exact(), keys};
		} else {
			return recopy('xtrim with an option keyferry does not know');
		}
	}
	return xadd ? recopy('xadd without an id') : {action: 'apply', args: exact(), keys};
}

/**
 * XREADGROUP GROUP g c [COUNT n] [BLOCK ms] [NOACK] STREAMS key… id…. Without BLOCK it is a
 * deterministic write (delivers entries, moves the group's last id). With BLOCK it may wait, and
 * the delivery that ends the wait is never shown; it never waits when any id is not `>` (history).
 */
function planReadGroup(args: Buffer[], keys: Buffer[], context: PlanContext): Plan {
	let blockArg: Buffer | undefined;
	let streams = -1;
	for (let i = 1; i < args.length; i++) {
		const arg = args[i];
		if (argIs(arg, 'block')) {
			blockArg = args[++i];
		} else if (argIs(arg, 'count')) {
			i++;
		} else if (argIs(arg, 'group')) {
			i += 2;
		} else if (!argIs(arg, 'noack')) {
			if (argIs(arg, 'streams')) streams = i;
			break;
		}
	}
	if (streams === -1) return {action: 'recopy', keys, reason: 'xreadgroup with an option keyferry does not know'};
	const ids = args.slice(streams + 1 + keys.length);
	const mayBlock = blockArg !== undefined && !context.nonBlocking && ids.length > 0 && ids.every((id) => argIs(id, '>'));
	if (!mayBlock) return {action: 'apply', args, keys};
	const ms = parseInteger(blockArg);
	return {
		action: 'block',
		keys,
		timeoutMs: ms === null || ms <= 0n ? null : Number(ms),
		reason: 'xreadgroup may block; the delivery that ends it is never shown',
	};
}

const decimal = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** The timeout of a blocking pop in ms (seconds, fractional since 6.0); null = forever or unreadable. */
function blockTimeout(name: string, args: Buffer[]): number | null {
	const arg = name === 'blmpop' || name === 'bzmpop' ? args[1] : args[args.length - 1];
	const text = arg === undefined || arg.length > 64 ? '' : arg.toString('latin1');
	if (!decimal.test(text)) return null;
	const ms = Math.ceil(Number(text) * 1000);
	return Number.isFinite(ms) && ms > 0 ? ms : null;
}
