/**
 * The standard 2D HP benchmark sequences (Unger and Moult 1993; the "S1" set used by Thachuk et al.
 * 2007) with the lowest energy known for each on the square lattice.
 */

/** A benchmark protein. */
export interface Benchmark {
  sequence: string;
  /** The lowest energy known (−number of H–H contacts). */
  bestKnown: number;
}

/** The benchmarks by name (`hp` + length). */
export const BENCHMARKS: Readonly<Record<string, Benchmark>> = {
  hp20: { sequence: 'HPHPPHHPHPPHPHHPPHPH', bestKnown: -9 },
  hp24: { sequence: 'HHPPHPPHPPHPPHPPHPPHPPHH', bestKnown: -9 },
  hp25: { sequence: 'PPHPPHHPPPPHHPPPPHHPPPPHH', bestKnown: -8 },
  hp36: { sequence: 'PPPHHPPHHPPPPPHHHHHHHPPHHPPPPHHPPHPP', bestKnown: -14 },
  hp48: { sequence: 'PPHPPHHPPHHPPPPPHHHHHHHHHHPPPPPPHHPPHHPPHPPHHHHH', bestKnown: -23 },
  hp50: { sequence: 'HHPHPHPHPHHHHPHPPPHPPPHPPPPHPPPHPPPHPHHHHPHPHPHPHH', bestKnown: -21 },
  hp64: { sequence: 'HHHHHHHHHHHHPHPHPPHHPPHHPPHPPHHPPHHPPHPPHHPPHHPPHPHPHHHHHHHHHHHH', bestKnown: -42 },
};
