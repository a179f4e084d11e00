/**
 * Replay runs behind the source, but the target expires keys on its own clock. A key whose
 * absolute expiry has passed on the target while the stream still shows it alive on the source
 * (a write just before its expiry, applied after it) would be recreated on the target without a
 * TTL. And a write that lands within moments of the expiry is ambiguous: the line's timestamp
 * and clock skew are only exact to a few ms, so the target may see the key alive where the
 * source had already expired it (an APPEND then extends the old value). The applier records the
 * expiries it writes and re-copies keys written inside either window.
 */
const keyId = (db: number, key: Buffer) => `${db}:${key.toString('latin1')}`;

/** Expiries further away than this are not tracked: they matter only with a lag of this size. */
const horizonMs = 10 * 60 * 1000;
/** Time a command takes to reach the target after the applier sends it, and the uncertainty of expiry times. */
const marginMs = 250;

export class ExpiryWatch {
	private readonly expiries = new Map<string, number>();
	private lastPrune = 0;

	/** `expireAtMs` is in target time; `nowMs` the target's current time. */
	record(db: number, key: Buffer, expireAtMs: number, nowMs: number): void {
		if (expireAtMs - nowMs > horizonMs) {
			this.expiries.delete(keyId(db, key));
			return;
		}
		this.expiries.set(keyId(db, key), expireAtMs);
	}

	/**
	 * A write at stream time `lineMs` (target time) to one of `keys`, applied now: true when it
	 * fell within the margin of the key's expiry, or when the source still had the key alive but
	 * the target may already have expired it.
	 */
	atRisk(db: number, keys: Buffer[], lineMs: number, nowMs: number): boolean {
		if (this.expiries.size === 0) return false;
		for (const key of keys) {
			const expireAt = this.expiries.get(keyId(db, key));
			if (expireAt === undefined) continue;
			if (Math.abs(lineMs - expireAt) <= marginMs) return true;
			if (lineMs < expireAt && nowMs + marginMs >= expireAt) return true;
		}
		return false;
	}

	/**
	 * The target time from which a write at stream time `lineMs` to one of `keys` is at risk when
	 * it lands (the source had the key alive, the target will have expired it); null when none of
	 * them has a tracked expiry ahead of the line. A write can land long after it was sent (a
	 * paused or unreachable target): its reply tells.
	 */
	riskFrom(db: number, keys: Buffer[], lineMs: number): number | null {
		if (this.expiries.size === 0) return null;
		let earliest: number | null = null;
		for (const key of keys) {
			const expireAt = this.expiries.get(keyId(db, key));
			if (expireAt === undefined || lineMs >= expireAt) continue;
			earliest = Math.min(earliest ?? Infinity, expireAt - marginMs);
		}
		return earliest;
	}

	/** Forget expiries the stream has passed by more than the margin: both sides see the key expired. */
	prune(lineMs: number): void {
		if (lineMs - this.lastPrune < 1000) return;
		this.lastPrune = lineMs;
		for (const [id, expireAt] of this.expiries) if (expireAt < lineMs - marginMs) this.expiries.delete(id);
	}

	get size(): number {
		return this.expiries.size;
	}
}

/** The absolute expiry (ms) a planned, rewritten command sets on its first key, if any. */
export function writtenExpiry(args: Array<Buffer | string | number>): number | null {
	const name = String(args[0]).toLowerCase();
	const word = (index: number) => String(args[index] ?? '').toLowerCase();
	if (name === 'pexpireat') return Number(args[2]);
	if (name === 'restore') {
		for (let i = 4; i < args.length; i++) if (word(i) === 'absttl') return Number(args[2]) || null;
		return null;
	}
	if (name === 'set' || name === 'getex') {
		for (let i = name === 'set' ? 3 : 2; i < args.length - 1; i++) if (word(i) === 'pxat') return Number(args[i + 1]);
	}
	return null;
}
