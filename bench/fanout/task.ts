/** The function the fan-out model's client maps: what the modelled Lambda does with each input, for real. */
export async function modelTask(input: { workMs: number; resultBytes: number }): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, input.workMs));
  return 'x'.repeat(input.resultBytes);
}
