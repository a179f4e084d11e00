/**
 * Where a replayed command goes on a cluster target. Pure: the decision depends on the arguments
 * only. One slot → that slot's master. Keys in several slots → split per slot when the parts
 * together do exactly what the whole did (DEL, UNLINK, EXISTS, TOUCH, MSET), otherwise the keys
 * are re-copied (MSETNX, SUNIONSTORE, RENAME, cross-slot MULTI blocks…). Flushes and function
 * changes go to every master. The cluster has db 0 only; the source's db-changing commands arrive
 * here already mapped to 0 (SWAPDB 0 0, MOVE k 0), where they change nothing.
 */
import {commandName, lookupCommand} from './command-table';
import {argIs, keyIndexes} from './key-positions';
import type {Arg} from './writer';

export const slotCount = 16384;

/** CRC16-CCITT (XMODEM), the function Redis Cluster hashes keys with. */
const crcTable = (() => {
	const table = new Uint16Array(256);
	for (let i = 0; i < 256; i++) {
		let crc = i << 8;
		for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
		table[i] = crc;
	}
	return table;
})();

export function crc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
	let crc = 0;
	for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ crcTable[((crc >> 8) ^ bytes[i]!) & 0xff]!;
	return crc;
}

const openBrace = 0x7b;
const closeBrace = 0x7d;

/** The key's slot: only the part inside the first non-empty `{…}` is hashed, when there is one. */
export function keySlot(key: Buffer): number {
	const open = key.indexOf(openBrace);
	if (open >= 0) {
		const close = key.indexOf(closeBrace, open + 1);
		if (close > open + 1) return crc16(key, open + 1, close) & (slotCount - 1);
	}
	return crc16(key) & (slotCount - 1);
}

export function toBuffer(arg: Arg): Buffer {
	return Buffer.isBuffer(arg) ? arg : Buffer.from(typeof arg === 'number' ? String(arg) : arg);
}

export interface Part {
	slot: number;
	command: Arg[];
	keys: Buffer[];
}

export type Route =
	/** Every key in one slot (keyless reads go to slot 0's master). */
	| {kind: 'slot'; slot: number; command: Arg[]; keys: Buffer[]}
	/** One command per slot; together they do what the command did. `reply` says how to merge the replies. */
	| {kind: 'split'; parts: Part[]; reply: 'sum' | 'ok'}
	/** Cannot run as one command on the cluster: re-copy these keys. */
	| {kind: 'cross-slot'; keys: Buffer[]}
	/** Run on every master (FLUSHALL, FUNCTION LOAD…). */
	| {kind: 'broadcast'; command: Arg[]}
	/** Nothing to do on a db-0-only target. */
	| {kind: 'noop'; reply: number | string}
	/** A write the cluster cannot take as it is: reported, not applied. */
	| {kind: 'unroutable'; reason: string};

const splitBySlot: Record<string, 'sum'> = {del: 'sum', unlink: 'sum', exists: 'sum', touch: 'sum'};
const everyMaster = new Set(['flushall', 'flushdb', 'function|load', 'function|delete', 'function|flush', 'function|restore']);

export function routeCommand(command: Arg[]): Route {
	const args = command.map(toBuffer);
	const spec = lookupCommand(args);
	if (spec === undefined) return {kind: 'unroutable', reason: `${describe(args)} is not a command keyferry can route`};
	if (everyMaster.has(spec.name)) return {kind: 'broadcast', command};
	switch (spec.name) {
		case 'swapdb':
			return sameDb(args[1], args[2]) ? {kind: 'noop', reply: 'OK'} : {kind: 'unroutable', reason: 'SWAPDB on a cluster (db 0 only)'};
		case 'move':
			// Both dbs went to db 0 (--db-map): the key stays where it is.
			return argIs(args[2], '0') ? {kind: 'noop', reply: 0} : {kind: 'unroutable', reason: 'MOVE to a db other than 0 on a cluster'};
		case 'copy':
			return routeCopy(command, args);
		case 'select':
			return argIs(args[1], '0') ? {kind: 'noop', reply: 'OK'} : {kind: 'unroutable', reason: 'SELECT of a db other than 0 on a cluster'};
	}
	const keys = keyIndexes(spec, args).map((index) => args[index]!);
	if (keys.length === 0) return spec.write ? {kind: 'unroutable', reason: `${spec.name.replace('|', ' ').toUpperCase()} has no key to route by`} : {kind: 'slot', slot: 0, command, keys};
	const slot = keySlot(keys[0]!);
	if (keys.every((key) => key === keys[0] || keySlot(key) === slot)) return {kind: 'slot', slot, command, keys};
	if (spec.name in splitBySlot) return splitKeys(command, keys, splitBySlot[spec.name]!);
	if (spec.name === 'mset') return splitPairs(command, args);
	return {kind: 'cross-slot', keys: unique(keys)};
}

