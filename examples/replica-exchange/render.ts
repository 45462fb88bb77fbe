/**
 * Draws a lattice protein as text: residues as H and P (the first one in lower case), chain bonds as
 * `-` and `|`, and each H–H contact (the source of the energy) as a `·` between the two residues.
 */

/** The conformation `coords` (x0, y0, x1, y1, …) of `sequence` as lines of text. */
export function drawFold(sequence: string, coords: Int32Array): string {
  const n = sequence.length;
  const xs = Array.from({ length: n }, (_, i) => coords[2 * i] as number);
  const ys = Array.from({ length: n }, (_, i) => coords[2 * i + 1] as number);
  const minX = Math.min(...xs);
  const minY = Math.min(...ys);
  const w = 2 * (Math.max(...xs) - minX) + 1;
  const h = 2 * (Math.max(...ys) - minY) + 1;
  const grid = Array.from({ length: h }, () => new Array<string>(w).fill(' '));
  const at = (i: number): [number, number] => [2 * ((xs[i] as number) - minX), 2 * ((ys[i] as number) - minY)];
  const byPos = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const [cx, cy] = at(i);
    byPos.set(`${cx},${cy}`, i);
    const c = sequence[i] as string;
    (grid[cy] as string[])[cx] = i === 0 ? c.toLowerCase() : c;
    if (i > 0) {
      const [px, py] = at(i - 1);
      (grid[(cy + py) / 2] as string[])[(cx + px) / 2] = cy === py ? '-' : '|';
    }
  }
  // H–H contacts that are not bonds: a dot between the two residues.
  for (let i = 0; i < n; i++) {
    if (sequence[i] !== 'H') continue;
    const [cx, cy] = at(i);
    for (const [dx, dy] of [
      [2, 0],
      [0, 2],
    ] as const) {
      const j = byPos.get(`${cx + dx},${cy + dy}`);
      if (j !== undefined && Math.abs(j - i) > 1 && sequence[j] === 'H')
        (grid[cy + dy / 2] as string[])[cx + dx / 2] = '·';
    }
  }
  // y grows upwards on the lattice, downwards on the screen.
  return grid
    .reverse()
    .map((row) => `  ${row.join('').trimEnd()}`)
    .join('\n');
}
