import type { LinkExtension, LinkSocket } from './link-types.js';

/** What the extension's opening reports to its link. */
export interface OpeningLink {
  /** `onLinkOpening` resolved (or returned) for the opening `controller` belongs to. */
  extensionOpened(controller: AbortController): void;
  /** `onLinkOpening` threw or rejected. */
  openingFailed(controller: AbortController, error: unknown): void;
}

/**
 * Runs the extension's `onLinkOpening` for one link (it has one): the outcome reaches the link
 * through `controller`, which the link keeps as its opening in progress (set before this runs, so
 * a synchronous outcome finds it) and aborts when the link ends or closes first.
 */
export function runOpening(link: OpeningLink, extension: LinkExtension, socket: LinkSocket, controller: AbortController): void {
  let result: Promise<void> | void;
  try {
    result = extension.onLinkOpening!.call(extension, socket, controller.signal);
  } catch (error) {
    link.openingFailed(controller, error);
    return;
  }
  if (result !== undefined && typeof result.then === 'function') {
    result.then(
      () => link.extensionOpened(controller),
      (error: unknown) => link.openingFailed(controller, error),
    );
  } else link.extensionOpened(controller);
}
