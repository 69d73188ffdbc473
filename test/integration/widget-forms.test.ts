import request from 'supertest';
import { FORM_LIMITS } from '../../src/intake/multipart/form-limits';
import { fixture, sha256 } from '../support/fixtures';
import { type FilePart, multipartBody } from '../support/multipart';
import { type Harness, startHarness } from '../support/proxy-harness';

/**
 * The forms upload widgets build: text fields beside the file are read and ignored within
 * FORM_LIMITS, and a second file part is still refused.
 */
const png = fixture('sample.png');
const file: FilePart = { name: 'file', filename: 'photo.png', contentType: 'image/png', data: png.bytes };

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(() => harness.close());

function send(parts: FilePart[]) {
  const form = multipartBody(parts);
  return request(harness.url).post('/v1/asset').set('Content-Type', form.contentType).send(form.body);
}

it.each([
  ["Uppy's meta fields", [{ name: 'name', data: 'photo.png' }, { name: 'type', data: 'image/png' }, file]],
  // FilePond with name "file" puts its metadata under that same name, as a text field, first.
  ["FilePond's metadata under the part name", [{ name: 'file', data: '{}' }, file]],
  ['as many small fields as FORM_LIMITS allows', [...Array.from({ length: FORM_LIMITS.fields }, (_, i) => ({ name: `f${i}`, data: 'x' })), file]],
])('takes a form with %s', async (_label, parts) => {
  const response = await send(parts);
  expect(response.status).toBe(201);
  expect(harness.standIn.received.at(-1)).toMatchObject({ complete: true, sha256: sha256(png.bytes) });
});

it('still refuses a second file part, even after a text field of the same name', async () => {
  const before = harness.standIn.received.length;
  const response = await send([{ name: 'file', data: '{}' }, file, { ...file, filename: 'second.png' }]);
  expect(response.status).toBe(400);
  expect((response.body as { error: { code: string } }).error.code).toBe('TOO_MANY_FILES');
  expect(harness.standIn.received.slice(before).filter((upload) => upload.complete)).toEqual([]);
});

it('refuses one text field more than FORM_LIMITS allows', async () => {
  const response = await send([...Array.from({ length: FORM_LIMITS.fields + 1 }, (_, i) => ({ name: `f${i}`, data: 'x' })), file]);
  expect(response.status).toBe(400);
  expect((response.body as { error: { code: string } }).error.code).toBe('TOO_MANY_FIELDS');
});
