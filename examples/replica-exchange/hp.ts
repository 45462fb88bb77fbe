/**
 * The HP model of protein folding on the 2D square lattice, and one replica's Metropolis Monte Carlo
 * run: the function each call of the replica-exchange example runs.
 *
 * A protein is a chain of H (hydrophobic) and P (polar) residues on a self-avoiding walk; its energy is
 * −1 for each pair of H residues that are lattice neighbours without being chain neighbours. Moves are
 * the pull moves of Lesh, Mitzenmacher and Whitesides (2003), as in the replica-exchange Monte Carlo of
 * Thachuk, Shmygelska and Hoos (2007). Everything is a pure function of the input and its seed.
 */

/** One call's work: continue a replica from its conformation at one temperature. */
export interface ReplicaTask {
  /** The residues, e.g. `'HPHPPHHPHPPHPHHPPHPH'`. */
  sequence: string;
  /** The conformation: x0, y0, x1, y1, … (a self-avoiding walk). */
  coords: Int32Array;
  /** Temperature, in units of one H–H contact energy over k_B. */
  temperature: number;
  /** Sweeps to run; one sweep is one move attempt per residue. */
  sweeps: number;
  /** Seed of this call's random stream: 32-bit words, e.g. `[runSeed, round, replica]`. */
  seed: number[];
}

/** What a call returns: the replica's new state and the best conformation it passed through. */
export interface ReplicaResult {
  coords: Int32Array;
  energy: number;
  bestCoords: Int32Array;
  bestEnergy: number;
  /** Moves proposed and accepted by the Metropolis criterion. */
  attempted: number;
  accepted: number;
}

/**
 * xoshiro128** seeded through splitmix32 from any number of 32-bit words (e.g. run seed, round,
 * replica): a period of 2^128 − 1, so the streams of thousands of calls never overlap.
 */
