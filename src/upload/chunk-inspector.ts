/**
 * One job done on every chunk of a file as it passes through an InspectedStream (count it, walk its
 * structure, hash it). An inspector looks at each chunk and never keeps it, so a file of any size
 * costs it a few numbers of state.
 */
export interface ChunkInspector {
  /** Looks at the next chunk; an Error refuses the file, and no later inspector sees the chunk. */
  inspect(chunk: Buffer): Error | undefined;
  /** Every chunk has passed; an Error refuses the file (it ended where it must not). */
  finish(): Error | undefined;
}
