/**
 * Runs platform writes one after another, in the order asked: streamed edits must not overtake
 * each other. A failed task rejects its own promise but doesn't stop the ones behind it.
 */
export function serialQueue(): (task: () => Promise<void>) => Promise<void> {
  let chain: Promise<void> = Promise.resolve();
  return (task) => {
    const next = chain.then(task);
    chain = next.catch(() => undefined);
    return next;
  };
}
