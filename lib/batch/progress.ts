import type { BatchResult } from './run.ts';

/** Counts of a batch so far. */
export interface BatchTally {
  ok: number;
  failed: number;
  skipped: number;
}

const BAR = 24;
/** Plain progress lines (not a terminal) come at most this often, plus the last one. */
const LINE_EVERY_MS = 10_000;

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
}

/**
 * Progress of a batch on stderr: on a terminal one bar redrawn in place with rate and ETA; otherwise (a log file, a
 * pipe) a plain line every ten seconds. Rate and ETA count only rows rendered in this run, so a resumed batch's
 * skipped rows do not make the estimate optimistic.
 */
export class BatchProgress {
  readonly tally: BatchTally = { ok: 0, failed: 0, skipped: 0 };
  private readonly start = performance.now();
  private lastLine = 0;

  constructor(
    private readonly total: number,
    private readonly stream: { write(text: string): unknown; isTTY?: boolean },
  ) {}

  update(result: BatchResult): void {
    if (result.skipped) this.tally.skipped++;
    else if (result.entry.status === 'ok') this.tally.ok++;
    else this.tally.failed++;
    const now = performance.now();
    if (this.stream.isTTY) this.stream.write(`\r${this.line(now)}\x1b[K`);
    else if (now - this.lastLine >= LINE_EVERY_MS || this.done === this.total) {
      this.lastLine = now;
      this.stream.write(`batch: ${this.line(now)}\n`);
    }
  }

  /** Ends the bar's line on a terminal. */
  finish(): void {
    if (this.stream.isTTY && this.done > 0) this.stream.write('\n');
  }

  private get done(): number {
    return this.tally.ok + this.tally.failed + this.tally.skipped;
  }

  /** "[#####-----] 123/1000 12.3%  4.56 rows/s  ETA 3m12s  2 failed  10 skipped" */
  line(now = performance.now()): string {
    const { done, total } = this;
    const fraction = total === 0 ? 1 : done / total;
    const filled = Math.round(fraction * BAR);
    const worked = this.tally.ok + this.tally.failed;
    const rate = worked / Math.max(1e-3, (now - this.start) / 1000);
    const eta = rate > 0 ? (total - done) / rate : Number.POSITIVE_INFINITY;
    const parts = [
      `[${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}] ${done}/${total} ${(fraction * 100).toFixed(1)}%`,
      `${rate.toFixed(2)} rows/s`,
      `ETA ${done === total ? '0m00s' : duration(eta)}`,
    ];
    if (this.tally.failed) parts.push(`${this.tally.failed} failed`);
    if (this.tally.skipped) parts.push(`${this.tally.skipped} skipped`);
    return parts.join('  ');
  }
}
