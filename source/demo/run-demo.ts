/**
 * `keyferry demo`: two throwaway redis-servers, a seeded source with an application writing to
 * it, and the real `migrate` between them in the console (or headless). Everything the demo
 * started is stopped and removed before it returns, whatever way the run ends.
 */
import {join} from 'node:path';
import process from 'node:process';
import {resolveCommand, type DemoOptions, type MigrateOptions} from '../config/options';
import {newMigrationId} from '../engine/migration-id';
import {runMigrate} from '../engine/run-migrate';
import {createKeyferryStore, emit, type KeyferryStore} from '../engine/store';
import {describeError, ExitCode, KeyferryError} from '../errors';
import {startJsonLinesReporter} from '../headless/json-lines';
import {startStderrLog} from '../headless/stderr-log';
import {detectGlyphs, runConsole} from '../ui/run-console';
import {seedDataset} from './dataset';
import {planDataset} from './keyspace';
import {findRedisServer, makeScratchDir, startLocalServer, type LocalServer} from './local-servers';
import {startTraffic, type Traffic} from './traffic';

type Cleanup = () => void | Promise<void>;

const seedProgressEveryMs = 5000;

export async function runDemo(options: DemoOptions): Promise<number> {
	const store = createKeyferryStore({migrationId: newMigrationId()});
	const cleanups: Cleanup[] = [];
	// Headless: JSON lines and the stderr log for the whole run. On a terminal: the stderr log
	// until the console mounts, so starting and seeding are not silent.
	let stopSetupLog: () => void = () => {};
	if (options.headless) {
		const reporter = startJsonLinesReporter(store, process.stdout);
		const stopLog = startStderrLog(store, process.stderr);
		cleanups.push(() => {
			reporter.stop();
			stopLog();
		});
	} else {
		stopSetupLog = startStderrLog(store, process.stderr);
	}
	const setup = new AbortController();
	const signals = handleSignals(store, setup);
	let servers: LocalServer[] = [];
	let traffic: Traffic | null = null;
	let sentBefore = 0;
	try {
		const binary = findRedisServer(process.env);
		const root = makeScratchDir('keyferry-demo-');
		cleanups.push(() => root.remove());
		const started = await Promise.allSettled([startLocalServer(binary, root.path, 'source'), startLocalServer(binary, root.path, 'target')]);
		servers = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
		cleanups.push(async () => {
			await Promise.all(servers.map((server) => server.stop()));
		});
		const failed = started.find((result) => result.status === 'rejected');
		if (failed) throw failed.reason;
		const [source, target] = servers as [LocalServer, LocalServer];
		emit(store, {type: 'info', message: `demo servers: source ${source.url} · target ${target.url}`});
		throwIfStopped(setup.signal);

		const plan = planDataset(options.keys);
		emit(store, {type: 'info', message: `demo: seeding ${options.keys} keys: users, sessions, counters, feeds, tags, leaderboards, streams`});
		const seedStart = Date.now();
		let lastProgress = seedStart;
		// Big datasets take a while: say how far seeding is every few seconds.
		const onProgress = (written: number) => {
			if (Date.now() - lastProgress < seedProgressEveryMs || written === options.keys) return;
			lastProgress = Date.now();
			emit(store, {type: 'info', message: `demo: seeded ${written} of ${options.keys} keys`});
		};
		await seedDataset({port: source.port, plan, signal: setup.signal, onProgress});
		throwIfStopped(setup.signal);
		emit(store, {type: 'info', message: `demo: seeded ${options.keys} keys in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`});

		const application = (server: LocalServer) =>
			startTraffic({
				port: server.port,
				rate: options.rate,
				plan,
				onError: (message) => emit(store, {type: 'warning', code: 'demo-traffic', message: `demo application: ${message}`}),
			});
		if (options.rate > 0) {
			traffic = application(source);
			emit(store, {type: 'info', message: `demo: application traffic on the source: ${options.rate} writes/s (logins, counters, feeds, events)`});
			// The demo plays the operator's part of the cutover checklist: once cutover starts, the
			// application moves to the target, so its writes to the source stop.
			const switchOver = store.subscribe((state, previous) => {
				if (state.stage !== 'cutover' || previous.stage === 'cutover' || !traffic) return;
				switchOver();
				const old = traffic;
				traffic = null;
				void old.stop().then((stats) => {
					sentBefore = stats.commands;
					if (store.getState().exitCode !== null) return;
					traffic = application(target);
					emit(store, {type: 'info', message: 'demo: the application now writes to the target; its writes to the source stopped'});
				});
			});
			cleanups.push(async () => switchOver());
		}

		const migrate = migrateOptions(options, source, target, join(root.path, 'state'));
		const engine = runMigrate(migrate, store);
		signals.migrating();
		if (options.headless) return await engine;
		stopSetupLog();
		await runConsole(store, detectGlyphs(process.env, {ascii: options.ascii, color: options.color}));
		return await engine;
	} catch (error) {
		return fail(store, error);
	} finally {
		signals.remove();
		stopSetupLog();
		const sent = sentBefore + (traffic ? (await traffic.stop()).commands : 0);
		for (const cleanup of cleanups.reverse()) await cleanup();
		if (servers.length > 0) {
			process.stderr.write(`keyferry demo: both redis-servers stopped, files removed; the application sent ${sent} writes\n`);
		}
	}
}

