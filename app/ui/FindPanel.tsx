'use client';

import type { SyntheticEvent } from 'react';
import type { FoundPicture } from './api.ts';
import { copyKey, copyLink } from './clipboard.ts';
import { useObjectUrl } from './object-url.ts';
import type { Find } from './screen.ts';

export interface FindPanelProps {
  find: Find;
  /** The key on show: when it is another (a neighbour, a redraw), the panel offers the found key again. */
  shown: string;
  /** False while another image is being made: redrawing and going back wait. */
  ready: boolean;
  onBut: (text: string) => void;
  onRekey: (key: string, prompt: string) => void;
  onShowFound: (key: string) => void;
  onNotice: (message: string) => void;
}

/**
 * "Found in the library": the reader's picture beside the library's image of the key found, how alike they are,
 * the key to copy or share, and "this picture, but …". While the find runs, the picture and how far it has come.
 */
export function FindPanel({ find, shown, ready, onBut, onRekey, onShowFound, onNotice }: FindPanelProps) {
  const picture = useObjectUrl(find.picture.blob);
  const image = useObjectUrl(find.phase === 'found' ? find.image : null);
  return (
    <section className="find" aria-labelledby="find-title" data-testid="find">
      <h2 id="find-title">
        {find.phase === 'found' ? 'Found in the library' : `Looking for “${find.picture.name}” in the library…`}
      </h2>
      <div className="pair">
        <Thumbnail url={picture} caption="Your picture" testId="find-picture" />
        <Thumbnail url={image} caption="The library’s image" testId="find-image" />
      </div>
      {find.phase === 'finding' ? (
        <FindProgress done={find.done} total={find.total} />
      ) : (
        <>
          <Similarity result={find.result} />
          <FoundKey found={find.result.key} shown={shown} ready={ready} onShowFound={onShowFound} onNotice={onNotice} />
          <ButForm found={find.result.key} but={find.but} ready={ready} onBut={onBut} onRekey={onRekey} />
        </>
      )}
    </section>
  );
}

// A small picture (an emoji) is scaled up with hard pixel edges, as the main image is; a photo is smoothed. Set on
// the element itself: it is known only once the picture has loaded, and nothing else depends on it.
function markSmall(event: SyntheticEvent<HTMLImageElement>): void {
  event.currentTarget.dataset.small = String(event.currentTarget.naturalWidth <= 128);
}

function Thumbnail({ url, caption, testId }: { url: string | null; caption: string; testId: string }) {
  return (
    <figure>
      <div className="thumb">
        {url ? (
          // biome-ignore lint/performance/noImgElement: a blob: URL of the reader's file or of a PNG we render
          <img src={url} alt={caption} data-testid={testId} onLoad={markSmall} />
        ) : (
          <div className="blank" aria-hidden="true" />
        )}
      </div>
      <figcaption className="muted small">{caption}</figcaption>
    </figure>
  );
}

function FindProgress({ done, total }: { done: number; total: number }) {
  return (
    <div className="find-progress" role="status" data-testid="find-progress">
      {/* Without a value a <progress> is indeterminate: before the first candidate the total is not known. */}
      <progress max={total || undefined} value={total ? done : undefined} aria-label="Candidates tried" />
      <span>{total ? `${done} of ${total} candidates tried` : 'Reading the picture…'}</span>
    </div>
  );
}

function Similarity({ result }: { result: FoundPicture }) {
  return (
    <p className="similarity" data-testid="find-similarity">
      <span title="Peak signal-to-noise ratio of the library’s image against your picture as find prepared it (its centre square at the model’s size): higher is closer">
        PSNR <strong>{result.psnr.toFixed(1)} dB</strong>
      </span>
      {' · '}
      <span title="Structural similarity: 1 is the same picture">
        SSIM <strong>{result.ssim.toFixed(3)}</strong>
      </span>
      <span className="muted small">
        {' '}
        — the closest of {result.candidates.tried} candidates, {(result.ms / 1000).toFixed(1)} s
      </span>
    </p>
  );
}

interface FoundKeyProps {
  found: string;
  shown: string;
  ready: boolean;
  onShowFound: (key: string) => void;
  onNotice: (message: string) => void;
}

/** The found key, whatever is on show: copy it, share it, or put it back on show. */
function FoundKey({ found, shown, ready, onShowFound, onNotice }: FoundKeyProps) {
  return (
    <div className="found-key">
      <label htmlFor="found-key">Its key</label>
      <input
        id="found-key"
        readOnly
        value={found}
        spellCheck={false}
        onFocus={(event) => event.currentTarget.select()}
        data-testid="found-key"
      />
      <div className="row wrap">
        <button type="button" onClick={async () => onNotice(await copyKey(found))}>
          Copy the found key
        </button>
        <button type="button" onClick={async () => onNotice(await copyLink(found))}>
          Copy its link
        </button>
        {shown !== found && (
          <button type="button" onClick={() => onShowFound(found)} disabled={!ready}>
            Back to the found key
          </button>
        )}
      </div>
    </div>
  );
}

interface ButFormProps {
  found: string;
  but: string;
  ready: boolean;
  onBut: (text: string) => void;
  onRekey: (key: string, prompt: string) => void;
}

/** "This picture, but …": the found key's starting noise and steps under a prompt, as a key of its own. */
function ButForm({ found, but, ready, onBut, onRekey }: ButFormProps) {
  return (
    <form
      className="but"
      onSubmit={(event) => {
        event.preventDefault();
        onRekey(found, but);
      }}
    >
      <label htmlFor="but">This picture, but …</label>
      <div className="row">
        <input
          id="but"
          value={but}
          onChange={(event) => onBut(event.target.value)}
          placeholder="a prompt: a cat, a red heart, a rainy cloud…"
          maxLength={500}
        />
        <button type="submit" disabled={!ready}>
          Redraw
        </button>
      </div>
      <p className="muted small">
        The same start (the found key’s noise and steps) drawn toward your prompt: a new key, on show above.
      </p>
    </form>
  );
}
