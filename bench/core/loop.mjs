// Baseline: a plain loop in one process (also each half of the "two bare processes" limit).
import { inputs, kernel, report } from './common.mjs';

report(inputs().map((x) => kernel(x)));
