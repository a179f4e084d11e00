/**
 * The live migration after preflight: capture → copy → sync, for every source master, into a
 * standalone or cluster target. Per master: one MONITOR capture into its journal, one copier, one applier
 * walking that master's ordered stream. This file only wires them and moves the stages.
 */
import {randomUUID} from 'node:crypto';
import {mkdirSync} from 'node:fs';
import {join} from 'node:path';
import {CaptureStream} from '../capture/capture-stream';
import {Journal} from '../capture/journal';
import {startSourceGuard} from '../capture/source-guard';
import type {MigrateOptions} from '../config/options';
import {Copier} from '../copy/copier';
import {sweepTarget} from '../copy/target-sweep';
import {CutoverStage} from '../cutover/cutover-stage';
import {endpointRecord, writeMigrationRecord} from '../cutover/migration-record';
import {TargetWrites} from '../cutover/target-writes';
import {keysTouchedWhileDown} from '../cutover/touched-while-down';
import {describeError, UsageError} from '../errors';
import type {NodeFacts} from '../preflight/report-types';
import type {PreflightResult} from '../preflight/run-preflight';
import {connectNode} from '../redis/connect';
import {endpointAddress, type NodeEndpoint} from '../redis/endpoint';
import {waitForReplica} from '../redis/replicas';
import {Applier} from '../replay/applier';
import {keySlot, slotCount} from '../replay/cluster-routing';
import {ClusterWriter} from '../replay/cluster-writer';
import {TargetWriter} from '../replay/target-writer';
import {RecentKeys} from '../verify/recent-keys';
import {Sampler, type SampledMaster} from '../verify/sampler';
import type {Counters} from './counters';
import type {DiscrepancyRecord} from './events';
import type {StageGate} from './stage-gate';
import {SourceTopology} from './source-topology';
import {emit, setStage, type KeyferryStore, type NodeHealth} from './store';
import {runFailure} from './run-failure';
import {stateDirFor} from './state-dir';
import {ProgressWriter} from './progress-record';
import {resumeAfterCutover} from './resume-after-cutover';
import type {ResumePoint} from './resume-point';
import {startTargetHealth} from './target-health';
import {DiscrepancyLog} from '../verify/discrepancy-log';

export interface PipelineContext {
	options: MigrateOptions;
	preflight: PreflightResult;
	store: KeyferryStore;
	counters: Counters;
	gate: StageGate;
	/** Where an earlier run of this migration stopped; null for a new one. */
	resume: ResumePoint | null;
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
	/** The master whose writes this stream carries (source-topology.ts follows failovers). */
	address: string;
	master: NodeEndpoint;
	/** The node captured and read: the master, or its replica (--read-from replicas). */
	endpoint: NodeEndpoint;
	dbs: number[];
	sampled: SampledMaster;
	recent: RecentKeys;
	journal: Journal;
	capture: CaptureStream;
	guard: {stop(): Promise<void>};
	copier: Copier;
	applier: Applier;
	/** Its master serves no slot any more: no longer followed (source-topology.ts). */
	retired: boolean;
}

const maxDrainRounds = 10;
/** How often the source's blocked clients are listed while one waits on keys no line showed. */
const waitersRefreshMs = 2000;
const writerDrainMs = 2000;

/** Lag small enough to call the target "in sync". */
const syncedLagEvents = 1000;

