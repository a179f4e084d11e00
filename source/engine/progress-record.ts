/**
 * `<state-dir>/progress.json`: how far a migration got, rewritten atomically at every stage
 * change, so `migrate --resume` after a crash (kill -9, a lost host) knows where to continue and,
 * once the cutover began, which reverse journal records what the application wrote to the target.
 */
import {isAbsolute, join} from 'node:path';
import {readStateFile, writeJsonAtomic} from './atomic-json';
import {forwardStages, type Stage} from './stages';

export const progressFileName = 'progress.json';

/** Stages a run can be resumed at (preflight runs again anyway). */
export type ProgressStage = Exclude<Stage, 'preflight'>;

/** The reverse capture begun with the cutover stage: where its journal starts, and whose lines are keyferry's own. */
export interface ReverseStart {
	/** Target master, host:port. */
	master: string;
	/** The reverse journal, relative to the state dir. */
	dir: string;
	/** Where the first cutover attempt's reverse capture began. */
	fromOffset: number;
	/** Target client addresses that were keyferry's own (replay writes), not the application. */
	excludedClients: string[];
}

export interface ProgressRecord {
	version: 1;
	migrationId: string;
	/** The furthest stage entered. */
	stage: ProgressStage;
	/** When this record was written, ms since the epoch. */
	updatedAt: number;
	/** Set once the cutover stage began (standalone targets): the application may write to the target from then on. */
	reverse: ReverseStart | null;
}

export function progressPath(stateDir: string): string {
	return join(stateDir, progressFileName);
}

export function writeProgress(stateDir: string, record: ProgressRecord): Promise<void> {
	return writeJsonAtomic(progressPath(stateDir), record);
}

/** The recorded progress, or null when the state dir has none. */
export function readProgress(stateDir: string): Promise<ProgressRecord | null> {
	return readStateFile(progressPath(stateDir), parseProgress, 'a progress record');
}

const resumableStages: ReadonlySet<string> = new Set(forwardStages.filter((stage) => stage !== 'preflight').concat('rollback'));

/** Validates a parsed progress.json; null when anything is missing or of the wrong kind. */
export function parseProgress(raw: unknown): ProgressRecord | null {
	if (!isObject(raw) || raw['version'] !== 1) return null;
	const {migrationId, stage, updatedAt, reverse} = raw;
	if (typeof migrationId !== 'string' || migrationId === '' || typeof stage !== 'string' || !resumableStages.has(stage)) return null;
	if (!isOffset(updatedAt)) return null;
	if (reverse === null) return {version: 1, migrationId, stage: stage as ProgressStage, updatedAt, reverse: null};
	if (!isObject(reverse)) return null;
	const {master, dir, fromOffset, excludedClients} = reverse;
	if (typeof master !== 'string' || typeof dir !== 'string' || !isInside(dir) || !isOffset(fromOffset)) return null;
	if (!Array.isArray(excludedClients) || !excludedClients.every((client) => typeof client === 'string')) return null;
	return {version: 1, migrationId, stage: stage as ProgressStage, updatedAt, reverse: {master, dir, fromOffset, excludedClients: excludedClients as string[]}};
}

/** A path inside the state dir: a damaged file must not point keyferry elsewhere. */
function isInside(dir: string): boolean {
	return dir !== '' && !isAbsolute(dir) && !dir.split(/[\\/]/).includes('..');
}

function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isOffset(value: unknown): value is number {
	return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Keeps progress.json current: writes are chained (never two at once, never out of order) and
 * the recorded stage only moves forward, so a resumed run re-entering copy still resumes at the
 * stage its predecessor reached. A write that fails is reported, not fatal: the migration goes on.
 */
export class ProgressWriter {
	private record: ProgressRecord | null;
	private chain: Promise<void> = Promise.resolve();

	constructor(
		private readonly stateDir: string,
		private readonly migrationId: string,
		previous: ProgressRecord | null,
		private readonly onError: (message: string) => void,
	) {
		this.record = previous;
	}

	get reverse(): ReverseStart | null {
		return this.record?.reverse ?? null;
	}

	/** Records `stage` unless a further one is recorded already. */
	enter(stage: ProgressStage): Promise<void> {
		if (this.record && stageIndex(this.record.stage) >= stageIndex(stage)) return this.chain;
		return this.save({stage});
	}

	/** The cutover stage's reverse capture; only the first one is kept (its journal holds everything since). */
	enterCutover(reverse: ReverseStart | null): Promise<void> {
		const further = this.record !== null && stageIndex(this.record.stage) > stageIndex('cutover');
		return this.save({stage: further ? this.record!.stage : 'cutover', reverse: this.record?.reverse ?? reverse});
	}

	private save(change: Partial<ProgressRecord>): Promise<void> {
		const record: ProgressRecord = {version: 1, migrationId: this.migrationId, stage: 'capture', reverse: null, ...this.record, ...change, updatedAt: Date.now()};
		this.record = record;
		const next = this.chain.then(() => writeProgress(this.stateDir, record));
		this.chain = next.catch((error: unknown) => this.onError(`cannot record progress in ${progressPath(this.stateDir)}: ${error instanceof Error ? error.message : String(error)}`));
		return this.chain;
	}
}

function stageIndex(stage: ProgressStage): number {
	return stage === 'rollback' ? forwardStages.length : forwardStages.indexOf(stage);
}
