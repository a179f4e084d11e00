/**
 * The one state of a keyferry run: a vanilla zustand store. The engine writes it (hot counters are
 * batched, see stats-publisher.ts); the console and the headless reporter only read it and call
 * `controls`. Nothing here knows about React or Redis.
 */
import {createStore, type StoreApi} from 'zustand/vanilla';
import type {DiscrepancyRecord, EngineEvent, RollbackCountsEvent, RollbackEntry, StatsSnapshot} from './events';
import type {Stage, StageStatus} from './stages';
import type {PreflightReport} from '../preflight/report-types';

export interface FeedEntry {
	seq: number;
	ts: number;
	event: EngineEvent;
}

export interface NodeHealth {
	address: string;
	latencyMs: number | null;
	usedMemory: number;
	maxmemory: number;
	evictedKeys: number;
	/** Output buffer of keyferry's MONITOR client on this node, bytes (source masters only). */
	monitorBuffer: number | null;
	/** A connection of keyferry's to this node is lost and being re-established. */
	reconnecting?: boolean;
}

/** Operator actions. The engine installs real handlers; until then they do nothing. */
export interface Controls {
	advance(): void;
	setCopyPaused(paused: boolean): void;
	/** Keys per second, or null for unlimited. */
	setCopyRate(keysPerSecond: number | null): void;
	verifyNow(): void;
	/** After cutover, once the rollback preview is ready: copy the changed keys back to the source (the console asks for "rollback" typed first). */
	rollback(): void;
	/** Graceful stop: drain to a barrier, summary, exit 0. */
	quit(): void;
	/** Second Ctrl+C: stop now, exit 130. */
	abort(): void;
}

/** One console on this run: the one on the migration's own terminal, or one attached over the control socket. */
export interface Party {
	id: string;
	/** $USER@host#id */
	name: string;
	kind: 'console' | 'client';
}

/** Pair-run: who is watching, who holds the controls, who asked for them. Kept by source/control. */
export interface PairState {
	/** The local console first (while it is on its terminal), then clients in the order they attached. */
	parties: Party[];
	/** The party whose keys act; null when no control socket runs (then every console acts). */
	holder: string | null;
	/** A watcher that asked for the controls and waits for the holder's answer. */
	request: string | null;
}

/** A console's pair-run requests; the control server (or the attach client) installs real handlers. */
export interface PairControls {
	requestControl(): void;
	/** The holder's answer to the pending request. */
	answerRequest(accept: boolean): void;
	/** The holder hands the controls to another party. */
	handOver(to: string): void;
	/** A key was pressed: the holder is not idle. */
	active(): void;
	/** Attached consoles only: close the connection, leave the migration running. */
	detach(): void;
}

export interface KeyferryState {
	migrationId: string;
	startedAt: number;
	source: {label: string; version: string | null};
	target: {label: string; version: string | null};
	stage: Stage;
	stageStatus: StageStatus;
	/** What the stage waits for, or why it is ready; one line. */
	stageDetail: string;
	completedStages: Stage[];
	preflight: PreflightReport | null;
	stats: StatsSnapshot;
	/** Per-second rates over the last minutes, oldest first, for sparklines. */
	history: {captured: number[]; applied: number[]; copied: number[]; lag: number[]};
	health: {source: NodeHealth[]; target: NodeHealth[]};
	copy: {paused: boolean; rateLimit: number | null};
	/** After cutover: what a rollback would do to the source, key by key; null before cutover. */
	rollback: RollbackPreview | null;
	/** Latest discrepancies, newest last. */
	discrepancies: DiscrepancyRecord[];
	/** Latest events, newest last; `feedSeq` counts all ever appended. */
	feed: FeedEntry[];
	feedSeq: number;
	/** Set once the run is over; the process exits with it. */
	exitCode: number | null;
	/** A graceful stop is under way. */
	stopping: boolean;
	pair: PairState;
	controls: Controls;
	pairControls: PairControls;
}

export interface RollbackPreview {
	/** Sorted by db then key; at most `rollbackEntryLimit` of them. */
	entries: RollbackEntry[];
	/** Every key the rollback would change (entries may hold fewer). */
	total: number;
	/** False until the first comparison after cutover finished. */
	ready: boolean;
	counts: RollbackCountsEvent;
}

/** Entries the store keeps for the console; the counts cover all of them. */
export const rollbackEntryLimit = 10_000;

export type KeyferryStore = StoreApi<KeyferryState>;

export const historyLength = 300;
export const feedLength = 500;
const discrepancyLength = 200;

export function emptyStats(stage: Stage = 'preflight'): StatsSnapshot {
	return {
		stage,
		keysCopied: 0,
		keysTotal: 0,
		captured: 0,
		applied: 0,
		lag: 0,
		lagSeconds: 0,
		copyRate: 0,
		applyRate: 0,
		captureRate: 0,
		recopies: 0,
		samples: 0,
		sampleRate: 0,
		discrepancies: 0,
		journalBytes: 0,
	};
}

const noControls: Controls = {
	advance() {},
	setCopyPaused() {},
	setCopyRate() {},
	verifyNow() {},
	rollback() {},
	quit() {},
	abort() {},
};

const noPairControls: PairControls = {
	requestControl() {},
	answerRequest() {},
	handOver() {},
	active() {},
	detach() {},
};

export const noPair: PairState = {parties: [], holder: null, request: null};

export function createKeyferryStore(initial: Partial<KeyferryState> = {}): KeyferryStore {
	return createStore<KeyferryState>()(() => ({
		migrationId: '',
		startedAt: Date.now(),
		source: {label: '', version: null},
		target: {label: '', version: null},
		stage: 'preflight',
		stageStatus: 'running',
		stageDetail: '',
		completedStages: [],
		preflight: null,
		stats: emptyStats(),
		history: {captured: [], applied: [], copied: [], lag: []},
		health: {source: [], target: []},
		copy: {paused: false, rateLimit: null},
		rollback: null,
		discrepancies: [],
		feed: [],
		feedSeq: 0,
		exitCode: null,
		stopping: false,
		pair: noPair,
		controls: noControls,
		pairControls: noPairControls,
		...initial,
	}));
}

/** Appends an event to the feed (and the discrepancy list when it is one). */
export function emit(store: KeyferryStore, event: EngineEvent): void {
	store.setState((state) => {
		const entry: FeedEntry = {seq: state.feedSeq + 1, ts: Date.now(), event};
		const feed = state.feed.length >= feedLength ? [...state.feed.slice(1 - feedLength), entry] : [...state.feed, entry];
		const next: Partial<KeyferryState> = {feed, feedSeq: entry.seq};
		if (event.type === 'discrepancy') {
			const {type: _type, ...record} = event;
			next.discrepancies = [...state.discrepancies.slice(1 - discrepancyLength), record];
		}
		return next;
	});
}

export function setStage(store: KeyferryStore, stage: Stage, stageStatus: StageStatus, stageDetail = ''): void {
	const state = store.getState();
	const completedStages =
		stage !== state.stage && !state.completedStages.includes(state.stage) && state.stageStatus !== 'failed'
			? [...state.completedStages, state.stage]
			: state.completedStages;
	store.setState({stage, stageStatus, stageDetail, completedStages, stats: {...state.stats, stage}});
	const status = stageStatus === 'finished' ? 'finished' : stageStatus;
	emit(store, {type: 'stage', stage, status, ...(stageDetail ? {reason: stageDetail} : {})});
}
