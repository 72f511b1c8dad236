'use client';

import { FileChooser } from './FileChooser.tsx';

/** "Find a picture": choose any picture, and the library looks for the key whose image is closest to it. */
export function FindChooser({ onPicture }: { onPicture: (file: File) => void }) {
  return (
    <FileChooser
      id="find-file"
      title="Find a picture"
      accept="image/png,image/jpeg,image/webp,image/svg+xml"
      onFile={onPicture}
    >
      Choose a picture (PNG, JPEG, WebP or SVG), or drop one anywhere on the page: the library looks for the key whose
      image is closest to it, which takes a few seconds. Then redraw it with a prompt.
    </FileChooser>
  );
}
