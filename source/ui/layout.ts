/**
 * How many lines each part of the console gets. The live area is always shorter than the terminal
 * (a frame as tall as the screen makes Ink clear and repaint it, which flickers over SSH), so the
 * plan is computed from the row budget, and parts give way in a fixed order as the terminal
 * shrinks: log lines first, then discrepancy rows, the keys line, health detail, the sparklines.
 */
export type Body = 'main' | 'help' | 'discrepancies' | 'rollback';

export type PanesSize = 'tall' | 'normal' | 'compact' | 'none';

export interface LayoutInput {
	rows: number;
	columns: number;
	body: Body;
	/** Lines of an open dialog (it takes the footer's place), or null. */
	dialogLines: number | null;
	/** Discrepancy records kept; the pane grows to show more of them on a tall terminal. */
	discrepancyCount: number;
}

export interface Layout {
	width: number;
	/** Lines the whole frame occupies: rows - 1. */
	height: number;
	panes: PanesSize;
	/** Rows inside the discrepancies pane; 0 hides it. */
	discrepancyRows: number;
	healthLines: number;
	/** Log entries shown; the log's title line comes on top when > 0. */
	logLines: number;
	/** Footer: status line plus, when true, the keys line. Ignored while a dialog is open. */
	keysLine: boolean;
	/** Lines for a non-main body (help, discrepancy list, rollback preview). */
	bodyLines: number;
}

const headerLines = 2; // header + stage bar
const panesLines: Record<PanesSize, number> = {tall: 8, normal: 5, compact: 2, none: 0};
const maxLogLines = 14;
const maxDiscrepancyRows = 8;

export function planLayout(input: LayoutInput): Layout {
	const width = Math.max(20, input.columns);
	const height = Math.max(4, input.rows - 1);
	const footer = (keysLine: boolean) => input.dialogLines ?? (keysLine ? 2 : 1);

	if (input.body !== 'main') {
		const keysLine = height - headerLines - footer(true) >= 6;
		return {
			width,
			height,
			panes: 'none',
			discrepancyRows: 0,
			healthLines: 0,
			logLines: 0,
			keysLine,
			bodyLines: Math.max(0, height - headerLines - footer(keysLine)),
		};
	}

	const plan = {
		panes: (height >= 33 ? 'tall' : 'normal') as PanesSize,
		discrepancyRows: Math.max(1, Math.min(3, input.discrepancyCount)),
		healthLines: 2,
		keysLine: true,
	};
	// Side-by-side sparkline panes need room; a narrow window gets their one-line summaries.
	if (width < 60) plan.panes = 'compact';
	const used = () =>
		headerLines +
		1 + // copy progress
		panesLines[plan.panes] +
		(plan.discrepancyRows > 0 ? plan.discrepancyRows + 2 : 0) +
		plan.healthLines +
		footer(plan.keysLine);

	const degrade: Array<() => void> = [
		() => (plan.discrepancyRows = Math.min(plan.discrepancyRows, 1)),
		() => (plan.healthLines = 1),
		() => (plan.panes = 'compact'),
		() => (plan.keysLine = false),
		() => (plan.discrepancyRows = 0),
		() => (plan.healthLines = 0),
		() => (plan.panes = 'none'),
	];
	for (const step of degrade) {
		if (used() <= height) break;
		step();
	}

	let spare = Math.max(0, height - used());
	if (plan.discrepancyRows > 0 && spare > 12) {
		const wanted = Math.min(maxDiscrepancyRows, input.discrepancyCount) - plan.discrepancyRows;
		const extra = Math.min(wanted, Math.floor((spare - 12) / 2));
		plan.discrepancyRows += Math.max(0, extra);
		spare = Math.max(0, height - used());
	}
	const logLines = spare >= 2 ? Math.min(maxLogLines, spare - 1) : 0;
	return {width, height, ...plan, logLines, bodyLines: 0};
}