/**
 * The demo's migration is `keyferry migrate --source … --target …` with the demo's output flags
 * and a verify stage sized for a demo (2,000 clean samples at 400/s, a few seconds instead of
 * the production default of 10,000 at 100/s): the CLI's own parser fills in every other default.
 */
function migrateOptions(options: DemoOptions, source: LocalServer, target: LocalServer, stateDir: string): MigrateOptions {
	const command = resolveCommand({
		input: ['migrate'],
		flags: {source: source.url, target: target.url, stateDir, headless: options.headless, yes: options.yes, ascii: options.ascii, color: options.color, verifyRate: '400', verifySamples: '2000'},
		env: {},
		stdoutIsTTY: !options.headless,
	});
	if (command.command !== 'migrate') throw new Error('the demo built a non-migrate command');
	return command;
}

function throwIfStopped(signal: AbortSignal): void {
	if (signal.aborted) throw new KeyferryError('demo-stopped', 'demo stopped before the migration started', ExitCode.ok);
}

/** A failure before the migration started: the error and a summary, as the headless contract wants. */
function fail(store: KeyferryStore, error: unknown): number {
	const {code, message, exitCode} = describeError(error);
	const state = store.getState();
	emit(store, exitCode === ExitCode.ok ? {type: 'info', message} : {type: 'error', code, message});
	emit(store, {type: 'summary', exitCode, durationMs: Date.now() - state.startedAt, ...state.stats, stage: state.stage});
	store.setState({exitCode});
	return exitCode;
}

/**
 * Before the migration starts a signal just stops the setup. Then, as in `migrate`: the first
 * SIGINT/SIGTERM drains to a barrier, a second one aborts. SIGHUP (the terminal went away) is left
 * to local-servers, which stops the servers and lets the signal end the process.
 */
function handleSignals(store: KeyferryStore, setup: AbortController): {migrating(): void; remove(): void} {
	let migrating = false;
	let count = 0;
	const onSignal = () => {
		if (!migrating) {
			setup.abort();
			return;
		}
		count++;
		if (count === 1) store.getState().controls.quit();
		else store.getState().controls.abort();
	};
	process.on('SIGINT', onSignal);
	process.on('SIGTERM', onSignal);
	return {
		migrating: () => {
			migrating = true;
		},
		remove: () => {
			process.off('SIGINT', onSignal);
			process.off('SIGTERM', onSignal);
		},
	};
}
