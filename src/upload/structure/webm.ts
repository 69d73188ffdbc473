import { ChunkWalker } from './walker';

/**
 * WebM (Matroska/EBML): what is checked.
 * - Every element header is a well-formed EBML ID (1-4 bytes) and size (1-8 bytes); an "unknown"
 *   size (all value bits set) is accepted only for the Segment and for Clusters.
 * - The file starts with the EBML header element (1A 45 DF A3, known size; its content is left to
 *   file-type, which reads the DocType), then exactly one Segment (18 53 80 67).
 * - Inside the Segment the level-1 elements are walked header by header: only SeekHead, Info, Tracks,
 *   Cluster, Cues, Attachments, Chapters, Tags, Void and CRC-32 may appear, and each must fit inside a
 *   known-size Segment.
 * - A known-size Segment must end exactly where its size says, and only EBML Void elements may follow
 *   it (padding some muxers leave); anything else after it is refused, and so is a file that ends
 *   before the Segment's declared end.
 * - An unknown-size Segment (browsers' MediaRecorder, ffmpeg `-live 1`, live encoders) runs to the
 *   end of the file; its last element must end exactly at the end of the file.
 * - An unknown-size Cluster (MediaRecorder writes them) is walked child by child: only Timestamp,
 *   SilentTracks, Position, PrevSize, SimpleBlock, BlockGroup, EncryptedBlock, Void and CRC-32 may
 *   appear, each of known size, until a level-1 ID starts the next element of the Segment.
 * What it deliberately allows: any order of the level-1 elements, Void padding before the Segment,
 * known-size Clusters (and all other level-1 elements) are skipped by their size without looking
 * inside; the EBML header's content (DocType etc.) is not parsed here.
 */

const EBML_HEADER = 0x1a45dfa3;
const SEGMENT = 0x18538067;
const CLUSTER = 0x1f43b675;
const VOID = 0xec;

const LEVEL1 = new Set([
  0x114d9b74, // SeekHead
  0x1549a966, // Info
  0x1654ae6b, // Tracks
  CLUSTER,
  0x1c53bb6b, // Cues
  0x1941a469, // Attachments
  0x1043a770, // Chapters
  0x1254c367, // Tags
  VOID,
  0xbf, // CRC-32
]);

const CLUSTER_CHILDREN = new Set([
  0xe7, // Timestamp
  0x5854, // SilentTracks
  0xa7, // Position
  0xab, // PrevSize
  0xa3, // SimpleBlock
  0xa0, // BlockGroup
  0xaf, // EncryptedBlock
  VOID,
  0xbf, // CRC-32
]);

/** Length in bytes of a vint whose first byte is `first` (0 when the byte starts no valid vint of <= max bytes). */
function vintLength(first: number, max: number): number {
  if (first === 0) return 0;
  const length = Math.clz32(first) - 23; // 0x80 -> 1 ... 0x01 -> 8
  return length <= max ? length : 0;
}

function hex(id: number): string {
  return `0x${id.toString(16).toUpperCase()}`;
}

export class WebmWalker extends ChunkWalker {
  private idLength = 0;
  private sizeLength = 0;
  private elements = 0;
  private sawSegment = false;
  private segmentDone = false;
  /** File offset where the Segment's data ends (Infinity when its size is unknown). */
  private segmentEnd = Infinity;
  private clusterOpen = false;
  private elementId = 0;
  private elementOffset = 0;
  private elementSize = 0;

  constructor() {
    super(12, 1);
  }

  protected onHeader(): string | undefined {
    const h = this.header;
    if (this.need === 1) {
      this.idLength = vintLength(h[0]!, 4);
      if (this.idLength === 0) return `WebM element at offset ${this.headerOffset} has an invalid EBML ID`;
      this.need = this.idLength + 1;
      return undefined;
    }
    if (this.need === this.idLength + 1) {
      this.sizeLength = vintLength(h[this.idLength]!, 8);
      if (this.sizeLength === 0) return `WebM element at offset ${this.headerOffset} has an invalid EBML size`;
      if (this.sizeLength > 1) {
        this.need = this.idLength + this.sizeLength;
        return undefined;
      }
    }
    return this.onElement();
  }

