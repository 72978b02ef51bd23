// The API as the console calls it: same-origin requests with the session cookie, the CSRF
// token on every request that changes state, and OCP's envelope unwrapped.

export interface SubError {
  field: string;
  message: string;
}

/** An API refusal: the envelope's code, message and offending fields. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly subErrors: SubError[] = [],
  ) {
    super(message);
  }

  /** The message for one input field, if the server named it. */
  field(name: string): string | undefined {
    return this.subErrors.find((e) => e.field === name)?.message;
  }
}

let csrfToken: string | null = null;

/** The token the session hands out; sent as `X-OCP-CSRF` with every unsafe request. */
export function setCsrfToken(token: string | null) {
  csrfToken = token;
}

interface Envelope<T> {
  successful: boolean;
  data?: T;
  error?: { code: number; message: string; subErrors?: SubError[] };
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { 'X-OCP-Client': 'console' };
  if (body !== undefined && !(body instanceof FormData) && !(body instanceof Blob)) {
    headers['Content-Type'] = 'application/json';
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) {
    headers['X-OCP-CSRF'] = csrfToken;
  }
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body:
      body === undefined
        ? undefined
        : body instanceof FormData || body instanceof Blob
          ? body
          : JSON.stringify(body),
  });
  let envelope: Envelope<T> | null = null;
  try {
    envelope = (await response.json()) as Envelope<T>;
  } catch {
    envelope = null;
  }
  if (!response.ok || !envelope?.successful) {
    const error = envelope?.error;
    throw new ApiError(
      response.status,
      error?.code ?? response.status,
      error?.message ?? `${response.status} ${response.statusText}`,
      error?.subErrors ?? [],
    );
  }
  return envelope.data as T;
}

export const get = <T>(path: string) => call<T>('GET', path);
export const post = <T>(path: string, body?: unknown) => call<T>('POST', path, body ?? {});
export const put = <T>(path: string, body?: unknown) => call<T>('PUT', path, body ?? {});
export const del = <T>(path: string) => call<T>('DELETE', path);

/** A query string from the values that are set. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') {
      search.set(key, String(value));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
