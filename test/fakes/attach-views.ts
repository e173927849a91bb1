/**
 * Puts each module's helpers (views) on a fake's handle, keeping getters live. A name the handle
 * or an earlier module already has is a registration bug between modules: the fake is closed
 * (its server is already listening) and the start fails.
 *
 * @example
 * await attachViews(fake, [{ owner: 'fake-feishu: area reactions', view: { reactions: () => [] } }]);
 */
export async function attachViews(
  fake: { close(): Promise<void> },
  views: ReadonlyArray<{ owner: string; view: object }>,
): Promise<void> {
  for (const { owner, view } of views) {
    const taken = Object.keys(view).find((name) => name in fake);
    if (taken !== undefined) {
      await fake.close();
      throw new Error(`${owner} defines ${taken}, which already exists`);
    }
    Object.defineProperties(fake, Object.getOwnPropertyDescriptors(view));
  }
}
