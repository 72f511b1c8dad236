import { LibraryApp } from './ui/LibraryApp.tsx';

export default function Home() {
  return <LibraryApp />;
}
