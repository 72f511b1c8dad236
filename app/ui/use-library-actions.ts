'use client';

import { type Dispatch, useCallback, useEffect, useRef } from 'react';
import { findPicture, type ImportResult, importFile, randomKey, rekeyKey, searchKey, walkKeys } from './api.ts';
import { dropTarget } from './dropped-file.ts';
import { ImageStore } from './image-store.ts';
import { messageOf } from './messages.ts';
import type { Action, PictureFound, Query, Screen, Via } from './screen.ts';
import { shareUrl } from './share.ts';

const PROGRESS_DELAY_MS = 120;
const WALK_FRAME_MS = 300;

/** What an action found: a key, and how it came (search, import and find carry what the screen keeps of them). */
interface Found {
  key: string;
  via: Via;
  query?: Query;
  verification?: ImportResult;
  find?: PictureFound;
}

/**
 * The page's actions (random, neighbours, search, walk, import, find, rekey, open): each finds a key, renders it and
 * puts it on show through the screen reducer, with delayed progress, errors, and only the newest action winning.
 * Also warms the neighbours of the key on show. `mainRef` goes on <main>: its data-pending says at once whether an
 * action is under way.
 */
export function useLibraryActions(state: Screen, dispatch: Dispatch<Action>) {
  const store = useRef<ImageStore | null>(null);
  store.current ??= new ImageStore();

  // Only the newest action may change the page: a slow render of an old key must not replace a newer one.
  const generation = useRef(0);
  // The key being opened or on show: quick repeated Next presses step on from the newest one.
  const target = useRef('');
  // The key on show, for callbacks that must not change identity with it.
  const shownKey = useRef('');
  shownKey.current = state.shown?.key ?? '';

  // Progress appears only for actions that take a noticeable time: a prefetched page turn must not pay for two
  // renders of the page (one with the progress overlay, one without). `data-pending` on <main> says at once,
  // without a render, whether an action is under way (the browser tests wait on it).
  const mainRef = useRef<HTMLElement>(null);
  const busyTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const busySince = useRef(0);
  const startBusy = useCallback(
    (label: string, watch?: string) => {
      clearTimeout(busyTimer.current);
      const main = mainRef.current;
      // One action can pass through several phases (find a key, then render it): the clock runs from its start.
      if (main?.dataset.pending !== 'true') busySince.current = performance.now();
      if (main) main.dataset.pending = 'true';
      const since = busySince.current;
      const wait = Math.max(0, PROGRESS_DELAY_MS - (performance.now() - since));
      busyTimer.current = setTimeout(() => dispatch({ type: 'pending', pending: { label, since, watch } }), wait);
    },
    [dispatch],
  );
  const stopBusy = useCallback(() => {
    clearTimeout(busyTimer.current);
    if (mainRef.current) mainRef.current.dataset.pending = 'false';
  }, []);

  const fail = useCallback(
    (err: unknown, context?: string) => {
      stopBusy();
      const message = messageOf(err);
      dispatch({ type: 'failed', message: context ? `${context}: ${message}` : message });
    },
    [stopBusy, dispatch],
  );

  /** Renders a found key and puts it on show; the key box and buttons change together with the image. */
  const show = useCallback(
    async (found: Found, label: string, mine = ++generation.current) => {
      const images = store.current as ImageStore;
      const display = (url: string) => {
        stopBusy();
        history.replaceState(null, '', shareUrl('', found.key));
        dispatch({ type: 'shown', url, ...found });
      };
      target.current = found.key;
      // Already in memory (prefetched): everything changes in this one update, with no await in between.
      const ready = images.peek(found.key);
      if (ready) return display(ready.url);
      startBusy(label, found.key);
      try {
        const stored = await images.image(found.key);
        if (mine === generation.current) display(stored.url);
      } catch (err) {
        if (mine !== generation.current) return;
        target.current = shownKey.current;
        fail(err);
      }
    },
    [startBusy, stopBusy, fail, dispatch],
  );
  // Runs an action that first has to find a key (random, search, neighbour, import, find), with progress and errors.
  // `current()` tells a long action whether it is still the newest, so it can stop early when it is not.
  const act = useCallback(
    async (label: string, find: (current: () => boolean) => Promise<Found>, context?: string) => {
      const mine = ++generation.current;
      dispatch({ type: 'started' });
      startBusy(label);
      try {
        const found = await find(() => mine === generation.current);
        if (mine === generation.current) await show(found, label, mine);
      } catch (err) {
        if (mine === generation.current) fail(err, context);
      }
    },
    [show, startBusy, fail, dispatch],
  );

  const open = useCallback(
    (text: string, label: string) => act(label, async () => ({ key: text, via: 'open' })),
    [act],
  );
  const goRandom = useCallback(
    () => act('Finding a random book…', async () => ({ key: await randomKey(), via: 'random' })),
    [act],
  );
  const stride = state.stride;
  const goNeighbour = useCallback(
    (by: number) => {
      const from = target.current;
      if (!from || !shownKey.current || !stride) return;
      return act(by > 0 ? 'Turning to the next page…' : 'Turning back a page…', async () => ({
        key: await (store.current as ImageStore).neighbour(from, by, stride),
        via: 'browse',
      }));
    },
    [act, stride],
  );
  const goSearch = useCallback(
    (query: Query) => {
      const prompt = query.prompt.trim();
      if (!prompt) {
        dispatch({ type: 'failed', message: 'Type what you are looking for first.' });
        return;
      }
      const tries = query.bestOf > 1 ? ` (trying ${query.bestOf}, keeping the best)` : '';
      return act(`Searching the shelves for “${prompt}”${tries}…`, async () => ({
        key: await searchKey(prompt, query.bestOf, query.avoid.trim() || undefined, query.guidance ?? undefined),
        via: 'search',
        query: { ...query, prompt },
      }));
    },
    [act, dispatch],
  );
  // A walk shows its frames one after another, each as soon as it is rendered and at least WALK_FRAME_MS apart;
  // any other action (or Stop) takes a new generation, which ends the loop on the frame on show.
  const goWalk = useCallback(
    async (to: string, frames: number) => {
      const from = shownKey.current;
      if (!from) return;
      const mine = ++generation.current;
      const images = store.current as ImageStore;
      dispatch({ type: 'started' });
      startBusy('Finding the way…');
      try {
        const keys = await walkKeys(from, to, frames);
        if (mine !== generation.current) return;
        dispatch({ type: 'walk', keys });
        for (const [frame, key] of keys.entries()) {
          const started = performance.now();
          const stored = await images.image(key);
          if (mine !== generation.current) return;
          clearTimeout(busyTimer.current);
          target.current = key;
          history.replaceState(null, '', shareUrl('', key));
          dispatch({ type: 'shown', key, url: stored.url, via: 'walk', frame });
          await new Promise((resolve) =>
            setTimeout(resolve, Math.max(0, WALK_FRAME_MS - (performance.now() - started))),
          );
        }
        if (mine === generation.current) stopBusy();
      } catch (err) {
        if (mine === generation.current) fail(err);
      }
    },
    [startBusy, stopBusy, fail, dispatch],
  );
  const stopWalk = useCallback(() => {
    ++generation.current;
    stopBusy();
    dispatch({ type: 'walkStopped' });
  }, [stopBusy, dispatch]);

  const goImport = useCallback(
    (file: Blob & { name?: string }) =>
      act(
        'Reading the file and regenerating its image…',
        async () => {
          const result = await importFile(file);
          return { key: result.key, via: 'import', verification: result };
        },
        `Could not import ${file.name ? `“${file.name}”` : 'this file'}`,
      ),
    [act],
  );

  // Find: the picture is on the panel at once, and how many candidates have been tried as the server tries them.
  // The library's image of the found key is fetched before anything changes, so the panel and the image on show
  // change together.
  const goFind = useCallback(
    (file: Blob & { name?: string }) => {
      const picture = { name: file.name || 'the picture', blob: file };
      return act(
        'Looking for your picture in the library…',
        async (current) => {
          dispatch({ type: 'finding', picture });
          const abort = new AbortController();
          const result = await findPicture(
            file,
            (progress) => {
              if (current()) dispatch({ type: 'findProgress', ...progress });
              // Another action took over: the server stops searching (it hears the request end).
              else abort.abort();
            },
            abort.signal,
          );
          const { blob } = await (store.current as ImageStore).image(result.key);
          return { key: result.key, via: 'find', find: { picture, result, image: blob } };
        },
        `Could not look for “${picture.name}”`,
      );
    },
    [act, dispatch],
  );
  const goRekey = useCallback(
    (found: string, prompt: string) => {
      const text = prompt.trim();
      if (!text) {
        dispatch({ type: 'failed', message: 'Type how the picture should change first (a prompt).' });
        return;
      }
      return act(`Redrawing your picture toward “${text}”…`, async () => ({
        key: await rekeyKey(found, text),
        via: 'rekey',
      }));
    },
    [act, dispatch],
  );
  const goFound = useCallback(
    (found: string) => act('Opening the found key…', async () => ({ key: found, via: 'find' })),
    [act],
  );
  // A drop has one target for every kind of file: what it is decides where it goes (app/ui/dropped-file.ts).
  const goDropped = useCallback(
    async (file: File) => {
      const bytes = new Uint8Array(await file.arrayBuffer());
      return dropTarget(bytes, file.name) === 'import' ? goImport(file) : goFind(file);
    },
    [goImport, goFind],
  );

  // Warm the neighbours of whatever is on show, once it is on show: warming earlier would compete with the
  // image being waited for.
  const onShow = state.shown?.key ?? '';
  useEffect(() => {
    if (!onShow || !stride) return;
    void (store.current as ImageStore).prefetch(onShow, stride, () => target.current === onShow);
  }, [onShow, stride]);

  return {
    mainRef,
    /** The PNG of the key on show (for copying it). */
    shownPng: useCallback(async () => (await (store.current as ImageStore).image(shownKey.current)).blob, []),
    open,
    goRandom,
    goNeighbour,
    goSearch,
    goWalk,
    stopWalk,
    goImport,
    goFind,
    goRekey,
    goFound,
    goDropped,
  };
}
