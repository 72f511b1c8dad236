'use client';

/** "Find a picture": choose any picture, and the library looks for the key whose image is closest to it. */
export function FindChooser({ onPicture }: { onPicture: (file: File) => void }) {
  return (
    <div className="import">
      <label htmlFor="find-file">Find a picture</label>
      <p className="muted small">
        Choose a picture (PNG, JPEG, WebP or SVG), or drop one anywhere on the page: the library looks for the key whose
        image is closest to it, which takes a few seconds. Then redraw it with a prompt.
      </p>
      <input
        id="find-file"
        type="file"
        accept="image/png,image/jpeg,image/webp,image/svg+xml"
        onChange={(event) => {
          const file = event.target.files?.[0];
          if (file) onPicture(file);
          event.target.value = '';
        }}
      />
    </div>
  );
}
