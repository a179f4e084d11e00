/**
 * The migrate run from verify on: the cutover stage and what follows it (DESIGN.md, stages).
 *
 * cutover (running): reverse capture starts on the target at once, before the operator switches
 * the application, and the checklist waits until no application write reaches the source for
 * --cutover-quiet ms (ready). Advancing then optionally pauses source writes (strict cutover),
 * drains every source master to a barrier, records the cutover point, and stops the forward
 * capture. done (running): reverse capture runs, the rollback preview follows it. rollback: the
 * changed keys are copied back to the source, then reverse sync keeps it following the target.
 */
import type {MigrateOptions} from '../config/options';
import {Counters} from '../engine/counters';
import type {StageGate} from '../engine/stage-gate';
import {emit, setStage, type KeyferryStore} from '../engine/store';
import {describeError, ExitCode} from '../errors';
import type {PreflightResult} from '../preflight/run-preflight';
import type {Arg} from '../replay/writer';
import type {ProgressWriter, ReverseStart} from '../engine/progress-record';
import {cutoverPath, writeCutoverPoint, type BarrierRecord, type CutoverPoint} from './cutover-point';
import {pauseSourceWrites} from './pause-source';
import {startReverseCapture, type ReverseCapture} from './reverse-capture';
import {RollbackApply} from './rollback-apply';
import {completeKeys, newTag, readUntilTag, sendTag} from './rollback-basis';
import {publishPreview, RollbackFollower} from './rollback-follower';
import {describeKeys, resolveUnknownKeys, summarize} from './rollback-preview';
import {openRollbackSides, type RollbackSides} from './rollback-sides';
import {checklistDetail, sourceQuiet} from './source-quiet';

export interface CutoverContext {
	options: MigrateOptions;
	preflight: PreflightResult;
	store: KeyferryStore;
	counters: Counters;
	gate: StageGate;
	stateDir: string;
	/** Drains every source master to a barrier (tags start with `tag`), once application writes stopped. */
	drain(tag: string): Promise<BarrierRecord[]>;
	/** Stops the forward capture, copy and replay: nothing more flows from the source. */
	stopForward(): Promise<void>;
	onReplayError(error: Error, command: Arg[]): void;
	/** The run cannot go on: reports the error, fails the stage, ends the run with `exitCode`. */
	fail(code: string, message: string, exitCode: number): void;
	/** progress.json for `migrate --resume`. */
	progress: ProgressWriter;
	/** A run resumed after its cutover point: the reverse capture that point records, continued. */
	resumedReverse?: ReverseStart;
}

const ttlToleranceMs = 1000;
const tickMs = 250;
/** How long the reverse capture may take to show keyferry's own ECHO. */
const tagTimeoutMs = 10_000;

export class CutoverStage {
	private reverse: ReverseCapture | null = null;
	private follower: RollbackFollower | null = null;
	private sides: RollbackSides | null = null;
	private apply: RollbackApply | null = null;
	private rollbackStarted = false;
	private stopping = false;
	private timer: NodeJS.Timeout | null = null;
	/** The reverse direction's own counters: the forward stats stay those of the migration. */
	private readonly reverseCounters = new Counters();

	constructor(private readonly context: CutoverContext) {}

	/**
	 * Starts the reverse capture on a standalone target (at once, before the operator switches
	 * the application, so none of its writes there is missed) and records the cutover stage.
	 * `run` calls it; a run resumed during its cutover calls it first, before copying again.
	 */
	async openReverse(): Promise<ReverseCapture | null> {
		if (this.reverse || this.context.preflight.report.target.cluster) return this.reverse;
		const {options, preflight, store, stateDir, progress} = this.context;
		const reverse = await startReverseCapture({
			stateDir,
			endpoint: preflight.targetMasters[0]!,
			counters: this.reverseCounters,
			maxMemoryWindow: options.maxMemoryWindow,
			onGap: (gap) => emit(store, {type: 'gap', node: gap.node, fromTs: gap.fromMs, toTs: gap.toMs, message: gap.reason}),
			onWarning: (code, message) => emit(store, {type: 'warning', code, message}),
			onFatal: (code, message) => this.context.fail(code, message, ExitCode.runtime),
		});
		// A resumed cutover keeps the first attempt's start: the journal holds everything since.
		const first = this.context.resumedReverse ?? progress.reverse;
		if (first) continueReverse(reverse, first, (message) => emit(store, {type: 'warning', code: 'reverse-journal', message}));
		this.reverse = reverse;
		await progress.enterCutover({master: reverse.master, dir: reverse.dir, fromOffset: reverse.fromOffset, excludedClients: reverse.excludedClients});
		emit(store, {type: 'info', message: `reverse capture running on the target ${reverse.master}: every write the application makes there is journaled`});
		return reverse;
	}

