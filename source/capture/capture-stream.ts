/**
 * One MONITOR connection to one source master, written raw into that master's journal.
 *
 * The data handler only appends the chunk to the journal and counts LFs: no parsing, no await, so
 * the socket is drained as fast as the network delivers and the source never buffers for us.
 *
 * Every moment without a working monitor becomes a gap line in the journal, at the exact point of
 * the stream where it happened, and an onGap call:
 * - a dropped connection: from the last byte received to the moment the new MONITOR answered;
 * - a half-open connection (no RST ever comes): when the feed stays silent, a separate probe
 *   connection sends PING; once the server has answered it and the PING line still has not
 *   arrived on the monitor, the monitor is declared dead and replaced;
 * - a journal that already held data at start: from its last write to now (a restart), or a
 *   resumed migration's new journal: from when the migration was last recorded.
 * A line cut by the drop is closed with `truncationMark`, so it reads back as malformed.
 */
import type {Socket} from 'node:net';
import {ExitCode, KeyferryError} from '../errors';
import type {Counters} from '../engine/counters';
import {endpointAddress, type NodeEndpoint} from '../redis/endpoint';
import type {Journal} from './journal';
import {formatGapLine, truncationMark, type MonitorGap} from './monitor-parser';
import {addressFromClientInfo, authCommand, errorMessage, handshake, openSocket, readReply, type Reply} from './resp-handshake';

export interface CaptureStreamOptions {
	endpoint: NodeEndpoint;
	journal: Journal;
	counters: Counters;
	onGap(gap: MonitorGap & {node: string}): void;
	onWarning(code: string, message: string): void;
	onFatal(code: string, message: string): void;
	/** Silence on the feed before the probe sends PING, default 1000 ms; 0 turns the probe off. */
	heartbeatMs?: number;
	/** After the probe's PONG, how long the feed may still lack that PING before the monitor is declared dead, default 5000 ms. */
	deadAfterMs?: number;
	/** Reconnect backoff: doubles from minDelayMs to maxDelayMs (defaults 100 ms, 5 s); maxAttempts default unlimited. */
	reconnect?: {minDelayMs?: number; maxDelayMs?: number; maxAttempts?: number};
	/** Connect and handshake timeout, default 5000 ms. */
	timeoutMs?: number;
	/**
	 * A resumed migration whose capture of this node starts a new journal (another replica read,
	 * a journal removed): nothing was captured since this moment, so the stream starts with a gap.
	 */
	notCapturedSinceMs?: number;
}

export const monitorClientName = 'keyferry-monitor';
export const probeClientName = 'keyferry-probe';

type State = 'idle' | 'connecting' | 'monitoring' | 'reconnecting' | 'stopping' | 'stopped' | 'failed';

interface Connected {
	socket: Socket;
	rest: Buffer;
	address: string;
	id: number | null;
}

export class CaptureStream {
	/** host:port of the source master, as shown to the operator. */
	readonly node: string;
	private state: State = 'idle';
	private socket: Socket | null = null;
	private address: string | null = null;
	private id: number | null = null;
	private midLine = false;
	private lastDataAt = 0;
	private drop: {fromMs: number; reason: string} | null = null;
	private attempt = 0;
	private retryTimer: NodeJS.Timeout | null = null;
	private heartbeatTimer: NodeJS.Timeout | null = null;
	private readonly probe: Probe;
	private reportedDiskBytes = 0;
	private lines = 0;
	private bytes = 0;
	private gaps = 0;
	private readonly heartbeatMs: number;
	private readonly deadAfterMs: number;
	private readonly timeoutMs: number;

	constructor(private readonly options: CaptureStreamOptions) {
		this.node = endpointAddress(options.endpoint);
		this.heartbeatMs = options.heartbeatMs ?? 1000;
		this.deadAfterMs = options.deadAfterMs ?? 5000;
		this.timeoutMs = options.timeoutMs ?? 5000;
		this.probe = new Probe(options.endpoint, this.timeoutMs);
	}

	/** The address the server shows for the monitor connection (CLIENT INFO addr), null before start. */
	get clientAddress(): string | null {
		return this.address;
	}

	/** CLIENT ID of the monitor connection (from CLIENT INFO), null before start or when unknown. */
	get clientId(): number | null {
		return this.id;
	}

	/** The address of the heartbeat probe, whose `PING` lines appear in the feed; null until first used. */
	get probeAddress(): string | null {
		return this.probe.address;
	}

