import { fileTypeFromBuffer } from 'file-type';
import type { AllowedMediaType } from '../../src/upload/media-types';
import { structureWalkerFor } from '../../src/upload/structure';
import { mpegFrameLength } from '../../src/upload/structure/mp3';
import { box, CORPUS, exe, ftyp, html, POLYGLOTS, sample, TYPES } from '../support/media-corpus';

/** Walks a whole file held in memory: the reason it is broken, or undefined. */
function checkStructure(mediaType: AllowedMediaType, bytes: Uint8Array): string | undefined {
  const walker = structureWalkerFor(mediaType);
  return walker.push(bytes) ?? walker.end();
}

/** Deterministic xorshift32 so a failing chunking can be replayed. */
function prng(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
}

/** Walks `bytes` in chunks whose sizes `nextSize` picks; the first reason, or undefined. */
function walkInChunks(type: AllowedMediaType, bytes: Uint8Array, nextSize: () => number): string | undefined {
  const walker = structureWalkerFor(type);
  for (let at = 0; at < bytes.length; ) {
    const size = Math.max(1, nextSize());
    const reason = walker.push(bytes.subarray(at, at + size));
    if (reason !== undefined) return reason;
    at += size;
  }
  return walker.end();
}

function allChunkings(type: AllowedMediaType, bytes: Uint8Array): (string | undefined)[] {
  const results = [checkStructure(type, bytes), walkInChunks(type, bytes, () => 1)];
  for (const seed of [1, 2, 3, 4, 5]) {
    const random = prng(seed * 7919);
    const scale = [3, 17, 64, 300, 5000][seed - 1]!;
    results.push(walkInChunks(type, bytes, () => 1 + Math.floor(random() * scale)));
  }
  return results;
}

describe('structure walkers accept real files', () => {
  it('has a corpus of every type', () => {
    for (const type of Object.values(TYPES)) expect(CORPUS.filter((file) => file.type === type).length).toBeGreaterThanOrEqual(5);
  });

  it.each(CORPUS.map((file) => [file.name, file] as const))('%s: whole, in 1-byte and in random chunks', (_name, file) => {
    expect(allChunkings(file.type, file.bytes)).toEqual(Array(7).fill(undefined));
  });

  it.each(CORPUS.map((file) => [file.name, file] as const))('%s: file-type detects its type', async (_name, file) => {
    expect((await fileTypeFromBuffer(file.bytes.subarray(0, 4100)))?.mime).toBe(file.type);
  });
});

describe('structure walkers refuse polyglots and broken files', () => {
  it.each(POLYGLOTS)('%s', (_name, type, bytes) => {
    for (const reason of allChunkings(type, bytes)) {
      expect(typeof reason).toBe('string');
      expect(reason!.length).toBeGreaterThan(10);
    }
  });

  it('refuses each truncated PNG, MP4 and known-size WebM file of the corpus', () => {
    const cut = CORPUS.filter((file) => file.type !== 'image/jpeg' && file.type !== 'audio/mpeg' && !file.name.includes('live') && !file.name.includes('mediarecorder'));
    for (const file of cut) expect([file.name, checkStructure(file.type, file.bytes.subarray(0, -1))]).toEqual([file.name, expect.any(String)]);
  });

  it('refuses HTML appended to every corpus file but JPEGs (data after EOI is allowed)', () => {
    for (const file of CORPUS) {
      const reason = checkStructure(file.type, Buffer.concat([file.bytes, html]));
      if (file.type === 'image/jpeg') expect([file.name, reason]).toEqual([file.name, undefined]);
      else expect([file.name, reason]).toEqual([file.name, expect.any(String)]);
    }
  });

  it('refuses a PNG whose chunk type or data no longer matches its CRC, however the bytes arrive', () => {
    const png = sample('sample.png');
    const typeChanged = Buffer.from(png);
    typeChanged[40] = 0x50; // 'pHYs' becomes 'pHYP': still letters, so only the CRC can tell
    const dataChanged = Buffer.from(png);
    dataChanged[54 + 8 + 900]! ^= 0x01; // one bit in the middle of IDAT's data
    expect(allChunkings('image/png', typeChanged)).toEqual(Array.from({ length: 7 }, () => "PNG chunk 'pHYP' at offset 33 has a wrong CRC"));
    expect(allChunkings('image/png', dataChanged)).toEqual(Array.from({ length: 7 }, () => "PNG chunk 'IDAT' at offset 54 has a wrong CRC"));
  });

  it('names the broken part', () => {
    expect(checkStructure('image/png', Buffer.concat([sample('sample.png'), html]))).toBe("PNG chunk 'IEND' is not at the end of the file");
    expect(checkStructure('video/mp4', Buffer.concat([ftyp, box('moov', Buffer.alloc(8)), Buffer.from([0, 0, 1, 0, 0x6d, 0x64, 0x61, 0x74])]))).toBe(
      "MP4 top-level box 'mdat' at offset 48 has size 256, beyond the end of the file (56 bytes)",
    );
    expect(checkStructure('image/jpeg', Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), exe]))).toBe('JPEG expected a marker at offset 2, found 0xFF4D');
  });

  it('keeps refusing after the first reason', () => {
    const walker = structureWalkerFor('video/mp4');
    const first = walker.push(Buffer.concat([ftyp, exe]));
    expect(first).toEqual(expect.any(String));
    expect(walker.push(Buffer.alloc(10))).toBe(first);
    expect(walker.end()).toBe(first);
  });
});

