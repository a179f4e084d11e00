/**
 * `keyferry verify`: compares two servers at rest and only reads from either. Either side may be a
 * cluster (db 0 only). `--full` runs the full compare (every key, both ways); otherwise N distinct
 * keys are picked with RANDOMKEY from every db (every master of a cluster) of both sides, in
 * proportion to their key counts, so keys only the target holds are found too, and each is
 * compared with `compareKey`. It reports only through the store, like the migration: stage
 * `verify`, one `discrepancy` event per difference (also appended to the state dir's discrepancy
 * file), stats, and the summary last. Resolves with the exit code.
 */
import type {VerifyOptions} from '../config/options';
import {Counters} from '../engine/counters';
import type {DiscrepancyRecord, StatsSnapshot} from '../engine/events';
import {startStatsPublisher} from '../engine/stats-publisher';
import {emit, emptyStats, setStage, type KeyferryStore} from '../engine/store';
import {describeError, ExitCode, UsageError} from '../errors';
import {compareKey} from './compare-key';
import {DiscrepancyLog} from './discrepancy-log';
import {fullCompare} from './full-compare';
import {Connections, openSide, type KeyPool, type VerifySide} from './verify-sides';
import {stateDirFor} from '../engine/state-dir';

/**
 * Verify's own stats. StatsSnapshot has no slot for them, so they ride along in the store's
 * snapshot object, which the stats publisher and the reporters copy with a spread: they appear
 * in every `stats` line and in the summary.
 */
export interface VerifyStats {
	keysChecked: number;
	/** Keys compared per second: over the last second while running, the run's average in the summary. */
	sampleRate: number;
	/** Discrepancies per key checked. */
	discrepancyRate: number;
}

export interface VerifyOutcome {
	exitCode: number;
	/** Null when the run ended before the file was opened (no connection, bad input). */
	discrepancyFile: string | null;
}

/** Reads the verify fields of a stats line or summary; 0 for any not published yet. */
export function verifyStatsOf(stats: object): VerifyStats {
	const fields = stats as Partial<Record<keyof VerifyStats, unknown>>;
	const read = (name: keyof VerifyStats) => (typeof fields[name] === 'number' ? fields[name] : 0);
	return {keysChecked: read('keysChecked'), sampleRate: read('sampleRate'), discrepancyRate: read('discrepancyRate')};
}

/** Picks in flight at once: enough to hide round trips, few enough to stay light on a live server. */
const sampleConcurrency = 16;
/** Consecutive picks of keys already compared after which the keyspace counts as exhausted. */
const duplicateRunLimit = 1000;
const statsIntervalMs = 250;

export async function runVerify(options: VerifyOptions, store: KeyferryStore): Promise<VerifyOutcome> {
	const counters = new Counters();
	const publisher = startStatsPublisher(store, counters);
	const stop = new AbortController();
	let keysChecked = 0;
	let rateMark = {at: Date.now(), checked: 0};
	let sampleRate = 0;
	const publishVerifyStats = (summary = false) => {
		const now = Date.now();
		if (summary) sampleRate = Math.round(keysChecked / Math.max((now - store.getState().startedAt) / 1000, 0.001));
		else if (now - rateMark.at >= 1000) {
			sampleRate = Math.round((keysChecked - rateMark.checked) / ((now - rateMark.at) / 1000));
			rateMark = {at: now, checked: keysChecked};
		}
		const discrepancyRate = keysChecked === 0 ? 0 : Math.round((counters.discrepancies / keysChecked) * 1e6) / 1e6;
		const stats: StatsSnapshot & VerifyStats = {...store.getState().stats, keysChecked, sampleRate, discrepancyRate};
		store.setState({stats});
	};
	const statsTimer = setInterval(publishVerifyStats, statsIntervalMs);
	statsTimer.unref();

	const stopEarly = () => {
		if (stop.signal.aborted) return;
		store.setState({stopping: true});
		emit(store, {type: 'info', message: 'stopping: verification ends early'});
		stop.abort();
	};
	store.setState({
		stage: 'verify',
		stats: emptyStats('verify'),
		controls: {...store.getState().controls, quit: stopEarly, abort: stopEarly},
	});

	const connections = new Connections();
	let log: DiscrepancyLog | null = null;

	const finish = (exitCode: number): VerifyOutcome => {
		clearInterval(statsTimer);
		publisher.flush();
		publishVerifyStats(true);
		publisher.stop();
		const {stats, startedAt} = store.getState();
		emit(store, {type: 'summary', exitCode, durationMs: Date.now() - startedAt, ...stats});
		store.setState({exitCode});
		return {exitCode, discrepancyFile: log?.path ?? null};
	};
	/** Stopped by the operator: what was found stands (3), otherwise nothing was proven (130). */
	const stoppedEarly = (): VerifyOutcome => {
		emit(store, {type: 'warning', code: 'verify-incomplete', message: `verification stopped early after ${keysChecked} keys`});
		setStage(store, 'verify', 'finished', `stopped early: ${keysChecked} keys checked, ${counters.discrepancies} discrepancies`);
		return finish(counters.discrepancies > 0 ? ExitCode.discrepancies : ExitCode.aborted);
	};

	try {
		setStage(store, 'verify', 'running', 'connecting to source and target');
		const [source, target] = await Promise.all([
			openSide(connections, options.source, 'source', options.sourceCluster === true),
			openSide(connections, options.target, 'target', options.targetCluster === true),
		]);
		const withCluster = source.cluster || target.cluster;
		if (withCluster) refuseOtherDbs(source, target);
		store.setState({source: source.shown, target: target.shown});
		if (stop.signal.aborted) return stoppedEarly();

		log = openLog(stateDirFor(options, store.getState().migrationId));
		const file = log;
		emit(store, {type: 'info', message: `comparing ${describeSide(source)} with ${describeSide(target)}; discrepancies are saved in ${file.path}`});
		const onDiscrepancy = (record: DiscrepancyRecord) => {
			counters.discrepancies++;
			file.append(record);
			emit(store, {type: 'discrepancy', ...record});
		};

		if (options.samples === null) {
			setStage(store, 'verify', 'running', 'comparing every key, both ways');
			const result = await fullCompare(
				{source: source.compareSide, target: target.compareSide},
				{
					...(withCluster ? {dbs: [0]} : {}),
					ttlToleranceMs: options.ttlToleranceMs,
					onDiscrepancy,
					onProgress: (checked) => {
						keysChecked = checked;
					},
					signal: stop.signal,
				},
			);
			keysChecked = result.checked;
		} else {
			setStage(store, 'verify', 'running', `comparing ${options.samples} random keys`);
			const pools = [...source.pools, ...target.pools];
			const found = await sampleKeys({
				source,
				target,
				pools,
				samples: options.samples,
				ttlToleranceMs: options.ttlToleranceMs,
				signal: stop.signal,
				onChecked: () => {
					counters.samples++;
					keysChecked++;
				},
				onDiscrepancy,
			});
			if (pools.length === 0) emit(store, {type: 'info', message: 'both servers are empty: nothing to compare'});
			else if (found < options.samples && !stop.signal.aborted) {
				emit(store, {type: 'info', message: `only ${found} distinct keys found for ${options.samples} samples: the servers hold fewer keys (--full compares every key)`});
			}
		}
		if (stop.signal.aborted) return stoppedEarly();

		const found = counters.discrepancies;
		const verdict = `${keysChecked} keys checked, ${found} discrepanc${found === 1 ? 'y' : 'ies'}`;
		emit(store, {type: 'info', message: found > 0 ? `${verdict}; saved in ${file.path}` : verdict});
		setStage(store, 'verify', 'finished', verdict);
		return finish(found > 0 ? ExitCode.discrepancies : ExitCode.ok);
	} catch (error) {
		if (stop.signal.aborted) return stoppedEarly();
		const {code, message, exitCode} = describeError(error);
		emit(store, {type: 'error', code, message});
		setStage(store, 'verify', 'failed', message);
		return finish(exitCode);
	} finally {
		log?.close();
		await connections.close();
	}
}

