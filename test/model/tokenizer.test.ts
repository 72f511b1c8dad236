// The shipped tokenizer loads offline with @huggingface/transformers and gives the ids the model was trained on.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';

const MODELS = join(import.meta.dirname, '..', '..', 'models');
const ref = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'model', 'reference.json'), 'utf8'));

async function load() {
  env.allowRemoteModels = false;
  env.localModelPath = `${MODELS}/`;
  return AutoTokenizer.from_pretrained('emoji/tokenizer');
}

describe('models/emoji tokenizer', () => {
  it('gives the Python training ids (pad/truncate to 16) on the reference captions', async () => {
    const tok = await load();
    const got = (ref.captions as string[]).map((c) =>
      Array.from(tok(c, { padding: 'max_length', truncation: true }).input_ids.data as BigInt64Array, Number),
    );
    expect(got).toEqual(ref.input_ids);
  });

  it('spells unseen words and misspellings with subwords instead of [UNK]', async () => {
    const tok = await load();
    const ids = Array.from(tok('happpy fcae zxqv').input_ids.data as BigInt64Array, Number);
    const vocab = JSON.parse(readFileSync(join(MODELS, 'emoji', 'tokenizer', 'tokenizer.json'), 'utf8')).model.vocab;
    const unk = vocab['[UNK]'];
    expect(typeof unk).toBe('number');
    expect(ids.length).toBeGreaterThan(5);
    expect(ids).not.toContain(unk);
  });
});
