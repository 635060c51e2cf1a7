/**
 * kinesalite: a Kinesis Data Streams implementation in Node, in process, on 127.0.0.1.
 * The AWS SDK's Kinesis client defaults to an HTTP/2 handler, which kinesalite (HTTP/1.1) answers
 * with a protocol error that crashes the process; `localKinesisClient` uses HTTP/1.1.
 * kinesalite answers every request that carries an `Origin` with `Access-Control-Allow-Origin: *`,
 * so any web page could read and write the stream through the browser: requests with an `Origin`
 * (only browsers send one; the SDK does not) are refused before kinesalite sees them.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";

/** A running kinesalite. */
export interface Kinesalite {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

/** Starts kinesalite in this process: in memory, or persisted under `path`. */
export async function startKinesalite(options: { port?: number; path?: string } = {}): Promise<Kinesalite> {
  const require = createRequire(import.meta.url);
  const kinesalite = require("kinesalite") as (options: Record<string, unknown>) => Server;
  const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100, ...(options.path ? { path: options.path } : {}) });
  refuseBrowserRequests(server);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A Kinesis client for a local endpoint, on HTTP/1.1. */
export function localKinesisClient(endpoint: string): KinesisClient {
  return new KinesisClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    requestHandler: new NodeHttpHandler(),
  });
}

type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

/** Puts a check before `server`'s request handlers: a request with an `Origin` header gets 403 and no CORS header. */
export function refuseBrowserRequests(server: Server): void {
  const handlers = server.listeners("request") as RequestListener[];
  server.removeAllListeners("request");
  server.on("request", (request: IncomingMessage, response: ServerResponse) => {
    if (request.headers.origin !== undefined) {
      request.resume();
      response.writeHead(403, { "content-type": "text/plain", connection: "close" });
      response.end("cross-origin requests are refused\n");
      return;
    }
    for (const handler of handlers) handler.call(server, request, response);
  });
}
