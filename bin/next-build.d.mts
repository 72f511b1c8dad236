/** True when .next/BUILD_ID is missing or a source file the build compiles is newer than it. */
export function buildIsStale(root: string): boolean;
/** Runs `next build` in `root`; throws with the build's output when it fails. */
export function runNextBuild(root: string, stdio?: 'inherit' | 'pipe'): void;
