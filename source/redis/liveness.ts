/**
 * Finds connections that stopped answering without closing (a host gone without a reset, a
 * half-open connection behind a proxy, a blackholed route). A connection is silent while
 * commands wait and nothing moves (resp-connection.ts `silentSince`). Silence alone proves
 * nothing: a busy server runs a long command, a slow network delays replies. So a separate probe
 * connection to the same server sends PING: a server that answers the probe while the watched
 * connection stays silent has stopped serving that connection, which is then declared lost and
 * its owner reconnects. When the probe gets no answer either, the server (or the route to it) is
 * down or busy: the owner is told, and nothing is declared; TCP reports a real loss, and a
 * server that comes back answers the probe.
 */
import type {Side} from './connect';
import type {NodeEndpoint} from './endpoint';
import {RespConnection} from './resp-connection';

export interface SilenceFacts {
	now: number;
	/** resp-connection.ts silentSince: null while nothing waits. */
	silentSince: number | null;
	/** When the newest probe PING was sent, and when the newest answered one was sent. */
	probeSentAt: number | null;
	probeAnsweredAt: number | null;
}

export interface SilenceLimits {
	/** Silence before a probe PING is sent. */
	probeAfterMs: number;
	/** Silence, with the probe answering, after which the connection is declared lost. */
	deadAfterMs: number;
	/** A probe PING unanswered this long is given up (its connection is replaced). */
	probeTimeoutMs: number;
}

/**
 * What to do about one watched connection. `dead` needs a PING sent after the silence began and
 * answered: the server was serving other connections while this one got nothing.
 */
export type Silence = 'healthy' | 'probe' | 'reprobe' | 'waiting' | 'dead';

export function judgeSilence(facts: SilenceFacts, limits: SilenceLimits): Silence {
	const {now, silentSince, probeSentAt, probeAnsweredAt} = facts;
	if (silentSince === null || now - silentSince < limits.probeAfterMs) return 'healthy';
	if (probeAnsweredAt !== null && probeAnsweredAt >= silentSince) return now - silentSince >= limits.deadAfterMs ? 'dead' : 'waiting';
	if (probeSentAt === null || probeSentAt < silentSince || (probeAnsweredAt !== null && probeAnsweredAt >= probeSentAt)) return 'probe';
	return now - probeSentAt > limits.probeTimeoutMs ? 'reprobe' : 'waiting';
}

/**
 * 20 s: longer than a server pausing writes for a failover (CLIENT PAUSE WRITE answers a PING
 * but not the writes) usually takes; a false verdict costs a reconnection and re-copies, never data.
 */
export const defaultSilenceLimits: SilenceLimits = {probeAfterMs: 2000, deadAfterMs: 20_000, probeTimeoutMs: 5000};

export interface LivenessWatchOptions {
	endpoint: NodeEndpoint;
	side: Side;
	/** Called once per silence: nothing answers, not even the probe, for `reportAfterMs`. */
	onUnanswered(silentMs: number, pending: number): void;
	limits?: SilenceLimits;
	/** Silence reported through onUnanswered, default 10 s (a probe that answers reports nothing: the verdict follows). */
	reportAfterMs?: number;
	/** Check period, default 500 ms. */
	intervalMs?: number;
}

interface Watched {
	connection: RespConnection;
	reported: number | null;
}

/** Watches the connections its owner hands it, with one probe connection to their server. */
export class LivenessWatch {
	private readonly watched = new Set<Watched>();
	private probe: RespConnection | null = null;
	private probeOpening = false;
	private probeSentAt: number | null = null;
	private probeAnsweredAt: number | null = null;
	private readonly timer: NodeJS.Timeout;
	private readonly limits: SilenceLimits;
	private stopped = false;

	constructor(private readonly options: LivenessWatchOptions) {
		this.limits = options.limits ?? defaultSilenceLimits;
		this.timer = setInterval(() => this.tick(), options.intervalMs ?? 500);
		this.timer.unref();
	}

	watch(connection: RespConnection): void {
		this.watched.add({connection, reported: null});
	}

	stop(): void {
		this.stopped = true;
		clearInterval(this.timer);
		this.watched.clear();
		this.probe?.close();
		this.probe = null;
	}

	private tick(): void {
		const now = Date.now();
		let probe = false;
		for (const entry of this.watched) {
			const {connection} = entry;
			if (connection.ended) {
				this.watched.delete(entry);
				continue;
			}
			const silentSince = connection.silentSince;
			const verdict = judgeSilence({now, silentSince, probeSentAt: this.probeSentAt, probeAnsweredAt: this.probeAnsweredAt}, this.limits);
			if (verdict === 'healthy') {
				entry.reported = null;
				continue;
			}
			if (verdict === 'dead') {
				this.watched.delete(entry);
				connection.fail(`no reply for ${Math.round((now - silentSince!) / 1000)} s while the server answers another connection`);
				continue;
			}
			if (verdict === 'reprobe') {
				this.probe?.close();
				this.probe = null;
				this.probeSentAt = null;
			}
			if (verdict !== 'waiting') probe = true;
			const reportAfter = this.options.reportAfterMs ?? 10_000;
			const probeAnswers = this.probeAnsweredAt !== null && this.probeAnsweredAt >= silentSince!;
			if (!probeAnswers && entry.reported !== silentSince && now - silentSince! >= reportAfter) {
				entry.reported = silentSince;
				this.options.onUnanswered(now - silentSince!, connection.pending);
			}
		}
		if (probe) this.sendProbe();
	}

	private sendProbe(): void {
		if (this.stopped || this.probeOpening) return;
		const probe = this.probe;
		if (probe && !probe.ended) {
			const sentAt = Date.now();
			this.probeSentAt = sentAt;
			probe.write(['PING'], (lost) => {
				if (!lost) this.probeAnsweredAt = Math.max(this.probeAnsweredAt ?? 0, sentAt);
			});
			return;
		}
		this.probeOpening = true;
		RespConnection.open(this.options.endpoint, this.options.side, 'keyferry-probe').then(
			(opened) => {
				this.probeOpening = false;
				if (this.stopped) {
					opened.close();
					return;
				}
				this.probe = opened;
				this.sendProbe();
			},
			() => {
				// The server cannot be reached: no verdict; the next tick tries again.
				this.probeOpening = false;
			},
		);
	}
}
