/** The preflight stage: inspect both sides, probe MONITOR, judge, and hand back the report. */
import type {MigrateOptions} from '../config/options';
import type {NodeEndpoint} from '../redis/endpoint';
import {chooseReader} from '../redis/replicas';
import {findDbCollisions, mergeGroups} from './db-collisions';
import {judge} from './findings';
import {inspectEndpoint, measureClockSkew, probeMonitor} from './inspect';
import type {PreflightReport} from './report-types';

export interface PreflightResult {
	report: PreflightReport;
	sourceMasters: NodeEndpoint[];
	/** Where each source master is captured and read: itself, or its replica with --read-from replicas. */
	sourceReaders: NodeEndpoint[];
	targetMasters: NodeEndpoint[];
}

type PreflightOptions = Pick<MigrateOptions, 'source' | 'target' | 'sourceCluster' | 'targetCluster' | 'copyMode' | 'allowNonEmptyTarget' | 'dbMap' | 'readFrom'>;

export async function runPreflight(options: PreflightOptions): Promise<PreflightResult> {
	const [source, target] = await Promise.all([
		inspectEndpoint(options.source, 'source', options.sourceCluster),
		inspectEndpoint(options.target, 'target', options.targetCluster),
	]);
	const choices = options.readFrom === 'replicas' ? await Promise.all(source.masters.map((master) => chooseReader(master, source.facts.cluster))) : null;
	if (choices) source.facts.readers = choices.map(({reader: _reader, ...facts}) => facts);
	const readers = source.masters.map((master, index) => choices?.[index]?.reader ?? master);
	// Markers must be recognised where the capture and the reads run.
	const probes = await Promise.all(readers.map((reader) => probeMonitor(reader)));
	source.facts.monitorPermitted = probes.every((probe) => probe.permitted);
	source.facts.markers = probes.every((probe) => probe.markers === 'address') ? 'address' : null;
	const clockSkewMs = await measureClockSkew(source.masters[0]!, target.masters[0]!);
	// Merged dbs exist on a standalone source only (a cluster has db 0).
	const keysByDb = new Map(Object.entries(source.facts.nodes[0]?.keyspace ?? {}).filter(([, stats]) => stats.keys > 0).map(([db, stats]) => [Number(db), stats.keys]));
	if (!source.facts.cluster) source.facts.dbCollisions = await findDbCollisions(readers[0]!, mergeGroups(keysByDb, options.dbMap));
	const findings = judge({
		source: source.facts,
		target: target.facts,
		clockSkewMs,
		copyMode: options.copyMode,
		allowNonEmptyTarget: options.allowNonEmptyTarget,
		dbMap: options.dbMap,
	});
	return {
		report: {
			source: source.facts,
			target: target.facts,
			clockSkewMs,
			copyMode: options.copyMode,
			findings,
			ok: findings.every((finding) => finding.severity !== 'blocking'),
		},
		sourceMasters: source.masters,
		sourceReaders: readers,
		targetMasters: target.masters,
	};
}
