/**
 * The live migration after preflight: capture → copy → sync, for every source master, into a
 * standalone or cluster target. Per master: one MONITOR capture into its journal, one copier, one applier
 * walking that master's ordered stream. This file only wires them and moves the stages.
 */
import {mkdirSync} from 'node:fs';
import {join} from 'node:path';
import {CaptureStream} from '../capture/capture-stream';
import {Journal} from '../capture/journal';
import {startSourceGuard} from '../capture/source-guard';
import type {MigrateOptions} from '../config/options';
import {Copier} from '../copy/copier';
import {sweepTarget} from '../copy/target-sweep';
import {CutoverStage} from '../cutover/cutover-stage';
import {describeError, ExitCode, UsageError} from '../errors';
import type {NodeFacts} from '../preflight/report-types';
import type {PreflightResult} from '../preflight/run-preflight';
import {connectNode} from '../redis/connect';
import {endpointAddress, type NodeEndpoint} from '../redis/endpoint';
import {RespConnection} from '../redis/resp-connection';
import {Applier} from '../replay/applier';
import {keySlot, slotCount} from '../replay/cluster-routing';
import {ClusterWriter} from '../replay/cluster-writer';
import {TargetWriter} from '../replay/target-writer';
import {RecentKeys} from '../verify/recent-keys';
import {Sampler} from '../verify/sampler';
import type {Counters} from './counters';
import type {DiscrepancyRecord} from './events';
import type {StageGate} from './stage-gate';
import {emit, setStage, type KeyferryStore, type NodeHealth} from './store';
import {stateDirFor} from './state-dir';
import {startTargetHealth} from './target-health';
import {DiscrepancyLog} from '../verify/discrepancy-log';

export interface PipelineContext {
	options: MigrateOptions;
	preflight: PreflightResult;
	store: KeyferryStore;
	counters: Counters;
	gate: StageGate;
}

export interface Pipeline {
	/** Resolves with an exit code if the pipeline ends by itself (a failure); a healthy one runs until stopped. */
	done: Promise<number>;
	setCopyPaused(paused: boolean): void;
	setCopyRate(rate: number | null): void;
	/** `v`: a burst of verification samples now (sync and verify only). */
	verifyNow(): boolean;
	/** After cutover: start copying the changed keys back to the source; false when not possible now. */
	rollback(): boolean;
	/** Barrier on every master, apply up to it, then close everything. */
	drainAndStop(): Promise<void>;
	abort(): Promise<void>;
}

interface MasterStream {
	address: string;
	endpoint: NodeEndpoint;
	dbs: number[];
	recent: RecentKeys;
	journal: Journal;
	capture: CaptureStream;
	guard: {stop(): Promise<void>};
	copier: Copier;
	applier: Applier;
}

const maxDrainRounds = 10;
const writerDrainMs = 2000;

/** Lag small enough to call the target "in sync". */
const syncedLagEvents = 1000;

