'use client';

/** "Bring a book back": a .gen5 file or one of our PNGs, whose key is read and whose image is regenerated. */
export function ImportChooser({ onFile }: { onFile: (file: File) => void }) {
  return (
    <div className="import">
      <label htmlFor="import-file">Bring a book back</label>
      <p className="muted small">
        Drop a <code>.gen5</code> file or one of our PNGs (they carry their key) anywhere on the page, or choose one:
        its image is regenerated and compared bit for bit. A key can be pasted into the box above, or dropped here too.
      </p>
      <input
        id="import-file"
        type="file"
        accept=".gen5,.png,image/png,application/octet-stream"
        onChange={(event) => {
          const file = event.target.files?.[0];
          if (file) onFile(file);
          event.target.value = '';
        }}
      />
    </div>
  );
}