	/** From verify ready to done; resolves once reverse capture runs and the cutover point is recorded. */
	async run(): Promise<void> {
		const {options, preflight, store, gate, progress} = this.context;
		setStage(store, 'cutover', 'running', this.checklist(false));
		if (preflight.report.target.cluster) {
			await progress.enterCutover(null);
			emit(store, {type: 'warning', code: 'reverse-capture-cluster', message: 'reverse capture and rollback need a standalone target for now: cutover records the point only'});
		} else {
			const reverse = await this.openReverse();
			if (this.stopping) {
				await reverse?.stop();
				return;
			}
		}

		const advanced = gate.wait('done', !options.autoCutover);
		let go = false;
		void advanced.then(() => (go = true));
		while (!go) {
			await this.waitFor(() => this.quiet());
			if (this.stopping) return;
			setStage(store, 'cutover', 'ready', this.checklist(true));
			await this.waitFor(() => go || !this.quiet());
			if (this.stopping) return;
			if (!go) {
				emit(store, {type: 'warning', code: 'source-writes', message: 'application writes reach the source again; cutover waits until they stop'});
				setStage(store, 'cutover', 'running', this.checklist(false));
			}
		}
		await this.cutOver();
	}

	private async cutOver(): Promise<void> {
		const {options, preflight, store, stateDir} = this.context;
		const reverse = this.reverse;
		store.setState({stageDetail: 'draining to the cutover barrier'});
		if (options.pauseSourceWritesMs !== null) {
			try {
				await pauseSourceWrites(preflight.sourceMasters, options.pauseSourceWritesMs);
			} catch (error) {
				const {code, message, exitCode} = describeError(error);
				this.context.fail(code, message, exitCode);
				return;
			}
			emit(store, {type: 'info', message: `source writes paused for ${options.pauseSourceWritesMs} ms on ${preflight.sourceMasters.length} master(s)`});
		}
		const barriers = await this.context.drain(`keyferry:cutover:${store.getState().migrationId}`);
		if (this.stopping) return;
		const at = Date.now();
		await writeCutoverPoint(stateDir, {
			version: 1,
			migrationId: store.getState().migrationId,
			at,
			pausedSourceWritesMs: options.pauseSourceWritesMs,
			barriers,
			reverse: reverse
				? [{master: reverse.master, dir: reverse.dir, fromOffset: reverse.fromOffset, cutoverOffset: reverse.journal.end, excludedClients: reverse.excludedClients}]
				: [],
		});
		emit(store, {type: 'info', message: `cutover point recorded in ${cutoverPath(stateDir)}: the target holds every write the source took before the barrier`});
		await this.context.progress.enter('done');
		await this.context.stopForward();
		if (this.stopping) return;
		this.enterDone();
	}

	/**
	 * A run resumed after its cutover point was recorded: nothing flows from the source any more;
	 * the reverse capture starts again (its journal records the gap, so the rollback preview
	 * compares every key) and the run waits in stage done as before.
	 */
	async resumeDone(point: CutoverPoint, wasRollingBack: boolean): Promise<void> {
		const {store, stateDir} = this.context;
		emit(store, {type: 'info', message: `the cutover point was recorded at ${new Date(point.at).toISOString()} (${cutoverPath(stateDir)}): the source is no longer followed`});
		if (!this.context.preflight.report.target.cluster) {
			const reverse = await this.openReverse();
			if (this.stopping) {
				await reverse?.stop();
				return;
			}
		}
		this.enterDone();
		if (wasRollingBack) {
			emit(store, {type: 'warning', code: 'rollback-interrupted', message: `keyferry stopped while applying a rollback: the source may hold part of it; press a to apply it again, or run keyferry rollback --state-dir ${stateDir} --apply`});
		}
	}

	private enterDone(): void {
		const {options, preflight, store} = this.context;
		const reverse = this.reverse;
		if (!reverse) {
			setStage(store, 'done', 'running', 'cut over · q stops');
			return;
		}
		setStage(store, 'done', 'running', 'reverse capture running · r previews a rollback');
		if (preflight.report.source.cluster) {
			emit(store, {type: 'warning', code: 'rollback-cluster', message: 'rollback into a cluster source is not supported yet: no preview'});
			return;
		}
		this.sides = openRollbackSides(preflight.sourceMasters[0]!, preflight.targetMasters[0]!, [...(options.dbMap ?? new Map<number, number>())]);
		this.follower = new RollbackFollower({
			journal: reverse.journal,
			from: reverse.fromOffset,
			excludedClients: new Set(reverse.excludedClients),
			sides: this.sides,
			store,
			ttlToleranceMs,
			onWarning: (code, message) => emit(store, {type: 'warning', code, message}),
		});
	}

	/** `controls.rollback()`: false when there is nothing to roll back yet (or already rolling back). */
	rollback(): boolean {
		const {store} = this.context;
		if (this.rollbackStarted || !this.follower || store.getState().stage !== 'done' || !store.getState().rollback?.ready) return false;
		this.rollbackStarted = true;
		this.startRollback().catch((error: unknown) => {
			const {code, message, exitCode} = describeError(error);
			this.context.fail(code, message, exitCode);
		});
		return true;
	}

