// Videos made as users make them: a file sent whole to the one-request upload endpoint, so that each
// goes through the uploads code (the source stored, the video marked uploaded, its processing job
// queued) and a break there breaks the tests that build on it.
import fs from 'node:fs/promises';
import path from 'node:path';

/** Uploads a file (a path, or its bytes) as the holder of `token`; answers the new video's id. */
export async function uploadVideo(
  t: { url: string },
  token: string,
  file: string | Buffer,
  /** `publish` and `publish_at` go with the form as the uploader gives them. */
  opts: { title?: string; filename?: string; publish?: string; publish_at?: string } = {},
): Promise<string> {
  const data = typeof file === 'string' ? await fs.readFile(file) : file;
  const form = new FormData();
  if (opts.title !== undefined) form.append('title', opts.title);
  if (opts.publish !== undefined) form.append('publish', opts.publish);
  if (opts.publish_at !== undefined) form.append('publish_at', opts.publish_at);
  const filename = opts.filename ?? (typeof file === 'string' ? path.basename(file) : 'clip.mp4');
  form.append('file', new Blob([new Uint8Array(data)], { type: 'video/mp4' }), filename);
  const res = await fetch(`${t.url}/api/v1/videos/upload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  const body = await res.json();
  if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${JSON.stringify(body)}`);
  return body.id as string;
}
