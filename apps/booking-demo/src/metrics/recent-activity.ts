/** The last few things that happened in this API process, newest first, for the dashboard. */
export class RecentActivity {
  private readonly entries: { at: string; text: string }[] = []

  constructor(private readonly limit = 20) {}

  add(text: string): void {
    this.entries.unshift({ at: new Date().toISOString(), text })
    this.entries.length = Math.min(this.entries.length, this.limit)
  }

  list(): readonly { at: string; text: string }[] {
    return this.entries
  }
}
