// One webhook through its whole lifecycle, driven by a client that independent generators made from the
// OpenAPI document: types by openapi-typescript (generated/schema.d.ts), calls by openapi-fetch. `npm run
// build` type-checks every call against the document; this script checks every answer at run time and
// exits 1 naming the first mismatch.
//
//   npm ci
//   npm run generate -- http://localhost:7071/api/openapi.json     # or ../../src/WebhookFunctions.Api/OpenApi/openapi.json
//   npm run build
//   BASE=http://localhost:7071 KEY=wk_live_... APP=<application id> WEBHOOK_URL=https://... npm run --silent lifecycle
//
// BASE is a server URL as the document's `servers` gives it (the paths start with /api). WEBHOOK_URL
// must answer the signed test event with a 2xx. On success the script prints one JSON line: each call's
// status, the webhook id and the signing secret the test event was signed with (the webhook is deleted
// by then, so that secret signs nothing more; the test suite verifies the delivered signature with it).

import { randomUUID } from "node:crypto";
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/schema.js";

type Schemas = components["schemas"];

class Mismatch extends Error {}

const CallTimeoutMs = 30_000;

function setting(name: string): string {
  const value = process.env[name]?.trim();
  if (!value) {
    throw new Mismatch(`environment variable ${name} is not set`);
  }

  return value;
}

function check(condition: boolean, what: string): asserts condition {
  if (!condition) {
    throw new Mismatch(what);
  }
}

const statuses: Record<string, number> = {};

/** Records the step's status and insists on the documented one. */
function expectStatus(step: string, response: Response, expected: number, body: unknown): void {
  statuses[step] = response.status;
  check(response.status === expected, `${step}: expected HTTP ${expected}, got ${response.status}: ${JSON.stringify(body)}`);
}

function expectDefined<T>(step: string, value: T | undefined): T {
  check(value !== undefined, `${step}: no response body`);
  return value;
}

/** The generated type says what an error must hold; this checks the bytes really do. */
function checkErrorEnvelope(step: string, response: Response, error: unknown, status: number, requestId?: string): void {
  check(typeof error === "object" && error !== null, `${step}: the error body is not a JSON object: ${JSON.stringify(error)}`);
  const envelope = error as Record<string, unknown>;
  for (const field of ["error", "message", "requestId"]) {
    check(typeof envelope[field] === "string" && envelope[field] !== "", `${step}: error envelope field "${field}" missing or empty: ${JSON.stringify(error)}`);
  }

  check(envelope["code"] === status, `${step}: error envelope code is ${JSON.stringify(envelope["code"])}, expected ${status}`);
  const header = response.headers.get("x-request-id");
  check(envelope["requestId"] === header, `${step}: requestId ${JSON.stringify(envelope["requestId"])} differs from the x-request-id header ${JSON.stringify(header)}`);
  if (requestId !== undefined) {
    check(envelope["requestId"] === requestId, `${step}: requestId ${JSON.stringify(envelope["requestId"])} is not the x-request-id sent (${requestId})`);
  }
}

const base = setting("BASE").replace(/\/+$/, "");
const applicationId = setting("APP");
const webhookUrl = setting("WEBHOOK_URL");
const client = createClient<paths>({
  baseUrl: base,
  headers: { Authorization: `Bearer ${setting("KEY")}` },
  // A call that never answers must fail the run, not hang it.
  fetch: (request: Request) => globalThis.fetch(request, { signal: AbortSignal.timeout(CallTimeoutMs) }),
});

let webhookId: string | undefined;
let deleted = false;

