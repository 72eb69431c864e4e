// The record-server client (server/README.md, "API"): uploads in parts,
// the masked index, signed access requests, downloads. Every refusal of a
// server is a `ServerError` with the server's own `code` and HTTP `status`;
// a server that cannot be reached at all is a `ServerError` with code
// `ServerUnreachable` (status 0) naming the endpoint. An aborted request
// rejects with the signal's reason, as `fetch` does.

/** Bytes as the portal holds them: a `Uint8Array` or hex text (with or without `0x`). */
export type Bytes = Uint8Array | string;

/** A refusal of a record server (`{code, message}` body), or `ServerUnreachable`. */
export class ServerError extends Error {
  /** The server's code (server/README.md "Refusals"), `ServerUnreachable`, or `HttpStatus` for a body without one. */
  readonly code: string;
  /** The HTTP status (0 when the server could not be reached). */
  readonly status: number;
  /** The record server asked. */
  readonly endpoint: string;
  /** Seconds the server asked us to wait (`Retry-After`), when it said so. */
  readonly retryAfter: number | undefined;

  /** A refusal `code` with its `message`, from `endpoint`. */
  constructor(code: string, message: string, status: number, endpoint: string, retryAfter?: number) {
    super(message);
    this.name = "ServerError";
    this.code = code;
    this.status = status;
    this.endpoint = endpoint;
    this.retryAfter = retryAfter;
  }
}

/** Codes worth trying again after a pause (a cut connection, a busy or overloaded server). */
const RETRYABLE_CODES = new Set([
  "ServerUnreachable", "RequestTimeout", "RateLimited", "UploadBusy", "BodyIncomplete",
  "Internal", "Rpc", "RpcUnreachable", "UploadCapacityExceeded", "HttpStatus",
]);

/** Whether `err` is a transient failure of a record server (worth a retry with backoff). */
export function retryable(err: unknown): boolean {
  if (!(err instanceof ServerError)) return false;
  if (err.code === "HttpStatus") return err.status >= 500 || err.status === 408 || err.status === 429;
  return RETRYABLE_CODES.has(err.code);
}

/** `0x`-prefixed lowercase hex of `bytes` (hex text is normalised). */
export function toHex(bytes: Bytes): string {
  if (typeof bytes === "string") {
    const digits = bytes.replace(/^0x/i, "").toLowerCase();
    if (!/^([0-9a-f]{2})*$/.test(digits)) throw new TypeError("not hex text");
    return `0x${digits}`;
  }
  let out = "0x";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/** `endpoint` + `path`, keeping any path prefix of the endpoint (`https://h.example/ehr` + `/v1/…`). */
function join(endpoint: string, path: string): string {
  return endpoint.replace(/\/+$/, "") + (path.startsWith("/") ? path : `/${path}`);
}

/** The refusal carried by a non-2xx response. */
async function refusal(response: Response, endpoint: string): Promise<ServerError> {
  const after = Number(response.headers.get("Retry-After"));
  const retryAfter = Number.isFinite(after) && after > 0 ? after : undefined;
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const { code, message } = (body ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === "string") {
    return new ServerError(code, typeof message === "string" ? message : code, response.status, endpoint, retryAfter);
  }
  const text = `The record server at ${endpoint} answered HTTP ${response.status} ${response.statusText}.`;
  return new ServerError("HttpStatus", text, response.status, endpoint, retryAfter);
}

/** `fetch` that turns network failures into `ServerUnreachable` and refusals into `ServerError`. */
async function send(endpoint: string, path: string, init: RequestInit): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(join(endpoint, path), { cache: "no-store", ...init });
  } catch (err) {
    if (init.signal?.aborted) throw init.signal.reason;
    const why = err instanceof Error ? err.message : String(err);
    throw new ServerError("ServerUnreachable", `The record server at ${endpoint} could not be reached (${why}).`, 0, endpoint);
  }
  if (!response.ok) throw await refusal(response, endpoint);
  return response;
}

/** A JSON request; the parsed JSON answer (or `undefined` for 204). */
async function json<T>(endpoint: string, path: string, method: string, body?: string, signal?: AbortSignal): Promise<T> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = body;
    init.headers = { "Content-Type": "application/json" };
  }
  if (signal) init.signal = signal;
  const response = await send(endpoint, path, init);
  if (response.status === 204) return undefined as T;
  try {
    return (await response.json()) as T;
  } catch {
    throw new ServerError("HttpStatus", `The record server at ${endpoint} sent an answer that is not JSON.`, response.status, endpoint);
  }
}

/** What `POST /v1/uploads` needs: the ciphertext's hash and size, the filing commitment, the signed upload request. */
export interface UploadCreation {
  readonly eh: Bytes;
  readonly size: number;
  readonly filing: Bytes;
  /** The signed upload request JSON text (`assembleUploadRequest`). */
  readonly authorization: string;
  /** A part size to ask for (the server's default otherwise). */
  readonly partSize?: number;
}

/** An upload the server opened. */
export interface Upload {
  readonly uploadId: string;
  readonly eh: string;
  readonly size: number;
  readonly partSize: number;
  readonly parts: number;
  /** Unix seconds after which the server drops the unfinished upload. */
  readonly expiresAt: number;
}

