/**
 * Throwaway redis-server processes for the demo: each in its own temp dir, on a free loopback
 * port, without persistence. Whatever happens to keyferry (a normal end, Ctrl+C, SIGTERM, a dropped
 * terminal, an uncaught error), the servers it started are killed and their dirs removed, and so
 * are the scratch dirs made here (the demo keeps its migration state in one).
 */
import {spawn, type ChildProcess} from 'node:child_process';
import {accessSync, constants, mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs';
import {createConnection, createServer} from 'node:net';
import {tmpdir} from 'node:os';
import {delimiter, join} from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';
import {ExitCode, KeyferryError} from '../errors';

export interface LocalServer {
	port: number;
	/** redis://127.0.0.1:<port> */
	url: string;
	dir: string;
	/** Kills the server and removes its dir; safe to call twice. */
	stop(): Promise<void>;
}

const host = '127.0.0.1';
const startAttempts = 5;
const pingTimeoutMs = 10_000;
const installHint = 'install it (apt-get install redis-server / brew install redis)';

/** Children still running and scratch dirs still present, removed synchronously on the way out whatever the way out is. */
const live = new Map<ChildProcess, string>();
const scratchDirs = new Set<string>();
let hooksInstalled = false;

/**
 * The redis-server to run: KEYFERRY_REDIS_SERVER (a path or a name, e.g. valkey-server) or
 * `redis-server`, looked up on PATH now so a missing one is a clear usage error, not a spawn error.
 */
export function findRedisServer(env: NodeJS.ProcessEnv): string {
	const name = env['KEYFERRY_REDIS_SERVER'] || 'redis-server';
	const candidates = name.includes('/') ? [name] : (env['PATH'] ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, name));
	const found = candidates.find(isExecutableFile);
	if (found === undefined) throw new KeyferryError('redis-server-missing', `${name} not found: ${installHint}`, ExitCode.usage);
	return found;
}

function isExecutableFile(path: string): boolean {
	try {
		accessSync(path, constants.X_OK);
		return statSync(path).isFile();
	} catch {
		return false;
	}
}

/** A temp dir (for the servers' dirs, the migration's state) removed with the servers, however the process ends. */
export function makeScratchDir(prefix: string): {path: string; remove(): void} {
	installExitHooks();
	const path = mkdtempSync(join(tmpdir(), prefix));
	scratchDirs.add(path);
	return {
		path,
		remove() {
			rmSync(path, {recursive: true, force: true});
			scratchDirs.delete(path);
		},
	};
}

/** Starts one server under `parentDir`, retrying on another port if the chosen one was taken meanwhile. */
export async function startLocalServer(binary: string, parentDir: string, name: string): Promise<LocalServer> {
	installExitHooks();
	let lastError: unknown;
	for (let attempt = 0; attempt < startAttempts; attempt++) {
		const port = await freePort();
		try {
			return await launch(binary, port, mkdtempSync(join(parentDir, `${name}-`)));
		} catch (error) {
			lastError = error;
		}
	}
	throw lastError instanceof KeyferryError ? lastError : new KeyferryError('redis-server-start', `${name} redis-server did not start: ${String(lastError)}`);
}

async function launch(binary: string, port: number, dir: string): Promise<LocalServer> {
	const logFile = join(dir, 'redis.log');
	const args = ['--port', String(port), '--bind', host, '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning', '--logfile', logFile];
	// Its own process group: a Ctrl+C in the terminal must reach keyferry, which drains first, not the servers.
	const child = spawn(binary, args, {stdio: 'ignore', detached: true});
	live.set(child, dir);
	const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
	let hasExited = false;
	child.once('exit', () => {
		hasExited = true;
		live.delete(child);
	});
	child.once('error', () => {
		hasExited = true;
		live.delete(child);
	});
	const stop = async () => {
		if (!hasExited) {
			child.kill('SIGKILL');
			await exited;
		}
		rmSync(dir, {recursive: true, force: true});
	};
	try {
		await waitForPing(port, () => hasExited);
	} catch (error) {
		const log = readLogTail(logFile);
		await stop();
		throw new KeyferryError('redis-server-start', `redis-server on port ${port} did not start${log ? `: ${log}` : ''} (${String(error)})`);
	}
	return {port, url: `redis://${host}:${port}`, dir, stop};
}

/** A port the OS just handed out on 127.0.0.1 and took back. */
function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.unref();
		server.on('error', reject);
		server.listen(0, host, () => {
			const address = server.address();
			server.close(() => (address !== null && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
		});
	});
}

async function waitForPing(port: number, exited: () => boolean): Promise<void> {
	const deadline = Date.now() + pingTimeoutMs;
	while (Date.now() < deadline) {
		if (exited()) throw new Error('exited at start');
		if (await pings(port)) return;
		await sleep(50);
	}
	throw new Error(`no PONG within ${pingTimeoutMs / 1000} s`);
}

/** One inline PING on a fresh socket; a raw socket keeps the retries quiet and bounded. */
export function pings(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = createConnection({host, port});
		let reply = '';
		const done = (ok: boolean) => {
			socket.destroy();
			resolve(ok);
		};
		socket.setTimeout(1000, () => done(false));
		socket.on('error', () => done(false));
		socket.on('connect', () => socket.write('PING\r\n'));
		socket.on('data', (chunk) => {
			reply += chunk.toString('latin1');
			if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
		});
	});
}

function readLogTail(file: string): string {
	try {
		const lines = readFileSync(file, 'utf8').trim().split('\n');
		return lines.slice(-1)[0]?.trim() ?? '';
	} catch {
		return '';
	}
}

function killAllNow(): void {
	for (const [child, dir] of live) {
		child.kill('SIGKILL');
		rmSync(dir, {recursive: true, force: true});
	}
	live.clear();
	for (const dir of scratchDirs) rmSync(dir, {recursive: true, force: true});
	scratchDirs.clear();
}

/**
 * 'exit' covers a normal end and an uncaught error. A signal nobody else handles would end the
 * process without 'exit', so then the servers go first and the signal is raised again.
 */
function installExitHooks(): void {
	if (hooksInstalled) return;
	hooksInstalled = true;
	process.on('exit', killAllNow);
	for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
		const onSignal = () => {
			if (process.listenerCount(signal) > 1) return;
			killAllNow();
			process.off(signal, onSignal);
			process.kill(process.pid, signal);
		};
		process.on(signal, onSignal);
	}
}
