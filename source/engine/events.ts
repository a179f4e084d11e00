/**
 * The typed events of the headless contract (README "Headless output"). The engine appends them
 * to the store's feed; the headless reporter prints each as one JSON line, the console shows them
 * in its log pane. Every event gets `type` and `ts` (ms since epoch) when it is printed.
 */
import type {Stage} from './stages';
import type {PreflightReport} from '../preflight/report-types';

export interface StatsSnapshot {
	stage: Stage;
	keysCopied: number;
	keysTotal: number;
	captured: number;
	applied: number;
	/** Captured but not yet applied, in events. */
	lag: number;
	/** Age in seconds of the oldest unapplied event (0 when caught up). */
	lagSeconds: number;
	copyRate: number;
	applyRate: number;
	captureRate: number;
	recopies: number;
	samples: number;
	/** Verification samples compared per second. */
	sampleRate: number;
	discrepancies: number;
	journalBytes: number;
}

export interface DiscrepancyRecord {
	key: string;
	db: number;
	kind: 'missing' | 'extra' | 'type' | 'value' | 'ttl';
	diff: string;
}

/** What a rollback does to one key of the source (DESIGN.md, rollback). */
export interface RollbackEntry {
	key: string;
	/** The source db the rollback writes. */
	db: number;
	change: 'added' | 'modified' | 'deleted';
	/** The key's type after the rollback (the removed type for a deletion). */
	keyType: string;
	diff: string;
}

export interface RollbackCountsEvent {
	/** Where the changed keys came from: the reverse journal, or a full compare of target against source. */
	basis: 'journal' | 'compare';
	total: number;
	added: number;
	modified: number;
	deleted: number;
	byType: Record<string, number>;
	/** By the text before the first ':' of the key ('' for keys without one). */
	byPrefix: Record<string, number>;
}

export type EngineEvent =
	| {type: 'stage'; stage: Stage; status: 'running' | 'ready' | 'finished' | 'failed'; reason?: string}
	| {type: 'preflight'; report: PreflightReport}
	| {type: 'info'; message: string}
	| {type: 'warning'; code: string; message: string}
	| {type: 'error'; code: string; message: string}
	| ({type: 'discrepancy'} & DiscrepancyRecord)
	| {type: 'gap'; node: string; fromTs: number; toTs: number; message: string}
	| ({type: 'rollback-diff'} & RollbackEntry)
	| ({type: 'rollback-summary'} & RollbackCountsEvent)
	| ({type: 'summary'; exitCode: number; durationMs: number} & Omit<StatsSnapshot, 'stage'> & {stage: Stage});

export type EngineEventType = EngineEvent['type'];
