/**
 * `agents update-prompt`: an agent's prompt lives on its Retell LLM (`general_prompt`), not on the
 * agent, so the change is: retrieve the agent → its `retell-llm` response engine → update that
 * LLM. Agents on a custom LLM or a conversation flow have no prompt callbook could change; they
 * fail with a clear error instead of a silent no-op. Retell keeps published LLM versions frozen:
 * the change lands in the newest (draft) version, which the operator then publishes in Retell.
 */
import { createHash } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { companies } from '../../drizzle/schema';
import { audit } from '../audit';
import type { AppContext } from '../context';
import { describeRetellError, isRetellNotFound, openRetellSession, retellKeysByAccount } from '../retell/client';

export class AgentPromptError extends Error {
  override readonly name = 'AgentPromptError';
}

export interface UpdatePromptInput {
  /** The company whose Retell account holds the agent (its own key, else the global one); null/absent = global. */
  companyId?: number | null;
  agentId: string;
  prompt: string;
  /** Who asked, for the audit log (`cli:<user>`, `admin`, …). */
  actor: string;
}

export interface UpdatePromptResult {
  agentId: string;
  llmId: string;
  /** The LLM version that now holds the prompt. */
  version: number | null;
  /** false: a draft — publish the agent in Retell for calls to use it. */
  published: boolean;
}

export async function updateAgentPrompt(ctx: AppContext, input: UpdatePromptInput, signal?: AbortSignal): Promise<UpdatePromptResult> {
  const prompt = input.prompt;
  if (!input.agentId.trim()) throw new AgentPromptError('agent id is required');
  if (!prompt.trim()) throw new AgentPromptError('the prompt is empty');
  const companyId = input.companyId ?? null;
  if (companyId !== null) {
    const [c] = await ctx.database.db.select({ id: companies.id }).from(companies).where(eq(companies.id, companyId)).limit(1);
    if (!c) throw new AgentPromptError(`company ${companyId} does not exist`);
  }
  const [account] = await retellKeysByAccount(ctx, {
    ...(companyId !== null ? { companyId } : {}),
    onError: (a, err) => {
      throw new AgentPromptError(`the Retell key of ${a.label} cannot be decrypted: ${err.message}`);
    },
  });
  if (!account) throw new AgentPromptError('no Retell account');
  const session = openRetellSession(ctx, account, signal);

  let agent;
  try {
    agent = await session.call((c, o) => c.agent.retrieve(input.agentId, null, o));
  } catch (err) {
    if (isRetellNotFound(err)) throw new AgentPromptError(`agent ${input.agentId} not found in the ${account.label} Retell account`);
    throw new AgentPromptError(`could not read agent ${input.agentId}: ${describeRetellError(err)}`);
  }
  const engine = agent.response_engine;
  if (engine.type !== 'retell-llm') {
    throw new AgentPromptError(
      `agent ${input.agentId} uses a ${engine.type} response engine; only agents on a Retell LLM (retell-llm) have a prompt callbook can change`,
    );
  }

  let llm;
  try {
    llm = await session.call((c, o) => c.llm.update(engine.llm_id, { general_prompt: prompt }, o));
  } catch (err) {
    throw new AgentPromptError(`could not update LLM ${engine.llm_id} of agent ${input.agentId}: ${describeRetellError(err)}`);
  }
  const result: UpdatePromptResult = {
    agentId: input.agentId,
    llmId: engine.llm_id,
    version: typeof llm.version === 'number' ? llm.version : null,
    published: llm.is_published === true,
  };
  await audit(ctx.database.db, {
    companyId,
    actor: input.actor,
    action: 'agents.update_prompt',
    target: input.agentId,
    details: {
      account: account.label,
      llmId: result.llmId,
      version: result.version,
      published: result.published,
      promptChars: prompt.length,
      promptSha256: createHash('sha256').update(prompt).digest('hex'),
    },
  });
  ctx.logger.info({ actor: input.actor, account: account.label, ...result }, 'agent prompt updated');
  return result;
}
