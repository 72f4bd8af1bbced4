import { describe, expect, it } from 'vitest';
import { progressBar, renderProgress } from '../../scripts/lib/progress-bar.js';

describe('progress bar', () => {
  it('fills in proportion and fits the terminal', () => {
    expect(renderProgress('weeks', 5, 10, 80)).toMatch(/^weeks \[#{20}\.{20}\] 5\/10$/);
    expect(renderProgress('weeks', 0, 0, 80)).toContain('] 0/0');
    expect(renderProgress('weeks', 3, 4, 30).length).toBeLessThanOrEqual(30);
  });

  it('draws on a terminal and stays silent when redirected', () => {
    const written: string[] = [];
    const write = (text: string) => written.push(text);
    const piped = progressBar('weeks', { isTTY: false, write });
    piped.update(1, 2);
    piped.done();
    expect(written).toEqual([]);
    const tty = progressBar('weeks', { isTTY: true, columns: 60, write });
    tty.update(1, 2);
    tty.done();
    expect(written[0]?.startsWith('\r')).toBe(true);
    expect(written[0]?.endsWith('1/2\u001b[K')).toBe(true);
    expect(written[1]).toBe('\r\u001b[K');
  });
});