	private async startRollback(): Promise<void> {
		const {options, preflight, store} = this.context;
		const reverse = this.reverse!;
		const sides = this.sides!;
		setStage(store, 'rollback', 'running', 'comparing every key changed since cutover');
		await this.context.progress.enter('rollback');
		const {position, changed, basis: followed} = await this.follower!.pause();
		const basis = (await completeKeys(sides, changed)) === 'compare' ? 'compare' : followed;
		// Keys written from `position` to now are copied back too, not only replayed (see rollback-apply.ts).
		const tag = newTag('rollback');
		const window = reverse.journal.reader(position);
		await sendTag(sides, tag);
		await readUntilTag(window, changed, tag, tagTimeoutMs);
		await resolveUnknownKeys(sides, changed);
		if (this.stopping) return;
		const keys = changed.keys();
		const items = await describeKeys(sides, keys, ttlToleranceMs);
		publishPreview(store, items, basis);
		for (const item of items) emit(store, {type: 'rollback-diff', ...item.entry});
		emit(store, {type: 'rollback-summary', ...summarize(items, basis)});
		setStage(store, 'rollback', 'running', `copying ${items.length} changed key(s) back to the source`);
		this.apply = await RollbackApply.start({
			reader: reverse.journal.reader(position),
			target: preflight.targetMasters[0]!,
			source: preflight.sourceMasters[0]!,
			keys,
			excludedClients: new Set(reverse.excludedClients),
			sourceDbOf: sides.sourceDbOf,
			skewMs: preflight.report.clockSkewMs,
			logical: options.copyMode === 'logical',
			counters: this.reverseCounters,
			onWarning: (code, message) => emit(store, {type: 'warning', code, message}),
			onError: this.context.onReplayError,
			onGap: (_from, _to, reason) => emit(store, {type: 'warning', code: 'rollback-gap', message: `reverse capture missed changes (${reason}); copying the target's keys back again`}),
		});
		if (this.stopping) {
			await this.apply.stop();
			return;
		}
		this.apply.failed.catch((error: unknown) => this.context.fail('rollback-failed', `reverse sync stopped: ${error instanceof Error ? error.message : String(error)}`, ExitCode.runtime));
		await this.apply.landed(`keyferry:rollback:${store.getState().migrationId}`);
		if (this.stopping) return;
		emit(store, {type: 'info', message: `rolled back: ${items.length} key(s) copied back to the source; reverse sync keeps it following the target until stopped`});
		setStage(store, 'rollback', 'ready', 'the source matches the target · reverse sync keeps it following until q');
	}

	/** Stops everything after cutover; `graceful`: reverse sync first drains to a barrier. */
	async stop(graceful: boolean): Promise<void> {
		this.stopping = true;
		if (this.timer) clearInterval(this.timer);
		this.follower?.stop();
		if (graceful) await this.apply?.drainAndStop(`keyferry:stop:${this.context.store.getState().migrationId}`);
		await this.apply?.stop();
		await this.reverse?.stop();
		this.sides?.close();
	}

	private quiet(): boolean {
		const {counters, options} = this.context;
		return sourceQuiet({lastWriteMs: counters.lastSourceWriteMs, nowMs: Date.now(), quietMs: options.cutoverQuietMs, lag: counters.captured - counters.applied});
	}

	private checklist(ready: boolean): string {
		const {counters, options} = this.context;
		return checklistDetail({lastWriteMs: counters.lastSourceWriteMs, nowMs: Date.now(), quietMs: options.cutoverQuietMs, lag: counters.captured - counters.applied}, ready);
	}

	/** Polls `check`, keeping the checklist line current, until it holds or the stage stops. */
	private waitFor(check: () => boolean): Promise<void> {
		return new Promise((resolve) => {
			const tick = () => {
				if (this.stopping || check()) {
					if (this.timer) clearInterval(this.timer);
					this.timer = null;
					resolve();
					return;
				}
				const detail = this.checklist(this.context.store.getState().stageStatus === 'ready');
				if (this.context.store.getState().stageDetail !== detail) this.context.store.setState({stageDetail: detail});
			};
			this.timer = setInterval(tick, tickMs);
			tick();
		});
	}
}

/**
 * The reverse journal of an earlier attempt goes on: the capture starts where that attempt's began
 * (its lines, the gap while keyferry was down, then the new ones), and both attempts' own target
 * connections are keyferry's. An offset the journal no longer holds is kept as it is, with a warning.
 */
function continueReverse(reverse: ReverseCapture, first: ReverseStart, warn: (message: string) => void): void {
	const journal = reverse.journal;
	if (first.fromOffset < journal.firstOffset || first.fromOffset > journal.end) {
		warn(`the reverse journal no longer starts at ${first.fromOffset} (it holds ${journal.firstOffset}..${journal.end}); the rollback preview compares every key`);
		return;
	}
	reverse.fromOffset = first.fromOffset;
	reverse.excludedClients = [...new Set([...first.excludedClients, ...reverse.excludedClients])];
}
