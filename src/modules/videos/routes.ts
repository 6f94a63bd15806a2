import type { HttpServer } from '../../platform/http/server.ts';
import type { NotifyHub } from '../../platform/realtime/notify-hub.ts';
import type { VideosService } from './service.ts';

export interface VideosRouteDeps {
  videos: VideosService;
  hub: NotifyHub;
}

export function videosRoutes(_app: HttpServer, _deps: VideosRouteDeps): void {}
