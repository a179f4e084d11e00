/**
 * keyferry's entry point: parse flags (meow), then the one switch point between the Ink console
 * (a TTY) and the headless JSON-lines reporter. Exit codes are README's.
 */
import {mkdirSync, openSync, writeSync} from 'node:fs';
import {dirname, join} from 'node:path';
import process from 'node:process';
import meow from 'meow';
import {helpText} from './source/config/help';
import {meowFlags, meowUsageError, resolveCommand, type AttachOptions, type CliCommand, type MigrateOptions, type RollbackOptions, type VerifyOptions} from './source/config/options';
import {attachControl} from './source/control/client';
import {operatorName} from './source/control/operator-name';
import {openRunControl} from './source/control/run-control';
import type {ControlServer} from './source/control/server';
import {runRollback} from './source/cutover/run-rollback';
import {askRollbackConfirmation, formatRollbackPreview} from './source/cutover/rollback-text';
import {runDemo} from './source/demo/run-demo';
import {newMigrationId} from './source/engine/migration-id';
import {findResumePoint, resumedDbMap, type ResumePoint} from './source/engine/resume-point';
import {runMigrate} from './source/engine/run-migrate';
import {lockStateDir, type StateLock} from './source/engine/state-lock';
import {stateDirFor} from './source/engine/state-dir';
import {createKeyferryStore, emit, type KeyferryStore} from './source/engine/store';
import {describeError, ExitCode} from './source/errors';
import {startJsonLinesReporter} from './source/headless/json-lines';
import {startStderrLog} from './source/headless/stderr-log';
import {formatPreflightReport} from './source/preflight/format-report';
import {detectGlyphs, runConsole} from './source/ui/run-console';
import {createUiStore, notify} from './source/ui/ui-store';
import {runVerify} from './source/verify/run-verify';
import {formatVerifyReport, startVerifyProgress} from './source/verify/verify-text';
import {version} from './source/version';

async function main(argv: string[]): Promise<number> {
	let command: CliCommand;
	try {
		const cli = meow(helpText(), {
			importMeta: import.meta,
			argv,
			flags: meowFlags(),
			allowUnknownFlags: true,
			autoHelp: false,
			autoVersion: false,
			description: false,
		});
		command = resolveCommand({
			input: cli.input.map(String),
			flags: cli.flags,
			env: process.env,
			stdoutIsTTY: Boolean(process.stdout.isTTY),
			stdinIsTTY: Boolean(process.stdin.isTTY),
		});
	} catch (error) {
		return reportStartupError(meowUsageError(error), argv);
	}
	switch (command.command) {
		case 'help':
			process.stdout.write(`${helpText()}\n`);
			return ExitCode.ok;
		case 'version':
			process.stdout.write(`${version}\n`);
			return ExitCode.ok;
		case 'migrate':
			return migrate(command, argv);
		case 'verify':
			return verify(command);
		case 'demo':
			return runDemo(command);
		case 'rollback':
			return rollback(command);
		case 'attach':
			return attach(command);
	}
}

async function migrate(given: MigrateOptions, argv: string[]): Promise<number> {
	let resume: ResumePoint | null;
	let options = given;
	try {
		resume = given.preflightOnly ? null : await findResumePoint(given, process.cwd());
		if (resume) options = {...given, stateDir: resume.stateDir, dbMap: resumedDbMap(resume.migration, given.dbMap)};
	} catch (error) {
		return reportStartupError(error, argv);
	}
	const store = createKeyferryStore({migrationId: resume?.migration.migrationId ?? newMigrationId()});
	const stateDir = stateDirFor(options, store.getState().migrationId);
	const signals = handleSignals(store);
	const control = options.preflightOnly ? null : await openRunControl(store, stateDir);
	let lock: StateLock | null = null;
	try {
		if (!options.preflightOnly) lock = lockStateDir(stateDir);
	} catch (error) {
		await control?.close();
		signals();
		return reportStartupError(error, argv);
	}
	try {
		if (options.headless) return await runHeadless(store, () => runMigrate(options, store, resume));
		if (options.preflightOnly) return await runPreflightText(store, options);
		const glyphs = detectGlyphs(process.env, {ascii: options.ascii, color: options.color});
		const ui = createUiStore({self: control?.joinLocal(operatorName(process.env)) ?? null});
		const engine = runMigrate(options, store, resume);
		await runConsole(store, glyphs, goHeadlessOnHangup(store, options, control), ui);
		return await engine;
	} finally {
		lock?.release();
		await control?.close();
		signals();
	}
}

