// A component whose code is fetched the first time it renders (a chunk of its own), and which
// renders at once, without suspending, once that code has arrived: `React.lazy` suspends on its
// first render even then, and React holds a Suspense boundary's reveal back ~300 ms after its
// fallback showed (issue 18 §1: ~300 ms on every first page and tab).
import { createElement, lazy, type ComponentType } from 'react';

type AnyComponent = ComponentType<any>;

/** `load` resolves to the module; `pick` takes the component from it. `preload()` starts the
 * download early and settles when the code has arrived. */
export function lazyComponent<M, C extends AnyComponent>(
  load: () => Promise<M>,
  pick: (m: M) => C,
  name: string,
): C & { preload: () => Promise<void> } {
  let arrived: C | undefined;
  let pending: Promise<C> | undefined;
  const fetchIt = () => {
    pending ??= load().then(
      (m) => (arrived = pick(m)),
      (e: unknown) => {
        pending = undefined; // try again on the next render
        throw e;
      },
    );
    return pending;
  };
  const Lazy = lazy(() => fetchIt().then((c) => ({ default: c })));
  const Component = (props: object) => createElement((arrived ?? Lazy) as AnyComponent, props);
  Component.displayName = `Lazy(${name})`;
  Component.preload = () => fetchIt().then(() => undefined);
  return Component as unknown as C & { preload: () => Promise<void> };
}
