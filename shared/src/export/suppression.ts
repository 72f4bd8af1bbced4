/**
 * Small-cell suppression for a table and every total of it (statistical disclosure control).
 *
 * The table is a cube: each cell has one value per dimension, `null` standing for "all values" (a total). The
 * cube given holds every level, from the finest cells to the grand total, so that every export of the same
 * data, whatever dimensions it groups by, reads its cells from one suppression pattern: a coarser export can
 * never publish a total that undoes a finer one's suppression.
 *
 * - Primary: a cell with fewer than k distinct members is suppressed.
 * - Complementary: a total and the cells one dimension below it (a "line": the total equals their sum for
 *   every additive column) must never hold exactly one suppressed cell, or subtracting the published ones from
 *   the total (or adding them up into it) would give that cell back. Where a line holds exactly one, another
 *   cell of the line is suppressed: the one with the fewest members (ties by key), a total only when the line
 *   has no other cell left. Repeated until no line holds exactly one.
 *
 * Every line holding zero or at least two suppressed cells means that no single total, minus the published
 * cells under it, reveals a suppressed cell. (Combinations of several totals, solved together as a linear
 * system, are not audited here; the README for researchers says so.)
 */

export type CubeKey = readonly (string | null)[];

export interface CubeCell {
  key: CubeKey;
  /** Distinct members counted in the cell. */
  members: number;
}

export type Suppression = 'primary' | 'complementary';

export const cubeCellId = (key: CubeKey): string => JSON.stringify(key);

interface Line {
  parent: string;
  cells: string[];
}

/** Suppressed cells by id (cubeCellId); a cell not in the map is published. */
export function suppressCube(cells: readonly CubeCell[], k: number): Map<string, Suppression> {
  const members = new Map<string, number>();
  const keys = new Map<string, CubeKey>();
  for (const cell of cells) {
    const id = cubeCellId(cell.key);
    members.set(id, cell.members);
    keys.set(id, cell.key);
  }

  const lines = new Map<string, Line>();
  const linesOf = new Map<string, Line[]>();
  const addToLine = (line: Line, id: string) => {
    line.cells.push(id);
    const list = linesOf.get(id);
    if (list) list.push(line);
    else linesOf.set(id, [line]);
  };
  for (const [id, key] of keys) {
    key.forEach((value, dimension) => {
      if (value === null) return;
      const parentKey = key.map((v, d) => (d === dimension ? null : v));
      const parent = cubeCellId(parentKey);
      if (!members.has(parent)) throw new Error(`the cube has ${id} but not its total ${parent}`);
      const lineId = `${dimension}|${parent}`;
      let line = lines.get(lineId);
      if (!line) {
        line = { parent, cells: [] };
        lines.set(lineId, line);
        addToLine(line, parent);
      }
      addToLine(line, id);
    });
  }

  const suppressed = new Map<string, Suppression>();
  for (const [id, count] of members) if (count < k) suppressed.set(id, 'primary');

  const byFewestMembers = (a: string, b: string) =>
    members.get(a)! - members.get(b)! || (a < b ? -1 : a > b ? 1 : 0);
  const pending = [...lines.values()];
  for (let line = pending.pop(); line !== undefined; line = pending.pop()) {
    const open = line.cells.filter((id) => !suppressed.has(id));
    if (line.cells.length - open.length !== 1) continue;
    const children = open.filter((id) => id !== line.parent).sort(byFewestMembers);
    // A line has at least two cells (a total and one below it), so one is left to pick.
    const pick = children[0] ?? line.parent;
    suppressed.set(pick, 'complementary');
    pending.push(...(linesOf.get(pick) ?? []));
  }
  return suppressed;
}

/** Every level of a key: the key with each subset of `free` dimensions replaced by null (all values). */
export function keyLevels(key: CubeKey, free: readonly number[]): CubeKey[] {
  let levels: (string | null)[][] = [[...key]];
  for (const dimension of free)
    levels = levels.flatMap((level) => [level, level.map((v, d) => (d === dimension ? null : v))]);
  return levels;
}
