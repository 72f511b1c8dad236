'use client';

import { useState } from 'react';

/**
 * The prompt box, and an "avoid" box for a negative prompt (it goes into the key). Every search draws a fresh seed
 * on the server, so "search again" is the same prompt (and avoid text) once more.
 */
export function SearchForm({ onSearch }: { onSearch: (prompt: string, avoid: string) => void }) {
  const [prompt, setPrompt] = useState('');
  const [avoid, setAvoid] = useState('');
  const [last, setLast] = useState<{ prompt: string; avoid: string } | null>(null);
  const search = (text: string, without: string) => {
    if (text.trim()) setLast({ prompt: text.trim(), avoid: without.trim() });
    onSearch(text, without.trim());
  };
  return (
    <form
      className="search"
      onSubmit={(event) => {
        event.preventDefault();
        search(prompt, avoid);
      }}
    >
      <label htmlFor="prompt">Look for</label>
      <div className="row">
        <input
          id="prompt"
          value={prompt}
          onChange={(event) => setPrompt(event.target.value)}
          placeholder="a cat, a red heart, a rainy cloud…"
          maxLength={500}
        />
        <button type="submit">Search</button>
      </div>
      <div className="row avoid">
        <label htmlFor="avoid">avoid:</label>
        <input
          id="avoid"
          value={avoid}
          onChange={(event) => setAvoid(event.target.value)}
          placeholder="optional: what the image should not be (kept in the key)"
          maxLength={500}
        />
      </div>
      {last && (
        <button type="button" className="link" onClick={() => search(last.prompt, last.avoid)}>
          Search again for “{last.prompt}”{last.avoid && ` avoiding “${last.avoid}”`}
        </button>
      )}
    </form>
  );
}
