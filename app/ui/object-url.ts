import { useEffect, useState } from 'react';

/**
 * An object URL for a blob while a component shows it, revoked when the blob changes or the component goes.
 * Made in an effect rather than during render, so React's second mount in development makes a fresh one instead of
 * reusing a revoked URL. Null until made, and never another blob's URL.
 */
export function useObjectUrl(blob: Blob | null): string | null {
  const [made, setMade] = useState<{ blob: Blob; url: string } | null>(null);
  useEffect(() => {
    if (!blob) return;
    const url = URL.createObjectURL(blob);
    setMade({ blob, url });
    return () => URL.revokeObjectURL(url);
  }, [blob]);
  return made && made.blob === blob ? made.url : null;
}
