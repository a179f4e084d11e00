/** Source and target health: latency, memory, evictions and the size of keyferry's MONITOR buffer. */
import {Text} from 'ink';
import {Fragment} from 'react';
import type {NodeHealth} from '../../engine/store';
import type {NodeFacts} from '../../preflight/report-types';
import {useKeyferryShallow, useTheme} from '../console-context';
import {padEnd} from '../fit';
import {formatBytes, formatCount, formatLatency} from '../format';
import type {Tone} from '../theme';

export interface SideHealth {
	nodes: number;
	/** The slowest node's latency. */
	latencyMs: number | null;
	usedMemory: number;
	/** Sum of the nodes' limits, or null when any node has none. */
	maxmemory: number | null;
	/** Keys evicted since preflight (since the server started when there is no preflight). */
	evicted: number;
	/** The largest MONITOR output buffer, or null on the target. */
	monitorBuffer: number | null;
	/** Nodes with a connection of keyferry's lost and being re-established. */
	reconnecting: number;
}

const mib = 1024 * 1024;

export function summarizeHealth(nodes: readonly NodeHealth[], baseline: readonly NodeFacts[] = []): SideHealth | null {
	if (nodes.length === 0) return null;
	const latencies = nodes.map((node) => node.latencyMs).filter((latency): latency is number => latency !== null);
	const buffers = nodes.map((node) => node.monitorBuffer).filter((buffer): buffer is number => buffer !== null);
	return {
		nodes: nodes.length,
		latencyMs: latencies.length > 0 ? Math.max(...latencies) : null,
		usedMemory: nodes.reduce((sum, node) => sum + node.usedMemory, 0),
		maxmemory: nodes.some((node) => node.maxmemory === 0) ? null : nodes.reduce((sum, node) => sum + node.maxmemory, 0),
		evicted: nodes.reduce((sum, node) => {
			const before = baseline.find((facts) => facts.address === node.address)?.evictedKeys ?? 0;
			return sum + Math.max(0, node.evictedKeys - before);
		}, 0),
		monitorBuffer: buffers.length > 0 ? Math.max(...buffers) : null,
		reconnecting: nodes.filter((node) => node.reconnecting).length,
	};
}

export const healthTones = {
	latency: (ms: number | null): Tone | undefined => (ms === null ? 'muted' : ms >= 200 ? 'bad' : ms >= 50 ? 'warn' : undefined),
	memory: (used: number, max: number | null): Tone | undefined => (max === null || max === 0 ? undefined : used / max >= 0.9 ? 'bad' : used / max >= 0.75 ? 'warn' : undefined),
	// An eviction on the source may be keyferry's own doing (a lagging MONITOR buffer counts toward maxmemory).
	evicted: (count: number): Tone => (count > 0 ? 'bad' : 'ok'),
	monitor: (bytes: number): Tone | undefined => (bytes >= 256 * mib ? 'bad' : bytes >= 64 * mib ? 'warn' : undefined),
};

interface Segment {
	text: string;
	tone?: Tone | undefined;
}

function sideSegments(health: SideHealth, short: boolean, none: string): Segment[] {
	const memory =
		health.maxmemory === null
			? `${formatBytes(health.usedMemory)}${short ? '' : ' (no limit)'}`
			: short
				? `${Math.round((health.usedMemory / Math.max(1, health.maxmemory)) * 100)}%`
				: `${formatBytes(health.usedMemory)} / ${formatBytes(health.maxmemory)}`;
	const reconnecting = health.nodes > 1 ? `reconnecting ${health.reconnecting}/${health.nodes}` : 'reconnecting';
	const segments: Segment[] = [
		health.reconnecting > 0 ? {text: reconnecting, tone: 'bad'} : {text: formatLatency(health.latencyMs, none), tone: healthTones.latency(health.latencyMs)},
		{text: `mem ${memory}`, tone: healthTones.memory(health.usedMemory, health.maxmemory)},
		{text: `${short ? 'ev' : 'evicted'} ${formatCount(health.evicted)}`, tone: healthTones.evicted(health.evicted)},
	];
	if (health.monitorBuffer !== null) {
		segments.push({text: `${short ? 'mon' : 'monitor buf'} ${formatBytes(health.monitorBuffer)}`, tone: healthTones.monitor(health.monitorBuffer)});
	}
	return segments;
}

export function HealthLines({lines}: {lines: 1 | 2}) {
	const theme = useTheme();
	const {glyphs} = theme;
	const s = useKeyferryShallow((state) => ({
		health: state.health,
		sourceBaseline: state.preflight?.source.nodes,
		targetBaseline: state.preflight?.target.nodes,
	}));
	const sides = [
		{name: 'source', short: 'src', health: summarizeHealth(s.health.source, s.sourceBaseline)},
		{name: 'target', short: 'tgt', health: summarizeHealth(s.health.target, s.targetBaseline)},
	];
	const sep = ` ${glyphs.separator} `;
	const renderSide = (side: (typeof sides)[number], short: boolean) => {
		const count = side.health && side.health.nodes > 1 ? ` ${theme.ascii ? 'x' : '×'}${side.health.nodes}` : '';
		const label = short ? `${side.short}${count} ` : padEnd(`${side.name}${count}`, 10);
		return (
			<>
				<Text bold>{label}</Text>
				{side.health ? (
					sideSegments(side.health, short, glyphs.none).map((segment, index) => (
						<Fragment key={index}>
							{index > 0 ? <Text dimColor>{short ? ' ' : sep}</Text> : null}
							<Text color={segment.tone ? theme.tone(segment.tone) : undefined}>{segment.text}</Text>
						</Fragment>
					))
				) : (
					<Text dimColor>waiting for the first health check</Text>
				)}
			</>
		);
	};
	if (lines === 1) {
		return (
			<Text wrap="truncate-end">
				{renderSide(sides[0]!, true)}
				<Text dimColor> {theme.glyphs.border.left} </Text>
				{renderSide(sides[1]!, true)}
			</Text>
		);
	}
	return (
		<>
			{sides.map((side) => (
				<Text key={side.name} wrap="truncate-end">
					{renderSide(side, false)}
				</Text>
			))}
		</>
	);
}
