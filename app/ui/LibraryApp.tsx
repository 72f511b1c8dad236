'use client';

import { type DragEvent, useEffect, useReducer, useState } from 'react';
import { fetchModel } from './api.ts';
import { FindChooser } from './FindChooser.tsx';
import { FindPanel } from './FindPanel.tsx';
import { ImportChooser } from './ImportChooser.tsx';
import { KeyPanel } from './KeyPanel.tsx';
import { messageOf } from './messages.ts';
import { Progress } from './Progress.tsx';
import { SearchForm } from './SearchForm.tsx';
import { abilities, characterCount, initialScreen, screen } from './screen.ts';
import { keyFromLocation } from './share.ts';
import { useLibraryActions } from './use-library-actions.ts';
import { Verification } from './Verification.tsx';
import { WalkPanel } from './WalkPanel.tsx';

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  return el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName);
}

export function LibraryApp() {
  const [state, dispatch] = useReducer(screen, initialScreen);
  // Small images (the 64×64 emoji model) are scaled up with hard pixel edges; SD-sized ones are shown as they are.
  const [pixelated, setPixelated] = useState(true);
  const [dragging, setDragging] = useState(false);
  const actions = useLibraryActions(state, dispatch);
  const { mainRef, open, goRandom, goNeighbour } = actions;
  const stride = state.stride;

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
    if (file) void actions.goDropped(file);
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
              onRekey={(found, prompt) => void actions.goRekey(found, prompt)}
              onShowFound={(found) => void actions.goFound(found)}
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
            onSearch={(query) => void actions.goSearch(query)}
          />

          <FindChooser onPicture={(file) => void actions.goFind(file)} />

          <KeyPanel
            current={shown?.key ?? ''}
            draft={state.draft}
            count={characterCount(state)}
            onDraft={(text) => dispatch({ type: 'draft', text })}
            onOpen={(text) => open(text, 'Opening the key…')}
            ready={can.share}
            png={actions.shownPng}
            onNotice={(message) => dispatch({ type: 'notice', message })}
            onError={(err) => dispatch({ type: 'failed', message: messageOf(err) })}
          />

          <WalkPanel
            target={state.walkTo}
            found={state.found}
            walk={state.walk}
            ready={Boolean(shown) && !busy}
            onTarget={(text) => dispatch({ type: 'walkTo', text })}
            onWalk={(to, frames) => void actions.goWalk(to, frames)}
            onStop={actions.stopWalk}
          />

          <ImportChooser onFile={(file) => void actions.goImport(file)} />
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
