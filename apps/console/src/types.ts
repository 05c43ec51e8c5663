/** The shapes of the MCP tool results the console reads (lib/mcp/*). */
export type Outcome = 'booked' | 'no_booking' | 'failed' | 'cancelled' | 'open';
export type Counts = Record<Outcome, number> & { calls: number };

export interface Tenants {
  principal: { kind: 'admin' } | { kind: 'company' | 'branch'; name: string };
  companies: Array<{
    id: number;
    slug: string;
    name: string;
    branches: Array<{ id: number; slug: string; name: string; timezone: string }>;
    services: Array<{ slug: string; name: string; branch: string | null }>;
  }>;
}

export interface Stats {
  timeZone: string;
  from: string;
  to: string;
  today: string;
  totals: { range: Counts; today: Counts };
  topReasons: Array<{ reason: string; count: number }>;
  bookingsPerHour: number[];
  branches: Array<{ company: string; companyName: string; branch: string; branchName: string; branchId: number; range: Counts; today: Counts }>;
}

export interface CallRow {
  callId: string;
  company: string;
  branch: string;
  branchId: number;
  status: string;
  at: string;
  durationMs: number | null;
  outcome: Outcome;
  reason: string | null;
  appointment: { id: number; status: string; start: string | null } | null;
}

export interface CallsPage {
  total: number;
  nextCursor: string | null;
  calls: CallRow[];
}

export interface FailedJob {
  id: string;
  company: string | null;
  branch: string | null;
  service: string | null;
  callId: string | null;
  start: string | null;
  failedAt: string | null;
  reason: string;
}

export interface Breaker {
  service: string;
  state: 'CLOSED' | 'OPEN' | 'HALF_OPEN';
  retryAt: string | null;
}

export interface QueueRow {
  name: string;
  waiting: number;
  active: number;
  delayed: number;
  failed?: number;
  completed?: number;
}

export interface CallDetail {
  call: {
    callId: string;
    company: string;
    branch: string;
    status: string;
    startedAt: string | null;
    durationMs: number | null;
    summary: string | null;
    sentiment: string | null;
    transcript: string | null;
    bookingDecision: string | null;
    bookingReason: string | null;
    bookingRequest: { start: string } | null;
    purgedAt: string | null;
  };
  customer: { name: string | null; phone: string | null; email: string | null } | null;
  appointments: Array<{ id: number; status: string; serviceName: string | null; start: string; calcomUid: string | null; failureReason: string | null; alternatives: string[] | null }>;
  notifications: Array<{ appointmentId: number; kind: string; channel: string; recipient: string | null; status: string; error: string | null; sentAt: string | null }>;
}

export interface Slots {
  slots: string[];
  local: string[];
  timeZone: string;
}
