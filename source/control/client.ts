/**
 * `keyferry attach`'s side of the control socket: a local store mirrored from the running
 * migration (snapshot, then updates), whose controls send actions over the socket. The console
 * mounts on it exactly as on the migration's own store.
 */
import {statSync} from 'node:fs';
import {createConnection, type Socket} from 'node:net';
import {createKeyferryStore, feedLength, type Controls, type KeyferryStore, type PairControls} from '../engine/store';
import {ExitCode, KeyferryError} from '../errors';
import {LineReader} from './line-reader';
import {applyUpdate, decodeServerMessage, encode, maxServerLineBytes, mirrorOf, type Action, type ClientMessage, type NoticeTone, type WithoutVersion} from './protocol';
import {controlSocketPath} from './server';

export type AttachEnd = 'detached' | 'ended' | 'lost';

export interface AttachedSession {
	store: KeyferryStore;
	/** This client's party id. */
	self: string;
	path: string;
	/** Refusals and answers meant for this client only. */
	onNotice(listener: (text: string, tone: NoticeTone) => void): void;
	/** detached: we left; ended: the run ended (its exit code is in the store); lost: the connection broke. */
	closed: Promise<AttachEnd>;
	detach(): void;
}

/** Key presses tell the server the holder is there; once in a while is enough. */
const activeEveryMs = 5000;

const attachError = (message: string) => new KeyferryError('attach', message, ExitCode.usage);

export async function attachControl(stateDir: string, name: string, timeoutMs = 5000): Promise<AttachedSession> {
	const path = controlSocketPath(stateDir);
	checkSocketFile(stateDir, path);
	const socket = await connect(path, timeoutMs);
	socket.setEncoding('utf8');
	const send = (message: WithoutVersion<ClientMessage>) => {
		if (!socket.destroyed) socket.write(encode(message));
	};
	send({type: 'hello', name});

	const reader = new LineReader(maxServerLineBytes);
	const queued: string[] = [];
	let deliver: ((line: string) => void) | null = null;
	let failed = null as Error | null;
	const listeners: Array<(text: string, tone: NoticeTone) => void> = [];
	socket.on('data', (chunk: string) => {
		const lines = reader.push(chunk);
		if (lines === 'overflow') {
			failed = attachError(`${path} sent a line longer than ${maxServerLineBytes} bytes`);
			socket.destroy();
			return;
		}
		for (const line of lines) (deliver ?? ((text: string) => queued.push(text)))(line);
	});
	socket.on('error', () => socket.destroy());
	const closedSocket = new Promise<void>((resolve) => socket.once('close', () => resolve()));

	const snapshot = await Promise.race([
		new Promise<string>((resolve) => {
			deliver = (line) => {
				deliver = (text) => queued.push(text);
				resolve(line);
			};
		}),
		closedSocket.then(() => null),
		new Promise<null>((resolve) => setTimeout(() => resolve(null), timeoutMs).unref()),
	]);
	const first = snapshot === null ? null : decodeServerMessage(snapshot);
	if (first === null || !first.ok || first.message.type !== 'snapshot') {
		socket.destroy();
		const why = failed ? failed.message : first === null ? 'no snapshot' : first.ok ? `${first.message.type} before the snapshot` : first.message;
		throw attachError(`${path} did not answer as a keyferry migration (${why})`);
	}
	const self = first.message.you;
	const store = createKeyferryStore(first.message.state);

	let detached = false;
	let lastActive = 0;
	const act = (action: Action) => send({type: 'action', action});
	const controls: Controls = {
		advance: () => act({name: 'advance'}),
		setCopyPaused: (paused) => act({name: 'setCopyPaused', paused}),
		setCopyRate: (rate) => act({name: 'setCopyRate', rate}),
		verifyNow: () => act({name: 'verifyNow'}),
		rollback: () => act({name: 'rollback'}),
		quit: () => act({name: 'quit'}),
		abort: () => act({name: 'abort'}),
	};
	const pairControls: PairControls = {
		requestControl: () => send({type: 'control', request: 'take'}),
		answerRequest: (accept) => send({type: 'control', request: 'answer', accept}),
		handOver: (to) => send({type: 'control', request: 'give', to}),
		active: () => {
			const now = Date.now();
			if (now - lastActive < activeEveryMs) return;
			lastActive = now;
			send({type: 'active'});
		},
		detach: () => {
			detached = true;
			socket.end();
		},
	};
	store.setState({controls, pairControls});

	const handle = (line: string) => {
		const decoded = decodeServerMessage(line);
		if (!decoded.ok) {
			for (const listener of listeners) listener(`the migration sent a message this keyferry cannot read (${decoded.message})`, 'bad');
			return;
		}
		const message = decoded.message;
		switch (message.type) {
			case 'update':
				store.setState(applyUpdate(mirrorOf(store.getState()), message, feedLength));
				return;
			case 'notice':
				for (const listener of listeners) listener(message.text, message.tone);
				return;
			case 'error':
				for (const listener of listeners) listener(`the migration refused a message: ${message.message}`, 'bad');
				return;
			case 'snapshot':
				store.setState(message.state);
				return;
		}
	};
	deliver = handle;
	for (const line of queued.splice(0)) handle(line);

	return {
		store,
		self,
		path,
		onNotice: (listener) => listeners.push(listener),
		closed: closedSocket.then(() => (detached ? 'detached' : store.getState().exitCode !== null ? 'ended' : 'lost')),
		detach: pairControls.detach,
	};
}

/** Each way of pointing at the wrong place gets its own one-line answer. */
function checkSocketFile(stateDir: string, path: string): void {
	try {
		if (!statSync(stateDir).isDirectory()) throw attachError(`${stateDir} is not a directory (give the migration's --state-dir)`);
	} catch (error) {
		if (error instanceof KeyferryError) throw error;
		throw attachError(`no state dir ${stateDir} (give the migration's --state-dir)`);
	}
	let isSocket: boolean;
	try {
		isSocket = statSync(path).isSocket();
	} catch {
		throw attachError(`no control socket in ${stateDir}: no migration is running with this state dir`);
	}
	if (!isSocket) throw attachError(`${path} is not a socket: not a keyferry control socket`);
}

function connect(path: string, timeoutMs: number): Promise<Socket> {
	return new Promise((resolve, reject) => {
		const socket = createConnection(path);
		const timer = setTimeout(() => {
			socket.destroy();
			reject(attachError(`nobody answered on ${path} within ${timeoutMs} ms`));
		}, timeoutMs);
		socket.once('connect', () => {
			clearTimeout(timer);
			resolve(socket);
		});
		socket.once('error', (error: NodeJS.ErrnoException) => {
			clearTimeout(timer);
			if (error.code === 'ECONNREFUSED') reject(attachError(`nobody is listening on ${path}: the migration that made it is not running any more`));
			else if (error.code === 'EACCES') reject(attachError(`cannot open ${path}: permission denied (the migration runs as another user)`));
			else reject(attachError(`cannot connect to ${path} (${error.code ?? error.message})`));
		});
	});
}
