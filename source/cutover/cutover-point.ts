/**
 * `<state-dir>/cutover.json`: the cutover point. Written once the cutover barrier passed on every
 * source master, atomically, so a rollback started later (even by another process) knows where
 * the reverse journal begins and which target connections were keyferry's own.
 */
import {join} from 'node:path';
import {readStateFile, writeJsonAtomic} from '../engine/atomic-json';

export const cutoverFileName = 'cutover.json';

export interface BarrierRecord {
	/** Source master, host:port. */
	master: string;
	/** The barrier's tag (the ECHO argument that passed last). */
	barrier: string;
	/** End of that master's journal once the barrier passed. */
	journalOffset: number;
}

export interface ReverseRecord {
	/** Target master, host:port. */
	master: string;
	/** The reverse journal, relative to the state dir. */
	dir: string;
	/** Where the reverse capture began: before the application was switched (the cutover stage's start). */
	fromOffset: number;
	/** End of the reverse journal once the cutover barrier passed. */
	cutoverOffset: number;
	/** Target client addresses that were keyferry's own (replay writes), not the application. */
	excludedClients: string[];
}

export interface CutoverPoint {
	version: 1;
	migrationId: string;
	/** When the barrier passed on every master, ms since the epoch. */
	at: number;
	pausedSourceWritesMs: number | null;
	barriers: BarrierRecord[];
	reverse: ReverseRecord[];
}

export function cutoverPath(stateDir: string): string {
	return join(stateDir, cutoverFileName);
}

export function writeCutoverPoint(stateDir: string, point: CutoverPoint): Promise<void> {
	return writeJsonAtomic(cutoverPath(stateDir), point);
}

/** The recorded cutover point, or null when the state dir has none. */
export function readCutoverPoint(stateDir: string): Promise<CutoverPoint | null> {
	return readStateFile(cutoverPath(stateDir), parseCutoverPoint, 'a cutover point');
}

/** Validates a parsed cutover.json; null when anything is missing or of the wrong kind. */
export function parseCutoverPoint(raw: unknown): CutoverPoint | null {
	if (!isObject(raw) || raw['version'] !== 1) return null;
	const {migrationId, at, pausedSourceWritesMs, barriers, reverse} = raw;
	if (typeof migrationId !== 'string' || !isOffset(at)) return null;
	if (pausedSourceWritesMs !== null && !isOffset(pausedSourceWritesMs)) return null;
	if (!Array.isArray(barriers) || !Array.isArray(reverse)) return null;
	const barrierRecords: BarrierRecord[] = [];
	for (const item of barriers) {
		if (!isObject(item) || typeof item['master'] !== 'string' || typeof item['barrier'] !== 'string' || !isOffset(item['journalOffset'])) return null;
		barrierRecords.push({master: item['master'], barrier: item['barrier'], journalOffset: item['journalOffset']});
	}
	const reverseRecords: ReverseRecord[] = [];
	for (const item of reverse) {
		if (!isObject(item) || typeof item['master'] !== 'string' || typeof item['dir'] !== 'string') return null;
		const {fromOffset, cutoverOffset, excludedClients} = item;
		if (!isOffset(fromOffset) || !isOffset(cutoverOffset) || cutoverOffset < fromOffset) return null;
		if (!Array.isArray(excludedClients) || !excludedClients.every((client) => typeof client === 'string')) return null;
		reverseRecords.push({master: item['master'], dir: item['dir'], fromOffset, cutoverOffset, excludedClients: excludedClients as string[]});
	}
	return {version: 1, migrationId, at, pausedSourceWritesMs: pausedSourceWritesMs as number | null, barriers: barrierRecords, reverse: reverseRecords};
}

function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isOffset(value: unknown): value is number {
	return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
