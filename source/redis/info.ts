/** INFO parsing: pure functions over the reply text. */

export type InfoFields = Record<string, string>;

export function parseInfo(text: string): InfoFields {
	const fields: InfoFields = {};
	for (const line of text.split(/\r?\n/)) {
		if (line === '' || line.startsWith('#')) continue;
		const colon = line.indexOf(':');
		if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 1);
	}
	return fields;
}

export function infoNumber(fields: InfoFields, name: string): number {
	const value = Number(fields[name]);
	return Number.isFinite(value) ? value : 0;
}

/** `db3:keys=10,expires=2,avg_ttl=0` lines → {3: {keys: 10, expires: 2}}. */
export function parseKeyspace(fields: InfoFields): Record<number, {keys: number; expires: number}> {
	const keyspace: Record<number, {keys: number; expires: number}> = {};
	for (const [name, value] of Object.entries(fields)) {
		const db = /^db(\d+)$/.exec(name);
		if (!db) continue;
		const parts = Object.fromEntries(value.split(',').map((part) => part.split('=') as [string, string]));
		keyspace[Number(db[1])] = {keys: Number(parts['keys'] ?? 0), expires: Number(parts['expires'] ?? 0)};
	}
	return keyspace;
}

export function serverFlavor(fields: InfoFields): {server: 'redis' | 'valkey'; version: string} {
	if (fields['server_name'] === 'valkey' || fields['valkey_version'] !== undefined) {
		return {server: 'valkey', version: fields['valkey_version'] ?? fields['redis_version'] ?? '0.0.0'};
	}
	return {server: 'redis', version: fields['redis_version'] ?? '0.0.0'};
}
