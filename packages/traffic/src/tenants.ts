/**
 * The tenant population: ids, tiers, users, and the departments and applications that call
 * Bedrock. Everything is a pure function of the tenant's rank (0 = largest), not of the traffic
 * seed, so runs with different seeds bill the same tenants and their spend can be compared.
 */
import { mix32, type Prng, WeightedTable } from "./prng";

/** Tenant tiers, the `tenantGroup` metadata value. */
export type TenantGroup = "free" | "pro" | "enterprise";

/** The eight departments every tenant has, with their share of its calls. */
export const DEPARTMENTS = ["engineering", "support", "sales", "marketing", "operations", "finance", "hr", "legal"] as const;
/** One department. */
export type Department = (typeof DEPARTMENTS)[number];

const DEPARTMENT_TABLE = new WeightedTable<Department>([
  ["engineering", 22],
  ["support", 20],
  ["sales", 14],
  ["marketing", 10],
  ["operations", 12],
  ["finance", 8],
  ["hr", 8],
  ["legal", 6],
]);

/** An application that calls Bedrock, with the IAM role it runs as. */
export interface Application {
  applicationId: string;
  /** Role name in `identity.arn` (`assumed-role/<role>/<session>`). */
  role: string;
  /** System prompt of its calls. */
  system: string;
  /** Text put before the user's content. */
  promptPrefix: string;
  /** Text put before the model's answer. */
  answerPrefix: string;
}

/** The applications of the workload. */
export const APPLICATIONS: readonly Application[] = [
  {
    applicationId: "support-assistant",
    role: "support-assistant-prod",
    system: "You are a customer support assistant. Answer politely, cite the relevant policy and never promise refunds.",
    promptPrefix: "Customer message: ",
    answerPrefix: "Thank you for reaching out. ",
  },
  {
    applicationId: "doc-summarizer",
    role: "doc-summarizer-prod",
    system: "Summarize documents for busy readers. Use short bullet points and keep every number exact.",
    promptPrefix: "Summarize the following document in five bullet points:\n\n",
    answerPrefix: "Summary:\n- ",
  },
  {
    applicationId: "code-review",
    role: "code-review-bot",
    system: "You review code changes. Point out bugs, risky patterns and missing tests, most severe first.",
    promptPrefix: "Review this change and list the problems you find:\n\n",
    answerPrefix: "Findings, most severe first:\n1. ",
  },
  {
    applicationId: "sales-email",
    role: "sales-email-writer",
    system: "You draft concise, friendly sales follow-up emails in the voice of the account executive.",
    promptPrefix: "Draft a follow-up email to the prospect based on these call notes: ",
    answerPrefix: "Subject: Next steps\n\nHi, ",
  },
  {
    applicationId: "knowledge-search",
    role: "knowledge-search-api",
    system: "Answer using only the context provided. Say you do not know when the context does not contain the answer.",
    promptPrefix: "Context:\n",
    answerPrefix: "Based on the context, ",
  },
  {
    applicationId: "meeting-notes",
    role: "meeting-notes-worker",
    system: "Extract decisions and action items with owners and due dates from meeting transcripts.",
    promptPrefix: "Transcript:\n",
    answerPrefix: "Action items:\n- ",
  },
  {
    applicationId: "contract-analyzer",
    role: "contract-analyzer-prod",
    system: "You are a contracts analyst. Flag unusual clauses, renewal terms and liability caps.",
    promptPrefix: "Analyze this contract excerpt: ",
    answerPrefix: "Clauses to review: ",
  },
  {
    applicationId: "report-builder",
    role: "report-builder-batch",
    system: "Write clear monthly business reports from the metrics provided.",
    promptPrefix: "Write the monthly report section for these figures: ",
    answerPrefix: "Overview: ",
  },
];

function app(id: string): Application {
  return APPLICATIONS.find((candidate) => candidate.applicationId === id) as Application;
}

