import type { Pgoutput } from 'pg-logical-replication'
import type { CapturedRow, Change, ChangeOperation } from '../capture/change.js'
import type { ChangeCapture } from '../capture/change-capture.js'

/** One committed transaction's changes of watched tables, and the WAL position to confirm once handled. */
export interface DecodedTransaction {
  changes: Change[]
  /** The end of its commit record: confirming it tells the slot everything up to here was handled. */
  commitEndLsn: string
}

type Tuple = Record<string, unknown> | null

/**
 * Turns the pgoutput message stream into whole committed transactions of watched tables, rows projected
 * to the declared columns in PostgreSQL's text form, exactly as the triggers record them. Messages of one
 * transaction arrive between its `begin` and `commit`; pgoutput sends only committed transactions, in
 * commit order.
 */
export class TransactionDecoder {
  private open: { xid: string; commitLsn: string; commitTime: Date; changes: Change[] } | undefined

  constructor(private readonly capture: ChangeCapture) {}

  /** True between a transaction's begin and commit. */
  get inTransaction(): boolean {
    return this.open !== undefined
  }

  /** Feeds one message; returns the transaction its `commit` completed, if any. */
  decode(message: Pgoutput.Message): DecodedTransaction | undefined {
    switch (message.tag) {
      case 'relation':
        // Values stay in PostgreSQL's text form (the library would parse them with pg's global type
        // parsers, turning a date into a Date in the local zone): the mapping sees what a trigger records.
        for (const column of message.columns) column.parser = (text: string) => text
        return undefined
      case 'begin':
        this.open = {
          xid: String(message.xid),
          commitLsn: message.commitLsn ?? '0/0',
          commitTime: new Date(Number((message.commitTime as unknown as bigint) / 1000n)),
          changes: [],
        }
        return undefined
      case 'insert':
        this.add(message.relation, 'insert', null, message.new)
        return undefined
      case 'update':
        this.add(message.relation, 'update', message.old, message.new)
        return undefined
      case 'delete':
        this.add(message.relation, 'delete', message.old, null)
        return undefined
      case 'truncate':
        for (const relation of message.relations) this.add(relation, 'truncate', null, null)
        return undefined
      case 'commit': {
        const committed = this.open
        this.open = undefined
        if (committed === undefined) return undefined
        return { changes: committed.changes, commitEndLsn: message.commitEndLsn ?? committed.commitLsn }
      }
      default:
        return undefined
    }
  }

  private add(relation: Pgoutput.MessageRelation, operation: ChangeOperation, old: Tuple, next: Tuple): void {
    const open = this.open
    const table = this.capture.table(`${relation.schema}.${relation.name}`)
    if (open === undefined || table === undefined) return
    const project = (tuple: Tuple): CapturedRow | undefined => {
      if (tuple === null) return undefined
      return Object.fromEntries(
        table.columns.map((column) => [column, (tuple[column] as string | null) ?? null]),
      )
    }
    open.changes.push({
      // The commit's position and the change's place in it: the same on every redelivery.
      id: `${open.commitLsn}#${open.changes.length}`,
      table: table.name.qualified,
      operation,
      old: project(old),
      new: project(next),
      transaction: open.xid,
      changedAt: open.commitTime,
    })
  }
}
