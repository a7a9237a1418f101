import type { OrderBudget, OrderReservation } from './store.js';

/**
 * The order budget's ledger (PRODUCT §3), as every account store keeps it: the reservations of the
 * last window, each with its time and count. Stores differ only in how they swap one ledger for
 * the next atomically (compare-and-swap); the arithmetic is here, once.
 */
export interface OrderLedger {
  format: 'certkeeper/orders/v1';
  directoryUrl: string;
  reservations: { id: string; at: string; count: number }[];
}

export function emptyLedger(directoryUrl: string): OrderLedger {
  return { format: 'certkeeper/orders/v1', directoryUrl, reservations: [] };
}

/** A stored ledger, or an empty one when `value` is none (an unreadable ledger must not stop renewals). */
export function parseLedger(value: unknown, directoryUrl: string): OrderLedger {
  const v = value as Partial<OrderLedger> | null;
  if (typeof v !== 'object' || v === null || v.format !== 'certkeeper/orders/v1' || !Array.isArray(v.reservations)) {
    return emptyLedger(directoryUrl);
  }
  return {
    format: 'certkeeper/orders/v1',
    directoryUrl,
    reservations: v.reservations.filter(
      (r) =>
        typeof r?.id === 'string' &&
        typeof r.at === 'string' &&
        !Number.isNaN(Date.parse(r.at)) &&
        Number.isInteger(r.count) &&
        r.count > 0,
    ),
  };
}

/** Orders counted in the sliding window ending `now`, and when the oldest of them leaves it (read only). */
export function usedInLedger(ledger: OrderLedger, budget: OrderBudget, now: Date): { used: number; freesAt?: string } {
  const since = now.getTime() - budget.perMs;
  const live = ledger.reservations.filter((r) => Date.parse(r.at) > since);
  const oldest = live.map((r) => Date.parse(r.at)).sort((a, b) => a - b)[0];
  return {
    used: live.reduce((n, r) => n + r.count, 0),
    ...(oldest !== undefined ? { freesAt: new Date(oldest + budget.perMs).toISOString() } : {}),
  };
}

/**
 * Grants up to `want` orders in the sliding window ending `now`. Returns the reservation and the
 * ledger to store (reservations older than the window dropped), or only the refusal when nothing
 * can be granted (then nothing needs storing).
 */
export function reserveInLedger(
  ledger: OrderLedger,
  want: number,
  budget: OrderBudget,
  now: Date,
  id: string,
): { reservation: OrderReservation; next?: OrderLedger } {
  const since = now.getTime() - budget.perMs;
  const live = ledger.reservations.filter((r) => Date.parse(r.at) > since);
  const used = live.reduce((n, r) => n + r.count, 0);
  const granted = Math.max(0, Math.min(want, budget.orders - used));
  if (granted === 0) {
    const oldest = live.map((r) => Date.parse(r.at)).sort((a, b) => a - b)[0];
    return {
      reservation: {
        granted: 0,
        used,
        ...(oldest !== undefined ? { freesAt: new Date(oldest + budget.perMs).toISOString() } : {}),
      },
    };
  }
  return {
    reservation: { granted, used: used + granted, id },
    next: { ...ledger, reservations: [...live, { id, at: now.toISOString(), count: granted }] },
  };
}

/** The ledger with `count` orders of reservation `id` given back; undefined when there is nothing to change. */
export function releaseInLedger(ledger: OrderLedger, id: string, count: number): OrderLedger | undefined {
  const index = ledger.reservations.findIndex((r) => r.id === id);
  const found = ledger.reservations[index];
  if (!found || count <= 0) return undefined;
  const left = found.count - Math.min(count, found.count);
  const reservations = [...ledger.reservations];
  if (left > 0) reservations[index] = { ...found, count: left };
  else reservations.splice(index, 1);
  return { ...ledger, reservations };
}