export function rng(seed: readonly number[]): () => number {
  let z = 0x9e3779b9;
  const mix = (w: number): number => {
    z = (z + 0x9e3779b9 + w) | 0;
    let t = z ^ (z >>> 16);
    t = Math.imul(t, 0x21f0aaad);
    t ^= t >>> 15;
    t = Math.imul(t, 0x735a2d97);
    return (t ^ (t >>> 15)) >>> 0;
  };
  let a = 0,
    b = 0,
    c = 0,
    d = 0;
  for (const w of [...seed, seed.length]) [a, b, c, d] = [a ^ mix(w), b ^ mix(w), c ^ mix(w), d ^ mix(w)];
  if ((a | b | c | d) === 0) a = 1;
  return () => {
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return r / 4294967296;
  };
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/** The straight chain along the x axis: the unfolded start of every replica. */
export function straightChain(length: number): Int32Array {
  const c = new Int32Array(2 * length);
  for (let i = 0; i < length; i++) c[2 * i] = i;
  return c;
}

// The lattice is a 256×256 torus: a chain of up to 255 residues cannot reach round it, so wrapping
// coordinates never makes two residues collide, however far the chain drifts.
const G = 256;
const MASK = G - 1;
const site = (x: number, y: number): number => ((x & MASK) << 8) | (y & MASK);
const NEIGHBOURS = [1, 0, -1, 0, 0, 1, 0, -1] as const;
/** The four lattice directions, counter-clockwise: x, y of each. */
const DIRECTIONS = [1, 0, 0, 1, -1, 0, 0, -1] as const;

/** A conformation with a lattice occupancy map, for fast self-avoidance and energy checks. */
export class Chain {
  readonly n: number;
  readonly x: Int32Array;
  readonly y: Int32Array;
  private readonly h: Uint8Array;
  /** Residue index + 1 at each lattice site, 0 when free. */
  private readonly occ = new Uint16Array(G * G);

  constructor(sequence: string, coords: Int32Array) {
    this.n = sequence.length;
    if (this.n < 2 || this.n >= G)
      throw new RangeError(`sequences of 2 to ${G - 1} residues are supported, got ${this.n}`);
    if (!/^[HP]+$/.test(sequence)) throw new RangeError(`a sequence is made of H and P, got ${sequence}`);
    this.h = Uint8Array.from(sequence, (c) => (c === 'H' ? 1 : 0));
    this.x = new Int32Array(this.n);
    this.y = new Int32Array(this.n);
    for (let i = 0; i < this.n; i++) {
      this.x[i] = coords[2 * i] ?? 0;
      this.y[i] = coords[2 * i + 1] ?? 0;
      const s = site(this.x[i] as number, this.y[i] as number);
      if (this.occ[s]) throw new RangeError(`residues ${(this.occ[s] as number) - 1} and ${i} overlap`);
      if (
        i > 0 &&
        Math.abs((this.x[i] as number) - (this.x[i - 1] as number)) +
          Math.abs((this.y[i] as number) - (this.y[i - 1] as number)) !==
          1
      ) {
        throw new RangeError(`residues ${i - 1} and ${i} are not lattice neighbours`);
      }
      this.occ[s] = i + 1;
    }
  }

  /** −(number of H–H contacts between residues that are not chain neighbours). */
  energy(): number {
    let e = 0;
    for (let i = 0; i < this.n; i++) {
      if (!this.h[i]) continue;
      for (let k = 0; k < 8; k += 2) {
        const j =
          (this.occ[
            site((this.x[i] as number) + NEIGHBOURS[k]!, (this.y[i] as number) + NEIGHBOURS[k + 1]!)
          ] as number) - 1;
        if (j > i + 1 && this.h[j]) e--;
      }
    }
    return e;
  }

  /** The coordinates as x0, y0, x1, y1, …, translated so that residue 0 is at the origin. */
  coords(): Int32Array {
    const out = new Int32Array(2 * this.n);
    for (let i = 0; i < this.n; i++) {
      out[2 * i] = (this.x[i] as number) - (this.x[0] as number);
      out[2 * i + 1] = (this.y[i] as number) - (this.y[0] as number);
    }
    return out;
  }

  isFree(x: number, y: number): boolean {
    return this.occ[site(x, y)] === 0;
  }

  /** Moves residues to new sites (the caller guarantees the result is a self-avoiding walk). */
  place(moves: ReadonlyArray<readonly [number, number, number]>): void {
    for (const [i] of moves) this.occ[site(this.x[i] as number, this.y[i] as number)] = 0;
    for (const [i, x, y] of moves) {
      this.x[i] = x;
      this.y[i] = y;
      this.occ[site(x, y)] = i + 1;
    }
  }
}

const adjacent = (ax: number, ay: number, bx: number, by: number): boolean =>
  Math.abs(ax - bx) + Math.abs(ay - by) === 1;

/**
 * A pull move of residue `i` towards the side `dir` (+1: its predecessor stays put and its successors
 * follow; −1: the reverse); `r` in [0, 1) picks among the possible target sites. Returns the moves
 * `[residue, x, y]`, or undefined when the move is not possible.
 */
export function pullMove(c: Chain, i: number, dir: 1 | -1, r: number): Array<[number, number, number]> | undefined {
  const a = i - dir;
  if (a < 0 || a >= c.n) return endPull(c, i, r);
  const ax = c.x[a] as number,
    ay = c.y[a] as number,
    px = c.x[i] as number,
    py = c.y[i] as number;
  // L is next to the anchor and diagonal to i; C completes the square i, anchor, L, C.
  const s = r < 0.5 ? 1 : -1;
  const lx = ax - s * (py - ay),
    ly = ay + s * (px - ax);
  const cx = px + (lx - ax),
    cy = py + (ly - ay);
  if (!c.isFree(lx, ly)) return undefined;
  const f = i + dir;
  if (f < 0 || f >= c.n || (c.x[f] === cx && c.y[f] === cy)) return [[i, lx, ly]];
  if (!c.isFree(cx, cy)) return undefined;
  const moves: Array<[number, number, number]> = [
    [i, lx, ly],
    [f, cx, cy],
  ];
  // Each further residue takes the old place of the residue two before it, until the chain is whole.
  for (let j = f + dir; j >= 0 && j < c.n; j += dir) {
    const [, nx, ny] = moves[moves.length - 1]!;
    if (adjacent(c.x[j] as number, c.y[j] as number, nx, ny)) break;
    moves.push([j, c.x[j - 2 * dir] as number, c.y[j - 2 * dir] as number]);
  }
  return moves;
}

/**
 * The end pull: an end residue moves two steps away along free sites (C, then L) and drags the chain
 * after it; `r` picks the direction of each step (4 × 3 choices, no step back).
 */
function endPull(c: Chain, end: number, r: number): Array<[number, number, number]> | undefined {
  const dir = end === 0 ? 1 : -1;
  const ex = c.x[end] as number,
    ey = c.y[end] as number;
  const m = Math.floor(r * 12);
  const d1 = m % 4;
  const d2 = (d1 + [0, 1, 3][Math.floor(m / 4)]!) % 4;
  const cx = ex + DIRECTIONS[2 * d1]!,
    cy = ey + DIRECTIONS[2 * d1 + 1]!;
  const lx = cx + DIRECTIONS[2 * d2]!,
    ly = cy + DIRECTIONS[2 * d2 + 1]!;
  if (!c.isFree(cx, cy) || !c.isFree(lx, ly)) return undefined;
  const moves: Array<[number, number, number]> = [
    [end, lx, ly],
    [end + dir, cx, cy],
  ];
  for (let j = end + 2 * dir; j >= 0 && j < c.n; j += dir) {
    const [, nx, ny] = moves[moves.length - 1]!;
    if (adjacent(c.x[j] as number, c.y[j] as number, nx, ny)) break;
    moves.push([j, c.x[j - 2 * dir] as number, c.y[j - 2 * dir] as number]);
  }
  return moves;
}

/** Runs `task.sweeps` sweeps of Metropolis Monte Carlo from the task's conformation. */
export function simulate(task: ReplicaTask): ReplicaResult {
  const chain = new Chain(task.sequence, task.coords);
  const rand = rng(task.seed);
  let energy = chain.energy();
  let bestEnergy = energy;
  let bestCoords = chain.coords();
  let attempted = 0;
  let accepted = 0;
  const steps = task.sweeps * chain.n;
  for (let step = 0; step < steps; step++) {
    const i = Math.floor(rand() * chain.n);
    const moves = pullMove(chain, i, rand() < 0.5 ? 1 : -1, rand());
    if (!moves) continue;
    attempted++;
    const undo = moves.map(([j]) => [j, chain.x[j] as number, chain.y[j] as number] as [number, number, number]);
    chain.place(moves);
    const e = chain.energy();
    if (e <= energy || rand() < Math.exp((energy - e) / task.temperature)) {
      energy = e;
      accepted++;
      if (e < bestEnergy) {
        bestEnergy = e;
        bestCoords = chain.coords();
      }
    } else {
      chain.place(undo);
    }
  }
  return { coords: chain.coords(), energy, bestCoords, bestEnergy, attempted, accepted };
}
