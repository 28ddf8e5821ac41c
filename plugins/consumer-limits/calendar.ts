/** Calendar quota periods: UTC days and UTC months. */
export type Period = 'day' | 'month';
export const PERIODS: readonly Period[] = ['day', 'month'];

/** One calendar window: its id (part of a store key) and when it ends, in wall-clock ms. */
export interface Window {
  readonly id: string;
  readonly endMs: number;
}

/** The UTC day or month that `wallMs` falls in. */
export function windowOf(period: Period, wallMs: number): Window {
  const d = new Date(wallMs);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  if (period === 'month') return { id: `${y}-${pad(m + 1)}`, endMs: Date.UTC(y, m + 1, 1) };
  const day = d.getUTCDate();
  return { id: `${y}-${pad(m + 1)}-${pad(day)}`, endMs: Date.UTC(y, m, day + 1) };
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
