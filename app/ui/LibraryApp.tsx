'use client';

import { type DragEvent, useCallback, useEffect, useReducer, useRef, useState } from 'react';
import {
  ApiError,
  fetchModel,
  findPicture,
  type ImportResult,
  importFile,
  randomKey,
  rekeyKey,
  searchKey,
  walkKeys,
} from './api.ts';
import { dropTarget } from './dropped-file.ts';
import { FindChooser } from './FindChooser.tsx';
import { FindPanel } from './FindPanel.tsx';
import { ImageStore } from './image-store.ts';
import { KeyPanel } from './KeyPanel.tsx';
import { Progress } from './Progress.tsx';
import { SearchForm } from './SearchForm.tsx';
import { abilities, characterCount, initialScreen, type PictureFound, type Query, screen, type Via } from './screen.ts';
import { keyFromLocation, shareUrl } from './share.ts';
import { Verification } from './Verification.tsx';
import { WalkPanel } from './WalkPanel.tsx';

const PROGRESS_DELAY_MS = 120;
const WALK_FRAME_MS = 300;

function messageOf(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === 'bad_key')
      return /is not a key/.test(err.message) ? err.message : `Not a valid key: ${err.message}`;
    if (err.status === 429) return `The library is busy right now (${err.message}). Try again in a moment.`;
    if (err.status === 503) return `The model is not available: ${err.message}`;
    return err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  return el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName);
}

/** What an action found: a key, and how it came (search, import and find carry what the screen keeps of them). */
interface Found {
  key: string;
  via: Via;
  query?: Query;
  verification?: ImportResult;
  find?: PictureFound;
}

