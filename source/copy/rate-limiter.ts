/** Keys-per-second pacing for the copier (--copy-rate, + and - in the console). */
export class RateLimiter {
	private tokens = 0;
	private last = Date.now();

	constructor(private rate: number | null) {}

	setRate(rate: number | null): void {
		this.rate = rate;
		this.tokens = 0;
		this.last = Date.now();
	}

	/** Resolves when `count` keys may be sent. */
	async take(count: number): Promise<void> {
		while (this.rate !== null) {
			const now = Date.now();
			this.tokens = Math.min(this.rate, this.tokens + ((now - this.last) / 1000) * this.rate);
			this.last = now;
			if (this.tokens >= count || this.tokens >= this.rate) {
				this.tokens -= count;
				return;
			}
			const waitMs = Math.max(5, ((Math.min(count, this.rate) - this.tokens) / this.rate) * 1000);
			await new Promise((resolve) => setTimeout(resolve, Math.min(waitMs, 250)));
		}
	}
}