describe('MP4 walker details', () => {
  it('accepts a 64-bit largesize box and a size-0 last box', () => {
    const large = Buffer.alloc(16 + 100);
    large.writeUInt32BE(1, 0);
    large.write('mdat', 4, 'latin1');
    large.writeBigUInt64BE(116n, 8);
    const toEnd = Buffer.concat([Buffer.from([0, 0, 0, 0]), Buffer.from('mdat'), Buffer.alloc(50)]);
    const moov = box('moov', Buffer.alloc(8));
    expect(allChunkings('video/mp4', Buffer.concat([ftyp, moov, large, toEnd]))).toEqual(Array(7).fill(undefined));
  });

  it('refuses a size below 8, a largesize below 16, a non-printable type and a first box other than ftyp', () => {
    const moov = box('moov', Buffer.alloc(8));
    expect(checkStructure('video/mp4', Buffer.concat([ftyp, moov, Buffer.from([0, 0, 0, 4, 0x66, 0x72, 0x65, 0x65])]))).toMatch(/invalid size 4/);
    const small = Buffer.alloc(16);
    small.writeUInt32BE(1, 0);
    small.write('free', 4, 'latin1');
    small.writeBigUInt64BE(8n, 8);
    expect(checkStructure('video/mp4', Buffer.concat([ftyp, moov, small]))).toMatch(/invalid largesize 8/);
    expect(checkStructure('video/mp4', Buffer.concat([ftyp, moov, box('fr\x00e', Buffer.alloc(0))]))).toMatch(/invalid type/);
    expect(checkStructure('video/mp4', Buffer.concat([moov, ftyp]))).toMatch(/first box is 'moov'/);
  });
});

describe('JPEG walker details', () => {
  it('accepts fill bytes before markers, restart markers and stuffed bytes in scan data', () => {
    const jpeg = sample('sample.jpg');
    const sos = jpeg.indexOf(Buffer.from([0xff, 0xda]));
    const afterSosHeader = sos + 2 + jpeg.readUInt16BE(sos + 2);
    const edited = Buffer.concat([
      jpeg.subarray(0, 2),
      Buffer.from([0xff, 0xff, 0xff]), // fill bytes before the next marker
      jpeg.subarray(2, afterSosHeader),
      Buffer.from([0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56, 0xff, 0xff, 0xd1]), // stuffing, RST0, fill + RST1
      jpeg.subarray(afterSosHeader),
    ]);
    expect(allChunkings('image/jpeg', edited)).toEqual(Array(7).fill(undefined));
  });

  it('refuses a second SOI, an EOI before any scan and data that is no marker', () => {
    expect(checkStructure('image/jpeg', Buffer.from([0xff, 0xd8, 0xff, 0xd8]))).toMatch(/second SOI/);
    expect(checkStructure('image/jpeg', Buffer.from([0xff, 0xd8, 0xff, 0xd9]))).toMatch(/before any scan/);
    expect(checkStructure('image/jpeg', Buffer.from([0xff, 0xd8, 0x4d, 0x5a]))).toMatch(/expected a marker/);
  });
});

