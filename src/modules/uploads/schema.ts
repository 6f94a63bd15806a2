import { z } from 'zod';
import { videoStatus } from '../videos/index.ts';

export const uploadedVideo = z.object({ id: z.uuid(), status: videoStatus }).meta({
  id: 'UploadedVideo',
  description: 'The video the upload created; GET /api/v1/videos/{id} tells more',
});
