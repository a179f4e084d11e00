/**
 * The control socket of a running migration (`<state dir>/control.sock`, mode 0600): consoles
 * attach to it with `keyferry attach`. It sends each client a snapshot of the store, then batched
 * updates ten times a second; it takes actions only from the party holding the controls and
 * arbitrates hand-overs (pair.ts). It reads the store and calls its controls, like the console.
 */
import {randomBytes} from 'node:crypto';
import {chmodSync, lstatSync, rmdirSync, unlinkSync} from 'node:fs';
import {createConnection, createServer, type Server, type Socket} from 'node:net';
import {join} from 'node:path';
import process from 'node:process';
import {emit, type KeyferryStore, type Party} from '../engine/store';
import {KeyferryError} from '../errors';
import {LineReader} from './line-reader';
import {answerRequest, grantUnanswered, handOver, holderIdleMs, holds, joinPair, leavePair, nameOf, requestAnswerMs, requestControl, watchingText, type PairStep} from './pair';
import {decodeClientMessage, encode, maxClientLineBytes, mirrorOf, protocolVersion, updateBetween, type Action, type ClientMessage, type MirrorState, type ServerMessage, type WithoutVersion} from './protocol';

export const controlSocketName = 'control.sock';

export function controlSocketPath(stateDir: string): string {
	return join(stateDir, controlSocketName);
}

export interface ControlServerOptions {
	store: KeyferryStore;
	stateDir: string;
	/** Update batches per second are 1000 / this. */
	broadcastMs?: number;
	holderIdleMs?: number;
	requestAnswerMs?: number;
}

export interface ControlServer {
	path: string;
	/** The console on the migration's own terminal joins (it holds the controls unless a client already does); returns its id. */
	joinLocal(name: string): string;
	/** That console is gone (its terminal closed). */
	leaveLocal(): void;
	/** Sends the last update, closes every connection and removes the socket. */
	close(): Promise<void>;
}

/** sun_path is 108 bytes on Linux and 104 on macOS, the terminating NUL included. */
const maxSocketPathBytes = 103;

/** A client that reads slower than this much buffered output is dropped rather than grow the heap. */
const maxBufferedBytes = 32 * 1024 * 1024;

interface Connection {
	id: string;
	socket: Socket;
	reader: LineReader;
	/** Set by hello; until then the party has a placeholder name and no log line. */
	named: boolean;
}

type ServerMessageBody = WithoutVersion<ServerMessage>;

