/**
 * Every flag keyferry accepts, as data: meow parses from it, the help text is generated from it,
 * and validation checks each flag belongs to the subcommand it was given to.
 */
export type Subcommand = 'migrate' | 'verify' | 'rollback' | 'demo' | 'attach';

export interface FlagSpec {
	name: string;
	type: 'string' | 'boolean';
	/** Shown in help after the flag, e.g. URL. */
	value?: string;
	description: string;
	commands: readonly Subcommand[];
	default?: boolean;
}

const connection: readonly Subcommand[] = ['migrate', 'verify'];
/** Rollback reads both servers from the state dir, but the operator may point it elsewhere. */
const reachable: readonly Subcommand[] = [...connection, 'rollback'];
export const allSubcommands: readonly Subcommand[] = ['migrate', 'verify', 'rollback', 'demo', 'attach'];
const all = allSubcommands;
/** attach is a console only: no JSON lines of its own (the migration has them). */
const running: readonly Subcommand[] = ['migrate', 'verify', 'rollback', 'demo'];

export const flagSpecs: readonly FlagSpec[] = [
	{name: 'source', type: 'string', value: 'URL', description: 'redis[s]://[user:pass@]host:port[/db] of the server to move from', commands: reachable},
	{name: 'target', type: 'string', value: 'URL', description: 'redis[s]://[user:pass@]host:port[/db] of the server to move to', commands: reachable},
	{name: 'source-cluster', type: 'boolean', description: 'treat the source as a cluster (detected from INFO otherwise)', commands: connection},
	{name: 'target-cluster', type: 'boolean', description: 'treat the target as a cluster (detected from INFO otherwise)', commands: connection},
	{name: 'tls-ca', type: 'string', value: 'FILE', description: 'CA certificate (PEM) for rediss:// connections', commands: reachable},
	{name: 'tls-insecure', type: 'boolean', description: 'do not verify TLS certificates', commands: reachable},
	{name: 'state-dir', type: 'string', value: 'DIR', description: 'where the journal, checkpoints, discrepancy file and control socket live (default ./.keyferry/<id>)', commands: ['migrate', 'verify', 'rollback', 'attach']},
	{name: 'resume', type: 'boolean', description: 'continue the migration in --state-dir (or the one of these servers under ./.keyferry) after a crash or a stop', commands: ['migrate']},
	{name: 'preflight-only', type: 'boolean', description: 'run the preflight checks, print the report and exit', commands: ['migrate']},
	{name: 'copy-mode', type: 'string', value: 'dump|logical', description: 'DUMP/RESTORE payloads (default) or a type-by-type logical copy', commands: ['migrate']},
	{name: 'allow-non-empty-target', type: 'boolean', description: 'accept a target that already holds keys', commands: ['migrate']},
	{name: 'db-map', type: 'string', value: 'SRC:DST,…', description: 'map source dbs to target dbs, e.g. 3:0 (required for dbs other than 0 into a cluster)', commands: ['migrate']},
	{name: 'read-from', type: 'string', value: 'primaries|replicas', description: 'capture and read the source on its primaries (default) or on one in-sync replica of each', commands: ['migrate']},
	{name: 'copy-rate', type: 'string', value: 'N', description: 'copy at most N keys per second (default unlimited)', commands: ['migrate']},
	{name: 'max-memory-window', type: 'string', value: 'SIZE', description: 'captured data held in memory before reading back from disk (default 64mb)', commands: ['migrate']},
	{name: 'verify-rate', type: 'string', value: 'N', description: 'verification samples per second during sync and verify (default 100, 0 = off)', commands: ['migrate']},
	{name: 'verify-samples', type: 'string', value: 'N', description: 'consecutive clean samples that make the verify stage ready (default 10000)', commands: ['migrate']},
	{name: 'auto-cutover', type: 'boolean', description: 'with --yes, also cut over by itself once verify is ready and the source has gone quiet', commands: ['migrate']},
	{name: 'cutover-quiet', type: 'string', value: 'MS', description: 'cutover is ready once the source saw no application write for MS (default 5000)', commands: ['migrate']},
	{name: 'pause-source-writes', type: 'string', value: 'MS', description: 'strict cutover: CLIENT PAUSE MS WRITE on every source master while draining to the cutover barrier', commands: ['migrate']},
	{name: 'preview', type: 'boolean', description: 'list what a rollback would change on the source, key by key, and exit', commands: ['rollback']},
	{name: 'apply', type: 'boolean', description: 'copy every key changed since cutover from the target back to the source, then keep syncing until stopped', commands: ['rollback']},
	{name: 'repair', type: 'boolean', description: 're-copy a key when a confirmed discrepancy is found', commands: ['migrate']},
	{name: 'sample', type: 'string', value: 'N', description: 'compare N random keys of either side (default 10000 when --full is not given)', commands: ['verify']},
	{name: 'full', type: 'boolean', description: 'compare every key, both ways: missing, extra, type, value, ttl', commands: ['verify']},
	{name: 'ttl-tolerance', type: 'string', value: 'MS', description: 'largest difference between two TTLs that still matches (default 1000)', commands: ['verify']},
	{name: 'keys', type: 'string', value: 'N', description: 'keys the demo seeds into its source server (default 20000)', commands: ['demo']},
	{name: 'rate', type: 'string', value: 'N', description: 'application writes per second the demo sends to its source (default 500, 0 = none)', commands: ['demo']},
	{name: 'headless', type: 'boolean', description: 'JSON lines on stdout instead of the console (automatic when stdout is not a terminal)', commands: running},
	{name: 'yes', type: 'boolean', description: 'advance each stage as soon as it is ready, without asking', commands: ['migrate', 'rollback', 'demo']},
	{name: 'ascii', type: 'boolean', description: 'plain ASCII drawing (automatic when the locale is not UTF-8)', commands: all},
	{name: 'color', type: 'boolean', default: true, description: 'use --no-color to turn colors off (NO_COLOR is honoured too)', commands: all},
	{name: 'help', type: 'boolean', description: 'show this help', commands: all},
	{name: 'version', type: 'boolean', description: 'show the version', commands: all},
];

export const flagByName: ReadonlyMap<string, FlagSpec> = new Map(flagSpecs.map((spec) => [spec.name, spec]));

export function camelCase(name: string): string {
	return name.replace(/-([a-z])/g, (_match, letter: string) => letter.toUpperCase());
}

export function kebabCase(name: string): string {
	return name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}
