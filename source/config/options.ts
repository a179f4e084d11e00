/**
 * Turns argv and the environment into validated, typed options. Everything an operator can get
 * wrong is caught here as a UsageError (exit 2) before any connection is opened.
 */
import {readFileSync} from 'node:fs';
import {minDatasetKeys} from '../demo/keyspace';
import {UsageError} from '../errors';
import type {NodeEndpoint} from '../redis/endpoint';
import {allSubcommands, camelCase, flagByName, flagSpecs, kebabCase, type Subcommand} from './flags';
import {inputText} from './input-text';
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
	/** --resume: continue the migration recorded in the state dir (the same command on such a dir does too). */
	resume: boolean;
	preflightOnly: boolean;
	copyMode: 'dump' | 'logical';
	allowNonEmptyTarget: boolean;
	dbMap: Map<number, number> | null;
	/** Where MONITOR, the copy, samples and barriers run: each master, or one replica of each (the primaries then carry no MONITOR). */
	readFrom: 'primaries' | 'replicas';
	copyRate: number | null;
	maxMemoryWindow: number;
	stateDir: string | null;
	/** Verification samples per second; 0 turns sampling off. */
	verifyRate: number;
	verifySamples: number;
	repair: boolean;
	/** Cutover is ready once the source saw no application write for this long. */
	cutoverQuietMs: number;
	/** --yes may also confirm the cutover (otherwise only an operator can). */
	autoCutover: boolean;
	/** Strict cutover: CLIENT PAUSE this long (WRITE) on every source master around the barrier; null = off. */
	pauseSourceWritesMs: number | null;
}

export interface DemoOptions extends OutputOptions {
	command: 'demo';
	/** Keys seeded into the demo's source before the migration starts. */
	keys: number;
	/** Application writes per second against the demo's source; 0 sends none. */
	rate: number;
}

export interface VerifyOptions extends OutputOptions, ConnectionOptions {
	command: 'verify';
	/** Random keys to compare; null with --full (every key, both ways). */
	samples: number | null;
	stateDir: string | null;
	ttlToleranceMs: number;
}

/** `keyferry attach`: the console of a migration running elsewhere, over its control socket. */
export interface AttachOptions {
	command: 'attach';
	stateDir: string;
	ascii: boolean;
	color: boolean;
}

export type CliCommand =
	| {command: 'help'}
	| AttachOptions
	| {command: 'version'}
	| MigrateOptions
	| DemoOptions
	| VerifyOptions
	| RollbackOptions;

export interface RollbackOptions extends OutputOptions {
	command: 'rollback';
	stateDir: string;
	/** false: --preview (list and exit); true: --apply. */
	apply: boolean;
	/** --source and --target given again; otherwise the addresses recorded in the state dir are used. */
	endpoints: {source: NodeEndpoint; target: NodeEndpoint} | null;
	/** For the recorded addresses, which never hold passwords. */
	passwords: {source: string | undefined; target: string | undefined};
	tls: {ca: Buffer | undefined; insecure: boolean};
}

export interface CliInput {
	/** Positional arguments after flags were taken out. */
	input: string[];
	/** Flags as meow parsed them (camelCase keys), unknown ones included. */
	flags: Record<string, unknown>;
	env: NodeJS.ProcessEnv;
	stdoutIsTTY: boolean;
	/** attach reads keys; without it, stdout decides. */
	stdinIsTTY?: boolean;
}