	get stats(): {lines: number; bytes: number; gaps: number; connected: boolean} {
		return {lines: this.lines, bytes: this.bytes, gaps: this.gaps, connected: this.state === 'monitoring'};
	}

	/**
	 * Connects and runs MONITOR; resolves once it answered +OK. A refused login or MONITOR (or an
	 * unreachable source) calls onFatal and rejects with the same KeyferryError.
	 */
	async start(): Promise<void> {
		if (this.state !== 'idle') throw new KeyferryError('capture-state', `capture on ${this.node} was already started`);
		this.state = 'connecting';
		let connected: Connected;
		try {
			connected = await this.connect();
		} catch (error) {
			const failure =
				error instanceof KeyferryError
					? error
					: new KeyferryError('source-unreachable', `cannot start MONITOR on ${this.node}: ${errorMessage(error)}`);
			this.fail(failure.code, failure.message);
			throw failure;
		}
		if (this.state !== 'connecting') {
			connected.socket.destroy();
			return;
		}
		const okAt = Date.now();
		const journal = this.options.journal;
		const lastAppend = journal.lastAppendMs;
		if (journal.end > 0 && lastAppend !== null) this.recordGap(Math.min(lastAppend, okAt), okAt, 'capture was not running');
		else if (this.options.notCapturedSinceMs !== undefined) this.recordGap(Math.min(this.options.notCapturedSinceMs, okAt), okAt, 'capture was not running');
		this.attach(connected, okAt);
		this.heartbeatTimer = setInterval(() => this.tick(), this.heartbeatMs > 0 ? Math.max(50, Math.floor(this.heartbeatMs / 2)) : 500);
		this.heartbeatTimer.unref();
	}

