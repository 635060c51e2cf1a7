/** A raw HTTP client for the server tests: the request target is sent exactly as given (no URL normalization). */
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface RawRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Sends `target` (path and query, as is) to `base` (`http://127.0.0.1:port/`). */
export function raw(base: string, target: string, options: RawRequest = {}): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method: options.method ?? "GET", path: target, headers: { host: url.host, ...options.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** GETs `target` and parses the JSON body. */
export async function getJson<T = unknown>(base: string, target: string): Promise<{ status: number; headers: IncomingHttpHeaders; json: T }> {
  const response = await raw(base, target);
  return { status: response.status, headers: response.headers, json: JSON.parse(response.body) as T };
}
