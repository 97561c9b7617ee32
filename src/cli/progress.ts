import type { ReadProgress } from '../graph/index.js';
import type { SyncPhase } from '../services/sync.js';

/** What a sync has done so far, as the progress line shows it. */
export interface ProgressState {
  phase: SyncPhase;
  /** Per collection reached: pages and objects read, and the count expected when known. */
  read: Partial<Record<Collection, CollectionRead>>;
}

type Collection = ReadProgress['phase'];
interface CollectionRead {
  pages: number;
  objects: number;
  expected?: number;
}
const COLLECTIONS: readonly Collection[] = ['users', 'groups', 'mailboxes'];

const BAR_CELLS = 12;
const PHASE_TEXT: Record<Exclude<SyncPhase, 'read'>, string> = {
  plan: 'planning…',
  store: 'storing the preview…',
  apply: 'applying…',
};

/** The state with one page's report folded in. */
export function withRead(state: ProgressState, page: ReadProgress): ProgressState {
  const read: CollectionRead = { pages: page.pages, objects: page.objectsRead };
  if (page.expected !== undefined) read.expected = page.expected;
  return { ...state, read: { ...state.read, [page.phase]: read } };
}

/**
 * The progress line for a terminal `width` columns wide: per collection the pages and objects
 * read — with a bar and a percentage when the count to expect is known — then the phase after
 * reading. Never wider than `width - 1`, so the line never wraps (a wrapped line cannot be
 * rewritten in place).
 */
export function renderProgress(state: ProgressState, width: number): string {
  const reached = COLLECTIONS.flatMap((name) => {
    const c = state.read[name];
    return c ? [{ name, c }] : [];
  });
  const parts =
    state.phase === 'read'
      ? ['reading Entra', ...reached.map(({ name, c }) => `${name} ${collection(c)}`)]
      : [...reached.map(({ name, c }) => `${name} ${count(c.objects)}`), PHASE_TEXT[state.phase]];
  const line = parts.join(' · ');
  const room = Math.max(0, width - 1);
  if (line.length <= room) return line;
  return room === 0 ? '' : `${line.slice(0, room - 1)}…`;
}

function collection(c: CollectionRead): string {
  const pages = `${count(c.pages)} page${c.pages === 1 ? '' : 's'}`;
  if (!c.expected) return `${count(c.objects)} (${pages})`;
  // An estimate (the previous read's count) can be passed: the bar stays full, the numbers tell.
  const share = Math.min(1, c.objects / c.expected);
  const filled = Math.round(share * BAR_CELLS);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR_CELLS - filled)}`;
  return `${bar} ${Math.floor(share * 100)}% ${count(c.objects)}/${count(c.expected)} (${pages})`;
}

function count(n: number): string {
  return n.toLocaleString('en');
}
