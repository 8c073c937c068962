/**
 * A profiling variant of the Worker, built by the bench only: the same code, except that the
 * bridge's alarm does nothing. Measuring it beside the real Worker splits the ack's own cost
 * (verify, store in the bridge, set the alarm) from the background turns that compete for CPU.
 */
import { ConversationObject as RealConversationObject } from "../src/bridge/conversation-object";

export * from "../src/index";
export { default } from "../src/index";

// A local export wins over the same name from `export *`.
export class ConversationObject extends RealConversationObject {
  override async alarm(): Promise<void> {}
}
