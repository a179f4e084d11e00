/**
 * Opening connections and turning connection failures into operator-readable errors. Nothing here
 * retries on its own: callers decide (preflight fails fast, the engine retries with backoff).
 */
import Redis, {type RedisOptions} from 'ioredis';
import {ExitCode, KeyferryError} from '../errors';
import {endpointAddress, ioredisOptions, type NodeEndpoint} from './endpoint';

export type Side = 'source' | 'target';

/** Connects and runs a first PING so authentication problems surface here, not later. */
export async function connectNode(endpoint: NodeEndpoint, side: Side, extra: RedisOptions = {}): Promise<Redis> {
	const client = new Redis(ioredisOptions(endpoint, {retryStrategy: () => null, ...extra}));
	// ioredis rejects connect() with a bare "Connection is closed."; the cause arrives as an
	// 'error' event (which must be listened to anyway, or it would crash the process).
	let cause: unknown;
	client.on('error', (error: unknown) => {
		cause ??= error;
	});
	try {
		await client.connect();
		await client.ping();
		return client;
	} catch (error) {
		client.disconnect();
		throw connectionError(cause ?? error, endpoint, side);
	}
}

export function connectionError(error: unknown, endpoint: NodeEndpoint, side: Side): KeyferryError {
	const address = endpointAddress(endpoint);
	const text = error instanceof Error ? error.message : String(error);
	const code = (error as {code?: string} | null)?.code;
	if (/WRONGPASS|NOAUTH|invalid password|invalid username-password/i.test(text)) {
		const user = endpoint.username ? ` as ${endpoint.username}` : '';
		return new KeyferryError('auth-failed', `authentication to the ${side} ${address}${user} failed: ${firstWords(text)}`, ExitCode.usage);
	}
	if (/NOPERM/i.test(text)) {
		return new KeyferryError('permission-denied', `the ${side} ${address} refused a command: ${firstWords(text)}`, ExitCode.usage);
	}
	const reasons: Record<string, string> = {
		ECONNREFUSED: 'connection refused',
		ENOTFOUND: 'unknown host',
		EAI_AGAIN: 'host name lookup failed',
		ETIMEDOUT: 'timed out',
		EHOSTUNREACH: 'host unreachable',
		ECONNRESET: 'connection reset',
	};
	const reason = (code && reasons[code]) ?? (/timeout/i.test(text) ? 'timed out' : firstWords(text));
	return new KeyferryError('connect-failed', `cannot connect to the ${side} ${address}: ${reason}`, ExitCode.usage);
}

function firstWords(text: string): string {
	return text.split('\n')[0]!.slice(0, 160);
}
