/**
 * The live migration after preflight: capture → copy → sync, for every source master, into a
 * standalone target. Per master: one MONITOR capture into its journal, one copier, one applier
 * walking that master's ordered stream. This file only wires them and moves the stages.
 */
import {mkdirSync} from 'node:fs';
import {join} from 'node:path';
import type Redis from 'ioredis';
import {CaptureStream} from '../capture/capture-stream';
import {Journal} from '../capture/journal';
import {startSourceGuard} from '../capture/source-guard';
import type {MigrateOptions} from '../config/options';
import {Copier} from '../copy/copier';
import {ExitCode, KeyferryError} from '../errors';
import type {PreflightResult} from '../preflight/run-preflight';
import {connectNode} from '../redis/connect';
import {endpointAddress, type NodeEndpoint} from '../redis/endpoint';
import {infoNumber, parseInfo} from '../redis/info';
import {Applier} from '../replay/applier';
import {TargetWriter} from '../replay/target-writer';
import {RecentKeys} from '../verify/recent-keys';
import {Sampler} from '../verify/sampler';
import type {Counters} from './counters';
import type {StageGate} from './stage-gate';
import {emit, setStage, type KeyferryStore, type NodeHealth} from './store';

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

/** Lag small enough to call the target "in sync". */
const syncedLagEvents = 1000;

export async function startPipeline(context: PipelineContext): Promise<Pipeline> {
	const {options, preflight, store, counters, gate} = context;
	const report = preflight.report;
	if (report.target.cluster) {
		throw new KeyferryError('not-built', 'cluster targets are not supported yet; migrate into a standalone target', ExitCode.usage);
	}
	const stateDir = options.stateDir ?? join('.keyferry', store.getState().migrationId);
	mkdirSync(stateDir, {recursive: true});
	counters.keysTotal = report.source.totalKeys;

	let fail: (exitCode: number) => void = () => {};
	const done = new Promise<number>((resolve) => {
		fail = resolve;
	});
	const failWith = (code: string, message: string) => {
		emit(store, {type: 'error', code, message});
		setStage(store, store.getState().stage, 'failed', message);
		fail(ExitCode.runtime);
	};
	const warn = (code: string, message: string) => emit(store, {type: 'warning', code, message});

	const target = await connectNode(preflight.targetMasters[0]!, 'target');
	const writer = new TargetWriter(target, {onError: replayErrorReporter(store)});
	const dbMap = options.dbMap;
	const mapDb = (db: number) => dbMap?.get(db) ?? db;

	setStage(store, 'capture', 'running', `starting MONITOR on ${preflight.sourceMasters.length} master(s)`);
	const streams: MasterStream[] = [];
	const healthBySource = new Map<string, NodeHealth>();
	let copying = true;
	try {
		for (const master of preflight.sourceMasters) {
			streams.push(await openMasterStream(master));
		}
	} catch (error) {
		await closeStreams(streams);
		target.disconnect();
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
				warn('capture-gap', `capture on ${address} missed ${Math.round(toMs - fromMs)} ms (${reason}); re-copying every key of this master`);
				for (const db of dbs) copier.rescan(db);
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

	const targetHealth = startTargetHealth(target, (health) => store.setState({health: {...store.getState().health, target: [health]}}));
	const timers: NodeJS.Timeout[] = [];
	let sampler: Sampler | undefined;
	const stopAll = async () => {
		sampler?.stop();
		for (const timer of timers) clearInterval(timer);
		targetHealth();
		await closeStreams(streams);
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
		// Cutover is the next stage and is not built yet: keep syncing and verifying until stopped.
		setStage(store, 'verify', 'ready', `${options.verifySamples} consecutive samples match · cutover is not built yet: q drains and stops`);
	})();
	stages.catch((error: unknown) => failWith('pipeline', error instanceof Error ? error.message : String(error)));

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
				emit(store, {type: 'discrepancy', ...record});
				if (repaired) emit(store, {type: 'info', message: `re-copying ${record.key} (db ${record.db}) to repair it`});
			},
		});
	}

	const drainAndStop = async () => {
		const {migrationId} = store.getState();
		store.setState({stageDetail: 'draining to a barrier'});
		sampler?.stop();
		for (const stream of streams) stream.copier.setPaused(true);
		await Promise.all(streams.map((stream, index) => drainMaster(stream, `keyferry:barrier:${migrationId}:${index}`)));
		emit(store, {type: 'info', message: 'barrier passed on every master: the target holds every write made before it'});
		await stopAll();
	};

	/**
	 * Re-copies queued by lines before a barrier are read after it, so one barrier is not enough:
	 * place barriers until one passes with nothing left to read. Once application writes have
	 * stopped, the second barrier is the last.
	 */
	async function drainMaster(stream: MasterStream, tag: string): Promise<void> {
		for (let round = 1; round <= maxDrainRounds; round++) {
			await stream.copier.barrier(Buffer.from(`${tag}:${round}`));
			if (stream.copier.quiet) return;
		}
		warn('drain-incomplete', `${stream.address} kept producing re-copies through ${maxDrainRounds} barriers; the application is still writing`);
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

function startTargetHealth(target: Redis, report: (health: NodeHealth) => void): () => void {
	const address = `${target.options.host}:${target.options.port}`;
	const timer = setInterval(async () => {
		try {
			const started = performance.now();
			const info = parseInfo(await target.info('memory'));
			const stats = parseInfo(await target.info('stats'));
			report({
				address,
				latencyMs: Math.round((performance.now() - started) * 10) / 10,
				usedMemory: infoNumber(info, 'used_memory'),
				maxmemory: infoNumber(info, 'maxmemory'),
				evictedKeys: infoNumber(stats, 'evicted_keys'),
				monitorBuffer: null,
			});
		} catch {
			report({address, latencyMs: null, usedMemory: 0, maxmemory: 0, evictedKeys: 0, monitorBuffer: null});
		}
	}, 2000);
	timer.unref();
	return () => clearInterval(timer);
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
