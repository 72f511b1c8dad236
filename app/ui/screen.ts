import type { ImportResult, ModelInfo } from './api.ts';

/**
 * The page's state as one value, changed only by `screen(state, action)`. Each field says what the reader sees, and
 * the rules that keep them agreeing live here: the key box, the character count and the buttons follow the image on
 * show, not a key still being rendered; the search box belongs to the search whose result is on show.
 */

/** The search form's fields. */
export interface Query {
  prompt: string;
  /** Candidates to render and rank ("try N, keep the best"); 1 = the first. */
  bestOf: number;
  /** A negative prompt ("avoid: …"), kept in the key as guidance's unconditional branch; '' for none. */
  avoid: string;
}

export interface Shown {
  key: string;
  url: string;
}

/** An action under way long enough to show progress (short ones never set this: no flicker). */
export interface Pending {
  label: string;
  since: number;
  /** The key being rendered, when known (the progress bar watches its steps). */
  watch?: string;
}

/** How a key came to be opened: a search keeps its query, browsing keeps the last one, anything else clears it. */
export type Via = 'search' | 'browse' | 'walk' | 'import' | 'open' | 'random';

/** A walk on show: its frames' keys and the frame on show; `playing` until it ends or is stopped. */
export interface Walk {
  keys: string[];
  at: number;
  playing: boolean;
}

export interface Screen {
  model: ModelInfo | null;
  stride: string;
  shown: Shown | null;
  pending: Pending | null;
  /** The key box: the key on show, or text the reader is typing or pasting. */
  draft: string;
  error: string | null;
  notice: string | null;
  verification: ImportResult | null;
  query: Query;
  /** The search whose result (or a neighbour of it) is on show: "Search again" repeats it. */
  lastQuery: Query | null;
  /** The key the latest search found (a place to walk to), kept until another search. */
  found: string | null;
  /** The walk panel's target text, and the walk under way or stopped on a frame. */
  walkTo: string;
  walk: Walk | null;
}

export type Action =
  | { type: 'model'; model: ModelInfo }
  | { type: 'stride'; stride: string }
  | { type: 'pending'; pending: Pending }
  | { type: 'started' }
  | { type: 'shown'; key: string; url: string; via: Via; query?: Query; verification?: ImportResult; frame?: number }
  | { type: 'walk'; keys: string[] }
  | { type: 'walkStopped' }
  | { type: 'walkTo'; text: string }
  | { type: 'failed'; message: string }
  | { type: 'draft'; text: string }
  | { type: 'query'; query: Query }
  | { type: 'notice'; message: string | null };

export const EMPTY_QUERY: Query = { prompt: '', bestOf: 1, avoid: '' };

export const initialScreen: Screen = {
  model: null,
  stride: '',
  shown: null,
  pending: null,
  draft: '',
  error: null,
  notice: null,
  verification: null,
  query: EMPTY_QUERY,
  lastQuery: null,
  found: null,
  walkTo: '',
  walk: null,
};

export function screen(state: Screen, action: Action): Screen {
  switch (action.type) {
    case 'model':
      return { ...state, model: action.model, stride: state.stride || action.model.strides[0]?.name || '' };
    case 'stride':
      return { ...state, stride: action.stride };
    case 'started':
      return { ...state, error: null, notice: null };
    case 'pending':
      return { ...state, pending: action.pending };
    case 'shown': {
      const keepsSearch = action.via === 'search' || action.via === 'browse' || action.via === 'walk';
      const walk =
        action.via === 'walk' && state.walk && action.frame !== undefined
          ? {
              ...state.walk,
              at: action.frame,
              playing: state.walk.playing && action.frame < state.walk.keys.length - 1,
            }
          : null;
      const lastQuery =
        action.via === 'search' ? (action.query ?? state.lastQuery) : keepsSearch ? state.lastQuery : null;
      return {
        ...state,
        shown: { key: action.key, url: action.url },
        pending: null,
        draft: action.key,
        error: null,
        verification: action.verification ?? null,
        query: keepsSearch ? state.query : { ...EMPTY_QUERY, bestOf: state.query.bestOf },
        lastQuery,
        found: action.via === 'search' ? action.key : state.found,
        walk,
      };
    }
    case 'walk':
      return { ...state, walk: { keys: action.keys, at: -1, playing: true } };
    case 'walkStopped':
      return state.walk ? { ...state, walk: { ...state.walk, playing: false }, pending: null } : state;
    case 'walkTo':
      return { ...state, walkTo: action.text };
    case 'failed':
      // The image on show and its key stay; the box keeps what the reader typed, to be corrected.
      return {
        ...state,
        pending: null,
        error: action.message,
        notice: null,
        walk: state.walk && { ...state.walk, playing: false },
      };
    case 'draft':
      return { ...state, draft: action.text };
    case 'query':
      return { ...state, query: action.query };
    case 'notice':
      return { ...state, notice: action.message };
  }
}

/** What the buttons may do: browsing and sharing need an image on show and nothing under way. */
export function abilities(state: Screen): { browse: boolean; share: boolean } {
  const browse = state.shown !== null && state.stride !== '';
  const still = state.pending === null && !state.walk?.playing;
  return { browse, share: state.shown !== null && still };
}

/** The line under the key box: it describes what the box holds. */
export function characterCount(state: Screen): string {
  const typed = state.draft.trim();
  if (state.shown && typed === state.shown.key) return `${typed.length.toLocaleString('en')} characters`;
  if (typed) return `${typed.length.toLocaleString('en')} characters typed (not opened yet)`;
  return '\u00a0';
}
