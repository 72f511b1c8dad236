/**
 * The candidates find tries, in order, until its time budget runs out. Each is one way to turn the picture's latent
 * into a key: invert the sampler at a step count the keyspace stores, with some fixed-point iterations per step,
 * then scale the noise slightly before quantising (4-bit codes make rendering chaotic: a 3 % change of the noise
 * can move the rendered picture by several dB either way, so trying a few is worth more than one careful try).
 * The order is fixed, so a given budget (or candidate cap) always finds the same key.
 */
export interface Candidate {
  steps: number;
  /** Fixed-point iterations per inverted step. */
  iterations: number;
  /** The inverted noise is multiplied by this before quantising. */
  scale: number;
}

const SCALES = [1, 0.97, 1.03];
const ITERATIONS = [2, 0, 4];

/** The candidate list for a keyspace storing `stored` step counts, preferring those near `preferred`, up to 24. */
export function searchPlan(stored: readonly number[], preferred: number): Candidate[] {
  const steps = [...stored]
    .filter((s) => s >= 8 && s <= 24)
    .sort((a, b) => Math.abs(a - preferred) - Math.abs(b - preferred) || b - a);
  if (steps.length === 0)
    steps.push(stored.reduce((a, b) => (Math.abs(b - preferred) < Math.abs(a - preferred) ? b : a)));
  const plan: Candidate[] = [];
  for (const iterations of ITERATIONS)
    for (const s of steps) for (const scale of SCALES) plan.push({ steps: s, iterations, scale });
  return plan;
}
