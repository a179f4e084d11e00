/** A small ring of keys the application wrote lately, so samples also hit hot keys. */
export class RecentKeys {
	private readonly ring: Array<{db: number; key: Buffer} | undefined>;
	private next = 0;

	constructor(size = 4096) {
		this.ring = new Array(size);
	}

	add(db: number, key: Buffer): void {
		this.ring[this.next] = {db, key};
		this.next = (this.next + 1) % this.ring.length;
	}

	pick(random: () => number = Math.random): {db: number; key: Buffer} | undefined {
		const filled = this.ring[this.ring.length - 1] === undefined ? this.next : this.ring.length;
		return filled === 0 ? undefined : this.ring[Math.floor(random() * filled)];
	}
}
