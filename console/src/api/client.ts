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

/**
 * Sends a file as the body of a POST, reporting the share sent (0 to 1); fetch cannot tell
 * upload progress, so this one call uses XMLHttpRequest.
 */
export function upload<T>(path: string, file: File, onProgress: (share: number) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', path);
    request.setRequestHeader('X-OCP-Client', 'console');
    request.setRequestHeader('Content-Type', 'application/octet-stream');
    if (csrfToken) {
      request.setRequestHeader('X-OCP-CSRF', csrfToken);
    }
    request.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    request.onerror = () => reject(new ApiError(0, 0, 'the upload was cut off'));
    request.onload = () => {
      let envelope: Envelope<T> | null = null;
      try {
        envelope = JSON.parse(request.responseText) as Envelope<T>;
      } catch {
        envelope = null;
      }
      if (request.status === 200 && envelope?.successful) {
        resolve(envelope.data as T);
      } else {
        const error = envelope?.error;
        reject(
          new ApiError(request.status, error?.code ?? request.status, error?.message ?? request.statusText, error?.subErrors),
        );
      }
    };
    request.send(file);
  });
}
