import { principalOf } from '../../platform/http/auth-guard.ts';
import { problemSchema } from '../../platform/http/errors.ts';
import type { HttpServer } from '../../platform/http/server.ts';
import { idParams, moderatedVideoDto, optionalReasonBody, requiredReasonBody } from './schema.ts';
import { type AdminService, moderationFacts, type VideoDecision } from './service.ts';

const tags = ['admin'];

const ROUTES: { decision: VideoDecision; summary: string; reasonRequired: boolean }[] = [
  {
    decision: 'hide',
    summary: 'Hide a video from all but its owner, who sees the reason',
    reasonRequired: false,
  },
  { decision: 'restore', summary: 'Show a hidden video again', reasonRequired: false },
  { decision: 'reject', summary: 'Reject a video: it is unpublished until reinstated', reasonRequired: true },
  {
    decision: 'reinstate',
    summary: 'Reinstate a rejected video as unpublished; its owner may publish it again',
    reasonRequired: false,
  },
];

export function adminVideosRoutes(app: HttpServer, admin: AdminService): void {
  for (const { decision, summary, reasonRequired } of ROUTES) {
    app.put(`/api/v1/admin/videos/:id/${decision}`, {
      config: { auth: 'admin' },
      schema: {
        tags,
        summary,
        params: idParams,
        body: reasonRequired ? requiredReasonBody : optionalReasonBody,
        response: {
          200: moderatedVideoDto,
          404: problemSchema.describe('VIDEO_NOT_FOUND'),
          409: problemSchema.describe('INVALID_STATE'),
        },
      },
      handler: async (req) => {
        const reason = req.body?.reason ?? null;
        return moderationFacts(await admin.moderateVideo(principalOf(req), req.params.id, decision, reason));
      },
    });
  }
}
