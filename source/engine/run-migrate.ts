/**
 * The `migrate` stage machine: preflight → capture → copy → sync → verify → cutover → done, and
 * rollback on the operator's word. It owns the counters and the operator controls, reports only
 * through the store, and resolves with the process exit code.
 */
import type {MigrateOptions} from '../config/options';
import {describeError, ExitCode} from '../errors';
import {runPreflight} from '../preflight/run-preflight';
import {Counters} from './counters';
import {StageGate} from './stage-gate';
import {startStatsPublisher} from './stats-publisher';
import {emit, setStage, type KeyferryStore} from './store';
import type {Stage} from './stages';
import {startPipeline, type Pipeline} from './pipeline';
import type {ResumePoint} from './resume-point';
import {gracefulQuit, stopSignals} from './stop-signals';

/** @param resume where an earlier run of this migration stopped (migrate --resume), or null */
export async function runMigrate(options: MigrateOptions, store: KeyferryStore, resume: ResumePoint | null = null): Promise<number> {
	const counters = new Counters();
	const publisher = startStatsPublisher(store, counters);
	const gate = new StageGate(options.yes, resume && (resume.stage === 'rollback' ? 'done' : resume.stage));
	let pipeline: Pipeline | null = null;
	const {stopped, aborted: abortedPromise, requestStop: stopRequested, requestAbort: aborted} = stopSignals();

	store.setState({
		controls: {
			advance: () => {
				if (store.getState().stageStatus === 'ready') gate.advance();
			},
			setCopyPaused: (paused) => {
				pipeline?.setCopyPaused(paused);
				store.setState({copy: {...store.getState().copy, paused}});
			},
			setCopyRate: (rate) => {
				pipeline?.setCopyRate(rate);
				store.setState({copy: {...store.getState().copy, rateLimit: rate}});
			},
			verifyNow: () => {
				const sampling = pipeline?.verifyNow() ?? false;
				emit(store, {type: 'info', message: sampling ? 'verifying 100 extra samples now' : 'verification samples start with sync'});
			},
			rollback: () => {
				if (!(pipeline?.rollback() ?? false)) emit(store, {type: 'info', message: 'rollback: nothing to roll back yet (after cutover, once the preview is ready)'});
			},
			quit: gracefulQuit(store, stopRequested),
			abort: () => aborted(),
		},
	});

	const finish = (exitCode: number, stage: Stage = store.getState().stage) => {
		publisher.flush();
		const {stats, startedAt} = store.getState();
		emit(store, {type: 'summary', exitCode, durationMs: Date.now() - startedAt, ...stats, stage});
		store.setState({exitCode});
		publisher.stop();
		return exitCode;
	};

	/** Runs a stage step unless the operator stops or aborts first. */
	const until = async <T>(work: Promise<T>): Promise<T | 'stop' | 'abort'> => Promise.race([work, stopped, abortedPromise]);

	try {
		setStage(store, 'preflight', 'running', 'inspecting source and target');
		// A resumed migration's target holds its own copy so far.
		const preflight = await until(runPreflight(resume ? {...options, allowNonEmptyTarget: true} : options));
		if (preflight === 'abort') return finish(ExitCode.aborted);
		if (preflight === 'stop') return finish(ExitCode.ok);
		const {report} = preflight;
		const firstVersion = (nodes: typeof report.source.nodes) => {
			const node = nodes.find((item) => item.role === 'master');
			return node ? `${node.server} ${node.version}` : null;
		};
		store.setState({
			preflight: report,
			source: {label: report.source.label, version: firstVersion(report.source.nodes)},
			target: {label: report.target.label, version: firstVersion(report.target.nodes)},
		});
		emit(store, {type: 'preflight', report});
		for (const finding of report.findings) {
			if (finding.severity === 'warning') emit(store, {type: 'warning', code: finding.code, message: finding.message});
			if (finding.severity === 'info') emit(store, {type: 'info', message: finding.message});
		}
		if (!report.ok) {
			for (const finding of report.findings.filter((item) => item.severity === 'blocking')) {
				emit(store, {type: 'error', code: finding.code, message: finding.message});
			}
			setStage(store, 'preflight', 'failed', 'blocking findings');
			return finish(ExitCode.usage);
		}
		if (options.preflightOnly) {
			setStage(store, 'preflight', 'finished', 'preflight passed');
			return finish(ExitCode.ok);
		}
		setStage(store, 'preflight', 'ready', 'no blocking finding');
		const go = await until(gate.wait('capture'));
		if (go === 'abort') return finish(ExitCode.aborted);
		if (go === 'stop') return finish(ExitCode.ok);

		pipeline = await startPipeline({options, preflight, store, counters, gate, resume});
		const outcome = await Promise.race([pipeline.done, stopped, abortedPromise]);
		if (outcome === 'abort') {
			await pipeline.abort();
			return finish(ExitCode.aborted);
		}
		if (outcome === 'stop') {
			const drained = await Promise.race([pipeline.drainAndStop(), abortedPromise]);
			if (drained === 'abort') {
				await pipeline.abort();
				return finish(ExitCode.aborted);
			}
			return finish(counters.discrepancies > 0 && !options.repair ? ExitCode.discrepancies : ExitCode.ok);
		}
		return finish(outcome);
	} catch (error) {
		const {code, message, exitCode} = describeError(error);
		emit(store, {type: 'error', code, message});
		if (store.getState().stageStatus !== 'failed') setStage(store, store.getState().stage, 'failed', message);
		await pipeline?.abort();
		return finish(exitCode);
	}
}