export async function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
	const {store, stateDir} = options;
	const path = controlSocketPath(stateDir);
	const idleMs = options.holderIdleMs ?? holderIdleMs;
	const answerMs = options.requestAnswerMs ?? requestAnswerMs;
	// The kernel would cut a longer path short and the socket would appear somewhere else.
	if (Buffer.byteLength(path) > maxSocketPathBytes) throw new KeyferryError('control-socket', `${path} is too long for a unix socket (at most ${maxSocketPathBytes} bytes); keyferry attach is off for this run (a shorter --state-dir turns it on)`);
	await clearStaleSocket(path);

	const connections = new Map<string, Connection>();
	const lastActive = new Map<string, number>();
	let requestedAt = 0;
	let localId: string | null = null;
	let lastBroadcast: MirrorState = mirrorOf(store.getState());

	const send = (connection: Connection, message: ServerMessageBody) => {
		if (connection.socket.destroyed) return;
		if (connection.socket.writableLength > maxBufferedBytes) {
			connection.socket.destroy();
			return;
		}
		connection.socket.write(encode(message));
	};
	const pair = () => store.getState().pair;
	const log = (message: string) => {
		// The summary is the log's last line: consoles leaving a finished run go unrecorded.
		if (store.getState().exitCode === null) emit(store, {type: 'info', message});
	};
	const newId = () => {
		for (;;) {
			const id = randomBytes(2).toString('hex');
			if (!pair().parties.some((party) => party.id === id)) return id;
		}
	};
	/** Applies a step: the new pair state, its log line, or the refusal to whoever asked. */
	const apply = (step: PairStep, asker: string | null, quiet = false) => {
		if (step.refused !== null) {
			if (asker !== null) notify(asker, step.refused, 'warn');
			return;
		}
		const before = pair();
		store.setState({pair: step.pair});
		if (step.pair.request !== null && step.pair.request !== before.request) requestedAt = Date.now();
		if (step.log && !quiet) log(step.log);
	};
	const notify = (id: string, text: string, tone: 'info' | 'warn' | 'bad') => {
		if (id === localId) {
			// The local console reads the log; a refusal for it is a log line too.
			emit(store, {type: 'warning', code: 'controls', message: text});
			return;
		}
		const connection = connections.get(id);
		if (connection) send(connection, {type: 'notice', text, tone});
	};

	const broadcast = () => {
		const mirror = mirrorOf(store.getState());
		const update = updateBetween(lastBroadcast, mirror);
		lastBroadcast = mirror;
		if (!update) return;
		for (const connection of connections.values()) send(connection, {type: 'update', ...update});
	};

	const request = (id: string, message: Extract<ClientMessage, {type: 'control'}>) => {
		const now = Date.now();
		lastActive.set(id, now);
		switch (message.request) {
			case 'take': {
				const holder = pair().holder;
				const idle = holder === null || now - (lastActive.get(holder) ?? 0) >= idleMs;
				apply(requestControl(pair(), id, idle), id);
				return;
			}
			case 'answer': {
				const asker = pair().request;
				apply(answerRequest(pair(), id, message.accept), id);
				if (!message.accept && asker !== null) notify(asker, `${nameOf(pair(), id)} keeps the controls: you keep watching`, 'warn');
				return;
			}
			case 'give':
				apply(handOver(pair(), id, message.to), id);
				return;
		}
	};

	const act = (connection: Connection, action: Action) => {
		const current = pair();
		if (!holds(current, connection.id)) {
			send(connection, {type: 'notice', text: watchingText(current), tone: 'warn'});
			return;
		}
		lastActive.set(connection.id, Date.now());
		const {controls} = store.getState();
		log(`${nameOf(current, connection.id)}: ${actionText(action)}`);
		switch (action.name) {
			case 'advance':
				return controls.advance();
			case 'setCopyPaused':
				return controls.setCopyPaused(action.paused);
			case 'setCopyRate':
				return controls.setCopyRate(action.rate);
			case 'verifyNow':
				return controls.verifyNow();
			case 'rollback':
				return controls.rollback();
			case 'quit':
				return controls.quit();
			case 'abort':
				return controls.abort();
		}
	};

	const receive = (connection: Connection, line: string) => {
		const decoded = decodeClientMessage(line);
		if (!decoded.ok) {
			send(connection, {type: 'error', code: decoded.code, message: decoded.message});
			return;
		}
		const message = decoded.message;
		switch (message.type) {
			case 'hello': {
				const name = `${message.name}#${connection.id}`;
				const current = pair();
				store.setState({pair: {...current, parties: current.parties.map((party) => (party.id === connection.id ? {...party, name} : party))}});
				if (!connection.named) log(`${name} attached and ${holds(pair(), connection.id) ? 'holds the controls' : `watches (${nameOf(pair(), pair().holder)} holds the controls)`}`);
				connection.named = true;
				return;
			}
			case 'active':
				lastActive.set(connection.id, Date.now());
				return;
			case 'action':
				return act(connection, message.action);
			case 'control':
				return request(connection.id, message);
		}
	};

	const server: Server = createServer((socket) => {
		const id = newId();
		const connection: Connection = {id, socket, reader: new LineReader(maxClientLineBytes), named: false};
		connections.set(id, connection);
		lastActive.set(id, Date.now());
		apply(joinPair(pair(), {id, name: `client#${id}`, kind: 'client'}), null, true);
		socket.setEncoding('utf8');
		send(connection, {type: 'snapshot', you: id, state: mirrorOf(store.getState())});
		socket.on('data', (chunk: string) => {
			const lines = connection.reader.push(chunk);
			if (lines === 'overflow') {
				send(connection, {type: 'error', code: 'line-too-long', message: `a message may be at most ${maxClientLineBytes} bytes`});
				socket.end();
				return;
			}
			for (const line of lines) receive(connection, line);
		});
		socket.on('error', () => socket.destroy());
		socket.on('close', () => {
			connections.delete(id);
			lastActive.delete(id);
			if (pair().parties.some((party) => party.id === id)) apply(leavePair(pair(), id), null, !connection.named);
		});
	});

	await listenPrivately(server, path);
	const timers = [
		setInterval(broadcast, options.broadcastMs ?? 100),
		setInterval(() => {
			if (pair().request !== null && Date.now() - requestedAt >= answerMs) apply(grantUnanswered(pair()), null);
		}, 1000),
	];
	for (const timer of timers) timer.unref();
	// The last frame (exit code, summary) goes out at once, not on the next tick.
	const unsubscribe = store.subscribe((state, previous) => {
		if (state.exitCode !== null && previous.exitCode === null) broadcast();
	});
	const removeSocket = () => {
		try {
			unlinkSync(path);
		} catch {
			// Already gone.
		}
	};
	// A process.exit() right after the summary must not leave the socket file behind.
	process.on('exit', removeSocket);

	const localControls = (id: string) => ({
		requestControl: () => request(id, {v: protocolVersion, type: 'control', request: 'take'}),
		answerRequest: (accept: boolean) => request(id, {v: protocolVersion, type: 'control', request: 'answer', accept}),
		handOver: (to: string) => request(id, {v: protocolVersion, type: 'control', request: 'give', to}),
		active: () => lastActive.set(id, Date.now()),
		detach: () => {},
	});

	return {
		path,
		joinLocal(name) {
			const id = newId();
			localId = id;
			lastActive.set(id, Date.now());
			const party: Party = {id, name: `${name}#${id}`, kind: 'console'};
			apply(joinPair(pair(), party), null, true);
			store.setState({pairControls: localControls(id)});
			return id;
		},
		leaveLocal() {
			if (localId === null) return;
			apply(leavePair(pair(), localId), null);
			lastActive.delete(localId);
			localId = null;
		},
		async close() {
			for (const timer of timers) clearInterval(timer);
			unsubscribe();
			broadcast();
			for (const connection of connections.values()) connection.socket.end();
			await new Promise<void>((resolve) => server.close(() => resolve()));
			for (const connection of connections.values()) connection.socket.destroy();
			removeSocket();
			process.off('exit', removeSocket);
		},
	};
}