/**
 * The console of a migration running elsewhere. Leaving it (q then Enter, Ctrl+C, a closed
 * terminal) only detaches; exit 0 once detached or once the migration ended, 1 if the connection broke.
 */
async function attach(options: AttachOptions): Promise<number> {
	let session: Awaited<ReturnType<typeof attachControl>>;
	try {
		session = await attachControl(options.stateDir, operatorName(process.env));
	} catch (error) {
		const {message, exitCode} = describeError(error);
		process.stderr.write(`keyferry: ${message}\n`);
		return exitCode;
	}
	const ui = createUiStore({self: session.self, attached: true});
	session.onNotice((text, tone) => notify(ui, text, tone));
	const gone = new AbortController();
	const end = session.closed.then((how) => {
		// The run's last frame (exit code, summary) is drawn by the console itself.
		if (how !== 'ended') gone.abort();
		return how;
	});
	const leave = () => session.detach();
	const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
	for (const signal of signals) process.on(signal, leave);
	for (const stream of [process.stdout, process.stdin]) stream.on('error', leave);
	try {
		await runConsole(session.store, detectGlyphs(process.env, {ascii: options.ascii, color: options.color}), gone.signal, ui);
		if (session.store.getState().exitCode !== null && !gone.signal.aborted) session.detach();
		const how = await end;
		const {migrationId} = session.store.getState();
		if (how === 'lost') {
			process.stderr.write(`keyferry: lost the connection to ${migrationId} (${session.path})\n`);
			return ExitCode.runtime;
		}
		if (how === 'detached' && session.store.getState().exitCode === null) {
			process.stderr.write(`keyferry: detached from ${migrationId}; it goes on (keyferry attach --state-dir ${options.stateDir} reopens it)\n`);
		}
		return ExitCode.ok;
	} finally {
		for (const signal of signals) process.off(signal, leave);
	}
}

/** Headless: the same reporters as migrate. On a terminal: a progress line, then the report. */
async function verify(options: VerifyOptions): Promise<number> {
	const store = createKeyferryStore({migrationId: newMigrationId()});
	const signals = handleSignals(store);
	try {
		if (options.headless) return await runHeadless(store, async () => (await runVerify(options, store)).exitCode);
		const style = detectGlyphs(process.env, {ascii: options.ascii, color: options.color});
		const stopProgress = startVerifyProgress(store, process.stderr, options.samples, style);
		const outcome = await runVerify(options, store).finally(stopProgress);
		const report = formatVerifyReport(store.getState(), outcome, options.samples, style);
		process.stderr.write(report.stderr);
		process.stdout.write(report.stdout);
		return outcome.exitCode;
	} finally {
		signals();
	}
}

/** Headless: JSON lines. On a terminal: the preview as text, a typed confirmation, progress on stderr. */
async function rollback(options: RollbackOptions): Promise<number> {
	const store = createKeyferryStore({migrationId: newMigrationId()});
	const signals = handleSignals(store);
	try {
		if (options.headless) return await runHeadless(store, () => runRollback(options, store));
		const stopLog = startStderrLog(store, process.stderr);
		try {
			return await runRollback(options, store, {
				show: (items, counts) => process.stdout.write(formatRollbackPreview(items, counts)),
				confirm: (count) => askRollbackConfirmation(process.stdin, process.stdout, count),
			});
		} finally {
			stopLog();
		}
	} finally {
		signals();
	}
}

async function runHeadless(store: KeyferryStore, run: () => Promise<number>): Promise<number> {
	const reporter = startJsonLinesReporter(store, process.stdout);
	const stopLog = startStderrLog(store, process.stderr);
	try {
		return await run();
	} finally {
		reporter.stop();
		stopLog();
	}
}

