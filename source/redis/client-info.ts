/** The address the server sees for a connection (CLIENT INFO), which is how markers are recognised. */
import type Redis from 'ioredis';

export function parseClientInfo(text: string): Record<string, string> {
	const fields: Record<string, string> = {};
	for (const part of text.trim().split(' ')) {
		const eq = part.indexOf('=');
		if (eq > 0) fields[part.slice(0, eq)] = part.slice(eq + 1);
	}
	return fields;
}

/** `addr` of this connection as the server prints it in MONITOR lines (ip:port, [ipv6]:port). */
export async function serverSideAddress(client: Redis): Promise<string> {
	const reply = (await client.call('CLIENT', 'INFO')) as string;
	const addr = parseClientInfo(reply)['addr'];
	if (!addr) throw new Error('CLIENT INFO returned no addr');
	return addr;
}

/** One connection as the server knows it: enough to close exactly that one later. */
export interface ServerClient {
	id: number;
	addr: string;
}

export function serverClient(info: string): ServerClient | null {
	const fields = parseClientInfo(info);
	const id = Number(fields['id']);
	return Number.isInteger(id) && fields['addr'] ? {id, addr: fields['addr']} : null;
}

/**
 * CLIENT KILL of exactly that connection: by id and address, because ids start again at 1 when
 * the server restarts and must never close another client's connection. Replies how many closed.
 */
export function killCommand(client: ServerClient): string[] {
	return ['CLIENT', 'KILL', 'ID', String(client.id), 'ADDR', client.addr];
}
