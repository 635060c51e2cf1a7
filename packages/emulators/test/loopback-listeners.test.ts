/**
 * Every local service listens on loopback only and answers no cross-origin request: DynamoDB Local
 * (through its loopback launcher), kinesalite, the S3 and Bedrock stand-ins. The listening sockets
 * are read from /proc/net/tcp and tcp6 through the processes' own file descriptors, and the same
 * check flags the jar started the old way (`java -jar DynamoDBLocal.jar -port`), which listens on
 * every interface; kinesalite as its package starts it answers every origin with `*`.
 */
import { spawn } from "node:child_process";
import type { Server as HttpServer } from "node:http";
import { createRequire } from "node:module";
import { type AddressInfo, createServer, type Server } from "node:net";
import { join } from "node:path";
import { ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { describe, expect, it, onTestFinished } from "vitest";
import { BedrockControlPlaneServer } from "../src/bedrock-loopback";
import { DYNAMODB_LOCAL_CORS, dynamoDbLocalArgs, dynamoDbLocalDirectory, localDynamoDbClient, startDynamoDbLocal } from "../src/dynamodb-local";
import { refuseBrowserRequests, startKinesalite } from "../src/kinesalite";
import { isLoopbackAddress, listeningSockets, nonLoopbackListeners, parseListeningTable, procAvailable } from "../src/listeners";
import { freePort } from "../src/ports";
import { startS3Loopback } from "../src/s3-loopback";

const linux = procAvailable();

/** A CORS preflight from a page on another origin, and the same origin's POST; the response headers of both. */
async function crossOrigin(endpoint: string): Promise<{ preflight: Response; post: Response }> {
  const origin = "http://attacker.example";
  const preflight = await fetch(endpoint, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,x-amz-target" },
  });
  await preflight.arrayBuffer();
  const post = await fetch(endpoint, {
    method: "POST",
    headers: { origin, "content-type": "application/x-amz-json-1.0", "x-amz-target": "DynamoDB_20120810.ListTables" },
    body: "{}",
  });
  await post.arrayBuffer();
  return { preflight, post };
}

function listenOn(host: string | undefined): Promise<Server> {
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    if (host === undefined) server.listen(0, () => resolve(server));
    else server.listen(0, host, () => resolve(server));
  });
}

function portOf(server: Server): number {
  const address = server.address();
  return typeof address === "object" && address ? address.port : 0;
}

describe("the listening-socket check", () => {
  it("reads addresses from /proc/net/tcp and tcp6 lines and tells loopback from every interface", () => {
    // Prepare: lines as the kernel prints them (address and port in hex, state 0A = LISTEN, inode in field 10)
    const tcp = [
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
      "   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1060 1 0000000014853015 100 0 0 10 0",
      "   1: 0100007F:4959 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1061 1 0000000014853015 100 0 0 10 0",
      "   2: 0100007F:4959 0100007F:A000 01 00000000:00000000 00:00000000 00000000     0        0 1062 1 0000000014853015 100 0 0 10 0",
    ].join("\n");
    const tcp6 = [
      "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
      "   0: 0000000000000000FFFF00000100007F:4959 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2001 1 0 100 0 0 10 0",
      "   1: 00000000000000000000000000000000:AF5D 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2002 1 0 100 0 0 10 0",
      "   2: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2003 1 0 100 0 0 10 0",
      "   3: 0000000000000000FFFF00000A00000A:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2004 1 0 100 0 0 10 0",
    ].join("\n");

    // Act
    const v4 = parseListeningTable(tcp, 4);
    const v6 = parseListeningTable(tcp6, 6);

    // Assess: only LISTEN rows; 0.0.0.0, :: and a mapped 10.0.0.10 are flagged
    expect([...v4]).toEqual([
      [1060, { address: "0.0.0.0", port: 2024 }],
      [1061, { address: "127.0.0.1", port: 18777 }],
    ]);
    expect([...v6]).toEqual([
      [2001, { address: "::ffff:127.0.0.1", port: 18777 }],
      [2002, { address: "::", port: 44893 }],
      [2003, { address: "::1", port: 8080 }],
      [2004, { address: "::ffff:10.0.0.10", port: 8080 }],
    ]);
    expect([...v4.values(), ...v6.values()].map((socket) => isLoopbackAddress(socket.address))).toEqual([false, true, true, false, true, false]);
  });

  it.runIf(linux)("flags this process's servers on every interface and passes its server on 127.0.0.1", async () => {
    // Prepare
    const everywhere = await listenOn(undefined);
    const anyIpv4 = await listenOn("0.0.0.0");
    const loopback = await listenOn("127.0.0.1");
    onTestFinished(() => {
      for (const server of [everywhere, anyIpv4, loopback]) server.close();
    });
    const ports = new Set([portOf(everywhere), portOf(anyIpv4), portOf(loopback)]);

    // Act
    const mine = listeningSockets([process.pid]).filter((listener) => ports.has(listener.port));
    const flagged = nonLoopbackListeners([process.pid]).filter((listener) => ports.has(listener.port));

    // Assess
    expect(mine).toHaveLength(3);
    expect(flagged.map((listener) => [listener.address, listener.port]).sort()).toEqual(
      [
        ["::", portOf(everywhere)],
        ["0.0.0.0", portOf(anyIpv4)],
      ].sort(),
    );
  });
});

