'use client';

import { exportGen5 } from './api.ts';
import { copyKey, copyLink } from './clipboard.ts';
import { download, keyFileName } from './files.ts';
import { QUERY_KEY_MAX } from './share.ts';

export interface KeyPanelProps {
  /** The key on show (or being opened). */
  current: string;
  /** What the text area holds: the key, or text the reader is typing or pasting. */
  draft: string;
  /** The line under the box, describing what the box holds. */
  count: string;
  onDraft: (text: string) => void;
  onOpen: (key: string) => void;
  /** False while no image is on show or another is being made: copying and downloads then wait. */
  ready: boolean;
  /** The PNG on show, with its metadata. */
  png: () => Promise<Blob>;
  onNotice: (message: string) => void;
  onError: (err: unknown) => void;
}

/** The key in a text area, and what can be done with it: open, copy, share, download as .gen5 or PNG. */
export function KeyPanel({ current, draft, count, onDraft, onOpen, ready, png, onNotice, onError }: KeyPanelProps) {
  const typed = draft.trim();
  const save = (what: () => Promise<Blob>, extension: string) => async () => {
    try {
      download(await what(), `${await keyFileName(current)}.${extension}`);
    } catch (err) {
      onError(err);
    }
  };

  return (
    <div className="key">
      <label htmlFor="key">Key</label>
      <textarea
        id="key"
        value={draft}
        onChange={(event) => onDraft(event.target.value)}
        spellCheck={false}
        rows={5}
        // A key of SD size (~159,000 characters) is not read by eye; one unwrapped line lays out in about half the
        // time, which a prefetched page turn notices.
        wrap={draft.length > QUERY_KEY_MAX ? 'off' : 'soft'}
        data-testid="key"
      />
      <div className="row wrap">
        {typed !== current ? (
          <button type="button" onClick={() => onOpen(typed)} disabled={!typed}>
            Open this key
          </button>
        ) : (
          <button type="button" onClick={async () => onNotice(await copyKey(current))} disabled={!current || !ready}>
            Copy key
          </button>
        )}
        <button type="button" onClick={async () => onNotice(await copyLink(current))} disabled={!current || !ready}>
          Copy link
        </button>
        <button type="button" onClick={save(() => exportGen5(current), 'gen5')} disabled={!current || !ready}>
          Download .gen5
        </button>
        <button type="button" onClick={save(png, 'png')} disabled={!current || !ready}>
          Download PNG
        </button>
      </div>
      <p className="muted small" data-testid="key-count">
        {count}
      </p>
    </div>
  );
}
