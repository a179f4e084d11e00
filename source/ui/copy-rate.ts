/**
 * `+` and `-` walk a ladder of copy rate limits. From unlimited, `-` picks the first step below the
 * rate the copy is actually reaching, so one press always slows it; `+` past the top is unlimited.
 * The floor is the lowest step: stopping the copy is `p`, not a rate of zero.
 */
export const copyRateLadder: readonly number[] = [100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000];

export function stepCopyRate(current: number | null, observed: number, direction: 1 | -1): number | null {
	const lowest = copyRateLadder[0]!;
	if (direction === 1) {
		if (current === null) return null;
		return copyRateLadder.find((step) => step > current) ?? null;
	}
	const ceiling = current ?? observed;
	const below = copyRateLadder.filter((step) => step < ceiling);
	if (current === null && observed <= 0) return copyRateLadder[copyRateLadder.length - 1]!;
	return below[below.length - 1] ?? lowest;
}
