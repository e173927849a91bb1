/**
 * Puts each module's helpers (views) on a fake's handle, keeping getters live. A name the handle
 * or an earlier module already has is a registration bug between modules, so it throws.
 *
 * @example
 * attachViews(fake, [{ owner: 'reactions', view: { reactions: () => [] } }]);
 */
export function attachViews(target: object, views: ReadonlyArray<{ owner: string; view: object }>): void {
  for (const { owner, view } of views) {
    const taken = Object.keys(view).find((name) => name in target);
    if (taken !== undefined) throw new Error(`${owner} defines ${taken}, which already exists`);
    Object.defineProperties(target, Object.getOwnPropertyDescriptors(view));
  }
}
