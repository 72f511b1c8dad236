import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeGen5 } from '../../gen5/decode.ts';
import { encodeGen5, type ModelInfoInput } from '../../gen5/encode.ts';
import { parsePyJson, pyDumps } from '../../gen5/pyjson.ts';
import { decompressFrame } from '../../gen5/zstd.ts';
import { FIXTURE_DIR, FIXTURE_NAMES, readFixture, sha256 } from './helpers.ts';

// Files written by gen5 0.1.0 itself (Python), with what it was given in .expect.json.
describe.each(FIXTURE_NAMES)('gen5 0.1.0 fixture %s', (name) => {
  const bytes = readFixture(`${name}.gen5`);
  const expected = JSON.parse(readFileSync(`${FIXTURE_DIR}${name}.expect.json`, 'utf8'));

  it('decodes to exactly what its .expect.json says', async () => {
    expect(sha256(bytes)).toBe(expected.file_sha256);
    const file = await decodeGen5(bytes);
    const latents = Object.fromEntries(
      file.latents.map((l) => [l.name, { shape: l.shape, dtype: l.dtype, sha256: sha256(l.data) }]),
    );
    expect(latents).toEqual(expected.latents);
    expect(Object.keys(latents)).toEqual(Object.keys(expected.latents)); // dict order = chunk order
    expect(file.image ? sha256(file.image) : null).toBe(expected.image_sha256);
    const info = file.meta.gen5_metadata.model_info;
    expect(info.model_name).toBe(expected.model_name);
    expect(info.version).toBe(expected.model_version);
    expect(info.prompt).toBe(expected.prompt);
    expect(info.tags).toEqual(expected.tags);
    expect(info.generation_settings).toEqual(expected.generation_settings);
    // 0.1.0 always records the ENVC it was written in.
    expect(file.envc?.components.map((c) => c.id)).toEqual(['torch', 'numpy', 'python', 'cuda', 'os']);
  });

  it('re-serialises its META and ENVC JSON byte for byte (Python json.dumps indent=2 emulation)', async () => {
    const file = await decodeGen5(bytes);
    expect(file.metaText).toContain('\\u2713'); // ensure_ascii, as 0.1.0 writes it
    expect(pyDumps(parsePyJson(file.metaText))).toBe(file.metaText);
    expect(pyDumps(parsePyJson(file.envc?.text ?? ''))).toBe(file.envc?.text);
  });

  it('re-encodes from its own inputs to the same chunk bytes and the same META text', async () => {
    const file = await decodeGen5(bytes);
    const records = file.records;
    const latentRecord = records.find((r) => r.type === 'LATN');
    const ours = await encodeGen5({
      latents: file.latents,
      image: file.image,
      // parsePyJson keeps 0.1.0's floats (eta 0.0, ram_gb 24.0) floats.
      modelInfo: (parsePyJson(file.metaText) as { gen5_metadata: { model_info: ModelInfoInput } }).gen5_metadata
        .model_info,
      environment: file.envc?.components ?? [],
      compress: latentRecord?.compressed,
    });
    const metaOffset = file.header.chunkTableOffset;
    // Everything between the header and META: same layout, same zstd level-3 frames (same zstd output here).
    expect(sha256(ours.subarray(32, metaOffset))).toBe(sha256(bytes.subarray(32, metaOffset)));
    const ourFile = await decodeGen5(ours);
    expect(ourFile.records).toEqual(records);
    // META differs only where 0.1.0 is wrong: its file_info.file_size is stale.
    const theirs = file.metaText.replace(/"file_size": \d+/, '"file_size": X');
    expect(ourFile.metaText.replace(/"file_size": \d+/, '"file_size": X')).toBe(theirs);
  });

  it('frames every compressed chunk as zstd with the content size and no checksum', async () => {
    const file = await decodeGen5(bytes);
    for (const r of file.records.filter((r) => r.compressed)) {
      const frame = bytes.subarray(r.offset, r.offset + r.compressed_size);
      expect(Array.from(frame.subarray(0, 4))).toEqual([0x28, 0xb5, 0x2f, 0xfd]);
      expect(frame[4] & 0b100).toBe(0); // Content_Checksum_flag
      expect((await decompressFrame(frame, 1 << 20, 't')).length).toBe(r.uncompressed_size + 12);
    }
  });
});
