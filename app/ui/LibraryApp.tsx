'use client';

import { type DragEvent, useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, fetchModel, type ImportResult, importFile, type ModelInfo, randomKey, searchKey } from './api.ts';
import { ImageStore } from './image-store.ts';
import { KeyPanel } from './KeyPanel.tsx';
import { Progress } from './Progress.tsx';
import { SearchForm } from './SearchForm.tsx';
import { keyFromLocation, shareUrl } from './share.ts';
import { Verification } from './Verification.tsx';

type Busy = null | { label: string; since: number; watch?: string };

const PROGRESS_DELAY_MS = 120;

function messageOf(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === 'bad_key') return `Not a valid key: ${err.message}`;
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

export function LibraryApp() {
  const store = useRef<ImageStore | null>(null);
  store.current ??= new ImageStore();
  const [model, setModel] = useState<ModelInfo | null>(null);
  const [key, setKey] = useState('');
  const [draft, setDraft] = useState('');
  const [imageUrl, setImageUrl] = useState<string | null>(null);
  const [shownKey, setShownKey] = useState('');
  const [busy, setBusy] = useState<Busy>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [stride, setStride] = useState('');
  const [verification, setVerification] = useState<ImportResult | null>(null);
  const [dragging, setDragging] = useState(false);
  // Small images (the 64×64 emoji model) are scaled up with hard pixel edges; SD-sized ones are shown as they are.
  const [pixelated, setPixelated] = useState(true);
  const current = useRef('');

  // Only the newest action may change the page: a slow render of an old key must not replace a newer one.
  const generation = useRef(0);

  // The key whose image is on show; a key that fails (a typo) must not replace it.
  const shown = useRef('');

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
    busyTimer.current = setTimeout(() => setBusy({ label, since, watch }), wait);
  }, []);
  const stopBusy = useCallback(() => {
    clearTimeout(busyTimer.current);
    if (mainRef.current) mainRef.current.dataset.pending = 'false';
    setBusy(null);
  }, []);

  const show = useCallback(
    async (nextKey: string, label: string, keep: { verification?: ImportResult } = {}) => {
      const mine = ++generation.current;
      const images = store.current as ImageStore;
      const display = (url: string) => {
        shown.current = nextKey;
        setShownKey(nextKey);
        history.replaceState(null, '', shareUrl('', nextKey));
        setImageUrl(url);
        stopBusy();
      };
      setError(null);
      setNotice(null);
      setVerification(keep.verification ?? null);
      setKey(nextKey);
      setDraft(nextKey);
      current.current = nextKey;
      // Already in memory (prefetched): everything changes in this one update, with no await in between.
      const ready = images.peek(nextKey);
      if (ready) return display(ready.url);
      startBusy(label, nextKey);
      try {
        const stored = await images.image(nextKey);
        if (mine === generation.current) display(stored.url);
      } catch (err) {
        if (mine !== generation.current) return;
        stopBusy();
        setError(messageOf(err));
        if (err instanceof ApiError && err.status === 400 && shown.current) {
          // Back to the last good key and its image; the bad text stays in the box to be corrected.
          setKey(shown.current);
          current.current = shown.current;
        } else {
          setImageUrl(null);
        }
      }
    },
    [startBusy, stopBusy],
  );

  // Runs an action that first has to find a key (random, search, neighbour, import), with progress and errors.
  const act = useCallback(
    async (label: string, find: () => Promise<string | { key: string; verification: ImportResult }>) => {
      const mine = ++generation.current;
      setError(null);
      startBusy(label);
      try {
        const found = await find();
        if (mine !== generation.current) return;
        if (typeof found === 'string') await show(found, label);
        else await show(found.key, label, { verification: found.verification });
      } catch (err) {
        if (mine !== generation.current) return;
        stopBusy();
        setError(messageOf(err));
      }
    },
    [show, startBusy, stopBusy],
  );

  const goRandom = useCallback(() => act('Finding a random book…', randomKey), [act]);
  const goNeighbour = useCallback(
    (by: number) => {
      if (!current.current || !stride) return;
      const from = current.current;
      return act(by > 0 ? 'Turning to the next page…' : 'Turning back a page…', () =>
        (store.current as ImageStore).neighbour(from, by, stride),
      );
    },
    [act, stride],
  );
  const goSearch = useCallback(
    (text: string, avoid?: string) => {
      const trimmed = text.trim();
      if (!trimmed) {
        setError('Type what you are looking for first.');
        return;
      }
      return act(`Searching the shelves for “${trimmed}”…`, () => searchKey(trimmed, undefined, avoid));
    },
    [act],
  );
  const goImport = useCallback(
    (file: Blob) =>
      act('Reading the file and regenerating its image…', async () => {
        const result = await importFile(file);
        return { key: result.key, verification: result };
      }),
    [act],
  );

  // First load: the model's description, then the key named by the address, or a random one.
  useEffect(() => {
    fetchModel()
      .then((info) => {
        setModel(info);
        setStride((s) => s || info.strides[0]?.name || '');
      })
      .catch((err) => setError(messageOf(err)));
    const fromAddress = keyFromLocation(location.search, location.hash);
    if (fromAddress) void show(fromAddress, 'Opening the shared book…');
    else void goRandom();
    // show and goRandom never change identity, so this runs once, on mount; later address changes are our own.
  }, [show, goRandom]);

  // Warm the neighbours of whatever is on show, once it is on show: warming earlier would compete with the
  // image being waited for.
  useEffect(() => {
    if (!shownKey || !stride) return;
    void (store.current as ImageStore).prefetch(shownKey, stride, () => current.current === shownKey);
  }, [shownKey, stride]);

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
    if (file) void goImport(file);
    else if (text) void show(text, 'Opening the dropped key…');
  };

  const ready = Boolean(key) && !busy;

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
            {imageUrl ? (
              // biome-ignore lint/performance/noImgElement: a blob: URL of a PNG we render ourselves
              <img
                src={imageUrl}
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
            <button type="button" onClick={() => goNeighbour(-1)} disabled={!key || !stride} title="Previous (←)">
              ← Prev
            </button>
            <button type="button" onClick={goRandom} title="Random (R)">
              Random
            </button>
            <button type="button" onClick={() => goNeighbour(1)} disabled={!key || !stride} title="Next (→)">
              Next →
            </button>
          </nav>
          <label className="stride">
            <span>Step size</span>
            <select value={stride} onChange={(event) => setStride(event.target.value)} data-testid="stride">
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
        </figure>

        <div className="desk">
          <SearchForm onSearch={(text, avoid) => void goSearch(text, avoid)} />

          <KeyPanel
            current={key}
            draft={draft}
            onDraft={setDraft}
            onOpen={(text) => show(text, 'Opening the key…')}
            ready={ready}
            png={async () => (await (store.current as ImageStore).image(key)).blob}
            onNotice={setNotice}
            onError={(err) => setError(messageOf(err))}
          />

          <div className="import">
            <label htmlFor="import-file">Bring a book back</label>
            <p className="muted small">
              Drop a <code>.gen5</code> file or one of our PNGs anywhere on the page, or choose one: its image is
              regenerated and compared bit for bit. A key can be pasted into the box above, or dropped here too.
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
