export default function Home() {
  return (
    <main>
      <h1>Library of Babel</h1>
      <p>Every key names exactly one image.</p>
    </main>
  );
}