async function run(): Promise<Record<string, unknown>> {
  // Bodies are declared with the generated schema types: openapi-fetch infers the body from the argument,
  // where TypeScript would not flag a misspelt property.
  const create: Schemas["WebhookCreate"] = { url: webhookUrl, description: "lifecycle.ts", subscribedEvents: ["*"] };
  const created = await client.POST("/api/v1/applications/{applicationId}/webhooks", {
    params: { path: { applicationId }, header: { "Idempotency-Key": randomUUID() } },
    body: create,
  });
  expectStatus("create", created.response, 201, created.error);
  const webhook = expectDefined("create", created.data);
  webhookId = webhook.id;
  const firstSecret = webhook.signingSecret;
  check(firstSecret.startsWith("whsec_"), `create: signingSecret does not start with whsec_`);
  check(created.response.headers.get("Location")?.endsWith(`/webhooks/${webhook.id}`) === true, `create: Location header does not name the webhook`);
  const path = { applicationId, webhookId: webhook.id };

  const got = await client.GET("/api/v1/applications/{applicationId}/webhooks/{webhookId}", { params: { path } });
  expectStatus("get", got.response, 200, got.error);
  const before: Schemas["Webhook"] = expectDefined("get", got.data);
  const etag = got.response.headers.get("ETag");
  check(etag !== null && etag.startsWith('"'), `get: no strong ETag header (${etag})`);
  check(before.id === webhook.id && before.url === webhookUrl && before.description === "lifecycle.ts", `get: not the webhook created: ${JSON.stringify(before)}`);
  check(!("signingSecret" in before), "get: the signing secret is shown again");

  let listed = false;
  let pageToken: string | undefined;
  for (let page = 0; page < 100 && !listed; page++) {
    const list = await client.GET("/api/v1/applications/{applicationId}/webhooks", {
      params: { path: { applicationId }, query: pageToken === undefined ? { limit: 100 } : { limit: 100, pageToken } },
    });
    expectStatus("list", list.response, 200, list.error);
    const items = expectDefined("list", list.data);
    listed = items.items.some((item) => item.id === webhook.id);
    if (items.nextPageToken === null) {
      break;
    }

    pageToken = items.nextPageToken;
  }

  check(listed, "list: the created webhook is not listed");

  // The partial update: only the property that changes is sent.
  const patch: Schemas["WebhookPatch"] = { description: "lifecycle.ts, patched" };
  const patched = await client.PATCH("/api/v1/applications/{applicationId}/webhooks/{webhookId}", {
    params: { path, header: { "If-Match": etag } },
    body: patch,
  });
  expectStatus("patch", patched.response, 200, patched.error);
  const after = expectDefined("patch", patched.data);
  check(after.description === "lifecycle.ts, patched", `patch: description is ${JSON.stringify(after.description)}`);
  check(
    after.url === before.url && after.isActive === before.isActive && JSON.stringify(after.subscribedEvents) === JSON.stringify(before.subscribedEvents),
    `patch: a property that was not sent changed: before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`,
  );
  check(patched.response.headers.get("ETag") !== etag, "patch: the ETag did not change");

  const stalePatch: Schemas["WebhookPatch"] = { isActive: false };
  const stale = await client.PATCH("/api/v1/applications/{applicationId}/webhooks/{webhookId}", {
    params: { path, header: { "If-Match": etag } },
    body: stalePatch,
  });
  expectStatus("patchStale", stale.response, 412, stale.data);
  checkErrorEnvelope("patchStale", stale.response, stale.error, 412);

  const rotation: Schemas["RotateSecretRequest"] = { gracePeriodSeconds: 3600 };
  const rotated = await client.POST("/api/v1/applications/{applicationId}/webhooks/{webhookId}/rotate-secret", {
    params: { path, header: { "Idempotency-Key": randomUUID() } },
    body: rotation,
  });
  expectStatus("rotate", rotated.response, 200, rotated.error);
  const secret = expectDefined("rotate", rotated.data);
  check(secret.signingSecret.startsWith("whsec_") && secret.signingSecret !== firstSecret, "rotate: no new signing secret");
  check(secret.keyFingerprint.endsWith(secret.signingSecret.slice(-4)), `rotate: keyFingerprint ${secret.keyFingerprint} is not the new secret's`);
  const graceEnds = Date.parse(secret.previousSecretExpiresAt) - Date.now();
  check(graceEnds > 3_500_000 && graceEnds <= 3_600_000, `rotate: previousSecretExpiresAt ${secret.previousSecretExpiresAt} is not an hour away`);

  const tested = await client.POST("/api/v1/applications/{applicationId}/webhooks/{webhookId}/test", {
    params: { path, header: { "Idempotency-Key": randomUUID() } },
  });
  expectStatus("test", tested.response, 200, tested.error);
  const result = expectDefined("test", tested.data);
  check(result.status === "SUCCEEDED", `test: the test event was not accepted by ${webhookUrl}: ${JSON.stringify(result)}`);

  const removed = await client.DELETE("/api/v1/applications/{applicationId}/webhooks/{webhookId}", { params: { path } });
  expectStatus("delete", removed.response, 204, removed.error);
  deleted = true;

  const requestId = `lifecycle-${randomUUID()}`;
  const gone = await client.GET("/api/v1/applications/{applicationId}/webhooks/{webhookId}", {
    params: { path, header: { "x-request-id": requestId } },
  });
  expectStatus("getDeleted", gone.response, 404, gone.data);
  checkErrorEnvelope("getDeleted", gone.response, gone.error, 404, requestId);

  return { ok: true, statuses, webhookId: webhook.id, testStatus: result.status, testHttpStatus: result.httpStatus, signingSecret: secret.signingSecret };
}

try {
  console.log(JSON.stringify(await run()));
} catch (failure) {
  const message = failure instanceof Mismatch ? failure.message : `unexpected failure: ${failure instanceof Error ? failure.stack ?? failure.message : String(failure)}`;
  console.error(`lifecycle: ${message}`);
  console.error(`lifecycle: statuses so far ${JSON.stringify(statuses)}`);
  if (webhookId !== undefined && !deleted) {
    // Leave nothing behind on a failed run; a failure here changes nothing about the verdict.
    await client.DELETE("/api/v1/applications/{applicationId}/webhooks/{webhookId}", { params: { path: { applicationId, webhookId } } }).catch(() => undefined);
  }

  process.exitCode = 1;
}
