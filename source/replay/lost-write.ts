/**
 * A write sent to the target whose reply never came (the connection dropped): it may or may not
 * have run. It is never sent again (INCR, LPUSH, APPEND would run twice); what it could have
 * changed is re-copied instead. Pure.
 */
import {toBuffer} from './cluster-routing';
import {lookupCommand} from './command-table';
import {argIs, keyIndexes, parseInteger} from './key-positions';
import type {Arg} from './writer';

export type LostWrite =
	/** Changes nothing on the target (reads, SELECT, MULTI, EXEC). */
	| {kind: 'none'}
	/** Keys to read again, per target db. */
	| {kind: 'keys'; keys: Array<{db: number; keys: Buffer[]}>}
	/** Could have changed anything (FLUSHALL, SWAPDB, an unknown command): every key is read again. */
	| {kind: 'everything'; command: string};

/** `db`: the target db the command ran in. */
export function lostWrite(db: number, command: Arg[]): LostWrite {
	const args = command.map(toBuffer);
	const spec = lookupCommand(args);
	const name = String(command[0] ?? '').toUpperCase();
	if (spec === undefined) return {kind: 'everything', command: name};
	if (!spec.write) return {kind: 'none'};
	const keys = keyIndexes(spec, args).map((index) => args[index]!);
	if (keys.length === 0) return {kind: 'everything', command: name};
	const found = [{db, keys}];
	// The key lands in another db too.
	const otherDb = spec.name === 'move' ? dbNumber(args[2]) : spec.name === 'copy' ? copyDb(args) : null;
	if (otherDb !== null && otherDb !== db) found.push({db: otherDb, keys: spec.name === 'move' ? keys : keys.slice(1)});
	return {kind: 'keys', keys: found};
}

function dbNumber(arg: Buffer | undefined): number | null {
	const value = parseInteger(arg);
	return value === null || value < 0n ? null : Number(value);
}

/** COPY src dst [DB n] [REPLACE] */
function copyDb(args: Buffer[]): number | null {
	for (let i = 3; i < args.length - 1; i++) if (argIs(args[i], 'db')) return dbNumber(args[i + 1]);
	return null;
}
