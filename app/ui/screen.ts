import type { FoundPicture, ImportResult, ModelInfo } from './api.ts';

/**
 * The page's state as one value, changed only by `screen(state, action)`. Each field says what the reader sees, and
 * the rules that keep them agreeing live here: the key box, the character count and the buttons follow the image on
 * show, not a key still being rendered; the search box belongs to the search whose result is on show, and "Found in
 * the library" to the find whose key (or a key made from it) is on show.
 */

/** The search form's fields. */
export interface Query {
  prompt: string;
  /** Candidates to render and rank ("try N, keep the best"); 1 = the first. */
  bestOf: number;
  /** A negative prompt ("avoid: …"), kept in the key as guidance's unconditional branch; '' for none. */
  avoid: string;
  /** A guidance scale the key keeps (the -cfg profile); null: the model's own, not kept. */
  guidance: number | null;
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

/**
 * How a key came to be opened: a search keeps its query and a find its result; browsing and walking keep both;
 * anything else clears them. `find` is the found key (put on show by the find or reopened from its panel), `rekey`
 * a key made from it ("this picture, but …").
 */
export type Via = 'search' | 'browse' | 'walk' | 'import' | 'open' | 'random' | 'find' | 'rekey';

/** A picture the reader gave to find: its file name (for messages) and its bytes (shown beside what was found). */
export interface Picture {
  name: string;
  blob: Blob;
}

/**
 * What a find answered: the result and the library's image of its key, kept here rather than in the page's image
 * memory because the panel shows it while the reader browses on (and that memory forgets old images).
 */
export interface PictureFound {
  picture: Picture;
  result: FoundPicture;
  image: Blob;
}

/**
 * "Found in the library": a find under way (`done` candidates tried of `total` planned; 0 of 0 before the first
 * answer), or its result with the "this picture, but …" box.
 */
export type Find =
  | { phase: 'finding'; picture: Picture; done: number; total: number }
  | ({ phase: 'found'; but: string } & PictureFound);

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
  find: Find | null;
}

export type Action =
  | { type: 'model'; model: ModelInfo }
  | { type: 'stride'; stride: string }
  | { type: 'pending'; pending: Pending }
  | { type: 'started' }
  | {
      type: 'shown';
      key: string;
      url: string;
      via: Via;
      query?: Query;
      verification?: ImportResult;
      frame?: number;
      find?: PictureFound;
    }
  | { type: 'finding'; picture: Picture }
  | { type: 'findProgress'; done: number; total: number }
  | { type: 'but'; text: string }
  | { type: 'walk'; keys: string[] }
  | { type: 'walkStopped' }
  | { type: 'walkTo'; text: string }
  | { type: 'failed'; message: string }
  | { type: 'draft'; text: string }
  | { type: 'query'; query: Query }
  | { type: 'notice'; message: string | null };

export const EMPTY_QUERY: Query = { prompt: '', bestOf: 1, avoid: '', guidance: null };

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
  find: null,
};

export function screen(state: Screen, action: Action): Screen {
  switch (action.type) {
    case 'model':
      return {
        ...state,
        model: action.model,
        stride: state.stride || action.model.strides[0]?.name || '',
        // The "Try" choice appears with the model's info, so no reader's choice can be overwritten here.
        query: state.model ? state.query : { ...state.query, bestOf: action.model.bestOfDefault },
      };
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
        query: keepsSearch
          ? state.query
          : { ...EMPTY_QUERY, bestOf: state.query.bestOf, guidance: state.query.guidance },
        lastQuery,
        found: action.via === 'search' ? action.key : state.found,
        walk,
        find: action.find ? { phase: 'found', but: '', ...action.find } : keptFind(state.find, action.via),
      };
    }
    case 'finding':
      return { ...state, find: { phase: 'finding', picture: action.picture, done: 0, total: 0 } };
    case 'findProgress':
      return state.find?.phase === 'finding'
        ? { ...state, find: { ...state.find, done: action.done, total: action.total } }
        : state;
    case 'but':
      return state.find?.phase === 'found' ? { ...state, find: { ...state.find, but: action.text } } : state;
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
        // A find that failed (or that another action cut short) leaves no panel waiting; a found one stays.
        find: state.find?.phase === 'finding' ? null : state.find,
      };
    case 'draft':
      return { ...state, draft: action.text };
    case 'query':
      return { ...state, query: action.query };
    case 'notice':
      return { ...state, notice: action.message };
  }
}

/**
 * The find panel stays while its key, a key made from it or a neighbour is on show. A find still under way when
 * another key arrives was cut short by that action: its panel goes.
 */
function keptFind(find: Find | null, via: Via): Find | null {
  const keeps = via === 'find' || via === 'rekey' || via === 'browse' || via === 'walk';
  return find?.phase === 'found' && keeps ? find : null;
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
