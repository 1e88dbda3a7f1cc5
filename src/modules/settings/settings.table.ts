export interface SettingsTable {
  key: string;
  /** JSON document of one settings group. */
  value: string;
  updated_at: number;
}
