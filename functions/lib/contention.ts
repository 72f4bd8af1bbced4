/**
 * Waiting after a lost optimistic write (a version condition that failed because another writer won).
 * Full jitter with an exponential cap spreads the writers out: a fixed small wait makes a crowd (every
 * treadmill of a gym ending sessions into the same day) collide again and again.
 */
const BASE_MS = 4;
const CAP_MS = 1_000;

export function contentionBackoff(attempt: number, random: () => number = Math.random): Promise<void> {
  const ceiling = Math.min(CAP_MS, BASE_MS * 2 ** Math.min(attempt, 16));
  return new Promise((resolve) => setTimeout(resolve, random() * ceiling));
}
