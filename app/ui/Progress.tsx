'use client';

import { useEffect, useState } from 'react';

/** What is happening and for how long; it ticks on its own so the rest of the page is not re-rendered. */
export function Progress({ label, since }: { label: string; since: number }) {
  const [elapsed, setElapsed] = useState(() => performance.now() - since);
  useEffect(() => {
    const timer = setInterval(() => setElapsed(performance.now() - since), 100);
    return () => clearInterval(timer);
  }, [since]);
  return (
    <div className="progress" role="status" data-testid="progress">
      <span>{label}</span>
      <span className="elapsed">{(elapsed / 1000).toFixed(1)} s</span>
      <span className="bar" />
    </div>
  );
}
