/**
 * Which keys a rollback covers, and the proof that a journal holds every change up to now: a
 * unique ECHO sent to the target shows up in every live MONITOR of it, so once a journal holds
 * that line, it holds every command the target ran before it. A reverse journal that never shows
 * the tag (its capture is not running, e.g. keyferry was restarted) cannot be trusted: the keys
 * then come from a full compare of target against source.
 */
import {randomBytes} from 'node:crypto';
import type {JournalReader} from '../capture/journal';
import type {MonitorEntry} from '../capture/monitor-parser';
import {parseInfo, parseKeyspace} from '../redis/info';
import {argIs} from '../replay/key-positions';
import type {ChangedKeys} from './changed-keys';
import type {JournalFiles} from './journal-files';
import {differingKeys, resolveUnknownKeys} from './rollback-preview';
import type {RollbackSides} from './rollback-sides';

export function newTag(purpose: string): Buffer {
	return Buffer.from(`keyferry:${purpose}:${Date.now()}:${randomBytes(6).toString('hex')}`);
}

export function isTag(entry: MonitorEntry, tag: Buffer): boolean {
	return entry.kind === 'command' && entry.args.length === 2 && argIs(entry.args[0], 'echo') && entry.args[1]!.equals(tag);
}

/** Sends the tag to the target; it is keyless and changes nothing. */
export async function sendTag(sides: RollbackSides, tag: Buffer): Promise<void> {
	await (await sides.target(0)).echo(tag);
}

/** Feeds the files' lines to `changed` until the tag; false when it did not show within `timeoutMs`. */
export async function scanFilesUntilTag(files: JournalFiles, changed: ChangedKeys, tag: Buffer, timeoutMs: number): Promise<boolean> {
	const deadline = Date.now() + timeoutMs;
	let found = false;
	for (;;) {
		await files.readNew((record) => {
			if (found) return;
			if (isTag(record.entry, tag)) found = true;
			else changed.feed(record.entry);
		});
		if (found) return true;
		if (Date.now() >= deadline) return false;
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
}

/** Feeds a live journal's lines to `changed` until the tag, then closes the reader. */
export async function readUntilTag(reader: JournalReader, changed: ChangedKeys, tag: Buffer, timeoutMs: number): Promise<void> {
	let found = false;
	const timer = setTimeout(() => reader.close(), timeoutMs);
	try {
		while (!found) {
			const records = await reader.read(2000);
			if (records === null) throw new Error(`the reverse capture did not show keyferry's own ECHO within ${timeoutMs} ms`);
			for (const record of records) {
				if (found) break;
				if (isTag(record.entry, tag)) found = true;
				else changed.feed(record.entry);
			}
		}
	} finally {
		clearTimeout(timer);
		reader.close();
	}
}

/** Every db either side holds, in the target's numbering. */
export async function rollbackDbs(sides: RollbackSides): Promise<number[]> {
	const [target, source] = await Promise.all([sides.target(0), sides.source(0)]);
	const [targetInfo, sourceInfo] = await Promise.all([target.info('keyspace'), source.info('keyspace')]);
	const dbs = new Set(Object.keys(parseKeyspace(parseInfo(targetInfo))).map(Number));
	for (const db of Object.keys(parseKeyspace(parseInfo(sourceInfo)))) dbs.add(sides.targetDbOf(Number(db)));
	return [...dbs].sort((a, b) => a - b);
}

/**
 * The journal's keys once unknown commands are resolved; when it cannot tell (a gap, FLUSHALL…),
 * the keys that differ now are added, from a full compare. Returns the basis used.
 */
export async function completeKeys(sides: RollbackSides, changed: ChangedKeys): Promise<'journal' | 'compare'> {
	await resolveUnknownKeys(sides, changed);
	if (changed.incomplete === null) return 'journal';
	for (const {db, key} of await differingKeys(sides, await rollbackDbs(sides))) changed.add(db, key);
	return 'compare';
}
