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
