import {randomBytes} from 'node:crypto';

/** kf-20261122-0912-a1b2: sortable, short enough for a header, unique enough for a state dir. */
export function newMigrationId(now = new Date()): string {
	const pad = (value: number) => String(value).padStart(2, '0');
	const date = `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}`;
	const time = `${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}`;
	return `kf-${date}-${time}-${randomBytes(2).toString('hex')}`;
}