function openLog(stateDir: string): DiscrepancyLog {
	try {
		return DiscrepancyLog.open(stateDir);
	} catch (error) {
		throw new UsageError(`${describeError(error).message}; choose another --state-dir`);
	}
}

/** A cluster has db 0 only; keys of other dbs on a standalone side would have nothing to match. */
function refuseOtherDbs(...sides: VerifySide[]): void {
	for (const side of sides) {
		const other = side.pools.find((pool) => pool.db !== 0);
		if (other !== undefined) {
			throw new UsageError(`the ${side.name} holds keys in db ${other.db}, but a cluster has only db 0 and verify cannot map dbs yet`);
		}
	}
}

function describeSide(side: VerifySide): string {
	return `${side.shown.label} (${side.shown.version})`;
}

interface SampleRun {
	source: VerifySide;
	target: VerifySide;
	pools: KeyPool[];
	samples: number;
	ttlToleranceMs: number;
	signal: AbortSignal;
	onChecked(): void;
	onDiscrepancy(record: DiscrepancyRecord): void;
}

/**
 * Compares up to `samples` distinct random keys and returns how many it compared. Fewer when the
 * servers hold fewer keys: picking stops after a long run of keys already compared, and after
 * at most 4×samples + 1000 picks whatever happens, so a tiny or shrinking keyspace cannot keep it
 * going.
 */
async function sampleKeys(run: SampleRun): Promise<number> {
	const total = run.pools.reduce((sum, pool) => sum + pool.keys, 0);
	if (total === 0) return 0;
	const pick = (): KeyPool => {
		let left = Math.random() * total;
		for (const pool of run.pools) {
			left -= pool.keys;
			if (left < 0) return pool;
		}
		return run.pools[run.pools.length - 1]!;
	};
	const seen = new Set<string>();
	const maxPicks = run.samples * 4 + duplicateRunLimit;
	let picks = 0;
	let duplicateRun = 0;
	let failed = false;
	const more = () => !failed && seen.size < run.samples && picks < maxPicks && duplicateRun < duplicateRunLimit && !run.signal.aborted;
	const worker = async (): Promise<void> => {
		while (more()) {
			picks++;
			const pool = pick();
			const db = pool.db;
			const key = await (await pool.connection()).randomkeyBuffer();
			// Null: the db (or master) emptied since INFO was read; the pick still counts toward the bound.
			if (key === null) continue;
			const id = `${db}:${key.toString('latin1')}`;
			if (seen.has(id)) {
				duplicateRun++;
				continue;
			}
			// Another worker may have filled the quota while this one waited for RANDOMKEY.
			if (seen.size >= run.samples) return;
			duplicateRun = 0;
			seen.add(id);
			const [source, target] = await Promise.all([run.source.connectionFor(db, key), run.target.connectionFor(db, key)]);
			const record = await compareKey(source, target, key, db, {ttlToleranceMs: run.ttlToleranceMs});
			run.onChecked();
			if (record !== null) run.onDiscrepancy(record);
		}
	};
	// The first failure is the one reported; it also stops the other workers at their next pick.
	const guarded = () =>
		worker().catch((error: unknown) => {
			failed = true;
			throw error;
		});
	await Promise.all(Array.from({length: Math.min(sampleConcurrency, run.samples)}, guarded));
	return seen.size;
}