export type TransactionRoute =
	| {kind: 'slot'; slot: number; commands: Arg[][]; keys: Buffer[]}
	/** `dropped`: a part the cluster cannot run at all (FUNCTION LOAD inside MULTI…), to report. */
	| {kind: 'cross-slot'; keys: Buffer[]; dropped: string | null}
	| {kind: 'noop'}
	| {kind: 'unroutable'; reason: string};

/** A MULTI block: one slot, or the keys of the whole block re-copied (its atomicity cannot be split). */
export function routeTransaction(commands: Arg[][]): TransactionRoute {
	const sent: Arg[][] = [];
	const keys: Buffer[] = [];
	let spans = false;
	let dropped: string | null = null;
	for (const command of commands) {
		const route = routeCommand(command);
		switch (route.kind) {
			case 'slot':
				sent.push(route.command);
				keys.push(...route.keys);
				break;
			case 'split':
				spans = true;
				for (const part of route.parts) keys.push(...part.keys);
				break;
			case 'cross-slot':
				spans = true;
				keys.push(...route.keys);
				break;
			case 'noop':
				break;
			case 'broadcast':
				dropped ??= `${describe(command.map(toBuffer))} inside MULTI on a cluster`;
				break;
			case 'unroutable':
				dropped ??= route.reason;
				break;
		}
	}
	if (keys.length === 0) return dropped === null ? {kind: 'noop'} : {kind: 'unroutable', reason: dropped};
	const slot = keySlot(keys[0]!);
	if (spans || dropped !== null || keys.some((key) => keySlot(key) !== slot)) return {kind: 'cross-slot', keys: unique(keys), dropped};
	return {kind: 'slot', slot, commands: sent, keys: unique(keys)};
}

/** COPY src dst [DB n] [REPLACE]: DB 0 is the only db, so the option goes. */
function routeCopy(command: Arg[], args: Buffer[]): Route {
	const out: Arg[] = command.slice(0, 3);
	for (let i = 3; i < args.length; i++) {
		if (argIs(args[i], 'db') && i + 1 < args.length) {
			if (!argIs(args[i + 1], '0')) return {kind: 'unroutable', reason: 'COPY into a db other than 0 on a cluster'};
			i++;
			continue;
		}
		out.push(command[i]!);
	}
	const keys = [args[1]!, args[2]!];
	const slot = keySlot(keys[0]!);
	return keySlot(keys[1]!) === slot ? {kind: 'slot', slot, command: out, keys} : {kind: 'cross-slot', keys};
}

/** DEL/UNLINK/EXISTS/TOUCH k…: one command per slot, keys in their original order. */
function splitKeys(command: Arg[], keys: Buffer[], reply: 'sum'): Route {
	const bySlot = new Map<number, Part>();
	keys.forEach((key, i) => {
		const slot = keySlot(key);
		let part = bySlot.get(slot);
		if (!part) {
			part = {slot, command: [command[0]!], keys: []};
			bySlot.set(slot, part);
		}
		part.command.push(command[i + 1]!);
		part.keys.push(key);
	});
	return {kind: 'split', parts: [...bySlot.values()], reply};
}

/** MSET k v …: pairs stay together; a key set twice is in one part, so the last value still wins. */
function splitPairs(command: Arg[], args: Buffer[]): Route {
	const bySlot = new Map<number, Part>();
	for (let i = 1; i + 1 < args.length; i += 2) {
		const key = args[i]!;
		const slot = keySlot(key);
		let part = bySlot.get(slot);
		if (!part) {
			part = {slot, command: [command[0]!], keys: []};
			bySlot.set(slot, part);
		}
		part.command.push(command[i]!, command[i + 1]!);
		part.keys.push(key);
	}
	return {kind: 'split', parts: [...bySlot.values()], reply: 'ok'};
}

function sameDb(a: Buffer | undefined, b: Buffer | undefined): boolean {
	return a !== undefined && b !== undefined && a.equals(b);
}

function unique(keys: Buffer[]): Buffer[] {
	const seen = new Map<string, Buffer>();
	for (const key of keys) seen.set(key.toString('latin1'), key);
	return [...seen.values()];
}

function describe(args: Buffer[]): string {
	const name = args[0] === undefined ? '' : commandName(args[0]);
	return (name || '?').toUpperCase().slice(0, 40);
}
