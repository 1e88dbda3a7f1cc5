/** One throttling counter: per account (`acct:<username_lower>`) or per client address (`ip:<addr>`). */
export interface LoginThrottleTable {
  key: string;
  window_start: number;
  attempts: number;
  blocked_until: number;
}
