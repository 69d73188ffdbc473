import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { AllowedMediaType } from '../../src/upload/media-types';
import { FIXTURES_DIR } from './fixtures';

/** Real files of every accepted type (test/fixtures and its corpus/), and files built to look like them. */
const CORPUS_DIR = join(FIXTURES_DIR, 'corpus');
export const TYPES: Record<string, AllowedMediaType> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.mp3': 'audio/mpeg',
};

export interface MediaFile {
  readonly name: string;
  readonly type: AllowedMediaType;
  readonly bytes: Buffer;
}

function filesIn(dir: string, prefix: string): MediaFile[] {
  return readdirSync(dir)
    .filter((name) => TYPES[extname(name)] !== undefined)
    .sort()
    .map((name) => ({ name: `${prefix}${name}`, type: TYPES[extname(name)]!, bytes: readFileSync(join(dir, name)) }));
}

export const CORPUS = [...filesIn(FIXTURES_DIR, ''), ...filesIn(CORPUS_DIR, 'corpus/')];

export const html = Buffer.from('<!doctype html><html><body><script>alert(document.cookie)</script></body></html>\n');
/** The start of a Windows executable: DOS header 'MZ', the DOS stub, a PE header further on. */
export const exe = Buffer.concat([
  Buffer.from('MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00', 'latin1'),
  Buffer.alloc(44),
  Buffer.from([0x80, 0, 0, 0]),
  Buffer.from('This program cannot be run in DOS mode.\r\r\n$', 'latin1'),
  Buffer.alloc(4000, 0x90),
]);

export function box(type: string, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + payload.length, 0);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, payload]);
}

export function sample(name: string): Buffer {
  return CORPUS.find((file) => file.name === name)!.bytes;
}

export const ftyp = box('ftyp', Buffer.from('isom\0\0\x02\0isomiso2avc1mp41', 'latin1'));
const ihdr = Buffer.from('0000000d49484452000000400000004008020000002512f5e4', 'hex'); // 64x64 RGB (CRC right)

export const POLYGLOTS: [string, AllowedMediaType, Buffer][] = [
  ['MP4 ftyp box + MZ executable', 'video/mp4', Buffer.concat([ftyp, exe])],
  ['PNG signature + IHDR + HTML', 'image/png', Buffer.concat([sample('sample.png').subarray(0, 8), ihdr, html])],
  ['JPEG FF D8 FF E0 + MZ', 'image/jpeg', Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), exe])],
  ['JPEG FF D8 FF + MZ', 'image/jpeg', Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), exe])],
  [
    'ID3v2 tag of 6000 bytes + HTML',
    'audio/mpeg',
    Buffer.concat([Buffer.from([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 46, 102]), Buffer.alloc(5990), html]), // 46*128+102 = 5990
  ],
  ['real PNG + HTML after IEND', 'image/png', Buffer.concat([sample('sample.png'), html])],
  ['real MP4 + MZ tail', 'video/mp4', Buffer.concat([sample('sample.mp4'), exe])],
  ['real MP4 + 2-byte MZ tail', 'video/mp4', Buffer.concat([sample('sample.mp4'), Buffer.from('MZ')])],
  ['WebM EBML header + garbage', 'video/webm', Buffer.concat([sample('sample.webm').subarray(0, 0x28), exe])],
  ['real WebM + HTML', 'video/webm', Buffer.concat([sample('sample.webm'), html])],
  ['live WebM + HTML', 'video/webm', Buffer.concat([sample('corpus/vp8-opus-live.webm'), html])],
  ['MediaRecorder WebM + MZ', 'video/webm', Buffer.concat([sample('corpus/chromium-mediarecorder.webm'), exe])],
  ['real MP3 + HTML', 'audio/mpeg', Buffer.concat([sample('sample.mp3'), html])],
  ['real MP3 with ID3v1 + HTML', 'audio/mpeg', Buffer.concat([sample('corpus/id3v1.mp3'), html])],
  ['PNG signature only', 'image/png', sample('sample.png').subarray(0, 8)],
  ['JPEG without EOI', 'image/jpeg', sample('sample.jpg').subarray(0, -2)],
  ['MP4 without moov', 'video/mp4', Buffer.concat([ftyp, box('mdat', exe)])],
  ['MP3 frames then HTML', 'audio/mpeg', Buffer.concat([sample('corpus/notag.mp3'), html])],
];

