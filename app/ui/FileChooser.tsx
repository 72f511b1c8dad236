'use client';

import type { ReactNode } from 'react';

export interface FileChooserProps {
  id: string;
  title: string;
  accept: string;
  /** What choosing (or dropping) a file does, in a sentence or two. */
  children: ReactNode;
  onFile: (file: File) => void;
}

/** A titled file input that hands over the chosen file and clears itself, so the same file can be chosen again. */
export function FileChooser({ id, title, accept, children, onFile }: FileChooserProps) {
  return (
    <div className="import">
      <label htmlFor={id}>{title}</label>
      <p className="muted small">{children}</p>
      <input
        id={id}
        type="file"
        accept={accept}
        onChange={(event) => {
          const file = event.target.files?.[0];
          if (file) onFile(file);
          event.target.value = '';
        }}
      />
    </div>
  );
}
