import {
  describeRetellError,
  isRetellNotFound,
  openRetellSession,
  retellKeysByAccount
} from "./chunk-IKLR67YA.js";
import {
  audit
} from "./chunk-54VZ3ZP4.js";
import {
  bookingIdempotencyKey,
  upsertCustomer
} from "./chunk-YXWKEBKV.js";
import {
  companies
} from "./chunk-AQ2OROU7.js";

// lib/booking/manual.ts
async function manualBookingJob(db, b) {
  const customerId = await upsertCustomer(db, b.companyId, b.phone, b.name, b.email);
  const start = b.start.toISOString();
  return {
    companyId: b.companyId,
    branchId: b.branchId,
    customerId,
    serviceId: b.service.id,
    start,
    idempotencyKey: bookingIdempotencyKey({ companyId: b.companyId, callRef: `${b.source}:${b.phone}`, eventTypeId: b.service.calcomEventTypeId, startIso: start }),
    source: b.source
  };
}

// lib/sync/update-prompt.ts
import { createHash } from "node:crypto";
import { eq } from "drizzle-orm";
var AgentPromptError = class extends Error {
  name = "AgentPromptError";
};
async function updateAgentPrompt(ctx, input, signal) {
  const prompt = input.prompt;
  if (!input.agentId.trim()) throw new AgentPromptError("agent id is required");
  if (!prompt.trim()) throw new AgentPromptError("the prompt is empty");
  const companyId = input.companyId ?? null;
  if (companyId !== null) {
    const [c] = await ctx.database.db.select({ id: companies.id }).from(companies).where(eq(companies.id, companyId)).limit(1);
    if (!c) throw new AgentPromptError(`company ${companyId} does not exist`);
  }
  const [account] = await retellKeysByAccount(ctx, {
    ...companyId !== null ? { companyId } : {},
    onError: (a, err) => {
      throw new AgentPromptError(`the Retell key of ${a.label} cannot be decrypted: ${err.message}`);
    }
  });
  if (!account) throw new AgentPromptError("no Retell account");
  const session = openRetellSession(ctx, account, signal);
  let agent;
  try {
    agent = await session.call((c, o) => c.agent.retrieve(input.agentId, null, o));
  } catch (err) {
    if (isRetellNotFound(err)) throw new AgentPromptError(`agent ${input.agentId} not found in the ${account.label} Retell account`);
    throw new AgentPromptError(`could not read agent ${input.agentId}: ${describeRetellError(err)}`);
  }
  const engine = agent.response_engine;
  if (engine.type !== "retell-llm") {
    throw new AgentPromptError(
      `agent ${input.agentId} uses a ${engine.type} response engine; only agents on a Retell LLM (retell-llm) have a prompt callbook can change`
    );
  }
  let llm;
  try {
    llm = await session.call((c, o) => c.llm.update(engine.llm_id, { general_prompt: prompt }, o));
  } catch (err) {
    throw new AgentPromptError(`could not update LLM ${engine.llm_id} of agent ${input.agentId}: ${describeRetellError(err)}`);
  }
  const result = {
    agentId: input.agentId,
    llmId: engine.llm_id,
    version: typeof llm.version === "number" ? llm.version : null,
    published: llm.is_published === true
  };
  await audit(ctx.database.db, {
    companyId,
    actor: input.actor,
    action: "agents.update_prompt",
    target: input.agentId,
    details: {
      account: account.label,
      llmId: result.llmId,
      version: result.version,
      published: result.published,
      promptChars: prompt.length,
      promptSha256: createHash("sha256").update(prompt).digest("hex")
    }
  });
  ctx.logger.info({ actor: input.actor, account: account.label, ...result }, "agent prompt updated");
  return result;
}

export {
  manualBookingJob,
  AgentPromptError,
  updateAgentPrompt
};
//# sourceMappingURL=chunk-L7ZCO24U.js.map
