// Benchmark fixture: a fixed amount of synchronous CPU work, `payload.iterations` steps of an
// integer LCG. A fixed count (calibrated by the bench to N ms on this machine) rather than "spin
// until N ms have passed", so a thread that is descheduled takes longer instead of doing less
// work, and jobs/s reflects the CPU actually available. The result is returned so the loop
// cannot be optimised away.

/** Run `iterations` LCG steps; returns the final state. */
export function spin(iterations) {
  let x = 1;
  for (let i = 0; i < iterations; i++) x = (Math.imul(x, 1103515245) + 12345) | 0;
  return x;
}

export default function busy(ctx) {
  return spin(ctx.payload.iterations);
}
