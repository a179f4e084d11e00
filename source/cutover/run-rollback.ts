/**
 * `keyferry rollback --state-dir D --preview | --apply`: after cutover, what copying the changes
 * made on the target back to the source would do (one `rollback-diff` event per key), and doing
 * it. The servers come from the state dir's migration.json (passwords from the environment) or
 * from --source/--target. The changed keys come from the reverse journal when its capture is
 * still running (proved by an ECHO it must show), otherwise from a full compare of target against
 * source. Apply runs its own capture on the target, copies the keys back with the marker-ordered
 * machinery in reverse, then keeps the source following the target until stopped.
 */
import {join} from 'node:path';
import type {RollbackOptions} from '../config/options';
import {Counters} from '../engine/counters';
import {startStatsPublisher} from '../engine/stats-publisher';
import {emit, setStage, type KeyferryStore} from '../engine/store';
import {describeError, ExitCode, KeyferryError, UsageError} from '../errors';
import {endpointLabel, type NodeEndpoint} from '../redis/endpoint';
import {ChangedKeys} from './changed-keys';
import {readCutoverPoint, type ReverseRecord} from './cutover-point';
import {JournalFiles} from './journal-files';
import {endpointFromRecord, readMigrationRecord, type MigrationRecord} from './migration-record';
import {startReverseCapture, type ReverseCapture} from './reverse-capture';
import {RollbackApply} from './rollback-apply';
import {completeKeys, newTag, readUntilTag, scanFilesUntilTag, sendTag} from './rollback-basis';
import {publishPreview} from './rollback-follower';
import {describeKeys, resolveUnknownKeys, summarize, type RollbackItem} from './rollback-preview';
import {openRollbackSides, type RollbackSides} from './rollback-sides';
import {gracefulQuit, stopSignals} from '../engine/stop-signals';

/** On a terminal without --yes: show the preview, then ask for "rollback" typed. */
export interface RollbackPrompt {
	show(items: readonly RollbackItem[], counts: ReturnType<typeof summarize>): void;
	confirm(count: number): Promise<boolean>;
}

const ttlToleranceMs = 1000;
/** A live reverse capture shows keyferry's ECHO on disk within milliseconds. */
const liveJournalWaitMs = 2000;
const tagTimeoutMs = 10_000;

