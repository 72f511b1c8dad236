'use client';

import { useState } from 'react';

/** The prompt box. Every search draws a fresh seed on the server, so "search again" is the same prompt once more. */
export function SearchForm({ onSearch }: { onSearch: (prompt: string) => void }) {
  const [prompt, setPrompt] = useState('');
  const [last, setLast] = useState<string | null>(null);
  const search = (text: string) => {
    setLast(text.trim() || last);
    onSearch(text);
  };
  return (
    <form
      className="search"
      onSubmit={(event) => {
        event.preventDefault();
        search(prompt);
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
      {last && (
        <button type="button" className="link" onClick={() => search(last)}>
          Search again for “{last}”
        </button>
      )}
    </form>
  );
}
