/**
 * Prints command-table rows for every command (and subcommand) a live server reports in
 * `COMMAND INFO`, in the syntax of source/replay/command-table.ts, with a first guess at the replay
 * class taken from the server's flags. The table in source/ is curated by hand from this output:
 * run it against a newer Redis or Valkey, paste the rows the table lacks, and review each one's
 * replay class (the guess knows nothing about expiries, randomness or blocking semantics).
 *
 *   npx tsx scripts/gen-command-table.ts redis://127.0.0.1:6379
 */
import Redis from 'ioredis';

type Reply = string | number | null | Reply[];

interface RawKeySpec {
	flags: string[];
	begin: {type: string; spec: Map<string, Reply>};
	find: {type: string; spec: Map<string, Reply>};
}

/** RESP2 maps arrive as flat [key, value, key, value…] arrays. */
function pairs(reply: Reply): Map<string, Reply> {
	const map = new Map<string, Reply>();
	if (!Array.isArray(reply)) return map;
	for (let i = 0; i + 1 < reply.length; i += 2) map.set(String(reply[i]), reply[i + 1] ?? null);
	return map;
}

function keySpec(reply: Reply): RawKeySpec {
	const fields = pairs(reply);
	const begin = pairs(fields.get('begin_search') ?? null);
	const find = pairs(fields.get('find_keys') ?? null);
	const flags = fields.get('flags');
	return {
		flags: Array.isArray(flags) ? flags.map(String) : [],
		begin: {type: String(begin.get('type')), spec: pairs(begin.get('spec') ?? null)},
		find: {type: String(find.get('type')), spec: pairs(find.get('spec') ?? null)},
	};
}

function num(map: Map<string, Reply>, name: string): number {
	return Number(map.get(name));
}

/** One key spec in the table's helper syntax, or null when the server cannot describe it. */
function renderSpec(spec: RawKeySpec): string | null {
	if (spec.flags.includes('incomplete')) return null;
	let begin: {index: number} | {keyword: string; startFrom: number};
	if (spec.begin.type === 'index') begin = {index: num(spec.begin.spec, 'index')};
	else if (spec.begin.type === 'keyword') begin = {keyword: String(spec.begin.spec.get('keyword')), startFrom: num(spec.begin.spec, 'startfrom')};
	else return null;
	if (spec.find.type === 'range') {
		const last = num(spec.find.spec, 'lastkey');
		const step = num(spec.find.spec, 'keystep');
		const limit = num(spec.find.spec, 'limit');
		if ('keyword' in begin) {
			const range = last === 0 && step === 1 && limit === 0 ? '' : `, ${last}, ${step}, ${limit}`;
			return `keyword('${begin.keyword}', ${begin.startFrom}${range})`;
		}
		if (last === 0 && step === 1 && limit === 0) return `key(${begin.index})`;
		if (limit === 0 && step === 1) return `keys(${begin.index}, ${last})`;
		if (limit === 0) return `keys(${begin.index}, ${last}, ${step})`;
		return `keys(${begin.index}, ${last}, ${step}, ${limit})`;
	}
	if (spec.find.type === 'keynum' && 'index' in begin) {
		const keyNumIndex = num(spec.find.spec, 'keynumidx');
		const firstKey = num(spec.find.spec, 'firstkey');
		const step = num(spec.find.spec, 'keystep');
		if (keyNumIndex === 0 && firstKey === 1 && step === 1) return `numkeys(${begin.index})`;
		return `numkeys(${begin.index}, ${firstKey}, ${step}, ${keyNumIndex})`;
	}
	return null;
}

function render(entry: Reply[]): string[] {
	const [name, arity, flagsReply, , , , , , specsReply, subcommands] = entry;
	const flags = Array.isArray(flagsReply) ? flagsReply.map(String) : [];
	const specs = Array.isArray(specsReply) ? specsReply.map(keySpec) : [];
	// Shard channels (SPUBLISH…) have key specs flagged not_key: they route by slot but are not keys.
	const rendered = specs.filter((spec) => !spec.flags.includes('not_key')).map(renderSpec);
	const known = rendered.filter((spec): spec is string => spec !== null);
	const keys = known.length > 0 ? `[${known.join(', ')}]` : '[]';
	const note = rendered.includes(null) ? ' // incomplete key specs: needs a keys procedure' : '';
	const write = flags.includes('write');
	let row: string;
	if (Array.isArray(subcommands) && subcommands.length > 0) row = `container('${name}', ${arity}, 'drop'),`;
	else if (flags.includes('admin')) row = `admin('${name}', ${arity}${write ? `, ${keys}, true` : known.length > 0 ? `, ${keys}` : ''}),`;
	else if (flags.includes('pubsub')) row = `noop('${name}', ${arity}${known.length > 0 ? `, ${keys}` : ''}),`;
	else if (flags.includes('readonly')) row = `read('${name}', ${arity}${known.length > 0 ? `, ${keys}` : ''}),`;
	else if (write && flags.includes('blocking')) row = `block('${name}', ${arity}, ${keys}),`;
	else if (write) row = `verbatim('${name}', ${arity}, ${keys}),`;
	else row = `admin('${name}', ${arity}${known.length > 0 ? `, ${keys}` : ''}),`;
	const rows = [`\t${row}${note}`];
	if (Array.isArray(subcommands)) for (const sub of subcommands) if (Array.isArray(sub)) rows.push(...render(sub));
	return rows;
}

const url = process.argv[2] ?? 'redis://127.0.0.1:6379';
const client = new Redis(url, {lazyConnect: true, maxRetriesPerRequest: 1});
try {
	await client.connect();
	const info = (await client.call('COMMAND', 'INFO')) as Reply[];
	const rows = info.filter(Array.isArray).flatMap(render).sort((a, b) => {
		const name = (row: string) => /'([^']+)'/.exec(row)?.[1] ?? row;
		return name(a) < name(b) ? -1 : 1;
	});
	process.stdout.write(`${rows.join('\n')}\n`);
} finally {
	client.disconnect();
}