export async function startPipeline(context: PipelineContext): Promise<Pipeline> {
	const {options, preflight, store, counters, gate, resume} = context;
	const report = preflight.report;
	const migrationId = store.getState().migrationId;
	const stateDir = stateDirFor(options, migrationId);
	try {
		mkdirSync(stateDir, {recursive: true});
	} catch (error) {
		throw new UsageError(`cannot use ${stateDir} as the state directory (${(error as NodeJS.ErrnoException).code ?? String(error)}); choose another --state-dir`, 'state-dir');
	}
	counters.keysTotal = report.source.totalKeys;

	const {done, failWith} = runFailure(store);
	const warn = (code: string, message: string) => emit(store, {type: 'warning', code, message});
	if (!resume) {
		await writeMigrationRecord(stateDir, {
			version: 1,
			migrationId,
			createdAt: Date.now(),
			source: endpointRecord(options.source, report.source.cluster),
			target: endpointRecord(options.target, report.target.cluster),
			dbMap: [...(options.dbMap ?? new Map<number, number>())],
			clockSkewMs: report.clockSkewMs,
		});
	}
	const progress = new ProgressWriter(stateDir, migrationId, resume?.progress ?? null, (message) => warn('progress-file', message));
	if (resume?.cutover) return resumeAfterCutover({...context, stateDir, progress, point: resume.cutover, wasRollingBack: resume.stage === 'rollback'});
	const cutoverResumed = resume?.stage === 'cutover';
	if (resume) {
		const since = resume.progress ? ` (recorded ${new Date(resume.progress.updatedAt).toISOString()})` : '';
		emit(store, {
			type: 'info',
			message: `resuming migration ${migrationId} at ${resume.stage}${since}: MONITOR saw nothing while keyferry was down, so every key is copied again through markers and target keys the source no longer has are swept`,
		});
	}

	// Health polls: reconnects by itself, and fails a poll at once while the target is away.
	const target = await connectNode(preflight.targetMasters[0]!, 'target', {retryStrategy: (times) => Math.min(times * 200, 5000), enableOfflineQueue: false});
	const dbMap = options.dbMap;
	/**
	 * A resumed run also scans the source dbs feeding every target db that holds keys: a db the
	 * source emptied while keyferry was down still has keys to sweep on the target.
	 */
	const resumedTargetDbs = resume ? targetDbsWithKeys(report.target.nodes).flatMap((targetDb) => sourceDbsOf(targetDb, [], dbMap)) : [];
	const mapDb = (db: number) => dbMap?.get(db) ?? db;
	let topology: SourceTopology<MasterStream> | undefined;
	/** Streams open one after the other; who serves a key is known once all are open. */
	let topologyKnown: () => void = () => {};
	const topologyReady = new Promise<void>((resolve) => {
		topologyKnown = resolve;
	});
	/** Keys the target could not take as sent (or whose write was lost): re-read by the copier of the source master holding them. */
	const recopyOnSource = (targetDb: number, keys: Buffer[]) => {
		if (!topology) {
			void topologyReady.then(() => recopyOnSource(targetDb, keys));
			return;
		}
		const byStream = new Map<MasterStream, Buffer[]>();
		for (const key of keys) {
			const stream = topology.streamFor(key);
			if (!stream) continue;
			const listed = byStream.get(stream);
			if (listed) listed.push(key);
			else byStream.set(stream, [key]);
		}
		for (const [stream, streamKeys] of byStream) void recopyWhereHeld(stream.copier, sourceDbsOf(targetDb, stream.dbs, dbMap), streamKeys);
	};
	const streams: MasterStream[] = [];
	const followingWaiters = new Set<string>();
	const healthBySource = new Map<string, NodeHealth>();
	let copying = true;
	/** After the cutover barrier nothing more flows from the source: the forward side is closed. */
	let forwardStopped = false;
	/** The target may differ anywhere (it restarted): every master is read again and swept, once for a burst of causes. */
	let resyncQueued = false;
	const resyncEverything = (reason: string) => {
		if (resyncQueued || forwardStopped) return;
		resyncQueued = true;
		warn('target-resync', `${reason}; re-copying every key and sweeping`);
		setImmediate(() => {
			resyncQueued = false;
			for (const stream of streams) resyncMaster(stream);
		});
	};
	const writer = report.target.cluster
		? await openClusterWriter(preflight.targetMasters, {onError: replayErrorReporter(store), onCrossSlot: recopyOnSource, onWarning: warn})
		: await TargetWriter.open(
				{
					endpoint: preflight.targetMasters[0]!,
					side: 'target',
					name: 'keyferry-replay',
					onRecopy: recopyOnSource,
					onResync: resyncEverything,
					onWarning: warn,
					onInfo: (message) => emit(store, {type: 'info', message}),
				},
				{onError: replayErrorReporter(store)},
			);
	const closeWriter = () => writer.close();

	let cutover: CutoverStage | undefined;
	/**
	 * From the cutover stage on, the application may write to the target: a copied payload (a
	 * re-copy, a sweep's delete) never overwrites a key it wrote there; source writes are still
	 * replayed as they come, as before the cutover.
	 */
	let targetWrites: TargetWrites | null = null;
	/** Keys a copied payload left alone (db:key): counted once each, however often read. */
	const keptOnTarget = new Set<string>();
	const openCutover = async (): Promise<CutoverStage> => {
		cutover ??= new CutoverStage({
			options,
			preflight,
			store,
			counters,
			gate,
			stateDir,
			progress,
			drain: drainForward,
			stopForward: () => stopForward(),
			onReplayError: replayErrorReporter(store),
			fail: failWith,
		});
		const reverse = await cutover.openReverse();
		if (reverse && !targetWrites) {
			targetWrites = new TargetWrites(reverse.journal.reader(reverse.fromOffset), new Set(reverse.excludedClients));
			if (reverse.stoppedAtMs !== null) await findTouchedWhileDown(reverse.endpoint, Date.now() - reverse.stoppedAtMs, targetWrites);
		}
		return cutover;
	};
	/** A cutover resumed: keys the application used on the target while no capture ran are its own too. */
	async function findTouchedWhileDown(endpoint: NodeEndpoint, downtimeMs: number, writes: TargetWrites): Promise<void> {
		const touched = await keysTouchedWhileDown(endpoint, downtimeMs);
		if (touched.unknown) {
			warn('touched-unknown', `cannot tell which keys the application used on the target while keyferry was down (${touched.unknown}): a key it wrote only then is set back to the source's value if the source has it`);
			return;
		}
		writes.add(touched.keys);
		emit(store, {type: 'info', message: `${touched.keys.length} target key(s) were used while keyferry was down (OBJECT IDLETIME): they keep their target values`});
	}
	if (cutoverResumed) {
		// Before anything is copied again: what the application writes to the target from now on is known.
		try {
			await openCutover();
		} catch (error) {
			target.disconnect();
			closeWriter();
			throw error;
		}
	}

	setStage(store, 'capture', 'running', `starting MONITOR on ${preflight.sourceMasters.length} master(s)`);
	await progress.enter('capture');
	try {
		for (const [index, master] of preflight.sourceMasters.entries()) {
			streams.push(await openMasterStream(master, preflight.sourceReaders[index] ?? master));
		}
	} catch (error) {
		await closeStreams(streams);
		target.disconnect();
		closeWriter();
		throw error;
	}

	async function openMasterStream(master: NodeEndpoint, endpoint: NodeEndpoint, later = false): Promise<MasterStream> {
		const address = endpointAddress(master);
		// The journal is the captured node's MONITOR stream.
		const journal = await Journal.open(join(stateDir, 'journal', endpointAddress(endpoint).replace(/[^a-zA-Z0-9.-]/g, '_')), {
			maxMemoryWindow: options.maxMemoryWindow,
		});
		const from = journal.end;
		const capture = new CaptureStream({
			endpoint,
			journal,
			counters,
			...(resume && !later ? {notCapturedSinceMs: resume.progress?.updatedAt ?? resume.migration.createdAt} : {}),
			onGap: (gap) => emit(store, {type: 'gap', node: gap.node, fromTs: gap.fromMs, toTs: gap.toMs, message: gap.reason}),
			onWarning: warn,
			onFatal: failWith,
		});
		await capture.start();
		const keyspace = report.source.nodes.find((node) => node.address === address)?.keyspace ?? {};
		// A cluster has db 0 only, keys or not at preflight (a master found later: a failover, a new node).
		const dbs = report.source.cluster ? [0] : [...new Set([...dbsWithKeys(keyspace), ...resumedTargetDbs])].sort((a, b) => a - b);
		// A master found later is copied by source-topology.ts, once the stream it replaces is fenced.
		const copier = await Copier.open({
			endpoint,
			dbs: later ? [] : dbs,
			counters,
			rate: options.copyRate,
			startPaused: true,
			logical: options.copyMode === 'logical',
			onWarning: warn,
			onInfo: (message) => emit(store, {type: 'info', message}),
		});
		copier.failed.catch((error: unknown) => failWith('copy-failed', `copy on ${address} stopped: ${describeError(error).message}`));
		const guard = startSourceGuard({
			endpoint,
			monitorClientId: () => capture.clientId,
			onWarning: warn,
			onFatal: failWith,
			onHealth: (health) => {
				healthBySource.set(health.address, {...health, reconnecting: health.latencyMs === null || !capture.stats.connected || copier.reconnecting});
				store.setState({health: {...store.getState().health, source: [...healthBySource.values()]}});
			},
		});
		const keepOnTarget = (db: number, key: Buffer) => {
			const keep = targetWrites?.has(mapDb(db), key) ?? false;
			if (keep) keptOnTarget.add(`${db}:${key.toString('latin1')}`);
			return keep;
		};
		let lastCheckpoint = 0;
		const recent = new RecentKeys();
		const applier = new Applier({
			recent,
			reader: journal.reader(from),
			ownAddresses: new Set(),
			copier,
			writer,
			counters,
			skewMs: report.clockSkewMs,
			mapDb,
			// A rescan (a gap, a restarted target) is a copy too: keys may not be there yet.
			copying: () => copying || !copier.scansDone,
			keepOnTarget,
			onWarning: warn,
			onGap: (fromMs, toMs, reason) => {
				warn('capture-gap', `capture on ${endpointAddress(endpoint)} missed ${Math.round(toMs - fromMs)} ms (${reason}); re-copying every key of this master and sweeping keys deleted meanwhile`);
				resyncMaster(stream);
				void followWaiters(stream);
			},
			onRefused: (db, keys) => topology?.refused(db, keys),
			onApplied: (offset) => {
				if (Date.now() - lastCheckpoint < 1000) return;
				lastCheckpoint = Date.now();
				journal.checkpoint(offset).catch((error: unknown) => warn('checkpoint', `cannot write checkpoint: ${String(error)}`));
			},
		});
		applier.done.catch((error: unknown) => failWith('replay-failed', `replay on ${stream.address} stopped: ${error instanceof Error ? error.message : String(error)}`));
		// The applier reports its first line (a restart's gap) only after this returns.
		const stream: MasterStream = {address, master, endpoint, dbs, recent, journal, capture, guard, copier, applier, retired: false, sampled: {
			endpoint,
			markers: copier.markers,
			dbs: () => dbs,
			recent,
			recopy: (db, keys) => copier.recopy(db, keys),
			// A key of a slot this stream does not serve (yet, as far as keyferry knows), or being re-copied: the target may be knowingly behind.
			skip: (key) => topology !== undefined && (topology.unsettledKey(key) || topology.streamFor(key) !== stream),
		}};
		return stream;
	}

	/**
	 * What MONITOR did not show for one master (a gap, a restart, a lost target) is made right:
	 * every key of its dbs is read again through fresh markers, then target keys it no longer has
	 * are swept. The sweep waits for the rescan, so it sees what the scan could not (a key that
	 * expired unseen before the scan reached it). A key missing then but written again before the
	 * sweep looks is neither read nor swept: every key written from the rescan's start to the
	 * sweep's end is re-copied after it, as after the copy.
	 */
	function resyncMaster(stream: MasterStream): void {
		if (stream.retired) return;
		stream.applier.startCopy();
		for (const db of stream.dbs) stream.copier.rescan(db);
		void stream.copier
			.scansSettled()
			.then(() => sweepMaster(stream))
			.then(() => stream.applier.endCopy(stream.dbs));
	}

	/**
	 * After a gap, clients may be blocked by commands MONITOR never showed, and the pop that
	 * serves them is never shown either. The source lists its blocked clients, a barrier places
	 * that list in the stream, and the applier settles which writes stay suspect; listed again
	 * every few seconds while such a client is still blocked. A gap during a round voids it.
	 */
	async function followWaiters(stream: MasterStream): Promise<void> {
		const {address} = stream;
		// A replica's feed is the primary's replication stream: a served pop shows there as the pop it was.
		if (stream.endpoint !== stream.master) {
			stream.applier.settleWaiters([]);
			return;
		}
		if (followingWaiters.has(address)) return;
		followingWaiters.add(address);
		let failures = 0;
		try {
			while (!forwardStopped && !stream.retired && stream.applier.unknownWaiters > 0) {
				try {
					const gaps = stream.capture.stats.gaps;
					const blocked = await stream.copier.blockedClients();
					await stream.copier.barrier(Buffer.from(`keyferry:waiters:${randomUUID()}`));
					if (stream.capture.stats.gaps === gaps) stream.applier.settleWaiters(blocked);
					failures = 0;
				} catch (error) {
					// Until the list is known every write of this master is re-copied: keep asking.
					if (forwardStopped) return;
					if (failures++ === 0) warn('blocked-clients', `cannot list the blocked clients of ${address} yet (${describeError(error).message}); writes are re-copied meanwhile, retrying`);
				}
				const pause = failures > 0 ? Math.min(waitersRefreshMs * 2 ** Math.min(failures - 1, 3), 15_000) : waitersRefreshMs;
				if (stream.applier.unknownWaiters > 0) await new Promise((resolve) => setTimeout(resolve, pause).unref());
			}
		} finally {
			followingWaiters.delete(address);
		}
	}

	/**
	 * Target keys that the master should hold (of `slots` only, when given) but no longer has are
	 * re-copied, which deletes them at their marker: MONITOR never showed those deletes (a gap, a
	 * restart, a topology change).
	 */
	async function sweepMaster(stream: MasterStream, slots: ReadonlySet<number> | null = null): Promise<void> {
		const address = stream.address;
		await topologyReady;
		const sourceFor = (key: Buffer) => (topology?.streamFor(key) === stream && (!slots || slots.has(keySlot(key))) ? stream.copier : null);
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

	/**
	 * A barrier on the stream: once passed, the target holds every write its master made before
	 * this call (a replica read from must first hold them too).
	 */
	async function placeBarrier(stream: MasterStream, tag: string): Promise<void> {
		if (stream.endpoint !== stream.master) await waitForReplica(stream.master, stream.endpoint);
		await stream.copier.barrier(Buffer.from(tag));
	}

	/**
	 * A stream whose master serves no slot any more: every line it captured is applied (after a
	 * barrier, when its node still answers), then it is closed and no longer followed.
	 */
	async function retireStream(stream: MasterStream): Promise<void> {
		try {
			await withTimeout(placeBarrier(stream, `keyferry:retire:${store.getState().migrationId}:${stream.address}`), retireBarrierMs);
		} catch {
			// A dead node: what it sent before dying is all there is.
		}
		stream.retired = true;
		streams.splice(streams.indexOf(stream), 1);
		await stream.capture.stop();
		await stream.journal.close();
		await stream.applier.done.catch(() => {});
		await Promise.all([stream.copier.close(), stream.guard.stop()]);
		healthBySource.delete(endpointAddress(stream.endpoint));
		store.setState({health: {...store.getState().health, source: [...healthBySource.values()]}});
		emit(store, {type: 'info', message: `stopped following ${endpointAddress(stream.endpoint)}: ${stream.address} serves no slot of the source any more`});
	}

	topology = new SourceTopology<MasterStream>({
		login: options.source,
		cluster: report.source.cluster,
		readFrom: options.readFrom,
		streams,
		owners: report.source.cluster ? slotAddresses(report.source.nodes) : null,
		open: async (master, reader) => {
			const stream = await openMasterStream(master, reader, true);
			if (!copying) stream.applier.endCopy([]);
			stream.copier.setPaused(false);
			streams.push(stream);
			emit(store, {type: 'info', message: `following source master ${stream.address}${reader === master ? '' : ` through its replica ${endpointAddress(reader)}`}`});
			return stream;
		},
		fence: (stream) => placeBarrier(stream, `keyferry:fence:${store.getState().migrationId}:${Date.now()}`),
		retire: retireStream,
		sweep: (stream, slots) => sweepMaster(stream, slots),
		warn,
		fail: (code, message) => failWith(code, message),
	});
	topology.start();
	topologyKnown();

	const writerReconnecting = () => (writer instanceof TargetWriter ? writer.reconnecting : false);
	const targetHealth = startTargetHealth(target, writerReconnecting, (health) => store.setState({health: {...store.getState().health, target: [health]}}));
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
	const stopForward = async () => {
		if (forwardStopped) return;
		forwardStopped = true;
		sampler?.stop();
		discrepancies?.close();
		discrepancies = undefined;
		for (const timer of timers) clearInterval(timer);
		await topology?.stop();
		await closeStreams(streams);
		// Writes already sent get their replies before the connection closes (bounded: the target may be gone).
		await Promise.race([writer.drain(), new Promise((resolve) => setTimeout(resolve, writerDrainMs).unref())]);
		closeWriter();
	};
	const stopAll = async () => {
		targetHealth();
		targetWrites?.stop();
		await cutover?.stop(false);
		await stopForward();
		target.disconnect();
	};

	// Stage progression runs alongside; `done` only settles on failure.
	const stages = (async () => {
		setStage(store, 'capture', 'ready', `capturing on ${streams.length} master(s)`);
		await gate.wait('copy');
		setStage(store, 'copy', 'running', `copying ${counters.keysTotal} keys`);
		await progress.enter('copy');
		for (const stream of streams) stream.copier.setPaused(store.getState().copy.paused);
		await waitUntil(() => streams.every((stream) => stream.copier.idle), (timer) => timers.push(timer));
		// Keys written during the copy may have expired on the source before the scan saw them.
		for (const stream of streams) stream.applier.endCopy(stream.dbs);
		await waitUntil(() => streams.every((stream) => stream.copier.idle), (timer) => timers.push(timer));
		setStage(store, 'copy', 'ready', `${counters.keysCopied} keys copied`);
		if (keptOnTarget.size > 0) emit(store, {type: 'info', message: `${keptOnTarget.size} copied key(s) were left as the application wrote them on the target`});
		await gate.wait('sync');
		copying = false;
		setStage(store, 'sync', 'running', 'following the source');
		await progress.enter('sync');
		if (options.verifyRate > 0 && !cutoverResumed) sampler = startSampler();
		await waitUntil(() => counters.captured - counters.applied < syncedLagEvents, (timer) => timers.push(timer));
		setStage(store, 'sync', 'ready', 'in sync: lag near 0');
		if (cutoverResumed) {
			// The operator had verified and confirmed the cutover before the stop: it goes on where it was.
			await gate.wait('cutover');
			await (await openCutover()).run();
			return;
		}
		await gate.wait('verify');
		sampler ??= startSampler();
		if (options.verifyRate === 0) sampler.setRate(100);
		setStage(store, 'verify', 'running', `sampling until ${options.verifySamples} consecutive samples match`);
		await progress.enter('verify');
		await waitUntil(() => sampler!.consecutiveClean >= options.verifySamples, (timer) => timers.push(timer));
		setStage(store, 'verify', 'ready', `${options.verifySamples} consecutive samples match`);
		// Cutover means the application moved: --yes alone never assumes that (--auto-cutover does).
		await gate.wait('cutover', !options.autoCutover);
		// The application moves to the target now: its writes there would read as discrepancies.
		sampler.stop();
		await (await openCutover()).run();
	})();
	stages.catch((error: unknown) => {
		const failure = describeError(error);
		failWith(failure.code === 'internal' ? 'pipeline' : failure.code, failure.message, failure.exitCode);
	});

	function startSampler(): Sampler {
		return new Sampler({
			masters: () => streams.map((stream) => stream.sampled),
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
		// A copy still under way stops here; after it, re-copies of a gap or a topology change must finish first.
		if (copying) for (const stream of streams) stream.copier.setPaused(true);
		const draining = [...streams];
		const passed = await Promise.all(draining.map((stream, index) => drainMaster(stream, `${tag}:${index}`)));
		emit(store, {type: 'info', message: 'barrier passed on every master: the target holds every write made before it'});
		return draining.map((stream, index) => ({master: stream.address, barrier: passed[index]!, journalOffset: stream.journal.end}));
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
			if (!copying) await waitUntil(() => stream.copier.scansDone || !streams.includes(stream), (timer) => timers.push(timer));
			topology?.sendParked();
			await placeBarrier(stream, passed);
			if (stream.copier.quiet && !topology?.parkedReads) return passed;
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
 * Re-copies keys of a target db that several source dbs feed (--db-map 3:0,4:0) from the source
 * db that holds each: re-copied from one that does not, the key would be deleted at that marker.
 * A key none holds is re-copied from the first, which deletes it on the target.
 */
async function recopyWhereHeld(copier: Copier, dbs: number[], keys: Buffer[]): Promise<void> {
	if (dbs.length === 1) {
		copier.recopy(dbs[0]!, keys);
		return;
	}
	let left = keys;
	for (const db of dbs) {
		let present: boolean[];
		try {
			present = await copier.exists(db, left);
		} catch {
			// The source cannot say: read the keys from every db that may hold them.
			for (const from of dbs) copier.recopy(from, left);
			return;
		}
		const held = left.filter((_, index) => present[index]);
		if (held.length > 0) copier.recopy(db, held);
		left = left.filter((_, index) => !present[index]);
	}
	if (left.length > 0) copier.recopy(dbs[0]!, left);
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

const retireBarrierMs = 5000;

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
	return Promise.race([work, new Promise<T>((_resolve, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref())]);
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

function dbsWithKeys(keyspace: NodeFacts['keyspace']): number[] {
	return Object.entries(keyspace)
		.filter(([, stats]) => stats.keys > 0)
		.map(([db]) => Number(db));
}

/** Target dbs holding keys on any target master. */
function targetDbsWithKeys(nodes: NodeFacts[]): number[] {
	return [...new Set(nodes.filter((node) => node.role === 'master').flatMap((node) => dbsWithKeys(node.keyspace)))];
}