describe.runIf(linux)("local services on loopback only", () => {
  it("the jar's own main (the old launch) listens on every interface: the check flags it", async () => {
    // Prepare: DynamoDB Local as it was started before the loopback launcher
    const directory = dynamoDbLocalDirectory();
    const port = await freePort();
    const child = spawn(
      "java",
      [
        `-Djava.library.path=${join(directory, "DynamoDBLocal_lib")}`,
        "-Xmx256m",
        "-jar",
        join(directory, "DynamoDBLocal.jar"),
        "-port",
        String(port),
        "-inMemory",
        "-disableTelemetry",
      ],
      { cwd: directory, stdio: "ignore" },
    );
    const exited = new Promise((resolve) => child.once("exit", resolve));
    onTestFinished(async () => {
      child.kill("SIGKILL");
      await exited;
    });
    const endpoint = `http://127.0.0.1:${port}`;
    const client = localDynamoDbClient(endpoint);
    onTestFinished(() => client.destroy());
    for (let attempt = 0; ; attempt++) {
      try {
        await client.send(new ListTablesCommand({}));
        break;
      } catch (error) {
        if (attempt > 400) throw error;
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    }

    // Act
    const flagged = nonLoopbackListeners([child.pid as number]);

    // Assess
    expect(flagged).toEqual([{ pid: child.pid, address: expect.stringMatching(/^(::|0\.0\.0\.0)$/), port }]);
  }, 120_000);

  it("DynamoDB Local's arguments name the loopback launcher, 127.0.0.1 and a closed CORS list, never the jar's own main", () => {
    // Act
    const compiled = dynamoDbLocalArgs("/opt/ddb", 8000, { dbPath: "/data" }, "/cache/abc");
    const source = dynamoDbLocalArgs("/opt/ddb", 8000);

    // Assess
    expect(compiled.slice(2)).toEqual([
      "-cp",
      "/cache/abc:/opt/ddb/DynamoDBLocal.jar:/opt/ddb/DynamoDBLocal_lib/*",
      "LoopbackDynamoDbLocal",
      "127.0.0.1",
      "-port",
      "8000",
      "-cors",
      "none",
      "-disableTelemetry",
      "-dbPath",
      "/data",
    ]);
    expect(source[4]).toMatch(/java\/LoopbackDynamoDbLocal\.java$/);
    expect(source.slice(5)).toEqual(["127.0.0.1", "-port", "8000", "-cors", "none", "-disableTelemetry", "-inMemory"]);
    expect([...compiled, ...source]).not.toContain("-jar");
  });

  it("startDynamoDbLocal listens on 127.0.0.1 only and allows no origin", async () => {
    // Prepare
    const local = await startDynamoDbLocal({ heap: "256m" });
    onTestFinished(() => local.stop());

    // Act
    const listeners = listeningSockets([local.pid]);
    const { preflight, post } = await crossOrigin(local.endpoint);

    // Assess
    expect(listeners).toEqual([{ pid: local.pid, address: expect.stringMatching(/^(::ffff:)?127\.0\.0\.1$/), port: local.port }]);
    expect(nonLoopbackListeners([local.pid])).toEqual([]);
    expect(DYNAMODB_LOCAL_CORS).not.toMatch(/^(\*|null)$/);
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    expect(post.headers.get("access-control-allow-origin")).toBeNull();
  }, 120_000);

  it("kinesalite as the package starts it allows every origin: refuseBrowserRequests closes it", async () => {
    // Prepare: kinesalite's own server, and one behind the check
    const require = createRequire(import.meta.url);
    const kinesalite = require("kinesalite") as (options: Record<string, unknown>) => HttpServer;
    const open = kinesalite({});
    const closed = kinesalite({});
    refuseBrowserRequests(closed);
    for (const server of [open, closed]) await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    onTestFinished(async () => {
      for (const server of [open, closed]) await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const endpoint = (server: HttpServer) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    // Act
    const before = await crossOrigin(endpoint(open));
    const after = await crossOrigin(endpoint(closed));

    // Assess
    expect(before.preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(before.post.headers.get("access-control-allow-origin")).toBe("*");
    expect([after.preflight.status, after.post.status]).toEqual([403, 403]);
    expect(after.preflight.headers.get("access-control-allow-origin")).toBeNull();
    expect(after.post.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("kinesalite, the S3 and the Bedrock stand-ins listen on 127.0.0.1 only; kinesalite refuses cross-origin requests", async () => {
    // Prepare
    const kinesalite = await startKinesalite();
    const s3 = await startS3Loopback();
    const bedrock = await new BedrockControlPlaneServer().start();
    onTestFinished(async () => {
      await kinesalite.stop();
      await s3.close();
      await bedrock.stop();
    });
    const ports = new Set([kinesalite.port, s3.port, Number(new URL(bedrock.endpoint).port)]);

    // Act
    const mine = listeningSockets([process.pid]).filter((listener) => ports.has(listener.port));
    const kinesis = await crossOrigin(kinesalite.endpoint);
    const plain = await fetch(kinesalite.endpoint, {
      method: "POST",
      headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "Kinesis_20131202.ListStreams" },
      body: "{}",
    });
    await plain.arrayBuffer();

    // Assess
    expect(mine.map((listener) => listener.port).sort()).toEqual([...ports].sort());
    expect(mine.every((listener) => isLoopbackAddress(listener.address))).toBe(true);
    expect(kinesis.preflight.status).toBe(403);
    expect(kinesis.preflight.headers.get("access-control-allow-origin")).toBeNull();
    expect(kinesis.post.status).toBe(403);
    expect(kinesis.post.headers.get("access-control-allow-origin")).toBeNull();
    expect(plain.status).not.toBe(403);
  });
});
