/** Row of `duty_holders` (migration 007): who runs a duty, since when, alive when last. Times in epoch ms. */
export interface DutyHoldersTable {
  duty: string;
  instance: string;
  since: number;
  heartbeat_at: number;
}
