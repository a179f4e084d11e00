/**
 * Every non-ASCII character the console draws, in one place, so a terminal without a UTF-8 locale
 * (LANG=C on a bastion, `--ascii`) gets a complete ASCII set instead of mojibake.
 */
export interface BorderGlyphs {
	topLeft: string;
	top: string;
	topRight: string;
	left: string;
	right: string;
	bottomLeft: string;
	bottom: string;
	bottomRight: string;
}

export interface Glyphs {
	border: BorderGlyphs;
	arrow: string;
	separator: string;
	ellipsis: string;
	none: string;
	stageDone: string;
	stageCurrent: string;
	stageReady: string;
	stageFailed: string;
	stageNext: string;
	/** Between stage names in the stage bar. */
	stageJoin: string;
	barFull: string;
	barEmpty: string;
	/** Sparkline levels from lowest to highest; a multi-row sparkline uses the last one as a full cell. */
	spark: readonly string[];
	/** A second with no activity, drawn so an idle series still reads as a line. */
	sparkZero: string;
	trendUp: string;
	trendDown: string;
	trendFlat: string;
	warning: string;
	error: string;
	info: string;
	up: string;
	down: string;
	selected: string;
	cursor: string;
	notEqual: string;
	rule: string;
}

export const unicodeGlyphs: Glyphs = {
	border: {topLeft: '╭', top: '─', topRight: '╮', left: '│', right: '│', bottomLeft: '╰', bottom: '─', bottomRight: '╯'},
	arrow: '→',
	separator: '·',
	ellipsis: '…',
	none: '—',
	stageDone: '✓',
	stageCurrent: '●',
	stageReady: '◆',
	stageFailed: '✗',
	stageNext: '○',
	stageJoin: ' › ',
	barFull: '█',
	barEmpty: '░',
	spark: ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'],
	sparkZero: '▁',
	trendUp: '↑',
	trendDown: '↓',
	trendFlat: '→',
	warning: '▲',
	error: '✗',
	info: '•',
	up: '↑',
	down: '↓',
	selected: '›',
	cursor: '█',
	notEqual: '≠',
	rule: '─',
};

export const asciiGlyphs: Glyphs = {
	border: {topLeft: '+', top: '-', topRight: '+', left: '|', right: '|', bottomLeft: '+', bottom: '-', bottomRight: '+'},
	arrow: '->',
	separator: '|',
	ellipsis: '...',
	none: '--',
	stageDone: '[x]',
	stageCurrent: '[>]',
	stageReady: '[!]',
	stageFailed: '[X]',
	stageNext: '[ ]',
	stageJoin: ' ',
	barFull: '#',
	barEmpty: '.',
	spark: ['.', ':', '-', '=', '+', '*', '%', '#'],
	sparkZero: '_',
	trendUp: '^',
	trendDown: 'v',
	trendFlat: '=',
	warning: '!',
	error: 'X',
	info: '*',
	up: 'up',
	down: 'dn',
	selected: '>',
	cursor: '_',
	notEqual: '!=',
	rule: '-',
};
