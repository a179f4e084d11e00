/**
 * Strict cutover (--pause-source-writes): CLIENT PAUSE <ms> WRITE on every source master right
 * before the cutover barrier, so a write that reaches the source late waits until after the barrier
 * instead of landing before it unseen by the application's new home. Reads, and keyferry's marked
 * reads and barriers (DUMP, ECHO), keep working during the pause.
 */
import {ExitCode, KeyferryError} from '../errors';
import {connectNode} from '../redis/connect';
import {endpointAddress, type NodeEndpoint} from '../redis/endpoint';

/** Pauses every master, or none: a refusal on one lifts the pause already set on the others. */
export async function pauseSourceWrites(masters: NodeEndpoint[], ms: number): Promise<void> {
	const clients = await Promise.all(masters.map((master) => connectNode(master, 'source')));
	const paused: number[] = [];
	try {
		for (const [index, client] of clients.entries()) {
			try {
				await client.call('CLIENT', 'PAUSE', String(ms), 'WRITE');
			} catch (error) {
				throw pauseRefused(masters[index]!, error);
			}
			paused.push(index);
		}
	} catch (error) {
		await Promise.all(paused.map((index) => clients[index]!.call('CLIENT', 'UNPAUSE').catch(() => {})));
		throw error;
	} finally {
		for (const client of clients) client.disconnect();
	}
}

export function pauseRefused(master: NodeEndpoint, error: unknown): KeyferryError {
	const text = (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
	const address = endpointAddress(master);
	const user = master.username ? `user '${master.username}'` : 'the default user';
	const reason = /NOPERM/i.test(text)
		? `${address} does not allow CLIENT PAUSE for ${user} (${text})`
		: `${address} cannot pause writes only (${text}; CLIENT PAUSE … WRITE needs Redis 6.2 or newer)`;
	return new KeyferryError('pause-refused', `strict cutover refused: ${reason}; not cut over. Cut over without --pause-source-writes, or allow +client|pause`, ExitCode.usage);
}
