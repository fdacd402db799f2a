import { MessageWindow } from './message-window.js';

/** Bounds of the queue that holds sends made while there is no open link. */
export interface OfflineQueueOptions {
  /**
   * Most messages held.
   * @default 1000
   */
  maxMessages?: number;
  /**
   * Most bytes held (encoded messages).
   * @default 1048576 (1 MiB)
   */
  maxBytes?: number;
}

/** The defaults of {@link OfflineQueueOptions}. */
export const DEFAULT_OFFLINE_QUEUE = Object.freeze({ maxMessages: 1000, maxBytes: 1024 * 1024 });

/**
 * The offline queue: a {@link MessageWindow} whose messages leave as they are written to a link (the
 * resume window is the same structure; a message leaves it when the peer acknowledges it).
 * @throws InvalidArgError for invalid bounds.
 */
export function createOfflineQueue(options: OfflineQueueOptions): MessageWindow {
  return new MessageWindow(
    { maxMessages: options.maxMessages ?? DEFAULT_OFFLINE_QUEUE.maxMessages, maxBytes: options.maxBytes ?? DEFAULT_OFFLINE_QUEUE.maxBytes },
    'offline queue',
  );
}
