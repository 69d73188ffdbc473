import axios from 'axios';
import express from 'express';
import multer from 'multer';
import './exit-on-sigterm';

/**
 * What most users write after a tutorial: multer's memoryStorage and axios with its default options.
 * The whole file sits in memory before it is sent; that is the point of having it in the table.
 * UPSTREAM_API=v1 (default) posts the raw bytes, as HeyGen's v1 Upload Asset takes them; v3 posts a
 * FormData with the file as a Blob, as HeyGen's `POST /v3/assets` takes it (axios streams the form).
 */
const port = Number(process.env.PORT);
const upstream = process.env.UPSTREAM_URL ?? '';
const v3 = process.env.UPSTREAM_API === 'v3';
const upload = multer({ storage: multer.memoryStorage() });
const app = express();

app.post('/v1/asset', upload.single('file'), async (req, res) => {
  if (!req.file) {
    res.status(400).json({ error: 'no file' });
    return;
  }
  try {
    let answer;
    if (v3) {
      const form = new FormData();
      form.append('file', new Blob([req.file.buffer], { type: req.file.mimetype }), req.file.originalname);
      answer = await axios.post<unknown>(upstream, form, { headers: { 'X-API-KEY': 'bench-key' } });
    } else {
      answer = await axios.post<unknown>(upstream, req.file.buffer, {
        headers: { 'Content-Type': req.file.mimetype, 'X-API-KEY': 'bench-key' },
      });
    }
    res.status(201).json(answer.data);
  } catch {
    res.status(502).json({ error: 'upstream failed' });
  }
});

const server = app.listen(port, '127.0.0.1');
server.requestTimeout = 0;