export async function startPipeline(context: PipelineContext): Promise<Pipeline> {
	const {options, preflight, store, counters, gate} = context;
	const report = preflight.report;
	const stateDir = stateDirFor(options, store.getState().migrationId);
	try {
		mkdirSync(stateDir, {recursive: true});
	} catch (error) {
		throw new UsageError(`cannot use ${stateDir} as the state directory (${(error as NodeJS.ErrnoException).code ?? String(error)}); choose another --state-dir`, 'state-dir');
	}
	counters.keysTotal = report.source.totalKeys;

	let fail: (exitCode: number) => void = () => {};
	const done = new Promise<number>((resolve) => {
		fail = resolve;
	});
	const failWith = (code: string, message: string, exitCode: number = ExitCode.runtime) => {
		emit(store, {type: 'error', code, message});
		setStage(store, store.getState().stage, 'failed', message);
		fail(exitCode);
	};
	const warn = (code: string, message: string) => emit(store, {type: 'warning', code, message});

	const target = await connectNode(preflight.targetMasters[0]!, 'target');
	const dbMap = options.dbMap;
	const mapDb = (db: number) => dbMap?.get(db) ?? db;
	const sourceBySlot = report.source.cluster ? slotAddresses(report.source.nodes) : null;
	/** Keys a cluster target could not take as sent: re-read by the copier of the source master holding them. */
	const recopyOnSource = (targetDb: number, keys: Buffer[]) => {
		const byStream = new Map<MasterStream, Buffer[]>();
		for (const key of keys) {
			const stream = sourceBySlot ? streams.find((candidate) => candidate.address === sourceBySlot[keySlot(key)]) : streams[0];
			if (!stream) continue;
			const listed = byStream.get(stream);
			if (listed) listed.push(key);
			else byStream.set(stream, [key]);
		}
		for (const [stream, streamKeys] of byStream) {
			for (const db of sourceDbsOf(targetDb, stream.dbs, dbMap)) stream.copier.recopy(db, streamKeys);
		}
	};
	const writer = report.target.cluster
		? await openClusterWriter(preflight.targetMasters, {onError: replayErrorReporter(store), onCrossSlot: recopyOnSource, onWarning: warn})
		: new TargetWriter(await RespConnection.open(preflight.targetMasters[0]!, 'target', 'keyferry-replay'), {onError: replayErrorReporter(store)});
	const closeWriter = () => (writer instanceof ClusterWriter ? writer.close() : writer.connection.close());

	setStage(store, 'capture', 'running', `starting MONITOR on ${preflight.sourceMasters.length} master(s)`);
	const streams: MasterStream[] = [];
	const healthBySource = new Map<string, NodeHealth>();
	let copying = true;
	/** After the cutover barrier nothing more flows from the source: the forward side is closed. */
	let forwardStopped = false;
	try {
		for (const master of preflight.sourceMasters) {
			streams.push(await openMasterStream(master));
		}
	} catch (error) {
		await closeStreams(streams);
		target.disconnect();
		closeWriter();
		throw error;
	}

	async function openMasterStream(endpoint: NodeEndpoint): Promise<MasterStream> {
		const address = endpointAddress(endpoint);
		const journal = await Journal.open(join(stateDir, 'journal', address.replace(/[^a-zA-Z0-9.-]/g, '_')), {
			maxMemoryWindow: options.maxMemoryWindow,
		});
		const from = journal.end;
		const capture = new CaptureStream({
			endpoint,
			journal,
			counters,
			onGap: (gap) => emit(store, {type: 'gap', node: gap.node, fromTs: gap.fromMs, toTs: gap.toMs, message: gap.reason}),
			onWarning: warn,
			onFatal: failWith,
		});
		await capture.start();
		const guard = startSourceGuard({
			endpoint,
			monitorClientId: () => capture.clientId,
			onWarning: warn,
			onFatal: failWith,
			onHealth: (health) => {
				healthBySource.set(health.address, health);
				store.setState({health: {...store.getState().health, source: [...healthBySource.values()]}});
			},
		});
		const keyspace = report.source.nodes.find((node) => node.address === address)?.keyspace ?? {};
		const dbs = Object.entries(keyspace)
			.filter(([, stats]) => stats.keys > 0)
			.map(([db]) => Number(db));
		const copier = await Copier.open({endpoint, dbs, counters, rate: options.copyRate, startPaused: true, logical: options.copyMode === 'logical'});
		let lastCheckpoint = 0;
		const recent = new RecentKeys();
		const applier = new Applier({
			recent,
			reader: journal.reader(from),
			markers: copier.markers,
			ownAddresses: new Set(),
			copier,
			writer,
			counters,
			skewMs: report.clockSkewMs,
			mapDb,
			copying: () => copying,
			onWarning: warn,
			onGap: (fromMs, toMs, reason) => {
				warn('capture-gap', `capture on ${address} missed ${Math.round(toMs - fromMs)} ms (${reason}); re-copying every key of this master and sweeping keys deleted meanwhile`);
				resyncMaster(address);
			},
			onApplied: (offset) => {
				if (Date.now() - lastCheckpoint < 1000) return;
				lastCheckpoint = Date.now();
				journal.checkpoint(offset).catch((error: unknown) => warn('checkpoint', `cannot write checkpoint: ${String(error)}`));
			},
		});
		applier.done.catch((error: unknown) => failWith('replay-failed', `replay on ${address} stopped: ${error instanceof Error ? error.message : String(error)}`));
		return {address, endpoint, dbs, recent, journal, capture, guard, copier, applier};
	}

	/**
	 * What MONITOR did not show for one master (a gap, a restart, a lost target) is made right:
	 * every key of its dbs is read again through fresh markers, and target keys it no longer has
	 * are swept.
	 */
	function resyncMaster(address: string): void {
		const stream = streams.find((candidate) => candidate.address === address);
		if (!stream) return;
		for (const db of stream.dbs) stream.copier.rescan(db);
		void sweepMaster(address);
	}

	/**
	 * Target keys that the master at `address` should hold but no longer has are re-copied, which
	 * deletes them at their marker: MONITOR never showed those deletes (a gap, a restart).
	 */
	async function sweepMaster(address: string): Promise<void> {
		const stream = streams.find((candidate) => candidate.address === address);
		if (!stream) return;
		const sourceFor = (key: Buffer) => (!sourceBySlot || sourceBySlot[keySlot(key)] === address ? stream.copier : null);
		const targetDbs = [...new Set(stream.dbs.map(mapDb))];
		try {
			let missing = 0;
			for (const targetDb of targetDbs) {
				const swept = await sweepTarget({
					targets: preflight.targetMasters,
					targetDb,
					sourceDbs: sourceDbsOf(targetDb, stream.dbs, dbMap),
					sourceFor,
					stopped: () => forwardStopped,
				});
				missing += swept.missing;
			}
			emit(store, {type: 'info', message: `sweep of ${address}: ${missing} target key(s) gone from the source, deleting them in stream order`});
		} catch (error) {
			warn('sweep-failed', `sweep of target keys for ${address} failed: ${describeError(error).message}; run verify --full after sync`);
		}
	}

	const targetHealth = startTargetHealth(target, (health) => store.setState({health: {...store.getState().health, target: [health]}}));
	const timers: NodeJS.Timeout[] = [];
	let sampler: Sampler | undefined;
	/** discrepancies.jsonl in the state dir, opened at the first confirmed discrepancy. */
	let discrepancies: DiscrepancyLog | undefined;
	/** A file that cannot be written must not stop the migration: the discrepancy is still an event. */
	let discrepancyFileFailed = false;
	const saveDiscrepancy = (record: DiscrepancyRecord) => {
		if (discrepancyFileFailed) return;
		try {
			discrepancies ??= DiscrepancyLog.open(stateDir);
			discrepancies.append(record);
		} catch (error) {
			discrepancyFileFailed = true;
			warn('discrepancy-file', `${describeError(error).message}; discrepancies are still reported, not saved`);
		}
	};
	let cutover: CutoverStage | undefined;
	const stopForward = async () => {
		if (forwardStopped) return;
		forwardStopped = true;
		sampler?.stop();
		discrepancies?.close();
		discrepancies = undefined;
		for (const timer of timers) clearInterval(timer);
		await closeStreams(streams);
		// Writes already sent get their replies before the connection closes (bounded: the target may be gone).
		await Promise.race([writer.drain(), new Promise((resolve) => setTimeout(resolve, writerDrainMs).unref())]);
		closeWriter();
	};
	const stopAll = async () => {
		targetHealth();
		await cutover?.stop(false);
		await stopForward();
		target.disconnect();
	};

	// Stage progression runs alongside; `done` only settles on failure.
	const stages = (async () => {
		setStage(store, 'capture', 'ready', `capturing on ${streams.length} master(s)`);
		await gate.wait();
		setStage(store, 'copy', 'running', `copying ${counters.keysTotal} keys`);
		for (const stream of streams) stream.copier.setPaused(store.getState().copy.paused);
		await waitUntil(() => streams.every((stream) => stream.copier.idle), (timer) => timers.push(timer));
		// Keys written during the copy may have expired on the source before the scan saw them.
		for (const stream of streams) stream.applier.endCopy(stream.dbs);
		await waitUntil(() => streams.every((stream) => stream.copier.idle), (timer) => timers.push(timer));
		setStage(store, 'copy', 'ready', `${counters.keysCopied} keys copied`);
		await gate.wait();
		copying = false;
		setStage(store, 'sync', 'running', 'following the source');
		if (options.verifyRate > 0) sampler = startSampler();
		await waitUntil(() => counters.captured - counters.applied < syncedLagEvents, (timer) => timers.push(timer));
		setStage(store, 'sync', 'ready', 'in sync: lag near 0');
		await gate.wait();
		sampler ??= startSampler();
		if (options.verifyRate === 0) sampler.setRate(100);
		setStage(store, 'verify', 'running', `sampling until ${options.verifySamples} consecutive samples match`);
		await waitUntil(() => sampler!.consecutiveClean >= options.verifySamples, (timer) => timers.push(timer));
		setStage(store, 'verify', 'ready', `${options.verifySamples} consecutive samples match`);
		// Cutover means the application moved: --yes alone never assumes that (--auto-cutover does).
		await gate.wait(!options.autoCutover);
		// The application moves to the target now: its writes there would read as discrepancies.
		sampler.stop();
		cutover = new CutoverStage({
			options,
			preflight,
			store,
			counters,
			gate,
			stateDir,
			drain: drainForward,
			stopForward,
			onReplayError: replayErrorReporter(store),
			fail: failWith,
		});
		await cutover.run();
	})();
	stages.catch((error: unknown) => {
		const failure = describeError(error);
		failWith(failure.code === 'internal' ? 'pipeline' : failure.code, failure.message, failure.exitCode);
	});

	function startSampler(): Sampler {
		return new Sampler({
			masters: streams.map((stream) => ({
				endpoint: stream.endpoint,
				markers: stream.copier.markers,
				dbs: () => stream.dbs,
				recent: stream.recent,
				recopy: (db, keys) => stream.copier.recopy(db, keys),
			})),
			counters,
			rate: options.verifyRate,
			ttlToleranceMs: 1000,
			repair: options.repair,
			onDiscrepancy: (record, repaired) => {
				saveDiscrepancy(record);
				emit(store, {type: 'discrepancy', ...record});
				if (repaired) emit(store, {type: 'info', message: `re-copying ${record.key} (db ${record.db}) to repair it`});
			},
		});
	}

	/** Barriers on every source master until the target holds everything before them; per master, the last barrier and the journal's end. */
	async function drainForward(tag: string) {
		sampler?.stop();
		for (const stream of streams) stream.copier.setPaused(true);
		const passed = await Promise.all(streams.map((stream, index) => drainMaster(stream, `${tag}:${index}`)));
		emit(store, {type: 'info', message: 'barrier passed on every master: the target holds every write made before it'});
		return streams.map((stream, index) => ({master: stream.address, barrier: passed[index]!, journalOffset: stream.journal.end}));
	}

	const drainAndStop = async () => {
		store.setState({stageDetail: 'draining to a barrier'});
		if (!forwardStopped) await drainForward(`keyferry:barrier:${store.getState().migrationId}`);
		await cutover?.stop(true);
		await stopAll();
	};

	/**
	 * Re-copies queued by lines before a barrier are read after it, so one barrier is not enough:
	 * place barriers until one passes with nothing left to read. Once application writes have
	 * stopped, the second barrier is the last.
	 */
	async function drainMaster(stream: MasterStream, tag: string): Promise<string> {
		let passed = '';
		for (let round = 1; round <= maxDrainRounds; round++) {
			passed = `${tag}:${round}`;
			await stream.copier.barrier(Buffer.from(passed));
			if (stream.copier.quiet) return passed;
		}
		warn('drain-incomplete', `${stream.address} kept producing re-copies through ${maxDrainRounds} barriers; the application is still writing`);
		return passed;
	}

	return {
		done,
		setCopyPaused: (paused) => {
			if (store.getState().stage === 'copy') for (const stream of streams) stream.copier.setPaused(paused);
		},
		setCopyRate: (rate) => {
			for (const stream of streams) stream.copier.setRate(rate);
		},
		verifyNow: () => {
			if (!sampler) return false;
			sampler.sampleNow(100);
			return true;
		},
		rollback: () => cutover?.rollback() ?? false,
		drainAndStop,
		abort: stopAll,
	};
}