/** `--preflight-only` on a terminal: readable text, no console. */
async function runPreflightText(store: KeyferryStore, options: MigrateOptions): Promise<number> {
	const exitCode = await runMigrate(options, store);
	const {preflight, feed} = store.getState();
	if (preflight) process.stdout.write(`${formatPreflightReport(preflight)}\n`);
	else {
		for (const entry of feed) if (entry.event.type === 'error') process.stderr.write(`keyferry: ${entry.event.message}\n`);
	}
	return exitCode;
}

/**
 * A dropped SSH session must not stop a migration: on SIGHUP, or on the first write the dead
 * terminal refuses (EIO), the console is taken down and the run goes on headless, its JSON lines
 * appended to keyferry.log in the state dir.
 */
function goHeadlessOnHangup(store: KeyferryStore, options: MigrateOptions, control: ControlServer | null): AbortSignal {
	const detach = new AbortController();
	const streams = [process.stdout, process.stderr, process.stdin];
	const hangup = () => {
		if (detach.signal.aborted) return;
		detach.abort();
		// Attached clients take over the controls.
		control?.leaveLocal();
		const path = join(stateDirFor(options, store.getState().migrationId), 'keyferry.log');
		mkdirSync(dirname(path), {recursive: true});
		// Written synchronously: the process may exit right after the summary line.
		const fd = openSync(path, 'a', 0o600);
		startJsonLinesReporter(store, {
			write: (text: string) => {
				try {
					writeSync(fd, text);
				} catch {
					// A full disk must not stop the migration; the store still has everything.
				}
			},
		});
		const reopen = control ? `; keyferry attach --state-dir ${stateDirFor(options, store.getState().migrationId)} reopens its console` : '';
		emit(store, {type: 'info', message: `terminal closed: the migration goes on headless as pid ${process.pid} (kill -TERM ${process.pid} drains and stops it); log: ${path}${reopen}`});
	};
	process.on('SIGHUP', hangup);
	// Later writes to the dead terminal fail too; they must never take the process down.
	for (const stream of streams) stream.on('error', hangup);
	return detach.signal;
}

/** First SIGINT/SIGTERM drains to a barrier; a second one aborts (exit 130). SIGHUP never stops a run. */
function handleSignals(store: KeyferryStore): () => void {
	let count = 0;
	const onSignal = () => {
		count++;
		if (count === 1) store.getState().controls.quit();
		else store.getState().controls.abort();
	};
	const ignore = () => {};
	const handlers: Array<[NodeJS.Signals, () => void]> = [
		['SIGINT', onSignal],
		['SIGTERM', onSignal],
		['SIGHUP', ignore],
	];
	for (const [signal, handler] of handlers) process.on(signal, handler);
	return () => {
		for (const [signal, handler] of handlers) process.off(signal, handler);
	};
}


function reportStartupError(error: unknown, argv: string[]): number {
	const {code, message, exitCode} = describeError(error);
	const pointer = exitCode === ExitCode.usage ? ' (see keyferry --help)' : '';
	process.stderr.write(`keyferry: ${message}${pointer}\n`);
	// attach is a console only: its refusals are plain lines, never JSON.
	const attaching = argv.find((arg) => !arg.startsWith('-')) === 'attach';
	if (!attaching && (argv.includes('--headless') || !process.stdout.isTTY)) {
		const ts = Date.now();
		process.stdout.write(`${JSON.stringify({type: 'error', ts, code, message})}\n`);
		process.stdout.write(`${JSON.stringify({type: 'summary', ts, exitCode, stage: 'preflight'})}\n`);
	}
	return exitCode;
}

main(process.argv.slice(2)).then(
	(exitCode) => {
		process.exitCode = exitCode;
		// Sockets or timers left by a failed connection must not keep the process alive.
		setTimeout(() => process.exit(exitCode), 200).unref();
	},
	(error: unknown) => {
		process.stderr.write(`keyferry: internal error: ${describeError(error).message}\n`);
		process.exit(ExitCode.runtime);
	},
);
