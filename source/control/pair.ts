/**
 * Pair-run arbitration as pure steps over PairState: exactly one party holds the controls (the
 * local console while it is on its terminal, else the first attached client), the others watch,
 * and the controls change hands on request and answer, by hand-over, or when the holder leaves.
 */
import type {PairState, Party} from '../engine/store';

export interface PairStep {
	pair: PairState;
	/** For everyone's log; null when nothing changed. */
	log: string | null;
	/** For the party that asked, when its request did nothing. */
	refused: string | null;
}

/** A holder without a key press for this long hands over at once when asked. */
export const holderIdleMs = 60_000;
/** A request the holder leaves unanswered this long is granted. */
export const requestAnswerMs = 30_000;

export function nameOf(pair: PairState, id: string | null): string {
	if (id === null) return 'nobody';
	return pair.parties.find((party) => party.id === id)?.name ?? id;
}

/** null: no pair-run (no control socket), so every console acts. */
export function holds(pair: PairState, id: string | null): boolean {
	return pair.holder === null || pair.holder === id;
}

export function watchingText(pair: PairState): string {
	return `watching: ${nameOf(pair, pair.holder)} holds the controls`;
}

export function attachedCount(pair: PairState): number {
	return pair.parties.filter((party) => party.kind === 'client').length;
}

const changed = (pair: PairState, log: string): PairStep => ({pair, log, refused: null});
const refused = (pair: PairState, reason: string): PairStep => ({pair, log: null, refused: reason});

export function joinPair(pair: PairState, party: Party): PairStep {
	const parties = party.kind === 'console' ? [party, ...pair.parties] : [...pair.parties, party];
	const holder = pair.holder ?? party.id;
	const next = {...pair, parties, holder};
	const role = holder === party.id ? 'holds the controls' : `watches (${nameOf(next, holder)} holds the controls)`;
	return changed(next, `${party.name} attached and ${role}`);
}

export function leavePair(pair: PairState, id: string): PairStep {
	const leaving = pair.parties.find((party) => party.id === id);
	if (!leaving) return refused(pair, 'not attached');
	const parties = pair.parties.filter((party) => party.id !== id);
	const request = pair.request === id ? null : pair.request;
	if (pair.holder !== id) return changed({parties, holder: pair.holder, request}, `${leaving.name} detached`);
	// The one who asked gets the controls first; then the local console; then the first client.
	const holder = request ?? parties[0]?.id ?? null;
	const next = {parties, holder, request: null};
	return changed(next, holder === null ? `${leaving.name} detached` : `${leaving.name} detached; ${nameOf(next, holder)} holds the controls`);
}

export function requestControl(pair: PairState, id: string, holderIdle: boolean): PairStep {
	if (holds(pair, id)) return refused(pair, 'you already hold the controls');
	if (pair.request === id) return refused(pair, `already asked ${nameOf(pair, pair.holder)}; waiting for an answer`);
	if (pair.request !== null) return refused(pair, `${nameOf(pair, pair.request)} asked first; wait for ${nameOf(pair, pair.holder)} to answer`);
	const holder = nameOf(pair, pair.holder);
	if (holderIdle) return changed({...pair, holder: id, request: null}, `${nameOf(pair, id)} took the controls (${holder} was idle)`);
	return changed({...pair, request: id}, `${nameOf(pair, id)} asks ${holder} for the controls`);
}

export function answerRequest(pair: PairState, by: string, accept: boolean): PairStep {
	if (pair.holder !== by) return refused(pair, watchingText(pair));
	if (pair.request === null) return refused(pair, 'nobody asked for the controls');
	const asker = nameOf(pair, pair.request);
	if (!accept) return changed({...pair, request: null}, `${nameOf(pair, by)} kept the controls (declined ${asker})`);
	return changed({...pair, holder: pair.request, request: null}, `${nameOf(pair, by)} handed the controls to ${asker}`);
}

export function handOver(pair: PairState, by: string, to: string): PairStep {
	if (pair.holder !== by) return refused(pair, watchingText(pair));
	if (to === by) return refused(pair, 'you already hold the controls');
	if (!pair.parties.some((party) => party.id === to)) return refused(pair, `${to} is not attached`);
	return changed({...pair, holder: to, request: null}, `${nameOf(pair, by)} handed the controls to ${nameOf(pair, to)}`);
}

/** The holder did not answer in time: the controls go to the one who asked. */
export function grantUnanswered(pair: PairState): PairStep {
	if (pair.request === null) return refused(pair, 'nobody asked for the controls');
	return changed({...pair, holder: pair.request, request: null}, `${nameOf(pair, pair.request)} took the controls (${nameOf(pair, pair.holder)} did not answer)`);
}
