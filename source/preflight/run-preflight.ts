/** The preflight stage: inspect both sides, probe MONITOR, judge, and hand back the report. */
import type {MigrateOptions} from '../config/options';
import type {NodeEndpoint} from '../redis/endpoint';
import {judge} from './findings';
import {inspectEndpoint, measureClockSkew, probeMonitor} from './inspect';
import type {PreflightReport} from './report-types';

export interface PreflightResult {
	report: PreflightReport;
	sourceMasters: NodeEndpoint[];
	targetMasters: NodeEndpoint[];
}

type PreflightOptions = Pick<MigrateOptions, 'source' | 'target' | 'sourceCluster' | 'targetCluster' | 'copyMode' | 'allowNonEmptyTarget' | 'dbMap'>;

export async function runPreflight(options: PreflightOptions): Promise<PreflightResult> {
	const [source, target] = await Promise.all([
		inspectEndpoint(options.source, 'source', options.sourceCluster),
		inspectEndpoint(options.target, 'target', options.targetCluster),
	]);
	const probes = await Promise.all(source.masters.map((master) => probeMonitor(master)));
	source.facts.monitorPermitted = probes.every((probe) => probe.permitted);
	source.facts.markers = probes.every((probe) => probe.markers === 'address') ? 'address' : null;
	const clockSkewMs = await measureClockSkew(source.masters[0]!, target.masters[0]!);
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
		targetMasters: target.masters,
	};
}
