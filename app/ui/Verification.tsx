import type { ImportResult } from './api.ts';

/** The verdict on an imported file: bit-identical or not, with the drift warnings that may explain why not. */
export function Verification({ result }: { result: ImportResult }) {
  return (
    <div className={`verification ${result.verified ? 'ok' : 'drift'}`} data-testid="verification">
      {result.verified ? (
        <p>
          <strong>Bit-identical.</strong> The image regenerated from this key matches the file's exactly.
        </p>
      ) : (
        <p>
          <strong>Not bit-identical.</strong> The image regenerated here differs from the one in the file.
        </p>
      )}
      {result.warnings.length > 0 && (
        <ul>
          {result.warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
