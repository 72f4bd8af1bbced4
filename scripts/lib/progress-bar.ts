/**
 * A progress bar on stderr for long CLI work, drawn only on a terminal: redirected output (a file, a pipe, CI)
 * gets no control characters at all.
 */

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

/** `label [#########...........]  12/52` in `width` characters at most. */
export function renderProgress(label: string, done: number, total: number, width: number): string {
  const counter = ` ${done}/${total}`;
  const room = Math.max(10, Math.min(40, width - label.length - counter.length - 3));
  const filled = total > 0 ? Math.round((Math.min(done, total) / total) * room) : room;
  return `${label} [${'#'.repeat(filled)}${'.'.repeat(room - filled)}]${counter}`;
}

export interface ProgressBar {
  update(done: number, total: number): void;
  /** Clears the bar, leaving the line free for what comes next. */
  done(): void;
}

export function progressBar(label: string, stream: ProgressStream = process.stderr): ProgressBar {
  if (!stream.isTTY) return { update: () => undefined, done: () => undefined };
  let drawn = false;
  return {
    update(done, total) {
      stream.write(`\r${renderProgress(label, done, total, stream.columns ?? 80)}\u001b[K`);
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\r\u001b[K');
    },
  };
}