export function resolveCommand({input, flags, env, stdoutIsTTY, stdinIsTTY = stdoutIsTTY}: CliInput): CliCommand {
	const [name, ...extra] = input;
	if (flags['help'] === true) return {command: 'help'};
	if (flags['version'] === true) return {command: 'version'};
	if (name === undefined) throw new UsageError('missing subcommand: migrate, verify, rollback, demo or attach');
	if (!allSubcommands.includes(name as Subcommand)) throw new UsageError(`unknown subcommand "${inputText(name)}"; expected migrate, verify, rollback, demo or attach`);
	const command = name as Subcommand;
	if (extra.length > 0) throw new UsageError(`unexpected argument "${inputText(extra[0]!)}"`);
	checkFlagsBelong(command, flags);

	const output: OutputOptions = {
		headless: flags['headless'] === true || !stdoutIsTTY,
		yes: flags['yes'] === true,
		ascii: flags['ascii'] === true,
		color: flags['color'] !== false,
	};
	if (command === 'attach') return attachOptions(flags, output, stdoutIsTTY && stdinIsTTY);
	if (command === 'demo') return demoOptions(flags, output);
	if (command === 'verify') return verifyOptions(flags, env, output);
	if (command === 'rollback') return rollbackOptions(flags, env, output);

	if (flags['autoCutover'] === true && !output.yes) throw new UsageError('--auto-cutover goes with --yes');
	if (flags['resume'] === true && flags['preflightOnly'] === true) throw new UsageError('--resume and --preflight-only cannot be used together');
	const connection = connectionOptions(flags, env);
	const copyMode = optionalString(flags, 'copy-mode') ?? 'dump';
	if (copyMode !== 'dump' && copyMode !== 'logical') throw new UsageError(`--copy-mode must be dump or logical, not "${inputText(copyMode)}"`);
	const readFrom = optionalString(flags, 'read-from') ?? 'primaries';
	if (readFrom !== 'primaries' && readFrom !== 'replicas') throw new UsageError(`--read-from must be primaries or replicas, not "${inputText(readFrom)}"`);
	const dbMapText = optionalString(flags, 'db-map');
	const copyRateText = optionalString(flags, 'copy-rate');
	const windowText = optionalString(flags, 'max-memory-window');
	const verifySamplesText = optionalString(flags, 'verify-samples');
	const pauseText = optionalString(flags, 'pause-source-writes');
	const pauseSourceWritesMs = pauseText === undefined ? null : parsePositiveInteger(pauseText, '--pause-source-writes');
	if (pauseSourceWritesMs !== null && pauseSourceWritesMs > maxSourcePauseMs) {
		throw new UsageError(`--pause-source-writes must be at most ${maxSourcePauseMs} ms (10 minutes), not ${pauseSourceWritesMs}`);
	}
	return {
		command,
		...output,
		...connection,
		resume: flags['resume'] === true,
		preflightOnly: flags['preflightOnly'] === true,
		copyMode,
		allowNonEmptyTarget: flags['allowNonEmptyTarget'] === true,
		dbMap: dbMapText === undefined ? null : parseDbMap(dbMapText, '--db-map'),
		readFrom,
		copyRate: copyRateText === undefined ? null : parsePositiveInteger(copyRateText, '--copy-rate'),
		maxMemoryWindow: windowText === undefined ? 64 * 1024 * 1024 : parseSize(windowText, '--max-memory-window'),
		stateDir: optionalString(flags, 'state-dir') ?? null,
		verifyRate: optionalCount(flags, 'verify-rate', 100),
		verifySamples: verifySamplesText === undefined ? 10_000 : parsePositiveInteger(verifySamplesText, '--verify-samples'),
		repair: flags['repair'] === true,
		cutoverQuietMs: optionalCount(flags, 'cutover-quiet', 5000),
		autoCutover: flags['autoCutover'] === true,
		pauseSourceWritesMs,
	};
}

/** A typo must not stop the old server's writers for hours. */
const maxSourcePauseMs = 600_000;

function rollbackOptions(flags: Record<string, unknown>, env: NodeJS.ProcessEnv, output: OutputOptions): RollbackOptions {
	const stateDir = optionalString(flags, 'state-dir');
	if (stateDir === undefined) throw new UsageError("missing required flag --state-dir DIR (the migration's state directory)");
	const apply = flags['apply'] === true;
	if (apply === (flags['preview'] === true)) throw new UsageError('give one of --preview or --apply');
	if (apply && output.headless && !output.yes) throw new UsageError('--apply without a terminal needs --yes: nothing can be typed to confirm');
	const given = ['source', 'target'].filter((name) => optionalString(flags, name) !== undefined).length;
	if (given === 1) throw new UsageError('give both --source and --target, or neither to use the addresses recorded in the state dir');
	const connection = given === 2 ? connectionOptions(flags, env) : null;
	const caFile = optionalString(flags, 'tls-ca');
	return {
		command: 'rollback',
		...output,
		stateDir,
		apply,
		endpoints: connection && {source: connection.source, target: connection.target},
		passwords: {source: nonEmpty(env['KEYFERRY_SOURCE_PASSWORD']), target: nonEmpty(env['KEYFERRY_TARGET_PASSWORD'])},
		tls: {ca: caFile === undefined ? undefined : readCa(caFile), insecure: flags['tlsInsecure'] === true},
	};
}

