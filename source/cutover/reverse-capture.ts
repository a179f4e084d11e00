/**
 * Reverse capture: MONITOR on a target master, journaled to `<state-dir>/reverse/<address>`, so
 * every change the application makes on the new server is known. It starts with the cutover stage,
 * before the operator switches the application, so no write on the target between the switch and
 * the cutover barrier is missed. keyferry's own replay connections are named in `excludedClients`
 * (their writes are the source's, already there).
 */
import {join} from 'node:path';
import {CaptureStream} from '../capture/capture-stream';
import {Journal} from '../capture/journal';
import type {MonitorGap} from '../capture/monitor-parser';
import type {Counters} from '../engine/counters';
import {connectNode} from '../redis/connect';
import {parseClientInfo} from '../redis/client-info';
import {endpointAddress, type NodeEndpoint} from '../redis/endpoint';

export interface ReverseCaptureOptions {
	stateDir: string;
	/** Journals live in `<state-dir>/<root>/<address>`: 'reverse' for the migration's, 'rollback' for a rollback run's own. */
	root?: string;
	endpoint: NodeEndpoint;
	counters: Counters;
	maxMemoryWindow: number;
	onGap(gap: MonitorGap & {node: string}): void;
	onWarning(code: string, message: string): void;
	onFatal(code: string, message: string): void;
}

export interface ReverseCapture {
	master: string;
	endpoint: NodeEndpoint;
	/** The journal's directory, relative to the state dir. */
	dir: string;
	journal: Journal;
	capture: CaptureStream;
	/** Journal offset where this capture began. */
	fromOffset: number;
	/** When an earlier capture into the same journal last wrote (ms; a resumed cutover), or null for a new journal. */
	stoppedAtMs: number | null;
	excludedClients: string[];
	stop(): Promise<void>;
}

export function reverseJournalDir(master: string, root = 'reverse'): string {
	return join(root, master.replace(/[^a-zA-Z0-9.-]/g, '_'));
}

export async function startReverseCapture(options: ReverseCaptureOptions): Promise<ReverseCapture> {
	const master = endpointAddress(options.endpoint);
	const dir = reverseJournalDir(master, options.root);
	const journal = await Journal.open(join(options.stateDir, dir), {maxMemoryWindow: options.maxMemoryWindow});
	const fromOffset = journal.end;
	const stoppedAtMs = journal.end > 0 ? journal.lastAppendMs : null;
	const capture = new CaptureStream({
		endpoint: options.endpoint,
		journal,
		counters: options.counters,
		onGap: options.onGap,
		onWarning: options.onWarning,
		onFatal: options.onFatal,
	});
	try {
		await capture.start();
	} catch (error) {
		await journal.close().catch(() => {});
		throw error;
	}
	return {
		master,
		endpoint: options.endpoint,
		dir,
		journal,
		capture,
		fromOffset,
		stoppedAtMs,
		excludedClients: await keyferryClients(options.endpoint),
		async stop() {
			await capture.stop();
			await journal.close();
		},
	};
}

/**
 * Addresses of keyferry's connections on the target (named keyferry-…). Only an optimisation:
 * a key they wrote that still matches the source drops out of the preview when compared.
 */
async function keyferryClients(endpoint: NodeEndpoint): Promise<string[]> {
	try {
		const client = await connectNode(endpoint, 'target');
		try {
			const list = String(await client.call('CLIENT', 'LIST', 'TYPE', 'normal'));
			return list
				.split('\n')
				.map((line) => parseClientInfo(line))
				.filter((fields) => fields['name']?.startsWith('keyferry-') && fields['addr'])
				.map((fields) => fields['addr']!);
		} finally {
			client.disconnect();
		}
	} catch {
		return [];
	}
}
