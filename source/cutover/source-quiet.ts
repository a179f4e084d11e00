/**
 * The cutover checklist: has the application stopped writing to the source? The applier stamps
 * every application write it meets (Counters.lastSourceWriteMs); the source counts as quiet once
 * none was seen for the configured time and the replay has caught up with the capture. Pure.
 */

export interface QuietInput {
	/** Last application write seen, ms (local clock), or null for none since keyferry started. */
	lastWriteMs: number | null;
	nowMs: number;
	quietMs: number;
	/** Captured lines not applied yet: writes may still hide in them. */
	lag: number;
}

/** Lines the replay may still owe while counting as caught up (heartbeat PINGs, markers). */
const caughtUpLag = 100;

export function sourceQuiet(input: QuietInput): boolean {
	if (input.lag >= caughtUpLag) return false;
	return input.lastWriteMs === null || input.nowMs - input.lastWriteMs >= input.quietMs;
}

/** The stage's one-line detail: the checklist while running, what advancing does once ready. */
export function checklistDetail(input: QuietInput, ready: boolean): string {
	const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
	const last = input.lastWriteMs === null ? 'no application write seen on the source' : `last source write ${seconds(Math.max(0, input.nowMs - input.lastWriteMs))} ago`;
	if (ready) return `no application write on the source for ${seconds(input.quietMs)} (${last}) · Enter drains to a barrier and cuts over`;
	const waiting = input.lag >= caughtUpLag ? `replay catching up (${input.lag} lines behind)` : last;
	return `checklist: switch the application to the target · stop writes to the source · ${waiting}; ready after ${seconds(input.quietMs)} without one`;
}
