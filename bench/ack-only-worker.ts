/**
 * A profiling variant of the Worker, built by the bench only: the same code, except that the
 * alarms of the intake and of the bridge do nothing. Measuring it beside the real Worker splits
 * the ack's own cost (verify, store the message, set the alarm) from the background work that
 * competes for CPU (hand-over to the bridges, policy checks, turns).
 */
import { ConversationObject as RealConversationObject } from "../src/bridge/conversation-object";
import { IntakeObject as RealIntakeObject } from "../src/bridge/intake-object";

export * from "../src/index";
export { default } from "../src/index";

// A local export wins over the same name from `export *`.
export class ConversationObject extends RealConversationObject {
  override async alarm(): Promise<void> {}
}

export class IntakeObject extends RealIntakeObject {
  override async alarm(): Promise<void> {}
}