export async function runRollback(options: RollbackOptions, store: KeyferryStore, prompt?: RollbackPrompt): Promise<number> {
	const counters = new Counters();
	const publisher = startStatsPublisher(store, counters);
	const {stopped, aborted: abortedPromise, requestStop: stopRequested, requestAbort: aborted} = stopSignals();
	let lost: (error: KeyferryError) => void = () => {};
	const captureLost = new Promise<never>((_resolve, reject) => {
		lost = reject;
	});
	captureLost.catch(() => {});
	store.setState({
		controls: {
			...store.getState().controls,
			quit: gracefulQuit(store, stopRequested),
			abort: () => aborted(),
		},
	});
	const finish = (exitCode: number) => {
		publisher.flush();
		const {stats, startedAt} = store.getState();
		emit(store, {type: 'summary', exitCode, durationMs: Date.now() - startedAt, ...stats, stage: 'rollback'});
		store.setState({exitCode});
		publisher.stop();
		return exitCode;
	};

	let sides: RollbackSides | null = null;
	let capture: ReverseCapture | null = null;
	let apply: RollbackApply | null = null;
	const warn = (code: string, message: string) => emit(store, {type: 'warning', code, message});
	try {
		const {migration, reverse, source, target} = await readState(options);
		store.setState({migrationId: migration.migrationId, source: {label: endpointLabel(source), version: null}, target: {label: endpointLabel(target), version: null}});
		setStage(store, 'rollback', 'running', 'finding the keys changed on the target since cutover');
		sides = openRollbackSides(source, target, migration.dbMap);
		await Promise.all([sides.source(0), sides.target(0)]);
		if (options.apply) {
			capture = await startReverseCapture({
				stateDir: options.stateDir,
				root: 'rollback',
				endpoint: target,
				counters,
				maxMemoryWindow: 64 * 1024 * 1024,
				onGap: (gap) => emit(store, {type: 'gap', node: gap.node, fromTs: gap.fromMs, toTs: gap.toMs, message: gap.reason}),
				onWarning: warn,
				onFatal: (code, message) => lost(new KeyferryError(code, message)),
			});
		}
		const changed = new ChangedKeys(new Set(reverse.excludedClients));
		const tag = newTag('rollback');
		await sendTag(sides, tag);
		const live = await scanFilesUntilTag(new JournalFiles(join(options.stateDir, reverse.dir), reverse.fromOffset), changed, tag, liveJournalWaitMs);
		if (!live) {
			emit(store, {type: 'info', message: 'the reverse capture is not running (keyferry stopped since cutover?): comparing every key of the target with the source'});
			changed.incomplete ??= 'the reverse capture is not running';
		} else if (changed.incomplete !== null) {
			emit(store, {type: 'info', message: `${changed.incomplete}: comparing every key of the target with the source`});
		}
		const basis = await completeKeys(sides, changed);
		if (capture) {
			// Keys written since this process started capturing are copied back too, not only replayed.
			const windowTag = newTag('rollback-window');
			await sendTag(sides, windowTag);
			await readUntilTag(capture.journal.reader(capture.fromOffset), changed, windowTag, tagTimeoutMs);
			await resolveUnknownKeys(sides, changed);
		}
		const items = await describeKeys(sides, changed.keys(), ttlToleranceMs);
		const counts = summarize(items, basis);
		publishPreview(store, items, basis);
		for (const item of items) emit(store, {type: 'rollback-diff', ...item.entry});
		emit(store, {type: 'rollback-summary', ...counts});
		prompt?.show(items, counts);
		if (!options.apply) {
			setStage(store, 'rollback', 'finished', `${items.length} key(s) would change on the source`);
			return finish(ExitCode.ok);
		}
		if (!options.yes && !(await (prompt?.confirm(items.length) ?? Promise.resolve(false)))) {
			setStage(store, 'rollback', 'finished', 'not applied');
			return finish(ExitCode.ok);
		}
		setStage(store, 'rollback', 'running', `copying ${items.length} changed key(s) back to the source`);
		apply = await RollbackApply.start({
			reader: capture!.journal.reader(capture!.fromOffset),
			target,
			source,
			keys: changed.keys(),
			excludedClients: new Set(reverse.excludedClients),
			sourceDbOf: sides.sourceDbOf,
			skewMs: migration.clockSkewMs,
			logical: false,
			counters,
			onWarning: warn,
			onError: (error, command) => warn('rollback-write', `the source refused ${String(command[0])}: ${error.message.split('\n')[0]}`),
			onGap: (_from, _to, reason) => warn('rollback-gap', `capture on the target missed changes (${reason}); copying its keys back again`),
		});
		const failed = Promise.race([apply.failed.then(() => 'failed' as const), captureLost]);
		const landed = await Promise.race([apply.landed(`keyferry:rollback:${migration.migrationId}`).then(() => 'landed' as const), failed, stopped, abortedPromise]);
		if (landed === 'landed') {
			emit(store, {type: 'info', message: `rolled back: ${items.length} key(s) copied back to the source; reverse sync keeps it following the target until stopped`});
			setStage(store, 'rollback', 'ready', 'the source matches the target · reverse sync keeps it following until stopped');
		}
		const outcome = landed === 'landed' ? await Promise.race([failed, stopped, abortedPromise]) : landed;
		if (outcome === 'abort') return finish(ExitCode.aborted);
		if (outcome === 'failed') throw new KeyferryError('rollback-failed', 'reverse sync stopped unexpectedly');
		await apply.drainAndStop(`keyferry:stop:${migration.migrationId}`);
		emit(store, {type: 'info', message: 'barrier passed: the source holds every write the target took before it'});
		return finish(ExitCode.ok);
	} catch (error) {
		const {code, message, exitCode} = describeError(error);
		emit(store, {type: 'error', code, message});
		if (store.getState().stageStatus !== 'failed') setStage(store, 'rollback', 'failed', message);
		return finish(exitCode);
	} finally {
		await apply?.stop();
		await capture?.stop();
		sides?.close();
	}
}

interface RollbackState {
	migration: MigrationRecord;
	reverse: ReverseRecord;
	source: NodeEndpoint;
	target: NodeEndpoint;
}

async function readState(options: RollbackOptions): Promise<RollbackState> {
	const dir = options.stateDir;
	const migration = await readMigrationRecord(dir);
	if (!migration) throw new UsageError(`${dir} holds no migration.json: give the --state-dir of a keyferry migrate that reached cutover`, 'no-cutover');
	const point = await readCutoverPoint(dir);
	if (!point) throw new UsageError(`no cutover recorded in ${dir} (cutover.json): a rollback only follows a cutover`, 'no-cutover');
	if (migration.source.cluster || migration.target.cluster) throw new UsageError('rollback with a cluster on either side is not supported yet', 'not-built');
	const reverse = point.reverse[0];
	if (!reverse || point.reverse.length !== 1) throw new UsageError(`${dir} has no reverse journal of a standalone target`, 'no-cutover');
	const endpoints = options.endpoints ?? {
		source: endpointFromRecord(migration.source, options.passwords.source, options.tls),
		target: endpointFromRecord(migration.target, options.passwords.target, options.tls),
	};
	return {migration, reverse, ...endpoints};
}
