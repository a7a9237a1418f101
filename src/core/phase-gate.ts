/**
 * Requests of one phase run together, never alongside another phase's: a phase waits until the
 * running one drains. First come, first served between phases: once a request of another phase
 * waits, later arrivals of the running phase queue behind it (no phase starves), and when the
 * gate empties every waiter of the next phase enters at once. The one exception is the `urgent`
 * phase, which joins itself while it runs.
 *
 * The ACME session uses it to keep order and authorization requests apart. Pebble (2.4 and every
 * release since, as of its HEAD in 2026) can deadlock a whole server when they overlap: its
 * authorization handler locks the authorization and then reads the account (the store's read
 * lock), while a new order holds the store's read lock as it read-locks every authorization
 * (`FindValidAuthorization`), and an order fetch or finalize holds it as it read-locks the order's
 * authorizations (`GetOrderByID`, which an authorization shared by two orders makes another
 * certificate's); one store write queued between the two (another order's `AddAuthorization`, an
 * issued certificate) and Go's RWMutex lets neither go on. Every later request that touches the
 * store then hangs; the directory still answers. A fleet placing orders while others poll their
 * authorizations hit it about once in fifty runs of 50 certificates; 24 loops of orders and
 * authorization fetches hang it within 5–15 s (test/faults/pebble-deadlock.test.ts, opt-in), and
 * not in 90 s with this gate.
 * The cost is small: an order request waits for the authorization requests in flight
 * (milliseconds at Pebble, a round trip at a public CA), never for a poll's sleep, which is outside
 * the gate; the authorization requests are urgent (a fleet's next wave waits on their validation
 * polls, while its new orders are placed ahead and its finalizes are past their slot). One-zone
 * fleet bench, 50 certificates, with and without the gate (new orders only) in the same hour:
 * medians 12.06 / 11.97 s with it, 12.05 / 11.89 s without.
 */
export class PhaseGate<P extends string> {
  private current: P | undefined;
  private running = 0;
  private readonly waiting: { phase: P; enter: () => void }[] = [];

  /**
   * @param urgent a phase that joins itself while running even when another phase waits, and goes
   * first when the gate empties: the requests a caller's critical path waits on. The others still
   * get their turn whenever none of it is in flight.
   */
  constructor(private readonly urgent?: P) {}

  async run<T>(phase: P, fn: () => Promise<T>): Promise<T> {
    const joins = this.current === phase && (this.waiting.length === 0 || phase === this.urgent);
    if (this.running > 0 && !joins) {
      await new Promise<void>((enter) => this.waiting.push({ phase, enter }));
    } else {
      this.current = phase;
      this.running++;
    }
    try {
      return await fn();
    } finally {
      this.running--;
      if (this.running === 0) this.admitNext();
    }
  }

  private admitNext(): void {
    const next = this.waiting.find((w) => w.phase === this.urgent) ?? this.waiting[0];
    if (!next) {
      this.current = undefined;
      return;
    }
    this.current = next.phase;
    const entering = this.waiting.filter((w) => w.phase === next.phase);
    const staying = this.waiting.filter((w) => w.phase !== next.phase);
    this.waiting.splice(0, this.waiting.length, ...staying);
    this.running += entering.length;
    for (const w of entering) w.enter();
  }
}
