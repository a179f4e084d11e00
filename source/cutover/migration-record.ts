/**
 * `<state-dir>/migration.json`: where the two servers are, so `keyferry rollback` can reach them
 * without the original command line. Never a password: those come again from
 * KEYFERRY_SOURCE_PASSWORD / KEYFERRY_TARGET_PASSWORD or from --source/--target. Mode 0600 all the
 * same, since host names and user names are worth keeping private.
 */
import {join} from 'node:path';
import type {NodeEndpoint} from '../redis/endpoint';
import {readStateFile, writeJsonAtomic} from '../engine/atomic-json';

export const migrationFileName = 'migration.json';

export interface EndpointRecord {
	host: string;
	port: number;
	username?: string;
	db: number;
	tls: boolean;
	cluster: boolean;
}

export interface MigrationRecord {
	version: 1;
	migrationId: string;
	createdAt: number;
	source: EndpointRecord;
	target: EndpointRecord;
	/** Source db → target db pairs (--db-map). */
	dbMap: Array<[number, number]>;
	/** Target clock minus source clock, ms, from preflight. */
	clockSkewMs: number;
}

export function endpointRecord(endpoint: NodeEndpoint, cluster: boolean): EndpointRecord {
	return {host: endpoint.host, port: endpoint.port, ...(endpoint.username ? {username: endpoint.username} : {}), db: endpoint.db, tls: Boolean(endpoint.tls), cluster};
}

/** The recorded address with a password and TLS settings supplied now. */
export function endpointFromRecord(record: EndpointRecord, password: string | undefined, tls: {ca: Buffer | undefined; insecure: boolean}): NodeEndpoint {
	return {
		host: record.host,
		port: record.port,
		db: record.db,
		...(record.username ? {username: record.username} : {}),
		...(password !== undefined ? {password} : {}),
		...(record.tls ? {tls: {...(tls.ca ? {ca: tls.ca} : {}), rejectUnauthorized: !tls.insecure}} : {}),
	};
}

export function writeMigrationRecord(stateDir: string, record: MigrationRecord): Promise<void> {
	return writeJsonAtomic(join(stateDir, migrationFileName), record, 0o600);
}

export function readMigrationRecord(stateDir: string): Promise<MigrationRecord | null> {
	return readStateFile(join(stateDir, migrationFileName), parseMigrationRecord, 'a migration record');
}

export function parseMigrationRecord(raw: unknown): MigrationRecord | null {
	if (!isObject(raw) || raw['version'] !== 1) return null;
	const {migrationId, createdAt, source, target, dbMap, clockSkewMs} = raw;
	if (typeof migrationId !== 'string' || typeof createdAt !== 'number' || typeof clockSkewMs !== 'number') return null;
	const sourceRecord = parseEndpoint(source);
	const targetRecord = parseEndpoint(target);
	if (!sourceRecord || !targetRecord || !Array.isArray(dbMap)) return null;
	const pairs: Array<[number, number]> = [];
	for (const pair of dbMap) {
		if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((db) => Number.isSafeInteger(db) && (db as number) >= 0)) return null;
		pairs.push([pair[0] as number, pair[1] as number]);
	}
	return {version: 1, migrationId, createdAt, source: sourceRecord, target: targetRecord, dbMap: pairs, clockSkewMs};
}

function parseEndpoint(raw: unknown): EndpointRecord | null {
	if (!isObject(raw)) return null;
	const {host, port, username, db, tls, cluster} = raw;
	if (typeof host !== 'string' || host === '' || typeof tls !== 'boolean' || typeof cluster !== 'boolean') return null;
	if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535 || !Number.isSafeInteger(db) || (db as number) < 0) return null;
	if (username !== undefined && typeof username !== 'string') return null;
	return {host, port: port as number, ...(username ? {username} : {}), db: db as number, tls, cluster};
}

function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}
