'use client';

import type { Walk } from './screen.ts';

const FRAME_CHOICES = [8, 16, 32];

export interface WalkPanelProps {
  /** The key to walk to, as typed or pasted. */
  target: string;
  /** The key the latest search found, offered as a target. */
  found: string | null;
  walk: Walk | null;
  /** False while nothing is on show to walk from. */
  ready: boolean;
  onTarget: (text: string) => void;
  onWalk: (to: string, frames: number) => void;
  onStop: () => void;
}

/** "Walk to…": from the key on show to another, every frame a key of its own; stop on any frame to keep it. */
export function WalkPanel({ target, found, walk, ready, onTarget, onWalk, onStop }: WalkPanelProps) {
  const to = target.trim();
  return (
    <form
      className="walk"
      onSubmit={(event) => {
        event.preventDefault();
        const frames = Number(new FormData(event.currentTarget).get('frames'));
        if (to) onWalk(to, frames);
      }}
    >
      <label htmlFor="walk-to">Walk to…</label>
      <p className="muted small">
        Every step between two keys is a key too. Paste a key
        {found ? ', or walk to the latest search result' : ''}; stop on any frame to keep and share it.
      </p>
      <textarea
        id="walk-to"
        value={target}
        onChange={(event) => onTarget(event.target.value)}
        rows={2}
        spellCheck={false}
        data-testid="walk-to"
      />
      <div className="row wrap">
        {found && (
          <button type="button" className="link" onClick={() => onTarget(found)}>
            the latest search result
          </button>
        )}
        <select name="frames" defaultValue={FRAME_CHOICES[0]} aria-label="Frames" data-testid="walk-frames">
          {FRAME_CHOICES.map((n) => (
            <option key={n} value={n}>
              {n} frames
            </option>
          ))}
        </select>
        {/* Two keys, two nodes: were the Stop node reused as the submit button, the browser's default action for
            the click, which runs after React's re-render, would submit the form and start another walk. */}
        {walk?.playing ? (
          <button key="stop" type="button" onClick={onStop}>
            Stop here
          </button>
        ) : (
          <button key="walk" type="submit" disabled={!ready || !to}>
            Walk
          </button>
        )}
      </div>
      {walk && (
        <p className="muted small" role="status" data-testid="walk-status">
          {walk.at < 0
            ? 'Finding the way…'
            : `Frame ${walk.at + 1} of ${walk.keys.length}${walk.playing ? '' : ' — this frame’s key is in the key box'}`}
        </p>
      )}
    </form>
  );
}
