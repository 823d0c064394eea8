// Worker module for examples/worker-pool.ts. Runs in a worker thread of WorkerPoolJobRunner.
//
// The export receives a JobContext-shaped object ({ payload, attempt, job, trigger, signal, log,
// heartbeat }) whose data fields are copies; it returns JSON data. It is plain JS so that worker
// threads can load it without a TypeScript loader.

/** Renders an ASCII Mandelbrot set: enough CPU work to see it in the job metrics. */
export default function render(ctx) {
  const { width = 120, height = 40, iterations = 2000 } = ctx.payload ?? {};
  const palette = ' .:-=+*#%@';
  const rows = [];
  let checksum = 0;
  for (let y = 0; y < height; y++) {
    // A long synchronous loop cannot be interrupted by an event, so it checks its signal itself
    // to stop early (the pool would terminate the thread after the grace period anyway).
    if (ctx.signal.aborted) throw ctx.signal.reason;
    let row = '';
    for (let x = 0; x < width; x++) {
      const cr = (x / width) * 3.5 - 2.5;
      const ci = (y / height) * 2 - 1;
      let zr = 0;
      let zi = 0;
      let n = 0;
      while (n < iterations && zr * zr + zi * zi < 4) {
        const t = zr * zr - zi * zi + cr;
        zi = 2 * zr * zi + ci;
        zr = t;
        n++;
      }
      checksum = (checksum * 31 + n) % 1_000_000_007;
      row += palette[n === iterations ? palette.length - 1 : n % (palette.length - 1)];
    }
    rows.push(row);
  }
  ctx.log.debug({ width, height }, 'rendered');
  return { checksum, preview: rows.slice(Math.floor(height / 2) - 2, Math.floor(height / 2) + 2) };
}

/** Never returns and ignores its signal: only terminating the thread stops it. */
export function stuck() {
  for (;;) {
    // spin
  }
}

/** Fails for good: the name/code convention makes the scheduler treat it as PermanentJobError. */
export function reject(ctx) {
  const error = new Error(`cannot render ${JSON.stringify(ctx.payload)}`);
  error.name = 'PermanentJobError';
  error.code = 'ERR_PERMANENT_JOB';
  throw error;
}
