/** The preflight report as plain text, for `--preflight-only` on a terminal. Pure. */
import type {EndpointFacts, PreflightReport} from './report-types';

const severityMark = {blocking: 'BLOCKING', warning: 'warning ', info: 'info    '} as const;

export function formatPreflightReport(report: PreflightReport): string {
	const lines = ['keyferry preflight', '', ...describeSide('source', report.source), ...describeSide('target', report.target)];
	lines.push(`  clock skew   target ${report.clockSkewMs >= 0 ? '+' : ''}${report.clockSkewMs} ms`);
	lines.push(`  copy mode    ${report.copyMode === 'dump' ? 'DUMP/RESTORE' : 'logical (type by type)'}`);
	lines.push('');
	if (report.findings.length === 0) lines.push('  no findings');
	for (const finding of report.findings) lines.push(`  ${severityMark[finding.severity]}  ${finding.message}`);
	lines.push('');
	const blocking = report.findings.filter((finding) => finding.severity === 'blocking').length;
	lines.push(report.ok ? 'Preflight passed.' : `Preflight failed: ${blocking} blocking finding${blocking === 1 ? '' : 's'}.`);
	return lines.join('\n');
}

function describeSide(name: string, facts: EndpointFacts): string[] {
	const masters = facts.nodes.filter((node) => node.role === 'master');
	const first = masters[0];
	const kind = facts.cluster ? `cluster, ${masters.length} masters, ${facts.nodes.length - masters.length} replicas` : 'standalone';
	const lines = [`  ${name.padEnd(12)} ${facts.label}  (${kind})`];
	if (first) {
		const rdb = first.rdbVersion === null ? 'RDB ?' : `RDB ${first.rdbVersion}`;
		const memory = `${formatBytes(masters.reduce((sum, node) => sum + node.usedMemory, 0))} used`;
		const limit = first.maxmemory > 0 ? `, maxmemory ${formatBytes(first.maxmemory)} ${first.maxmemoryPolicy}` : '';
		lines.push(`  ${''.padEnd(12)} ${first.server} ${first.version}, ${rdb}, ${facts.totalKeys} keys, ${memory}${limit}`);
		const dbs = new Map<number, number>();
		for (const node of masters) for (const [db, stats] of Object.entries(node.keyspace)) dbs.set(Number(db), (dbs.get(Number(db)) ?? 0) + stats.keys);
		if (dbs.size > 0) lines.push(`  ${''.padEnd(12)} ${[...dbs].map(([db, keys]) => `db${db}=${keys}`).join(' ')}`);
	}
	if (facts.markers !== null || facts.monitorPermitted !== null) {
		lines.push(`  ${''.padEnd(12)} MONITOR ${facts.monitorPermitted ? 'permitted' : 'refused'}${facts.markers ? ', markers by address' : ''}`);
	}
	for (const reader of facts.readers ?? []) {
		lines.push(`  ${''.padEnd(12)} ${reader.master} read from ${reader.address === null ? 'no replica' : `replica ${reader.address}, ${reader.lagBytes} bytes behind`}`);
	}
	return lines;
}

export function formatBytes(bytes: number): string {
	if (bytes < 1024) return `${bytes} B`;
	const units = ['KB', 'MB', 'GB', 'TB'];
	let value = bytes / 1024;
	let unit = 0;
	while (value >= 1024 && unit < units.length - 1) {
		value /= 1024;
		unit++;
	}
	return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
