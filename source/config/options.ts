/**
 * Turns argv and the environment into validated, typed options. Everything an operator can get
 * wrong is caught here as a UsageError (exit 2) before any connection is opened.
 */
import {readFileSync} from 'node:fs';
import {UsageError} from '../errors';
import type {NodeEndpoint} from '../redis/endpoint';
import {camelCase, flagByName, flagSpecs, kebabCase, type Subcommand} from './flags';
import {parseRedisUrl} from './redis-url';
import {parseDbMap, parsePositiveInteger, parseSize} from './values';

export interface OutputOptions {
	/** JSON lines on stdout; never mounts Ink. */
	headless: boolean;
	yes: boolean;
	ascii: boolean;
	color: boolean;
}

export interface ConnectionOptions {
	source: NodeEndpoint;
	target: NodeEndpoint;
	/** undefined: detect from INFO. */
	sourceCluster: boolean | undefined;
	targetCluster: boolean | undefined;
}

export interface MigrateOptions extends OutputOptions, ConnectionOptions {
	command: 'migrate';
	preflightOnly: boolean;
	copyMode: 'dump' | 'logical';
	allowNonEmptyTarget: boolean;
	dbMap: Map<number, number> | null;
	copyRate: number | null;
	maxMemoryWindow: number;
	stateDir: string | null;
	/** Verification samples per second; 0 turns sampling off. */
	verifyRate: number;
	verifySamples: number;
	repair: boolean;
}

export type CliCommand =
	| {command: 'help'}
	| {command: 'version'}
	| MigrateOptions
	| ({command: 'verify' | 'rollback' | 'demo'} & OutputOptions);

export interface CliInput {
	/** Positional arguments after flags were taken out. */
	input: string[];
	/** Flags as meow parsed them (camelCase keys), unknown ones included. */
	flags: Record<string, unknown>;
	env: NodeJS.ProcessEnv;
	stdoutIsTTY: boolean;
}

const subcommands: readonly Subcommand[] = ['migrate', 'verify', 'rollback', 'demo'];

export function resolveCommand({input, flags, env, stdoutIsTTY}: CliInput): CliCommand {
	const [name, ...extra] = input;
	if (flags['help'] === true) return {command: 'help'};
	if (flags['version'] === true) return {command: 'version'};
	if (name === undefined) throw new UsageError('missing subcommand: migrate, verify, rollback or demo');
	if (!subcommands.includes(name as Subcommand)) throw new UsageError(`unknown subcommand "${name}"; expected migrate, verify, rollback or demo`);
	const command = name as Subcommand;
	if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
	checkFlagsBelong(command, flags);

	const output: OutputOptions = {
		headless: flags['headless'] === true || !stdoutIsTTY,
		yes: flags['yes'] === true,
		ascii: flags['ascii'] === true,
		color: flags['color'] !== false,
	};
	if (command !== 'migrate') return {command, ...output};

	const connection = connectionOptions(flags, env);
	const copyMode = optionalString(flags, 'copy-mode') ?? 'dump';
	if (copyMode !== 'dump' && copyMode !== 'logical') throw new UsageError(`--copy-mode must be dump or logical, not "${copyMode}"`);
	const dbMapText = optionalString(flags, 'db-map');
	const copyRateText = optionalString(flags, 'copy-rate');
	const windowText = optionalString(flags, 'max-memory-window');
	const verifySamplesText = optionalString(flags, 'verify-samples');
	return {
		command,
		...output,
		...connection,
		preflightOnly: flags['preflightOnly'] === true,
		copyMode,
		allowNonEmptyTarget: flags['allowNonEmptyTarget'] === true,
		dbMap: dbMapText === undefined ? null : parseDbMap(dbMapText, '--db-map'),
		copyRate: copyRateText === undefined ? null : parsePositiveInteger(copyRateText, '--copy-rate'),
		maxMemoryWindow: windowText === undefined ? 64 * 1024 * 1024 : parseSize(windowText, '--max-memory-window'),
		stateDir: optionalString(flags, 'state-dir') ?? null,
		verifyRate: optionalCount(flags, 'verify-rate', 100),
		verifySamples: verifySamplesText === undefined ? 10_000 : parsePositiveInteger(verifySamplesText, '--verify-samples'),
		repair: flags['repair'] === true,
	};
}