	/** Ends the capture. A line in flight gets up to a second to complete; nothing after it is kept. */
	async stop(): Promise<void> {
		if (this.state === 'stopped' || this.state === 'stopping' || this.state === 'failed') return;
		const previous = this.state;
		this.state = 'stopping';
		this.clearTimers();
		this.probe.close();
		if (previous === 'reconnecting' && this.drop) {
			this.recordGap(this.drop.fromMs, Date.now(), `${this.drop.reason}; capture stopped before reconnecting`);
			this.drop = null;
		}
		const deadline = Date.now() + 1000;
		while (this.socket && this.midLine && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
		this.socket?.destroy();
		this.socket = null;
		this.closeCutLine();
		this.syncDiskCounter();
		this.state = 'stopped';
	}

	private async connect(): Promise<Connected> {
		const endpoint = this.options.endpoint;
		const socket = await openSocket(endpoint, this.timeoutMs);
		try {
			const auth = authCommand(endpoint);
			const commands: string[][] = [...(auth ? [auth] : []), ['CLIENT', 'SETNAME', monitorClientName], ['CLIENT', 'INFO'], ['MONITOR']];
			const {replies, rest} = await handshake(socket, commands, this.timeoutMs);
			const [authReply, nameReply, infoReply, monitorReply] = auth ? replies : [null, ...replies];
			this.checkLogin(authReply ?? null, nameReply!);
			if (monitorReply!.kind === 'error') {
				if (monitorReply!.value.startsWith('NOAUTH')) this.checkLogin(null, monitorReply!);
				const user = endpoint.username ? `user '${endpoint.username}'` : 'the default user';
				throw new KeyferryError('monitor-refused', `${this.node} refused MONITOR for ${user}: ${monitorReply!.value}`, ExitCode.usage);
			}
			const local = socket.localAddress ?? '';
			const fallback = `${local.includes(':') ? `[${local}]` : local}:${socket.localPort ?? 0}`;
			const info = infoReply!.kind === 'ok' ? infoReply!.value : '';
			const id = /(?:^|\s)id=(\d+)/.exec(info)?.[1];
			return {socket, rest, address: addressFromClientInfo(info) ?? fallback, id: id === undefined ? null : Number(id)};
		} catch (error) {
			socket.destroy();
			throw error;
		}
	}

	private checkLogin(authReply: Reply | null, firstReply: Reply): void {
		const user = this.options.endpoint.username ? ` as '${this.options.endpoint.username}'` : '';
		if (authReply?.kind === 'error') {
			throw new KeyferryError('auth-failed', `${this.node} refused the login${user}: ${authReply.value}`, ExitCode.usage);
		}
		if (firstReply.kind === 'error' && firstReply.value.startsWith('NOAUTH')) {
			throw new KeyferryError('auth-failed', `${this.node} requires a password: ${firstReply.value}`, ExitCode.usage);
		}
	}

	private attach({socket, rest, address, id}: Connected, okAt: number): void {
		this.socket = socket;
		this.address = address;
		this.id = id;
		this.lastDataAt = okAt;
		this.midLine = false;
		this.state = 'monitoring';
		let failure: string | null = null;
		socket.on('data', (chunk: Buffer) => this.onFeed(chunk));
		socket.on('error', (error) => {
			failure = errorMessage(error);
		});
		socket.on('close', () => this.onClosed(socket, failure ?? 'closed by the server'));
		if (rest.length > 0) this.onFeed(rest);
		socket.resume();
	}

	/** The hot path. */
	private onFeed(chunk: Buffer): void {
		if (this.state === 'stopping') {
			// Stopping only completes the line in flight, so the journal ends on a whole line.
			if (!this.midLine) return;
			const lf = chunk.indexOf(0x0a);
			if (lf !== -1) chunk = chunk.subarray(0, lf + 1);
		}
		try {
			this.options.journal.append(chunk);
		} catch (error) {
			this.fail('journal-write', errorMessage(error));
			return;
		}
		let lines = 0;
		let lf = chunk.indexOf(0x0a);
		while (lf !== -1) {
			lines++;
			lf = chunk.indexOf(0x0a, lf + 1);
		}
		const counters = this.options.counters;
		counters.captured += lines;
		counters.capturedBytes += chunk.length;
		this.lines += lines;
		this.bytes += chunk.length;
		this.midLine = chunk[chunk.length - 1] !== 0x0a;
		this.lastDataAt = Date.now();
	}

	private onClosed(socket: Socket, reason: string): void {
		if (socket !== this.socket) return;
		this.socket = null;
		if (this.state !== 'monitoring') return;
		this.state = 'reconnecting';
		this.closeCutLine();
		this.drop = {fromMs: this.lastDataAt, reason};
		this.options.onWarning(
			'capture-dropped',
			`monitor connection to ${this.node} dropped (${reason}); commands since ${new Date(this.lastDataAt).toISOString()} may be missing, reconnecting`,
		);
		this.scheduleReconnect();
	}

	private scheduleReconnect(): void {
		const policy = this.options.reconnect ?? {};
		const minDelay = policy.minDelayMs ?? 100;
		const maxDelay = policy.maxDelayMs ?? 5000;
		const delay = Math.min(maxDelay, minDelay * 2 ** Math.min(this.attempt, 20));
		this.retryTimer = setTimeout(() => void this.reconnect(), delay);
	}

	private async reconnect(): Promise<void> {
		this.retryTimer = null;
		if (this.state !== 'reconnecting') return;
		this.attempt++;
		let connected: Connected;
		try {
			connected = await this.connect();
		} catch (error) {
			if (this.state !== 'reconnecting') return;
			if (error instanceof KeyferryError) {
				this.giveUp(error.code, error.message);
				return;
			}
			const maxAttempts = this.options.reconnect?.maxAttempts ?? Infinity;
			if (this.attempt >= maxAttempts) {
				this.giveUp('capture-lost', `gave up reconnecting MONITOR to ${this.node} after ${this.attempt} attempts: ${errorMessage(error)}`);
				return;
			}
			this.options.onWarning('capture-reconnect', `reconnecting MONITOR to ${this.node}, attempt ${this.attempt} failed: ${errorMessage(error)}`);
			this.scheduleReconnect();
			return;
		}
		if (this.state !== 'reconnecting') {
			connected.socket.destroy();
			return;
		}
		const okAt = Date.now();
		const drop = this.drop!;
		this.drop = null;
		this.attempt = 0;
		this.recordGap(drop.fromMs, okAt, drop.reason);
		this.attach(connected, okAt);
	}

	/** Reconnecting cannot succeed: record the open gap, then fail. */
	private giveUp(code: string, message: string): void {
		if (this.drop) this.recordGap(this.drop.fromMs, Date.now(), `${this.drop.reason}; capture gave up`);
		this.drop = null;
		this.fail(code, message);
	}

	private recordGap(fromMs: number, toMs: number, reason: string): void {
		const gap: MonitorGap = {kind: 'gap', fromMs, toMs, reason};
		try {
			this.options.journal.append(formatGapLine(gap));
			this.options.counters.captured++;
			this.lines++;
		} catch (error) {
			this.fail('journal-write', errorMessage(error));
		}
		this.gaps++;
		this.options.onGap({...gap, node: this.node});
	}

	/** A drop cut the last line: close it so it reads back as malformed, never as a shorter command. */
	private closeCutLine(): void {
		if (!this.midLine) return;
		this.midLine = false;
		try {
			this.options.journal.append(Buffer.from(truncationMark));
			this.options.counters.captured++;
			this.lines++;
		} catch {
			// The journal already failed; that failure is what gets reported.
		}
	}

	private tick(): void {
		this.syncDiskCounter();
		if (this.heartbeatMs <= 0 || this.state !== 'monitoring' || !this.socket) return;
		const now = Date.now();
		if (now - this.lastDataAt < this.heartbeatMs) return;
		const probe = this.probe;
		if (probe.sentAt === null || this.lastDataAt >= probe.sentAt) {
			// Silent feed and no probe outstanding: ask for a line.
			probe.ping((message) => this.options.onWarning('capture-probe', `heartbeat probe to ${this.node} failed: ${message}`));
			return;
		}
		if (probe.pongAt !== null && probe.pongAt >= probe.sentAt && now - probe.pongAt > this.deadAfterMs) {
			const silent = Math.round((now - this.lastDataAt) / 1000);
			this.socket.destroy(new Error(`no feed for ${silent} s while the server answers: half-open connection`));
		} else if (probe.pongAt === null || probe.pongAt < probe.sentAt) {
			if (now - probe.sentAt > this.deadAfterMs) probe.reset();
		}
	}

	private syncDiskCounter(): void {
		const disk = this.options.journal.diskBytes;
		this.options.counters.journalBytes += disk - this.reportedDiskBytes;
		this.reportedDiskBytes = disk;
	}

	private fail(code: string, message: string): void {
		if (this.state === 'failed' || this.state === 'stopped') return;
		this.state = 'failed';
		this.clearTimers();
		this.probe.close();
		this.socket?.destroy();
		this.socket = null;
		this.closeCutLine();
		this.options.onFatal(code, message);
	}

	private clearTimers(): void {
		if (this.retryTimer) clearTimeout(this.retryTimer);
		if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
		this.retryTimer = null;
		this.heartbeatTimer = null;
	}
}

/**
 * A second, tiny connection whose PING shows up in the MONITOR feed: proof the monitor still
 * receives while the source is idle.
 */
class Probe {
	address: string | null = null;
	sentAt: number | null = null;
	pongAt: number | null = null;
	private socket: Socket | null = null;
	private connecting = false;
	private closed = false;
	private buf: Buffer = Buffer.alloc(0);