  private onElement(): string | undefined {
    const h = this.header;
    let id = 0;
    for (let k = 0; k < this.idLength; k += 1) id = id * 256 + h[k]!;
    const first = h[this.idLength]!;
    const mask = 0xff >> this.sizeLength;
    let size = first & mask;
    let unknown = size === mask;
    for (let k = this.idLength + 1; k < this.idLength + this.sizeLength; k += 1) {
      size = size * 256 + h[k]!;
      if (h[k] !== 0xff) unknown = false;
    }
    const at = this.headerOffset;
    const dataStart = this.offset;
    this.elements += 1;
    this.elementId = id;
    this.elementOffset = at;
    this.elementSize = size;
    this.expect(1);

    if (this.sawSegment && !this.segmentDone && at >= this.segmentEnd) {
      this.segmentDone = true;
      this.clusterOpen = false;
    }

    if (!this.sawSegment || this.segmentDone) {
      // Top level.
      if (this.elements === 1) {
        if (id !== EBML_HEADER) return 'WebM does not start with an EBML header';
        if (unknown) return 'WebM EBML header has an unknown size';
        this.skip = size;
        return undefined;
      }
      if (id === VOID && !unknown) {
        this.skip = size;
        return undefined;
      }
      if (this.segmentDone) return `WebM has data after the end of its Segment, at offset ${at}`;
      if (id !== SEGMENT) return `WebM element ${hex(id)} at offset ${at} is not allowed before the Segment`;
      this.sawSegment = true;
      this.segmentEnd = unknown ? Infinity : dataStart + size;
      return undefined;
    }

    if (this.clusterOpen && !LEVEL1.has(id)) {
      if (!CLUSTER_CHILDREN.has(id)) return `WebM element ${hex(id)} at offset ${at} is not allowed in a Cluster`;
      if (unknown) return `WebM Cluster child ${hex(id)} at offset ${at} has an unknown size`;
      return this.skipWithinSegment(dataStart, size, id, at);
    }
    this.clusterOpen = false;
    if (!LEVEL1.has(id)) {
      return id === SEGMENT || id === EBML_HEADER
        ? `WebM has a second ${id === SEGMENT ? 'Segment' : 'EBML header'} at offset ${at}`
        : `WebM element ${hex(id)} at offset ${at} is not allowed in the Segment`;
    }
    if (unknown) {
      if (id !== CLUSTER) return `WebM element ${hex(id)} at offset ${at} has an unknown size`;
      this.clusterOpen = true;
      return undefined;
    }
    return this.skipWithinSegment(dataStart, size, id, at);
  }

  private skipWithinSegment(dataStart: number, size: number, id: number, at: number): string | undefined {
    if (dataStart + size > this.segmentEnd) {
      return `WebM element ${hex(id)} at offset ${at} has size ${size}, beyond the end of its Segment`;
    }
    this.skip = size;
    return undefined;
  }

  protected finish(): string | undefined {
    if (this.elements === 0 && this.have === 0) return 'WebM file is empty';
    if (this.have > 0) return `WebM ended inside the element header at offset ${this.headerOffset}`;
    if (this.skip > 0) {
      return `WebM element ${hex(this.elementId)} at offset ${this.elementOffset} has size ${this.elementSize}, beyond the end of the file (${this.offset} bytes)`;
    }
    if (!this.sawSegment) return 'WebM has no Segment';
    if (!this.segmentDone && this.segmentEnd !== Infinity && this.offset < this.segmentEnd) {
      return `WebM Segment declares an end at offset ${this.segmentEnd}, beyond the end of the file (${this.offset} bytes)`;
    }
    return undefined;
  }
}