/** Which applications each department uses (primary first). */
const APPLICATIONS_BY_DEPARTMENT: Record<Department, WeightedTable<Application>> = {
  engineering: new WeightedTable([
    [app("code-review"), 6],
    [app("knowledge-search"), 3],
    [app("doc-summarizer"), 1],
  ]),
  support: new WeightedTable([
    [app("support-assistant"), 8],
    [app("knowledge-search"), 2],
  ]),
  sales: new WeightedTable([
    [app("sales-email"), 6],
    [app("meeting-notes"), 3],
    [app("knowledge-search"), 1],
  ]),
  marketing: new WeightedTable([
    [app("doc-summarizer"), 5],
    [app("sales-email"), 3],
    [app("report-builder"), 2],
  ]),
  operations: new WeightedTable([
    [app("report-builder"), 5],
    [app("meeting-notes"), 3],
    [app("doc-summarizer"), 2],
  ]),
  finance: new WeightedTable([
    [app("report-builder"), 7],
    [app("doc-summarizer"), 3],
  ]),
  hr: new WeightedTable([
    [app("knowledge-search"), 6],
    [app("doc-summarizer"), 4],
  ]),
  legal: new WeightedTable([
    [app("contract-analyzer"), 7],
    [app("doc-summarizer"), 3],
  ]),
};

/** Draws the department of one call. */
export function drawDepartment(rng: Prng): Department {
  return DEPARTMENT_TABLE.draw(rng);
}

/** Draws the application a department's call comes from. */
export function drawApplication(rng: Prng, department: Department): Application {
  return APPLICATIONS_BY_DEPARTMENT[department].draw(rng);
}

const ADJECTIVES = (
  "acme blue north bright silver rapid cedar summit harbor atlas nova pine river stone golden " +
  "iron maple coral lunar solar crimson quiet swift urban prairie alpine polar amber jade cobalt"
).split(" ");
const NOUNS = (
  "labs health logistics retail bank media energy games legal travel foods insurance robotics " +
  "analytics studio capital systems motors pharma telecom learning realty freight clinic works"
).split(" ");

/** One tenant. */
export interface Tenant {
  rank: number;
  tenantId: string;
  tenantGroup: TenantGroup;
  /** How many end users call Bedrock through the tenant's applications. */
  users: number;
}

/** Bijective scramble of a rank to 32 bits, so that ids are unique yet look unordered. */
function scramble(rank: number): number {
  return Math.imul(rank + 1, 0x9e3779b1) >>> 0;
}

/**
 * Tenant at a rank of a population of `population` tenants. Ids are unique (the suffix is a
 * bijection of the rank) and match Bedrock's metadata character rule.
 */
export function tenantAt(rank: number, population: number): Tenant {
  const hash = mix32(rank ^ 0x2545f491);
  const suffix = scramble(rank).toString(36).padStart(7, "0");
  const tenantId = `${ADJECTIVES[hash % ADJECTIVES.length]}-${NOUNS[(hash >>> 8) % NOUNS.length]}-${suffix}`;
  // The largest tenants are mostly enterprise customers, the long tail mostly free.
  const roll = ((hash >>> 16) & 0xffff) / 0x10000;
  const position = rank / population;
  let tenantGroup: TenantGroup;
  if (position < 0.02) tenantGroup = roll < 0.7 ? "enterprise" : "pro";
  else if (position < 0.2) tenantGroup = roll < 0.15 ? "enterprise" : roll < 0.75 ? "pro" : "free";
  else tenantGroup = roll < 0.02 ? "enterprise" : roll < 0.3 ? "pro" : "free";
  const users = 2 + Math.floor(400 / Math.sqrt(rank + 1));
  return { rank, tenantId, tenantGroup, users };
}

/** The id of a tenant's user by index; stable across runs. */
export function userIdOf(tenant: Tenant, index: number): string {
  return `user_${mix32(scramble(tenant.rank) ^ Math.imul(index + 1, 0x85ebca77))
    .toString(36)
    .padStart(7, "0")}${index.toString(36)}`;
}

/** Draws one of a tenant's users: a few heavy users, a long tail of occasional ones. */
export function drawUser(rng: Prng, tenant: Tenant): string {
  const u = rng.next();
  return userIdOf(tenant, Math.floor(u * u * tenant.users));
}
