import { QUERY_KEY_MAX, shareUrl } from './share.ts';

/** Copies a key; answers the notice to show (the browser may refuse the clipboard, and the reader should know). */
export async function copyKey(key: string): Promise<string> {
  try {
    await navigator.clipboard.writeText(key);
    return 'Key copied to the clipboard.';
  } catch {
    return 'The browser refused the clipboard: select the key and copy it by hand.';
  }
}

/** Copies a link that opens a key; answers the notice to show. */
export async function copyLink(key: string): Promise<string> {
  const link = shareUrl(location.origin, key);
  try {
    await navigator.clipboard.writeText(link);
    return key.length > QUERY_KEY_MAX
      ? 'Link copied. This long key travels after the # so it never reaches a server log.'
      : 'Link copied.';
  } catch {
    return `The browser refused the clipboard; the link is: ${link}`;
  }
}
