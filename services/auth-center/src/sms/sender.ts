export interface SmsMessage {
  /** E.164. */
  mobile: string
  code: string
  /** Seconds the code stays valid. */
  expiresIn: number
}

/** Delivers login codes. Throws when delivery failed for good (after its own retries). */
export interface SmsSender {
  readonly name: string
  send (message: SmsMessage): Promise<void>
}