	constructor(
		private readonly endpoint: NodeEndpoint,
		private readonly timeoutMs: number,
	) {}

	ping(onError: (message: string) => void): void {
		if (this.closed || this.connecting) return;
		if (this.socket) {
			this.sentAt = Date.now();
			this.socket.write('*1\r\n$4\r\nPING\r\n');
			return;
		}
		this.connecting = true;
		void this.open()
			.then(() => {
				this.connecting = false;
				if (!this.closed) this.ping(onError);
			})
			.catch((error: unknown) => {
				this.connecting = false;
				onError(errorMessage(error));
			});
	}

	reset(): void {
		this.socket?.destroy();
		this.socket = null;
		this.sentAt = null;
		this.pongAt = null;
	}

	close(): void {
		this.closed = true;
		this.reset();
	}

	private async open(): Promise<void> {
		const socket = await openSocket(this.endpoint, this.timeoutMs);
		try {
			const auth = authCommand(this.endpoint);
			const {replies} = await handshake(socket, [...(auth ? [auth] : []), ['CLIENT', 'SETNAME', probeClientName], ['CLIENT', 'INFO']], this.timeoutMs);
			const failed = replies.find((reply) => reply.kind === 'error');
			if (failed && !failed.value.startsWith('NOPERM')) throw new Error(failed.value);
			const info = replies.at(-1)!;
			this.address = info.kind === 'ok' ? addressFromClientInfo(info.value) : null;
		} catch (error) {
			socket.destroy();
			throw error;
		}
		if (this.closed) {
			socket.destroy();
			return;
		}
		this.socket = socket;
		this.buf = Buffer.alloc(0);
		socket.on('data', (chunk: Buffer) => {
			this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
			let pos = 0;
			for (let parsed = readReply(this.buf, 0); parsed; parsed = readReply(this.buf, pos)) {
				pos = parsed.next;
				if (parsed.reply.kind === 'ok') this.pongAt = Date.now();
			}
			this.buf = this.buf.subarray(pos);
		});
		socket.on('error', () => {});
		socket.on('close', () => {
			if (this.socket === socket) this.socket = null;
		});
		socket.resume();
	}
}