/** An upload's state: which parts the server holds and which it lacks. */
export interface UploadState extends Partial<Upload> {
  readonly uploadId: string;
  readonly received: number[];
  readonly missing: number[];
  readonly state: "open" | "complete";
}

/** Opens an upload (`POST /v1/uploads`) with a doctor's signed upload request. */
export async function createUpload(endpoint: string, upload: UploadCreation, signal?: AbortSignal): Promise<Upload> {
  // The signed request goes in as its exact JSON text (never re-serialised).
  JSON.parse(upload.authorization); // refuses anything that is not JSON before it is sent
  const fields = [
    `"eh":${JSON.stringify(toHex(upload.eh))}`,
    `"size":${upload.size}`,
    `"filing":${JSON.stringify(toHex(upload.filing))}`,
    `"authorization":${upload.authorization}`,
  ];
  if (upload.partSize !== undefined) fields.push(`"partSize":${upload.partSize}`);
  return json<Upload>(endpoint, "/v1/uploads", "POST", `{${fields.join(",")}}`, signal);
}

/** Sends part `n` (from 0) of an upload; re-sending a part replaces it. */
export async function putPart(endpoint: string, uploadId: string, n: number, body: Blob, signal?: AbortSignal): Promise<void> {
  const init: RequestInit = { method: "PUT", body, headers: { "Content-Type": "application/octet-stream" } };
  if (signal) init.signal = signal;
  const response = await send(endpoint, `/v1/uploads/${encodeURIComponent(uploadId)}/parts/${n}`, init);
  await response.body?.cancel();
}

/** Which parts of an upload the server holds (`GET /v1/uploads/{id}`). */
export async function uploadStatus(endpoint: string, uploadId: string, signal?: AbortSignal): Promise<UploadState> {
  return json<UploadState>(endpoint, `/v1/uploads/${encodeURIComponent(uploadId)}`, "GET", undefined, signal);
}

/** Completes an upload: the server checks size and hash, then makes the record visible. Idempotent. */
export async function completeUpload(endpoint: string, uploadId: string, signal?: AbortSignal): Promise<{ uploadId: string; eh: string; size: number; state: "complete" }> {
  return json(endpoint, `/v1/uploads/${encodeURIComponent(uploadId)}/complete`, "POST", undefined, signal);
}

/** Abandons an upload (`DELETE /v1/uploads/{id}`). */
export async function abortUpload(endpoint: string, uploadId: string, signal?: AbortSignal): Promise<void> {
  await json<undefined>(endpoint, `/v1/uploads/${encodeURIComponent(uploadId)}`, "DELETE", undefined, signal);
}

/** What a patient files: `{X, Z, K}` for `eh`, shown with the filing secret `F` of the handoff. */
export interface IndexEntry {
  readonly x: Bytes;
  readonly z: Bytes;
  readonly k: Bytes;
  readonly eh: Bytes;
  readonly filingSecret: Bytes;
}

/** Files `{X, Z, K}` (`POST /v1/index`); `created` is false when the identical entry was filed before. */
export async function fileIndex(endpoint: string, entry: IndexEntry, signal?: AbortSignal): Promise<{ created: boolean }> {
  const body = JSON.stringify({
    x: toHex(entry.x), z: toHex(entry.z), k: toHex(entry.k), eh: toHex(entry.eh), filingSecret: toHex(entry.filingSecret),
  });
  const init: RequestInit = { method: "POST", body, headers: { "Content-Type": "application/json" } };
  if (signal) init.signal = signal;
  const response = await send(endpoint, "/v1/index", init);
  await response.body?.cancel();
  return { created: response.status === 201 };
}

/** The server's answer to a granted access request (bytes as `0x`-hex). */
export interface AccessGrant {
  readonly z: string;
  readonly k: string;
  readonly eh: string;
  /** The ciphertext's size in bytes. */
  readonly size: number;
  /** Unix seconds until which `download` works. */
  readonly expiry: number;
  /** The download capability: a path with a token (`/v1/records/0x…?token=…`). */
  readonly download: string;
}

/** Sends a signed access request (`POST /v1/access`, its exact JSON text). */
export async function access(endpoint: string, signedRequestJson: string, signal?: AbortSignal): Promise<AccessGrant> {
  return json<AccessGrant>(endpoint, "/v1/access", "POST", signedRequestJson, signal);
}

/** The absolute URL of a download capability (`access().download`) at `endpoint`. */
export function downloadUrl(endpoint: string, download: string): string {
  return join(endpoint, download);
}

/**
 * Starts a download of `url` (from {@link downloadUrl}): the response, whose
 * body streams the ciphertext. With `offset`, asks for the rest from that
 * byte (`Range`), e.g. to resume a cut download.
 */
export async function download(url: string, signal?: AbortSignal, offset = 0): Promise<Response> {
  const endpoint = new URL(url).origin;
  const init: RequestInit = {};
  if (signal) init.signal = signal;
  if (offset > 0) init.headers = { Range: `bytes=${offset}-` };
  const path = url.slice(endpoint.length);
  return send(endpoint, path, init);
}

/** Asks the server to delete a record the chain marks deleted (`DELETE /v1/records/{eh}`). */
export async function deleteRecord(endpoint: string, eh: Bytes, signal?: AbortSignal): Promise<{ eh: string; removed: boolean }> {
  return json(endpoint, `/v1/records/${toHex(eh)}`, "DELETE", undefined, signal);
}