function actionText(action: Action): string {
	switch (action.name) {
		case 'setCopyPaused':
			return action.paused ? 'pause copy' : 'resume copy';
		case 'setCopyRate':
			return `copy rate ${action.rate === null ? 'unlimited' : `${action.rate} keys/s`}`;
		case 'verifyNow':
			return 'verify now';
		default:
			return action.name;
	}
}

/**
 * A socket file left by a killed keyferry is replaced; one that still answers belongs to a running
 * keyferry on the same state dir and is left alone; anything else at that path is not ours.
 */
async function clearStaleSocket(path: string): Promise<void> {
	let isSocket: boolean;
	try {
		isSocket = lstatSync(path).isSocket();
	} catch {
		return;
	}
	if (!isSocket) throw new KeyferryError('control-socket', `${path} exists and is not a socket; keyferry attach is off for this run`);
	const answers = await new Promise<boolean>((resolve) => {
		const probe = createConnection(path);
		probe.once('connect', () => {
			probe.destroy();
			resolve(true);
		});
		probe.once('error', () => resolve(false));
	});
	if (answers) throw new KeyferryError('control-socket', `another keyferry answers on ${path}; keyferry attach is off for this run`);
	unlinkSync(path);
}

/** Created under umask 077, so the socket is 0600 from its first instant (other users could otherwise connect). */
async function listenPrivately(server: Server, path: string): Promise<void> {
	const umask = process.umask(0o077);
	// listen() binds synchronously; the umask goes back before anything else creates a file.
	const listening = new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(path, () => {
			server.off('error', reject);
			resolve();
		});
	});
	process.umask(umask);
	try {
		await listening;
		chmodSync(path, 0o600);
	} catch (error) {
		const reason = error instanceof Error ? error.message : String(error);
		throw new KeyferryError('control-socket', `cannot listen on ${path} (${reason}); keyferry attach is off for this run`);
	}
}

/** The state dir was made only for the socket (the run stopped before preflight passed): leave nothing behind. */
export function removeIfEmpty(dir: string): void {
	try {
		rmdirSync(dir);
	} catch {
		// Not empty, or not ours to remove.
	}
}
