import { describe, expect, it } from 'vitest';
import { keyFromLocation, QUERY_KEY_MAX, shareUrl } from '../../app/ui/share.ts';

describe('share links', () => {
  it('puts a short key in the query and reads it back', () => {
    const key = 'emoji-1.AbC_d-9+/=';
    const url = new URL(shareUrl('http://127.0.0.1:3000', key));
    expect(url.pathname).toBe('/');
    expect(url.hash).toBe('');
    expect(keyFromLocation(url.search, url.hash)).toBe(key);
  });

  it('puts a key longer than the threshold in the fragment, which browsers never send to the server', () => {
    const key = `sd768-64x64-1.${'x'.repeat(158_764)}`;
    const url = new URL(shareUrl('http://127.0.0.1:3000', key));
    expect(url.search).toBe('');
    expect(url.hash.length).toBeGreaterThan(QUERY_KEY_MAX);
    expect(keyFromLocation(url.search, url.hash)).toBe(key);
  });

  it('switches exactly at the threshold', () => {
    expect(shareUrl('', 'k'.repeat(QUERY_KEY_MAX))).toMatch(/^\/\?k=/);
    expect(shareUrl('', 'k'.repeat(QUERY_KEY_MAX + 1))).toMatch(/^\/#k=/);
  });

  it('finds no key in a bare address', () => {
    expect(keyFromLocation('', '')).toBeNull();
    expect(keyFromLocation('?other=1', '#top')).toBeNull();
  });
});
