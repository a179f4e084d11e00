import {describe, expect, it} from 'vitest';
import {planLayout, type Layout, type LayoutInput} from '../../source/ui/layout';

const base: LayoutInput = {rows: 24, columns: 80, body: 'main', dialogLines: null, discrepancyCount: 3};

/** Lines the main view uses, by the same rules the components follow. */
function mainLines(layout: Layout, dialogLines: number | null): number {
	const panes = {tall: 8, normal: 5, compact: 2, none: 0}[layout.panes];
	return (
		2 +
		1 +
		panes +
		(layout.discrepancyRows > 0 ? layout.discrepancyRows + 2 : 0) +
		layout.healthLines +
		(layout.logLines > 0 ? layout.logLines + 1 : 0) +
		(dialogLines ?? (layout.keysLine ? 2 : 1))
	);
}

describe('planLayout', () => {
	it('fills 80x24 with everything, the log taking what is left', () => {
		expect(planLayout(base)).toEqual({
			width: 80,
			height: 23,
			panes: 'normal',
			discrepancyRows: 3,
			healthLines: 2,
			logLines: 5,
			keysLine: true,
			bodyLines: 0,
		});
	});

	it('uses a tall terminal for two-row sparklines, more discrepancies and a longer log', () => {
		const layout = planLayout({...base, rows: 50, columns: 160, discrepancyCount: 40});
		expect(layout.panes).toBe('tall');
		expect(layout.discrepancyRows).toBeGreaterThan(3);
		expect(layout.logLines).toBe(14);
	});

	it('gives way in order: log, discrepancy rows, health, sparklines, keys line', () => {
		const at = (rows: number) => planLayout({...base, rows});
		expect(at(20)).toMatchObject({logLines: 1, discrepancyRows: 3, panes: 'normal'});
		expect(at(18)).toMatchObject({logLines: 0, discrepancyRows: 3, healthLines: 2});
		expect(at(16)).toMatchObject({logLines: 0, discrepancyRows: 1, healthLines: 2, panes: 'normal'});
		expect(at(15)).toMatchObject({discrepancyRows: 1, healthLines: 1, panes: 'normal'});
		expect(at(13)).toMatchObject({panes: 'compact', keysLine: true});
		expect(at(9)).toMatchObject({panes: 'compact', discrepancyRows: 0, keysLine: false});
	});

	it('folds the sparkline panes into summaries on a narrow terminal', () => {
		expect(planLayout({...base, columns: 50}).panes).toBe('compact');
	});

	it('gives a view the space between the stage bar and the footer', () => {
		expect(planLayout({...base, body: 'help'})).toMatchObject({bodyLines: 19, keysLine: true});
		expect(planLayout({...base, body: 'discrepancies', dialogLines: 4})).toMatchObject({bodyLines: 17});
	});

	it('never plans more lines than the terminal has minus one', () => {
		for (let rows = 10; rows <= 60; rows++) {
			for (const dialogLines of [null, 4, 5, 6]) {
				for (const discrepancyCount of [0, 2, 50]) {
					const layout = planLayout({...base, rows, dialogLines, discrepancyCount});
					expect(mainLines(layout, dialogLines), `rows ${rows} dialog ${dialogLines}`).toBeLessThanOrEqual(rows - 1);
				}
			}
		}
	});
});
