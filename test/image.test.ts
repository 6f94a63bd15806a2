// The picture checker and resizer (src/platform/media/image.ts) on tiny files made with ffmpeg: what
// it takes, what it refuses (other formats, files that name other files, too many pixels) and the sizes
// it draws.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  IMAGE_FORMATS,
  ImageError,
  imageInfoOf,
  probeImage,
  renderImage,
  resizeArgs,
} from '../src/platform/media/image.ts';
import { makePicture, tempDir } from './helpers/media.ts';

const run = promisify(execFile);

let dir: string;
before(async () => {
  dir = await tempDir('vireo-image-');
});
after(() => fs.rm(dir, { recursive: true, force: true }));

const make = (name: string, size: string) => makePicture(dir, name, size, 'blue');

async function written(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await fs.writeFile(file, text);
  return file;
}

describe('image probe', () => {
  it('takes PNG, JPEG and WebP pictures, whatever their file name', async () => {
    assert.deepEqual(await probeImage(await make('a.png', '64x48')), {
      format: 'png_pipe',
      width: 64,
      height: 48,
    });
    assert.deepEqual(await probeImage(await make('a.jpg', '30x20')), {
      format: 'jpeg_pipe',
      width: 30,
      height: 20,
    });
    assert.deepEqual(await probeImage(await make('a.webp', '20x30')), {
      format: 'webp_pipe',
      width: 20,
      height: 30,
    });
    // A JPEG named .png is read as what it is.
    const misnamed = path.join(dir, 'jpeg-named.png');
    await fs.copyFile(path.join(dir, 'a.jpg'), misnamed);
    assert.equal((await probeImage(misnamed)).format, 'jpeg_pipe');
  });

  it('refuses text, playlists and lists that name other files, SVG and GIF', async () => {
    const png = await make('ref.png', '16x16');
    const refused = [
      await written('text.png', 'not a picture at all'),
      await written('hls.png', `#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:${png}\n#EXT-X-ENDLIST\n`),
      await written('concat.png', `ffconcat version 1.0\nfile '${png}'\n`),
      await written(
        'pic.svg',
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
      ),
      await make('anim.gif', '16x16'),
      await written('empty.png', ''),
    ];
    for (const file of refused) {
      await assert.rejects(probeImage(file), ImageError, path.basename(file));
    }
  });

  it('refuses more than 8000 pixels on a side', async () => {
    await assert.rejects(probeImage(await make('tall.png', '2x8002')), /8000 pixels/);
    assert.equal((await probeImage(await make('edge.png', '2x8000'))).height, 8000);
  });

  it('accepts only the single-picture demuxers, one stream of the matching codec', () => {
    assert.deepEqual([...IMAGE_FORMATS], ['png_pipe', 'jpeg_pipe', 'webp_pipe']);
    const picture = { codec_type: 'video', codec_name: 'png', width: 10, height: 10 };
    assert.equal(imageInfoOf({ format: { format_name: 'png_pipe' }, streams: [picture] }).width, 10);
    for (const out of [
      { format: { format_name: 'image2' }, streams: [picture] },
      { format: { format_name: 'svg_pipe' }, streams: [{ ...picture, codec_name: 'svg' }] },
      { format: { format_name: 'png_pipe' }, streams: [picture, picture] },
      { format: { format_name: 'png_pipe' }, streams: [{ ...picture, codec_name: 'mjpeg' }] },
      { format: { format_name: 'png_pipe' }, streams: [{ ...picture, width: 0 }] },
    ]) {
      assert.throws(() => imageInfoOf(out), ImageError, JSON.stringify(out));
    }
  });

  it('reads the picture from a descriptor, by the file protocol and the allowed demuxers only', () => {
    const args = resizeArgs('png_pipe', { width: 256, height: 256, output: 'webp' }, '/tmp/out.webp');
    const at = (flag: string) => args[args.indexOf(flag) + 1];
    assert.equal(at('-protocol_whitelist'), 'file');
    assert.equal(at('-format_whitelist'), 'png_pipe,jpeg_pipe,webp_pipe');
    assert.equal(at('-f'), 'png_pipe');
    assert.equal(at('-i'), 'file:/dev/fd/3');
    assert.equal(at('-frames:v'), '1');
    assert.equal(args.at(-1), 'file:/tmp/out.webp');
  });
});

describe('image rendering', () => {
  it('covers the box: scaled to fill it, cropped, in the output format', async () => {
    const bytes = await fs.readFile(await make('wide.png', '300x100'));
    const webp = await renderImage(bytes, { width: 256, height: 256, output: 'webp' }, dir);
    const jpeg = await renderImage(bytes, { width: 200, height: 50, output: 'jpeg' }, dir);
    for (const [out, expected] of [
      [webp, 'webp,256,256'],
      [jpeg, 'mjpeg,200,50'],
    ] as const) {
      const file = path.join(dir, `out.${out.ext}`);
      await fs.writeFile(file, out.data);
      const { stdout } = await run('ffprobe', [
        '-v',
        'error',
        '-show_entries',
        'stream=codec_name,width,height',
        '-of',
        'csv=p=0',
        file,
      ]);
      assert.equal(stdout.trim(), expected);
    }
    assert.equal(webp.contentType, 'image/webp');
    assert.equal(jpeg.contentType, 'image/jpeg');
    // Its scratch files are gone.
    assert.deepEqual(
      (await fs.readdir(dir)).filter((f) => f.startsWith('image-')),
      [],
    );
  });

  it('renders pictures sent at once, a few at a time, each to its end', async () => {
    const bytes = await fs.readFile(await make('many.png', '40x40'));
    const outs = await Promise.all(
      Array.from({ length: 5 }, () => renderImage(bytes, { width: 16, height: 16, output: 'jpeg' }, dir)),
    );
    assert.equal(outs.length, 5);
    for (const out of outs) assert.ok(out.data.length > 0);
  });

  it('refuses a picture cut short', async () => {
    const bytes = await fs.readFile(await make('cut.png', '64x64'));
    await assert.rejects(
      renderImage(
        bytes.subarray(0, Math.floor(bytes.length * 0.6)),
        { width: 32, height: 32, output: 'webp' },
        dir,
      ),
      ImageError,
    );
  });
});
