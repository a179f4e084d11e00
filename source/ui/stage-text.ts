/** What each stage does, in the operator's words: the advance dialogs and the footer use it. */
import type {Stage} from '../engine/stages';

/** What happens when the operator advances into the stage. */
export const enteringStage: Record<Stage, string> = {
	preflight: 'Check both servers before anything is written.',
	capture: 'Start MONITOR on every source master; every write goes to the journal.',
	copy: 'Scan and DUMP every key; payloads join the ordered stream.',
	sync: 'Replay keeps the target following the source, live.',
	verify: 'Compare sampled keys at consistent points.',
	cutover: 'Reverse capture starts on the target. Switch the application to it and stop writes to the source; keyferry shows when they stopped.',
	done: 'Drain to a barrier, record the cutover point and stop following the source; reverse capture goes on.',
	rollback: 'Apply the previewed changes back to the source.',
};

/** Shown while the stage works and the engine has not said more. */
export const workingOn: Record<Stage, string> = {
	preflight: 'checking both servers',
	capture: 'starting capture on every source master',
	copy: 'copying keys',
	sync: 'replaying captured writes',
	verify: 'sampling keys',
	cutover: 'waiting for writes to the source to stop',
	done: 'reverse capture running',
	rollback: 'rolling back',
};
