import type { ReactNode } from 'react';

export const metadata = {
  title: 'Library of Babel — diffusion',
  description: 'Every key names exactly one image.',
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
