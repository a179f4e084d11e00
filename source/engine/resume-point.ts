/**
 * Where `migrate` continues: `--resume`, or the same command on a state dir that already holds a
 * migration. The state dir's records say which servers it moves between and how far it got; a
 * command that names other servers is refused rather than mixed into that migration.
 */
import {existsSync, readdirSync} from 'node:fs';
import {join} from 'node:path';
import type {MigrateOptions} from '../config/options';
import {readCutoverPoint, type CutoverPoint} from '../cutover/cutover-point';
import {migrationFileName, readMigrationRecord, type EndpointRecord, type MigrationRecord} from '../cutover/migration-record';
import {UsageError} from '../errors';
import {endpointAddress, type NodeEndpoint} from '../redis/endpoint';
import {stateFileError} from './atomic-json';
import {readProgress, type ProgressRecord, type ProgressStage} from './progress-record';

export interface ResumePoint {
	stateDir: string;
	migration: MigrationRecord;
	/** null: the run stopped before it recorded its first stage. */
	progress: ProgressRecord | null;
	/** Set once the cutover barrier passed. */
	cutover: CutoverPoint | null;
	/** The stage to continue at. */
	stage: ProgressStage;
}

/** Where runs keep their state dirs when --state-dir is not given (see state-dir.ts). */
const defaultRoot = '.keyferry';

/** The resume point for these options, or null for a new migration. Throws a UsageError (exit 2) for anything it cannot resume. */
export async function findResumePoint(options: Pick<MigrateOptions, 'resume' | 'stateDir' | 'source' | 'target'>, cwd: string): Promise<ResumePoint | null> {
	let stateDir = options.stateDir;
	if (stateDir === null) {
		if (!options.resume) return null;
		stateDir = await findStateDir(options, cwd);
	}
	const migration = await readMigrationRecord(stateDir);
	if (!migration) {
		if (options.resume) throw new UsageError(`--resume: ${stateDir} holds no migration to resume (no ${migrationFileName})`, 'nothing-to-resume');
		return null;
	}
	const mismatch = endpointMismatch(migration, options);
	if (mismatch) throw new UsageError(mismatch, 'resume-mismatch');
	const progress = await readProgress(stateDir);
	if (progress && progress.migrationId !== migration.migrationId) {
		throw stateFileError(`${join(stateDir, 'progress.json')} belongs to migration ${progress.migrationId}, not ${migration.migrationId}: the state dir is damaged`);
	}
	const cutover = await readCutoverPoint(stateDir);
	// The cutover point is written before the stage is recorded as done: it is the stronger fact.
	const stage: ProgressStage = cutover && progress?.stage !== 'rollback' ? 'done' : (progress?.stage ?? 'capture');
	return {stateDir, migration, progress, cutover, stage};
}

/** The one state dir under ./.keyferry holding a migration between these two servers. */
async function findStateDir(options: Pick<MigrateOptions, 'source' | 'target'>, cwd: string): Promise<string> {
	const root = join(cwd, defaultRoot);
	const entries = existsSync(root) ? readdirSync(root, {withFileTypes: true}).filter((entry) => entry.isDirectory()) : [];
	const matching: string[] = [];
	for (const entry of entries) {
		const dir = join(defaultRoot, entry.name);
		let record: MigrationRecord | null;
		try {
			record = await readMigrationRecord(join(cwd, dir));
		} catch {
			continue;
		}
		if (record && endpointMismatch(record, options) === null) matching.push(dir);
	}
	const pair = `${endpointAddress(options.source)} → ${endpointAddress(options.target)}`;
	if (matching.length === 0) throw new UsageError(`--resume: no migration of ${pair} in ${defaultRoot}/; give its --state-dir`, 'nothing-to-resume');
	if (matching.length > 1) throw new UsageError(`--resume: ${matching.length} migrations of ${pair} in ${defaultRoot}/ (${matching.sort().join(', ')}); give --state-dir`, 'resume-ambiguous');
	return join(cwd, matching[0]!);
}

/** Why the recorded migration is not between these servers, or null when it is. */
export function endpointMismatch(migration: MigrationRecord, options: {source: NodeEndpoint; target: NodeEndpoint}): string | null {
	const same = (record: EndpointRecord, endpoint: NodeEndpoint) => record.host === endpoint.host && record.port === endpoint.port && record.db === endpoint.db;
	if (same(migration.source, options.source) && same(migration.target, options.target)) return null;
	const recorded = `${endpointText(migration.source)} → ${endpointText(migration.target)}`;
	const given = `${endpointText(options.source)} → ${endpointText(options.target)}`;
	return `the state dir holds migration ${migration.migrationId} of ${recorded}, not ${given}; give the same --source and --target, or another --state-dir`;
}

function endpointText(endpoint: {host: string; port: number; db: number}): string {
	const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
	return `${host}:${endpoint.port}${endpoint.db ? `/${endpoint.db}` : ''}`;
}

/** --db-map given again must be the recorded one; left out, the recorded one applies. */
export function resumedDbMap(migration: MigrationRecord, given: Map<number, number> | null): Map<number, number> | null {
	const recorded = new Map(migration.dbMap);
	if (given === null) return recorded.size > 0 ? recorded : null;
	const sameMap = given.size === recorded.size && [...given].every(([from, to]) => recorded.get(from) === to);
	if (!sameMap) {
		const text = (map: Map<number, number>) => (map.size === 0 ? 'none' : [...map].map(([from, to]) => `${from}:${to}`).join(','));
		throw new UsageError(`--db-map ${text(given)} differs from the migration's recorded --db-map ${text(recorded)}; leave it out to use the recorded one`, 'resume-mismatch');
	}
	return given;
}
