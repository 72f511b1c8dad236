'use client';

import type { Query } from './screen.ts';

const BEST_OF_CHOICES = [1, 2, 4, 8, 16];
/** Scales offered for a key to keep (any of keyspace's GUIDANCE_SCALES would do; these span weak to strong). */
const GUIDANCE_CHOICES = [2, 4, 6, 8, 10, 12, 16];

export interface SearchFormProps {
  query: Query;
  /** The search whose result is on show, if any ("Search again" repeats it). */
  lastQuery: Query | null;
  /** The server's limit for best-of; 1 hides the choice (the model cannot rank images). */
  bestOfMax: number;
  onChange: (query: Query) => void;
  onSearch: (query: Query) => void;
}

/**
 * The search form, its fields held by the page (one Query), so a new field is one more property and one more input.
 * Every search draws a fresh seed on the server, so "search again" is the same query once more.
 */
export function SearchForm({ query, lastQuery, bestOfMax, onChange, onSearch }: SearchFormProps) {
  const choices = BEST_OF_CHOICES.filter((n) => n <= bestOfMax);
  return (
    <form
      className="search"
      onSubmit={(event) => {
        event.preventDefault();
        onSearch(query);
      }}
    >
      <label htmlFor="prompt">Look for</label>
      <div className="row">
        <input
          id="prompt"
          value={query.prompt}
          onChange={(event) => onChange({ ...query, prompt: event.target.value })}
          placeholder="a cat, a red heart, a rainy cloud…"
          maxLength={500}
        />
        <button type="submit">Search</button>
      </div>
      <div className="row avoid">
        <label htmlFor="avoid">avoid:</label>
        <input
          id="avoid"
          value={query.avoid}
          onChange={(event) => onChange({ ...query, avoid: event.target.value })}
          placeholder="optional: what the image should not be (kept in the key)"
          maxLength={500}
        />
      </div>
      <label className="best-of">
        <span>Guidance</span>
        <select
          value={query.guidance ?? ''}
          onChange={(event) =>
            onChange({ ...query, guidance: event.target.value === '' ? null : Number(event.target.value) })
          }
          data-testid="guidance"
        >
          <option value="">the model's</option>
          {GUIDANCE_CHOICES.map((g) => (
            <option key={g} value={g}>
              {g}, kept in the key
            </option>
          ))}
        </select>
      </label>
      {choices.length > 1 && (
        <label className="best-of">
          <span>Try</span>
          <select
            value={Math.min(query.bestOf, bestOfMax)}
            onChange={(event) => onChange({ ...query, bestOf: Number(event.target.value) })}
            data-testid="best-of"
          >
            {choices.map((n) => (
              <option key={n} value={n}>
                {n === 1 ? '1 (fastest)' : `${n}, keep the best`}
              </option>
            ))}
          </select>
        </label>
      )}
      {lastQuery && (
        <button type="button" className="link" onClick={() => onSearch(lastQuery)}>
          Search again for “{lastQuery.prompt}”{lastQuery.avoid.trim() && ` avoiding “${lastQuery.avoid.trim()}”`}
        </button>
      )}
    </form>
  );
}
