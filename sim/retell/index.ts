/**
 * The Retell API simulator: point the official client at it with
 * `new Retell({ apiKey: 'key_sim_retell', baseURL: (await startRetellSim(sim)).url })`.
 */
export { createRetellSim, startRetellSim } from './app';
export type { RetellSim, RetellSimOptions, RunningRetellSim } from './app';
export { DEMO, seedRetellDemo } from './state';
export type {
  SimAgent,
  SimAgentRef,
  SimCall,
  SimFault,
  SimLlm,
  SimPhoneNumber,
  SimRequestLogEntry,
  SimResponseEngine,
} from './state';
export { MESSAGES as RETELL_ERROR_MESSAGES } from './schemas';
