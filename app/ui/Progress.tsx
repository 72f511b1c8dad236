'use client';

import { useEffect, useState } from 'react';
import { type RenderProgress, renderProgress } from './api.ts';
import { sha256Hex } from './files.ts';

const POLL_MS = 250;

/**
 * What is happening and for how long; while a key is being rendered (`watch`), also how many denoising steps are
 * done. It ticks on its own so the rest of the page is not re-rendered.
 */
export function Progress({ label, since, watch }: { label: string; since: number; watch?: string }) {
  const [elapsed, setElapsed] = useState(() => performance.now() - since);
  const [steps, setSteps] = useState<RenderProgress | null>(null);
  useEffect(() => {
    const timer = setInterval(() => setElapsed(performance.now() - since), 100);
    return () => clearInterval(timer);
  }, [since]);
  useEffect(() => {
    if (!watch) return;
    let stopped = false;
    void (async () => {
      const hash = await sha256Hex(watch);
      while (!stopped) {
        try {
          const now = await renderProgress(hash);
          if (!stopped) setSteps(now);
        } catch {
          // Progress is a nicety: the render request itself reports any failure.
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    })();
    return () => {
      stopped = true;
    };
  }, [watch]);
  return (
    <div className="progress" role="status" data-testid="progress">
      <span>{label}</span>
      <span className="elapsed">
        {steps?.state === 'rendering' && `step ${steps.done} of ${steps.total} · `}
        {steps?.state === 'queued' && 'waiting to start · '}
        {(elapsed / 1000).toFixed(1)} s
      </span>
      <span className="bar" />
    </div>
  );
}