function attachOptions(flags: Record<string, unknown>, output: OutputOptions, terminal: boolean): AttachOptions {
	const stateDir = optionalString(flags, 'state-dir');
	if (stateDir === undefined) throw new UsageError("missing required flag --state-dir DIR (the running migration's state directory)");
	// A console without a terminal could neither show the run nor take keys; the run's own JSON lines are its headless view.
	if (!terminal) throw new UsageError('keyferry attach needs a terminal (stdin and stdout); the migration prints JSON lines itself, or to keyferry.log in its state dir once its terminal closed');
	return {command: 'attach', stateDir, ascii: output.ascii, color: output.color};
}

function nonEmpty(value: string | undefined): string | undefined {
	return value === '' ? undefined : value;
}

/** The upper bounds keep a typo from filling the laptop's memory or CPU. */
const demoMaxKeys = 5_000_000;
const demoMaxRate = 100_000;

function demoOptions(flags: Record<string, unknown>, output: OutputOptions): DemoOptions {
	const keysText = optionalString(flags, 'keys');
	const keys = keysText === undefined ? 20_000 : parsePositiveInteger(keysText, '--keys');
	const rate = optionalCount(flags, 'rate', 500);
	if (keys < minDatasetKeys) throw new UsageError(`--keys must be at least ${minDatasetKeys}, not ${keys}`);
	if (keys > demoMaxKeys) throw new UsageError(`--keys must be at most ${demoMaxKeys}, not ${keys}`);
	if (rate > demoMaxRate) throw new UsageError(`--rate must be at most ${demoMaxRate}, not ${rate}`);
	return {command: 'demo', ...output, keys, rate};
}

function verifyOptions(flags: Record<string, unknown>, env: NodeJS.ProcessEnv, output: OutputOptions): VerifyOptions {
	const sampleText = optionalString(flags, 'sample');
	const full = flags['full'] === true;
	if (full && sampleText !== undefined) throw new UsageError('--sample and --full cannot be used together; pick one');
	return {
		command: 'verify',
		...output,
		...connectionOptions(flags, env),
		samples: full ? null : sampleText === undefined ? 10_000 : parsePositiveInteger(sampleText, '--sample'),
		stateDir: optionalString(flags, 'state-dir') ?? null,
		ttlToleranceMs: optionalCount(flags, 'ttl-tolerance', 1000),
	};
}

function checkFlagsBelong(command: Subcommand, flags: Record<string, unknown>): void {
	for (const [key, value] of Object.entries(flags)) {
		const name = kebabCase(key);
		const spec = flagByName.get(name);
		if (!spec) throw new UsageError(`unknown flag --${inputText(name)}`);
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
	const ca = caFile === undefined ? undefined : readCa(caFile);
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

function readCa(file: string): Buffer {
	try {
		return readFileSync(file);
	} catch {
		throw new UsageError(`--tls-ca: cannot read ${inputText(file)}`);
	}
}

function applyEnvPassword(endpoint: NodeEndpoint, password: string | undefined): void {
	if (endpoint.password === undefined && password !== undefined && password !== '') endpoint.password = password;
}

/** A whole number flag that may be 0, or its default when absent. */
function optionalCount(flags: Record<string, unknown>, name: string, fallback: number): number {
	const text = optionalString(flags, name);
	if (text === undefined) return fallback;
	if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(Number(text.trim()))) throw new UsageError(`--${name} must be a whole number, not "${inputText(text)}"`);
	return Number(text.trim());
}

function optionalString(flags: Record<string, unknown>, name: string): string | undefined {
	const value = flags[camelCase(name)];
	return typeof value === 'string' ? value : undefined;
}

/** meow's own refusals, in keyferry's words (its flag names are camelCase). */
export function meowUsageError(error: unknown): unknown {
	const repeated = error instanceof Error ? /^The flag --(\S+) can only be set once\.$/.exec(error.message) : null;
	return repeated ? new UsageError(`--${kebabCase(repeated[1]!)} was given more than once`) : error;
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
