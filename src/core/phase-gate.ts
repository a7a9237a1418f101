/**
 * Requests of one phase run together, never alongside another phase's: a phase waits until the
 * running one drains. First come, first served between phases: once a request of another phase
 * waits, later arrivals of the running phase queue behind it (no phase starves), and when the
 * gate empties every waiter of the next phase enters at once.
 *
 * The ACME session uses it to keep new orders and authorization requests apart. Pebble (2.4 and
 * every release since, as of its HEAD in 2026) can deadlock a whole server when they overlap: its
 * authorization handler locks the authorization and then reads the account (the store's read
 * lock), while a new order holds the store's read lock as it read-locks every authorization
 * (`FindValidAuthorization`); one store write queued between the two (another order's
 * `AddAuthorization`, an issued certificate) and Go's RWMutex lets neither go on. Every later
 * request that touches the store then hangs; the directory still answers. A fleet placing orders
 * while others poll their authorizations hit it about once in a hundred runs of 50 certificates.
 * The cost elsewhere is small: a new order waits for the authorization requests in flight (tens
 * of milliseconds), never for a poll's sleep, which is outside the gate.
 */
export class PhaseGate<P extends string> {
  private current: P | undefined;
  private running = 0;
  private readonly waiting: { phase: P; enter: () => void }[] = [];

  async run<T>(phase: P, fn: () => Promise<T>): Promise<T> {
    if (this.running > 0 && (this.current !== phase || this.waiting.length > 0)) {
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
    const next = this.waiting[0];
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