function checkFlagsBelong(command: Subcommand, flags: Record<string, unknown>): void {
	for (const [key, value] of Object.entries(flags)) {
		const name = kebabCase(key);
		const spec = flagByName.get(name);
		if (!spec) throw new UsageError(`unknown flag --${name}`);
		// The parser reports every boolean flag, given or not; only a set one can be out of place.
		if (spec.type === 'boolean' && value === (spec.default ?? false)) continue;
		if (!spec.commands.includes(command)) throw new UsageError(`--${name} does not apply to "keyferry ${command}"`);
		if (spec.type === 'string' && typeof flags[key] !== 'string') throw new UsageError(`--${name} needs a value`);
		if (spec.type === 'string' && Array.isArray(flags[key])) throw new UsageError(`--${name} was given more than once`);
	}
}

function connectionOptions(flags: Record<string, unknown>, env: NodeJS.ProcessEnv): ConnectionOptions {
	const sourceText = optionalString(flags, 'source');
	const targetText = optionalString(flags, 'target');
	if (sourceText === undefined) throw new UsageError('missing required flag --source URL');
	if (targetText === undefined) throw new UsageError('missing required flag --target URL');
	const source = parseRedisUrl(sourceText, '--source').endpoint;
	const target = parseRedisUrl(targetText, '--target').endpoint;
	applyEnvPassword(source, env['KEYFERRY_SOURCE_PASSWORD']);
	applyEnvPassword(target, env['KEYFERRY_TARGET_PASSWORD']);

	const caFile = optionalString(flags, 'tls-ca');
	const insecure = flags['tlsInsecure'] === true;
	if ((caFile !== undefined || insecure) && !source.tls && !target.tls) {
		throw new UsageError(`${caFile !== undefined ? '--tls-ca' : '--tls-insecure'} needs a rediss:// URL for --source or --target`);
	}
	let ca: Buffer | undefined;
	if (caFile !== undefined) {
		try {
			ca = readFileSync(caFile);
		} catch {
			throw new UsageError(`--tls-ca: cannot read ${caFile}`);
		}
	}
	for (const endpoint of [source, target]) {
		if (endpoint.tls) endpoint.tls = {...endpoint.tls, ...(ca ? {ca} : {}), rejectUnauthorized: !insecure};
	}
	return {
		source,
		target,
		sourceCluster: flags['sourceCluster'] === true ? true : undefined,
		targetCluster: flags['targetCluster'] === true ? true : undefined,
	};
}

function applyEnvPassword(endpoint: NodeEndpoint, password: string | undefined): void {
	if (endpoint.password === undefined && password !== undefined && password !== '') endpoint.password = password;
}

/** A whole number flag that may be 0, or its default when absent. */
function optionalCount(flags: Record<string, unknown>, name: string, fallback: number): number {
	const text = optionalString(flags, name);
	if (text === undefined) return fallback;
	if (!/^\d+$/.test(text.trim())) throw new UsageError(`--${name} must be a whole number, not "${text}"`);
	return Number(text.trim());
}

function optionalString(flags: Record<string, unknown>, name: string): string | undefined {
	const value = flags[camelCase(name)];
	return typeof value === 'string' ? value : undefined;
}

/** meow's flag definitions, from the same table. */
export function meowFlags(): Record<string, {type: 'string'} | {type: 'boolean'; default?: boolean}> {
	return Object.fromEntries(
		flagSpecs.map((spec) => [
			camelCase(spec.name),
			spec.type === 'string' ? {type: 'string' as const} : {type: 'boolean' as const, ...(spec.default !== undefined ? {default: spec.default} : {})},
		]),
	);
}
