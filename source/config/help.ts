/** The --help text, generated from the flag table so the two never disagree. */
import {allSubcommands, flagSpecs, type Subcommand} from './flags';

const summaries: Record<Subcommand, string> = {
	migrate: 'preflight → capture → copy → sync → verify → cutover, live',
	verify: 'compare two servers at rest: N random keys, or every key both ways (--full)',
	rollback: 'after cutover: --preview what copying the target back would change on the source, or --apply it',
	demo: 'a live migration between two throwaway local redis-servers, with traffic',
	attach: 'reopen the console of a running migration (--state-dir DIR); several can watch, one holds the controls',
};

export function helpText(): string {
	const width = Math.max(...flagSpecs.map((spec) => flagLabel(spec.name, spec.type, spec.value).length));
	const flags = flagSpecs.map((spec) => {
		const label = flagLabel(spec.name, spec.type, spec.value).padEnd(width);
		const scope = spec.commands.length === allSubcommands.length ? '' : `  [${spec.commands.join(', ')}]`;
		return `  ${label}  ${spec.description}${scope}`;
	});
	return [
		'Usage',
		'  $ keyferry <command> [flags]',
		'',
		'Commands',
		...Object.entries(summaries).map(([name, text]) => `  ${name.padEnd(9)} ${text}`),
		'',
		'Flags',
		...flags,
		'',
		'Environment',
		'  KEYFERRY_SOURCE_PASSWORD, KEYFERRY_TARGET_PASSWORD  passwords kept out of the command line',
		'  NO_COLOR                                            no colors',
		'',
		'Exit codes',
		'  0 success  1 runtime failure  2 bad usage or input  3 discrepancies found  130 aborted',
		'',
		'Examples',
		'  $ keyferry migrate --source redis://old:6379 --target redis://new:6379',
		'  $ keyferry migrate --source redis://old:6379 --target redis://new:6379 --preflight-only --headless',
		'  $ keyferry verify --source redis://old:6379 --target redis://new:6379 --full',
		'  $ keyferry rollback --state-dir .keyferry/<id> --preview',
		'  $ keyferry attach --state-dir .keyferry/<id>',
	].join('\n');
}

function flagLabel(name: string, type: 'string' | 'boolean', value: string | undefined): string {
	if (name === 'color') return '--no-color';
	return type === 'string' ? `--${name} ${value ?? 'VALUE'}` : `--${name}`;
}
