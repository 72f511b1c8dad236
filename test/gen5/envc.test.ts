import { describe, expect, it } from 'vitest';
import { decodeGen5 } from '../../gen5/decode.ts';
import { buildEnvcPayload, canonicalString, driftWarnings } from '../../gen5/envc.ts';
import { pyDumps } from '../../gen5/pyjson.ts';
import { readFixture, sha256 } from './helpers.ts';

describe('ENVC', () => {
  it("builds canonical strings in gen5's name=ID;key=value form, escaping separators", () => {
    expect(canonicalString('python', { version: '3.12.3' })).toBe('name=python;version=3.12.3');
    expect(canonicalString('gpu', { model: 'NVIDIA A100', driver: '535.129.01' })).toBe(
      'name=gpu;model=NVIDIA A100;driver=535.129.01',
    );
    expect(canonicalString('cpu', { model: 'a;b=c%' })).toBe('name=cpu;model=a%3Bb%3Dc%25');
  });

  it('writes the payload as 0.1.0 does (cononical_str, hex digests, indent=2)', async () => {
    const text = new TextDecoder().decode(
      await buildEnvcPayload([{ id: 'os', canonical: 'name=os;version=Linux 6.1' }]),
    );
    expect(text).toBe(
      pyDumps({
        env_version: 1,
        components: [
          {
            component_id: 'os',
            cononical_str: 'name=os;version=Linux 6.1',
            component_sha256_digest: sha256('name=os;version=Linux 6.1'),
          },
        ],
      }),
    );
  });

  it("warns per component in gen5 0.1.0's exact wording, as data", async () => {
    const file = await decodeGen5(readFixture('no-image-7.gen5'));
    const warnings = await driftWarnings(file.envc?.components ?? [], [
      { id: 'python', canonical: 'name=python;version=3.11.2' }, // same digest: no warning
      { id: 'os', canonical: 'name=os;version=Linux 6.1.0' },
      { id: 'node', canonical: 'name=node;version=20.20.2' },
    ]);
    expect(warnings.map((w) => w.message)).toEqual([
      "Environment component 'torch' missing in current system",
      "Environment component 'numpy' missing in current system",
      "Environment component 'cuda' missing in current system",
      "Environment component 'os' differs:\n  File: name=os;version=Linux 6.18.44-fc-v595\n  Current: name=os;version=Linux 6.1.0",
      "Environment component 'node' missing in file",
    ]);
    expect(warnings[3]).toMatchObject({
      componentId: 'os',
      kind: 'differs',
      file: 'name=os;version=Linux 6.18.44-fc-v595',
      current: 'name=os;version=Linux 6.1.0',
    });
  });

  it('passes the drift through decodeGen5 when given the current environment', async () => {
    const file = await decodeGen5(readFixture('no-image-7.gen5'), { currentEnvironment: [] });
    expect(file.drift?.map((d) => d.kind)).toEqual(Array(5).fill('missing-in-current'));
  });
});
