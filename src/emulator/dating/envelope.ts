import type { ServerResponse } from 'node:http';

/**
 * The answer envelope of the Dating API v2 (shared/UPSTREAM.md §2):
 * `{ success, data, status_code }`, and the HTTP status equals `status_code`.
 */
export interface DatingEnvelope {
  success: boolean;
  data: Record<string, unknown>;
  status_code: number;
}

/** Error texts. The seed gives 400, 401, 406 and 409; the others are (chosen). */
export const MESSAGES = {
  badRequest: 'Bad Request',
  notWhitelisted: 'Remote IP is not in the white list',
  tokenNotFound: 'Token not found',
  affise: 'Affise Error: Wrong offer ID',
  notFound: 'Not Found',
  methodNotAllowed: 'Method Not Allowed',
  emailNotValid: 'The email is not valid',
  tooManyRequests: 'Too Many Requests',
  internal: 'Internal Server Error',
  unavailable: 'Service Unavailable',
  duplicateEmail: (email: string) => `Another user with the email '${email}' already exists`,
} as const;

export function created(data: Record<string, unknown>): DatingEnvelope {
  return { success: true, data, status_code: 201 };
}

/** `{ error }`, the shape of most failures. */
export function failure(status: number, error: string): DatingEnvelope {
  return { success: false, data: { error }, status_code: status };
}

/** `{ error, exception: { message, code } }`, the shape the seed shows for 401 and 409. */
export function failureWithException(status: number, error: string): DatingEnvelope {
  return { success: false, data: { error, exception: { message: error, code: status } }, status_code: status };
}

/** 400 listing every bad field at once. */
export function badRequest(errors: Record<string, string>): DatingEnvelope {
  return { success: false, data: { error: MESSAGES.badRequest, errors }, status_code: 400 };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
  });
  res.end(text);
}

export function sendEnvelope(res: ServerResponse, envelope: DatingEnvelope, headers: Record<string, string> = {}): void {
  sendJson(res, envelope.status_code, envelope, headers);
}