async function closeStreams(streams: MasterStream[]): Promise<void> {
	await Promise.all(
		streams.map(async (stream) => {
			stream.applier.stop();
			await stream.copier.close();
			await stream.guard.stop();
			await stream.capture.stop();
			await stream.journal.close();
		}),
	);
}

async function openClusterWriter(masters: NodeEndpoint[], options: ConstructorParameters<typeof ClusterWriter>[1]): Promise<ClusterWriter> {
	const writer = new ClusterWriter(masters, options);
	try {
		await writer.ready;
	} catch (error) {
		writer.close();
		throw error;
	}
	return writer;
}

/** The address of the source master serving each slot (a cluster source). */
function slotAddresses(nodes: NodeFacts[]): Array<string | undefined> {
	const owners = new Array<string | undefined>(slotCount);
	for (const node of nodes) {
		if (node.role !== 'master') continue;
		for (const [first, last] of node.slots) owners.fill(node.address, first, last + 1);
	}
	return owners;
}

/**
 * The source dbs a target db receives: one, unless --db-map merges several into it; then those
 * that held keys at preflight (the writer only knows the target db).
 */
function sourceDbsOf(targetDb: number, sourceDbs: number[], dbMap: Map<number, number> | null): number[] {
	const candidates = [...(dbMap ?? [])].filter(([, to]) => to === targetDb).map(([from]) => from);
	if (!dbMap?.has(targetDb)) candidates.push(targetDb);
	const holding = candidates.filter((db) => sourceDbs.includes(db));
	return holding.length > 0 ? holding : candidates;
}

function waitUntil(check: () => boolean, register: (timer: NodeJS.Timeout) => void): Promise<void> {
	return new Promise((resolve) => {
		const timer = setInterval(() => {
			if (!check()) return;
			clearInterval(timer);
			resolve();
		}, 100);
		register(timer);
	});
}

const expectedReplayErrors = /^(WRONGTYPE|ERR value is not|ERR no such key|ERR index out of range|ERR hash value|ERR increment or decrement|ERR bit|ERR string exceeds|ERR The ID specified|ERR syntax error|BUSYGROUP|NOGROUP|ERR min or max)/;

/** The source ran the same command and usually failed the same way; only surprises are shown (the first 20). */
function replayErrorReporter(store: KeyferryStore): (error: Error, command: Array<Buffer | string | number>) => void {
	let reported = 0;
	return (error, command) => {
		if (expectedReplayErrors.test(error.message) || reported >= 20) return;
		reported++;
		emit(store, {type: 'warning', code: 'replay-error', message: `target refused ${String(command[0])}: ${error.message.split('\n')[0]}`});
	};
}
