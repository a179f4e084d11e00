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
	discrepancies: number;
	journalBytes: number;
}

export interface DiscrepancyRecord {
	key: string;
	db: number;
	kind: 'missing' | 'extra' | 'type' | 'value' | 'ttl';
	diff: string;
}

export type EngineEvent =
	| {type: 'stage'; stage: Stage; status: 'running' | 'ready' | 'finished' | 'failed'; reason?: string}
	| {type: 'preflight'; report: PreflightReport}
	| {type: 'info'; message: string}
	| {type: 'warning'; code: string; message: string}
	| {type: 'error'; code: string; message: string}
	| ({type: 'discrepancy'} & DiscrepancyRecord)
	| {type: 'gap'; node: string; fromTs: number; toTs: number; message: string}
	| ({type: 'summary'; exitCode: number; durationMs: number} & Omit<StatsSnapshot, 'stage'> & {stage: Stage});

export type EngineEventType = EngineEvent['type'];
