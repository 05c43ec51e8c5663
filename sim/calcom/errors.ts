/**
 * Cal.com's error answers: the NestJS exception-filter envelope, the class-validator message format the v2
 * pipes flatten errors into, and the verbatim texts clients match on. Handlers throw `SimHttpError`; the
 * app's one `onError` turns it into a response.
 */

export const MSG = {
  noAuth:
    "ApiAuthStrategy - No authentication method provided. Either pass an API key as 'Bearer' header or " +
    "OAuth client credentials as 'x-cal-secret-key' and 'x-cal-client-id' headers",
  invalidKey: 'ApiAuthStrategy - api key - Your api key is not valid',
  taken: 'User either already has booking at this time or is not available',
  teamTaken: 'One of the hosts either already has booking at this time or is not available',
  outOfBounds:
    "The event type can't be booked at the \"start\" time provided. This could be because it's too soon " +
    "(violating the minimum booking notice) or too far in the future (outside the event's scheduling " +
    'window). Try fetching available slots first using the GET /v2/slots endpoint and then make a booking ' +
    'with "start" time equal to one of the available slots.',
  past: 'Attempting to book a meeting in the past.',
  metadata:
    'Metadata must have at most 50 keys, each key up to 40 characters, and string values up to 500 characters.',
  contact: 'Attendee must have at least one contact method (email or phone number)',
  eventLookup: 'Either eventTypeId or eventTypeSlug + username or eventTypeSlug + teamSlug must be provided',
  singleLength:
    "Can't specify 'lengthInMinutes' because event type does not have multiple possible lengths. Please, " +
    "remove the 'lengthInMinutes' field from the request.",
  slotsEventTypeNotFound: 'Event Type not found',
  cancelEnded: 'Cannot cancel a booking that has already ended',
  throttled: 'ThrottlerException: Too Many Requests',
  internal: 'Internal server error',
} as const;

const CODES: Record<number, [code: string, reason: string]> = {
  400: ['BadRequestException', 'Bad Request'],
  401: ['UnauthorizedException', 'Unauthorized'],
  403: ['ForbiddenException', 'Forbidden'],
  404: ['NotFoundException', 'Not Found'],
  409: ['ConflictException', 'Conflict'],
  429: ['ThrottlerException', 'Too Many Requests'],
  500: ['InternalServerErrorException', 'Internal Server Error'],
};

/** A failure to answer with Cal.com's envelope (or, with `bare`, with exactly that body). */
export class SimHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: { details?: Record<string, unknown>; bare?: unknown } = {},
  ) {
    super(message);
    this.name = 'SimHttpError';
  }
}

/** Thrown when a dropped or hung request has no socket to destroy (in-process `app.request`). */
export class SimNoAnswerError extends Error {
  constructor(kind: 'drop' | 'hang') {
    super(`calcom-sim: ${kind} fault, no answer`);
    this.name = 'SimNoAnswerError';
  }
}

export interface ErrorEnvelope {
  status: 'error';
  timestamp: string;
  path: string;
  error: { code: string; message: string; details: Record<string, unknown> };
}

export function errorEnvelope(
  status: number,
  message: string,
  path: string,
  now: Date,
  details?: Record<string, unknown>,
): ErrorEnvelope {
  const [code, reason] = CODES[status] ?? ['HttpException', 'Error'];
  return {
    status: 'error',
    timestamp: now.toISOString(),
    path,
    error: { code, message, details: details ?? { message, error: reason, statusCode: status } },
  };
}

/** The body NestJS answers for an unhandled exception: no envelope. */
export const BARE_500 = { statusCode: 500, message: MSG.internal } as const;

/** One class-validator error as Cal.com's version-specific pipes flatten it. */
export interface FieldError {
  prop: string;
  constraints: string[];
  children?: FieldError[];
}

/**
 * `"<prop> property is wrong,<constraints> <children>"` items joined by `", "` (the trailing space is part of
 * Cal.com's format), e.g. `"teamId property is wrong,property teamId should not exist "`.
 */
export function formatFieldErrors(errors: FieldError[]): string {
  return errors
    .map((e) => `${e.prop} property is wrong,${e.constraints.join(', ')} ${formatFieldErrors(e.children ?? [])}`)
    .join(', ');
}

export function notAllowed(prop: string): FieldError {
  return { prop, constraints: [`property ${prop} should not exist`] };
}

export function validationError(errors: FieldError[]): SimHttpError {
  return new SimHttpError(400, formatFieldErrors(errors));
}
