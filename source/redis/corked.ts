/**
 * Runs `send` with the connection's socket corked, so the many commands it issues leave in one
 * write instead of one syscall each. Order on the connection is unchanged (ioredis writes each
 * command to the socket in call order; ioredis' own auto-pipelining is avoided because it sends
 * SELECT and pipelines out of call order).
 */
import type Redis from 'ioredis';

export function corked<T>(client: Redis, send: () => T): T {
	const stream = (client as unknown as {stream?: {cork(): void; uncork(): void}}).stream;
	if (!stream) return send();
	stream.cork();
	try {
		return send();
	} finally {
		process.nextTick(() => stream.uncork());
	}
}