describe('MP3 walker details', () => {
  it('computes frame lengths for MPEG-1, MPEG-2 and MPEG-2.5 layers', () => {
    expect(mpegFrameLength(0xfb, 0x90)).toBe(417); // MPEG-1 L3 128 kbit/s 44.1 kHz
    expect(mpegFrameLength(0xfb, 0x92)).toBe(418); // with padding
    expect(mpegFrameLength(0xf3, 0x90)).toBe(261); // MPEG-2 L3 80 kbit/s 22.05 kHz
    expect(mpegFrameLength(0xe3, 0x18)).toBe(72); // MPEG-2.5 L3 8 kbit/s 8 kHz
    expect(mpegFrameLength(0xff, 0x90)).toBe(312); // MPEG-1 L1 288 kbit/s 44.1 kHz
    expect(mpegFrameLength(0xfd, 0x90)).toBe(522); // MPEG-1 L2 160 kbit/s 44.1 kHz
    expect(mpegFrameLength(0xfb, 0x00)).toMatch(/bitrate index 0/);
    expect(mpegFrameLength(0xfb, 0xf0)).toMatch(/bitrate index 15/);
    expect(mpegFrameLength(0xfb, 0x9c)).toMatch(/sample rate/);
    expect(mpegFrameLength(0xeb, 0x90)).toMatch(/version/);
    expect(mpegFrameLength(0xf9, 0x90)).toMatch(/layer/);
  });

  it('accepts zero padding after the ID3v2 tag, an APEv2 tag, Lyrics3 v2 and ID3v1 at the end', () => {
    const frames = sample('corpus/notag.mp3');
    const id3 = Buffer.from([0x49, 0x44, 0x33, 3, 0, 0, 0, 0, 0, 10, ...Buffer.alloc(10)]);
    const apeHeader = (flags: number): Buffer => {
      const header = Buffer.alloc(32);
      header.write('APETAGEX', 0, 'latin1');
      header.writeUInt32LE(2000, 8);
      header.writeUInt32LE(32 + 16, 12); // one item of 16 bytes + footer
      header.writeUInt32LE(1, 16);
      header.writeUInt32LE(flags, 20);
      return header;
    };
    const ape = Buffer.concat([apeHeader(0xa0000000), Buffer.from('\x05\0\0\0\0\0\0\0Title\0Hello', 'latin1').subarray(0, 16), apeHeader(0x80000000)]);
    const lyrics = Buffer.from('LYRICSBEGININD00002' + '11' + 'LYR00005hello' + '000034LYRICS200', 'latin1');
    const id3v1 = Buffer.concat([Buffer.from('TAG', 'latin1'), Buffer.alloc(125)]);
    const file = Buffer.concat([id3, Buffer.alloc(100), frames, ape, lyrics, id3v1]);
    expect(allChunkings('audio/mpeg', file)).toEqual(Array(7).fill(undefined));
  });

  it('allows a truncated last frame but not a truncated tag or a frame after ID3v1', () => {
    const frames = sample('corpus/notag.mp3');
    expect(checkStructure('audio/mpeg', frames.subarray(0, -5))).toBeUndefined();
    expect(checkStructure('audio/mpeg', Buffer.concat([frames, Buffer.from('TAG')]))).toMatch(/ended inside/);
    expect(checkStructure('audio/mpeg', Buffer.concat([sample('corpus/id3v1.mp3'), frames.subarray(0, 4)]))).toMatch(/after its ID3v1 tag/);
    expect(checkStructure('audio/mpeg', Buffer.from([0x49, 0x44, 0x33, 3, 0, 0, 0, 0, 0, 0]))).toMatch(/no MPEG audio frame/);
  });
});

describe('WebM walker details', () => {
  it('allows Void elements after a known-size Segment but nothing else', () => {
    const webm = sample('sample.webm');
    expect(checkStructure('video/webm', Buffer.concat([webm, Buffer.from([0xec, 0x83, 0, 0, 0])]))).toBeUndefined();
    expect(checkStructure('video/webm', Buffer.concat([webm, Buffer.from([0x1f, 0x43, 0xb6, 0x75, 0x80])]))).toMatch(/after the end of its Segment/);
  });

  it('refuses an element bigger than its Segment and an unknown size outside Segment and Cluster', () => {
    const webm = Buffer.from(sample('sample.webm'));
    // The first level-1 element (SeekHead at 0x30) claims more than the Segment holds.
    const bad = Buffer.from(webm);
    bad[0x34] = 0x08; // SeekHead's 1-byte size 0xBA becomes a 5-byte size of 0x4DBB8B53
    expect(checkStructure('video/webm', bad)).toMatch(/beyond the end of its Segment/);
    const unknownInfo = Buffer.concat([webm.subarray(0, 0x30), Buffer.from([0x15, 0x49, 0xa9, 0x66, 0xff])]);
    expect(checkStructure('video/webm', unknownInfo)).toMatch(/unknown size/);
  });
});
