import { Tooltip } from '@mantine/core';
import { type ReactNode, useEffect, useState } from 'react';

interface Hint {
  readonly element: HTMLElement;
  readonly label: string;
}

/**
 * The console's one tooltip: any element with a `data-hint` attribute shows its hint on hover or keyboard
 * focus. A users page of a hundred rows with ten hinted controls each would otherwise mount a thousand
 * tooltips, and every render of the list would pay for them.
 */
export function Hints(): ReactNode {
  const [hint, setHint] = useState<Hint | null>(null);

  useEffect(() => {
    const follow = (event: Event): void => {
      const element =
        event.target instanceof Element ? event.target.closest<HTMLElement>('[data-hint]') : null;
      setHint((current) => {
        if (current?.element === element) return current;
        return element ? { element, label: element.dataset.hint ?? '' } : null;
      });
    };
    const clear = (): void => setHint(null);
    // A click usually changes the page (a dialog opens, a row goes): the hint goes with it.
    const listeners = [
      ['pointerover', follow],
      ['focusin', follow],
      ['focusout', clear],
      ['pointerdown', clear],
    ] as const;
    for (const [type, listener] of listeners) document.addEventListener(type, listener);
    return () => {
      for (const [type, listener] of listeners) document.removeEventListener(type, listener);
    };
  }, []);

  return hint && <Tooltip label={hint.label} target={hint.element} opened withArrow multiline maw={360} />;
}
