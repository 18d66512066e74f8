/** Turns values into the strings L2 stores and back. */
export class ValueCodec {
  encode(_key: string, value: unknown): string {
    return JSON.stringify(value)
  }

  decode(data: string): unknown {
    return JSON.parse(data)
  }
}
