// Every machine code Vireo answers or records, in one place. Clients may rely on these names.
// ERROR_CODES are the answers to requests (the HTTP edge maps each to its status); FAILURE_CODES say why a
// video failed (`failure_code`), whichever step found it: the upload, the probe or a stage of processing.

export const ERROR_CODES = {
  VALIDATION_FAILED: { status: 400, title: 'The request has invalid fields' },
  MALFORMED_REQUEST: { status: 400, title: 'The request could not be read' },
  MALFORMED_URL: { status: 400, title: 'The URL could not be decoded' },
  INVALID_CREDENTIALS: { status: 401, title: 'Wrong username, email or password' },
  TOKEN_MISSING: { status: 401, title: 'This route needs an access token' },
  TOKEN_EXPIRED: { status: 401, title: 'The token has expired' },
  TOKEN_INVALID: { status: 401, title: 'The token is not valid' },
  SESSION_REVOKED: { status: 401, title: 'The session was ended; sign in again' },
  REFRESH_TOKEN_REUSED: { status: 401, title: 'The refresh token was already used; the session was ended' },
  ACCOUNT_HIDDEN: { status: 403, title: 'The account is hidden or deleted' },
  PERMISSION_DENIED: { status: 403, title: 'You may not do this' },
  ADMIN_REQUIRED: { status: 403, title: 'Only an administrator may do this' },
  MEMBERSHIP_REQUIRED: { status: 403, title: "Only the channel's subscribers may watch this video" },
  PREMIUM_REQUIRED: { status: 403, title: "Only the channel's premium members may watch this video" },
  CANNOT_DELETE_SELF: { status: 403, title: 'An administrator cannot delete their own account' },
  PLAYBACK_TOKEN_INVALID: { status: 403, title: 'The playback token is not valid for this media' },
  PLAYBACK_TOKEN_EXPIRED: { status: 403, title: 'The playback token has expired' },
  NOT_FOUND: { status: 404, title: 'No such resource' },
  USER_NOT_FOUND: { status: 404, title: 'No such user' },
  VIDEO_NOT_FOUND: { status: 404, title: 'No such video' },
  CHANNEL_NOT_FOUND: { status: 404, title: 'No such channel' },
  TAG_NOT_FOUND: { status: 404, title: 'No such tag' },
  WEBHOOK_ENDPOINT_NOT_FOUND: { status: 404, title: 'No such webhook endpoint' },
  WEBHOOK_DELIVERY_NOT_FOUND: { status: 404, title: 'No such webhook delivery' },
  MEDIA_URL_OUTDATED: {
    status: 404,
    title: 'Not a current media URL of the video: its access changed; get new URLs from the video',
  },
  INVALID_STATE: { status: 409, title: 'The video is not in a state that allows this' },
  ACCOUNT_DELETED: { status: 409, title: 'The account is deleted for good; it cannot be changed' },
  VIDEO_NOT_UNPUBLISHED: { status: 409, title: 'Unpublish the video before deleting it' },
  HANDLE_TAKEN: { status: 409, title: 'The channel handle is taken' },
  CHANNEL_EXISTS: { status: 409, title: 'You already have a channel' },
  TAG_EXISTS: { status: 409, title: 'A tag with this name or slug exists' },
  TAG_LIMIT_EXCEEDED: { status: 422, title: 'Too many tags' },
  IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    title: 'This Idempotency-Key was used with another request; use a new key',
  },
  IDEMPOTENCY_KEY_IN_USE: {
    status: 409,
    title: 'A request with this Idempotency-Key is still being handled; retry shortly',
  },
  WEBHOOK_URL_FORBIDDEN: {
    status: 422,
    title: 'Webhook endpoints must be public http(s) URLs, not private or loopback addresses',
  },
  IMAGE_INVALID: { status: 422, title: 'The image could not be read as a picture' },
  // Community
  COMMENT_NOT_FOUND: { status: 404, title: 'No such comment' },
  COLLECTION_NOT_FOUND: { status: 404, title: 'No such collection' },
  NOTIFICATION_NOT_FOUND: { status: 404, title: 'No such notification' },
  PUSH_SUBSCRIPTION_NOT_FOUND: { status: 404, title: 'No such push subscription' },
  COMMENTS_DISABLED: { status: 403, title: "The video's owner turned comments off" },
  CANNOT_FOLLOW_SELF: { status: 422, title: 'You cannot follow yourself' },
  CANNOT_SUBSCRIBE_OWN_CHANNEL: { status: 422, title: 'You cannot subscribe to your own channel' },
  PREMIUM_MEMBERSHIP_ACTIVE: {
    status: 409,
    title: 'You are a premium member of this channel; cancel the membership instead',
  },
  COLLECTION_PROTECTED: { status: 409, title: 'The Watch later collection cannot be renamed or deleted' },
  COLLECTION_FULL: { status: 422, title: 'The collection holds as many videos as it may' },
  // Community: collections
  COLLECTION_LIMIT_REACHED: { status: 422, title: 'You have as many collections as you may' },
  COLLECTION_ITEM_NOT_FOUND: { status: 404, title: 'The video is not in this collection' },
  PUSH_ENDPOINT_FORBIDDEN: {
    status: 422,
    title: 'Push endpoints must be public https URLs, not private or loopback addresses',
  },
  VIDEO_NOT_UPLOADED: { status: 409, title: 'The video has no finished upload yet' },
  VIDEO_BUSY: { status: 409, title: 'The video is being processed' },
  UPLOAD_NOT_FOUND: { status: 404, title: 'No such upload' },
  UPLOAD_FINISHED: { status: 409, title: 'The upload is already complete' },
  UPLOAD_GONE: { status: 410, title: 'The upload expired or was terminated' },
  UPLOAD_LOCKED: { status: 423, title: 'Another request is writing this upload; retry shortly' },
  UPLOAD_OFFSET_INVALID: { status: 400, title: 'Upload-Offset is missing or not a whole number of bytes' },
  UPLOAD_OFFSET_MISMATCH: {
    status: 409,
    title: 'Upload-Offset is not the offset of the upload; HEAD tells it',
  },
  UPLOAD_LENGTH_EXCEEDED: { status: 413, title: 'The body goes past the length of the upload' },
  UPLOAD_INTERRUPTED: {
    status: 400,
    title: 'The request ended before its body was stored; HEAD tells the offset to resume from',
  },
  TOO_MANY_UPLOADS: { status: 429, title: 'Too many unfinished uploads; finish or terminate one first' },
  INSUFFICIENT_STORAGE: { status: 507, title: 'The server is short of disk space for uploads; retry later' },
  TUS_EXTENSION_UNSUPPORTED: {
    status: 400,
    title: 'This tus extension is not supported; Tus-Extension lists those that are',
  },
  TUS_VERSION_UNSUPPORTED: { status: 412, title: 'Unsupported Tus-Resumable version; use 1.0.0' },
  CHECKSUM_ALGORITHM_UNSUPPORTED: {
    status: 400,
    title: 'Unsupported Upload-Checksum algorithm; Tus-Checksum-Algorithm lists those supported',
  },
  // 460 is the status the tus checksum extension defines for it.
  CHECKSUM_MISMATCH: { status: 460, title: 'The request body does not match its Upload-Checksum' },
  UPLOAD_TOO_LARGE: { status: 413, title: 'The file is larger than uploads may be' },
  QUOTA_EXCEEDED: { status: 413, title: 'The file does not fit in your storage quota' },
  USERNAME_TAKEN: { status: 409, title: 'The username is taken' },
  EMAIL_TAKEN: { status: 409, title: 'The email address is already registered' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'The request body is too large' },
  URL_TOO_LONG: { status: 414, title: 'A part of the URL is too long' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported content type' },
  REQUEST_TIMEOUT: { status: 408, title: 'The request did not arrive in time' },
  RANGE_NOT_SATISFIABLE: { status: 416, title: 'The requested byte range lies outside the file' },
  RATE_LIMITED: { status: 429, title: 'Too many requests; retry later' },
  HEADERS_TOO_LARGE: { status: 431, title: 'The request line and headers are too large' },
  INTERNAL_ERROR: { status: 500, title: 'Something went wrong on our side' },
  SERVICE_UNAVAILABLE: { status: 503, title: 'The service is not ready' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const FAILURE_CODES = {
  UPLOAD_EXPIRED: 'The upload was not finished in time',
  UPLOAD_TERMINATED: 'The uploader ended the upload',
  UPLOAD_FAILED: 'The upload could not be stored',
  FILE_EMPTY: 'The file is empty',
  FILE_CORRUPT: 'The file could not be read as a video',
  UNSUPPORTED_FORMAT: 'The file is not in a container Vireo reads',
  NO_VIDEO_STREAM: 'The file has no video',
  DURATION_TOO_LONG: 'The video is longer than videos may be',
  PROBING_FAILED: 'Reading the source failed for good',
  ENCODING_FAILED: 'ffmpeg refused to encode the source',
  PACKAGING_FAILED: 'Writing the manifests failed for good',
  THUMBNAILS_FAILED: 'ffmpeg refused to draw the images',
  PROCESSING_FAILED: 'Processing failed on its last attempt; the owner can retry it',
} as const satisfies Record<string, string>;

export type FailureCode = keyof typeof FAILURE_CODES;

/** The failure code of a stage that refused the source for good (`encoding` → ENCODING_FAILED). */
export function stageFailure(stage: 'probing' | 'encoding' | 'packaging' | 'thumbnails'): FailureCode {
  return `${stage.toUpperCase() as Uppercase<typeof stage>}_FAILED`;
}
