'use client';

import { FileChooser } from './FileChooser.tsx';

/** "Bring a book back": a .gen5 file or one of our PNGs, whose key is read and whose image is regenerated. */
export function ImportChooser({ onFile }: { onFile: (file: File) => void }) {
  return (
    <FileChooser
      id="import-file"
      title="Bring a book back"
      accept=".gen5,.png,image/png,application/octet-stream"
      onFile={onFile}
    >
      Drop a <code>.gen5</code> file or one of our PNGs (they carry their key) anywhere on the page, or choose one: its
      image is regenerated and compared bit for bit. A key can be pasted into the box above, or dropped here too.
    </FileChooser>
  );
}