export function LibraryApp() {
  const store = useRef<ImageStore | null>(null);
  store.current ??= new ImageStore();
  const [state, dispatch] = useReducer(screen, initialScreen);
  // Small images (the 64×64 emoji model) are scaled up with hard pixel edges; SD-sized ones are shown as they are.
  const [pixelated, setPixelated] = useState(true);
  const [dragging, setDragging] = useState(false);

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
  const startBusy = useCallback((label: string, watch?: string) => {
    clearTimeout(busyTimer.current);
    const main = mainRef.current;
    // One action can pass through several phases (find a key, then render it): the clock runs from its start.
    if (main?.dataset.pending !== 'true') busySince.current = performance.now();
    if (main) main.dataset.pending = 'true';
    const since = busySince.current;
    const wait = Math.max(0, PROGRESS_DELAY_MS - (performance.now() - since));
    busyTimer.current = setTimeout(() => dispatch({ type: 'pending', pending: { label, since, watch } }), wait);
  }, []);
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
    [stopBusy],
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
    [startBusy, stopBusy, fail],
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
    [show, startBusy, fail],
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
    [act],
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
    [startBusy, stopBusy, fail],
  );
  const stopWalk = useCallback(() => {
    ++generation.current;
    stopBusy();
    dispatch({ type: 'walkStopped' });
  }, [stopBusy]);

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
    [act],
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
    [act],
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

  // First load: the model's description, then the key named by the address, or a random one.
  useEffect(() => {
    fetchModel()
      .then((model) => dispatch({ type: 'model', model }))
      .catch((err) => dispatch({ type: 'failed', message: messageOf(err) }));
    const fromAddress = keyFromLocation(location.search, location.hash);
    if (fromAddress) void open(fromAddress, 'Opening the shared book…');
    else void goRandom();
    // open and goRandom never change identity, so this runs once, on mount; later address changes are our own.
  }, [open, goRandom]);

  // Warm the neighbours of whatever is on show, once it is on show: warming earlier would compete with the
  // image being waited for.
  const onShow = state.shown?.key ?? '';
  useEffect(() => {
    if (!onShow || !stride) return;
    void (store.current as ImageStore).prefetch(onShow, stride, () => target.current === onShow);
  }, [onShow, stride]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (isTyping(event.target) || event.altKey || event.ctrlKey || event.metaKey) return;
      if (event.key === 'ArrowRight') void goNeighbour(1);
      else if (event.key === 'ArrowLeft') void goNeighbour(-1);
      else if (event.key === 'r' || event.key === 'R') void goRandom();
      else return;
      event.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [goNeighbour, goRandom]);

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    const file = event.dataTransfer.files[0];
    const text = event.dataTransfer.getData('text/plain').trim();
    if (file) void goDropped(file);
    else if (text) void open(text, 'Opening the dropped key…');
  };

  const { model, shown, pending: busy, error, notice, verification } = state;
  const can = abilities(state);

  return (
    <main
      ref={mainRef}
      data-pending="false"
      className={`library${dragging ? ' dragging' : ''}`}
      onDragOver={(event) => {
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={(event) => {
        if (event.currentTarget === event.target) setDragging(false);
      }}
      onDrop={onDrop}
    >
      <header className="masthead">
        <h1>The Library of Babel</h1>
        <p className="motto">Every key names exactly one image. Every image has its key.</p>
        <p className="model" data-testid="model-name">
          {model ? (
            <>
              Shelved by <strong>{model.name}</strong> <span className="muted">v{model.version}</span>
            </>
          ) : (
            'Opening the catalogue…'
          )}
        </p>
      </header>

      <section className="reader">
        <figure className="plate" aria-busy={Boolean(busy)}>
          <div className={`frame${pixelated ? ' pixelated' : ''}`}>
            {shown ? (
              // biome-ignore lint/performance/noImgElement: a blob: URL of a PNG we render ourselves
              <img
                src={shown.url}
                alt="Rendered from the key below"
                data-testid="image"
                onLoad={(event) => setPixelated(event.currentTarget.naturalWidth <= 128)}
              />
            ) : (
              <div className="blank" aria-hidden="true" />
            )}
            {busy && <Progress label={busy.label} since={busy.since} watch={busy.watch} />}
          </div>
          <nav className="turns" aria-label="Browse">
            <button type="button" onClick={() => goNeighbour(-1)} disabled={!can.browse} title="Previous (←)">
              ← Prev
            </button>
            <button type="button" onClick={goRandom} title="Random (R)">
              Random
            </button>
            <button type="button" onClick={() => goNeighbour(1)} disabled={!can.browse} title="Next (→)">
              Next →
            </button>
          </nav>
          <label className="stride">
            <span>Step size</span>
            <select
              value={stride}
              onChange={(event) => dispatch({ type: 'stride', stride: event.target.value })}
              data-testid="stride"
            >
              {(model?.strides ?? []).map((s) => (
                <option key={s.name} value={s.name}>
                  {s.label}
                </option>
              ))}
            </select>
          </label>
          {error && (
            <p className="error" role="alert" data-testid="error">
              {error}
            </p>
          )}
          {notice && !error && (
            <p className="notice" role="status" data-testid="notice">
              {notice}
            </p>
          )}
          {verification && <Verification result={verification} />}
          {state.find && (
            <FindPanel
              find={state.find}
              shown={shown?.key ?? ''}
              ready={!busy}
              onBut={(text) => dispatch({ type: 'but', text })}
              onRekey={(found, prompt) => void goRekey(found, prompt)}
              onShowFound={(found) => void goFound(found)}
              onNotice={(message) => dispatch({ type: 'notice', message })}
            />
          )}
        </figure>

        <div className="desk">
          <SearchForm
            query={state.query}
            lastQuery={state.lastQuery}
            bestOfMax={model?.bestOfMax ?? 1}
            onChange={(query) => dispatch({ type: 'query', query })}
            onSearch={(query) => void goSearch(query)}
          />

          <FindChooser onPicture={(file) => void goFind(file)} />

          <KeyPanel
            current={shown?.key ?? ''}
            draft={state.draft}
            count={characterCount(state)}
            onDraft={(text) => dispatch({ type: 'draft', text })}
            onOpen={(text) => open(text, 'Opening the key…')}
            ready={can.share}
            png={async () => (await (store.current as ImageStore).image(shownKey.current)).blob}
            onNotice={(message) => dispatch({ type: 'notice', message })}
            onError={(err) => dispatch({ type: 'failed', message: messageOf(err) })}
          />

          <WalkPanel
            target={state.walkTo}
            found={state.found}
            walk={state.walk}
            ready={Boolean(shown) && !busy}
            onTarget={(text) => dispatch({ type: 'walkTo', text })}
            onWalk={(to, frames) => void goWalk(to, frames)}
            onStop={stopWalk}
          />

          <div className="import">
            <label htmlFor="import-file">Bring a book back</label>
            <p className="muted small">
              Drop a <code>.gen5</code> file or one of our PNGs (they carry their key) anywhere on the page, or choose
              one: its image is regenerated and compared bit for bit. A key can be pasted into the box above, or dropped
              here too.
            </p>
            <input
              id="import-file"
              type="file"
              accept=".gen5,.png,image/png,application/octet-stream"
              onChange={(event) => {
                const file = event.target.files?.[0];
                if (file) void goImport(file);
                event.target.value = '';
              }}
            />
          </div>
        </div>
      </section>

      <footer className="colophon">
        <p>
          ← / → turn the pages, <kbd>R</kbd> opens a random book. Keys are the images: keep the key, keep the image.
        </p>
      </footer>
    </main>
  );
}
