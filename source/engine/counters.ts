/**
 * Hot counters the engine bumps on every event. They are plain fields (no store write per event);
 * the stats publisher copies them into the store about ten times a second.
 */
export class Counters {
	captured = 0;
	capturedBytes = 0;
	applied = 0;
	keysCopied = 0;
	keysTotal = 0;
	recopies = 0;
	samples = 0;
	discrepancies = 0;
	journalBytes = 0;
	/** Capture timestamp (ms) of the oldest event not yet applied, or null when caught up. */
	oldestUnappliedTs: number | null = null;
	/** When the applier last met an application write (local clock, ms), or null: cutover waits for quiet. */
	lastSourceWriteMs: number | null = null;
}
